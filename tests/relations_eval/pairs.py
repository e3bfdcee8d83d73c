"""Judged near-duplicate pairs: the same content (copies, traditional, reflowed, reposts) and look-alikes that are
different documents (the same 办法 of another year, a revision, a shared opening, template reports).

Each pair is built from a base document by an edit whose outcome is known: `same` is True when a
reader would call the two one document published twice. Usage:
python -m tests.relations_eval.pairs [--threshold T]  (prints precision, recall and false merges per kind).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

from index.docno import parse_doc_no
from index.relations.similar import THRESHOLD, Print, fingerprint, numbers_in, same_document, similarity
from xxgk.demo.corpus import people_daily_sentences, seed_report

TOPICS = (
    ("最低生活保障", "民政局", "低保对象", "每人每月"),
    ("临时救助", "民政局", "救助对象", "每户每次"),
    ("养老服务补贴", "民政局", "补贴对象", "每人每月"),
    ("公共资源交易", "发展和改革局", "交易主体", "每宗"),
    ("住房公积金提取", "住房公积金管理中心", "缴存职工", "每月"),
    ("残疾人两项补贴", "残疾人联合会", "补贴对象", "每人每月"),
)


@dataclass(frozen=True)
class Doc:
    title: str
    doc_no: str
    body: str


@dataclass(frozen=True)
class Pair:
    kind: str
    same: bool
    a: Doc
    b: Doc


def _policy(topic: tuple[str, str, str, str], year: int, amount: int, rng: random.Random, extra: list[str]) -> Doc:
    name, agency, who, unit = topic
    articles = [
        f"第一条 为规范{name}工作，保障{who}的合法权益，根据有关法律法规，结合本区实际，制定本办法。",
        f"第二条 本办法适用于本区行政区域内的{name}工作。区{agency}负责组织实施，各镇（街道）负责具体工作。",
        f"第三条 {name}标准为{unit}{amount}元，由区{agency}会同区财政局根据经济社会发展水平适时调整。",
        f"第四条 申请{name}应当提交书面申请、身份证明和相关材料，经镇（街道）审核后报区{agency}审批，"
        f"审批时限为{rng.randint(10, 30)}个工作日。",
        *(f"第{n}条 {sentence}" for n, sentence in zip("五六七八九", extra)),
        f"第十条 对{who}实行动态管理，每年复核一次；情况发生变化的，应当在{rng.randint(10, 30)}日内报告。",
        f"第十一条 本办法自{year}年{rng.randint(1, 12)}月1日起施行，有效期{rng.choice((3, 5))}年。",
    ]
    return Doc(f"余杭区{name}办法", f"余{agency[:1]}〔{year}〕{rng.randint(1, 60)}号", "\n".join(articles))


def _repost(original: Doc, agency: str, with_head: bool) -> Doc:
    head = [original.title.replace("办法", "办法的通知"), original.doc_no] if with_head else []
    body = "\n".join(
        [
            "各镇人民政府、街道办事处，区级各部门：",
            f"现将《{original.title}》转发给你们，请结合实际认真贯彻执行。",
            *head,
            original.body,
            agency,
            "2023年5月6日",
        ]
    )
    own = f"{agency[:2]}政办〔2023〕{len(agency)}号" if with_head else ""  # a repost has its own 文号, or none
    return Doc(f"{agency}关于转发{original.title}的通知", own, body)


def _reflow(doc: Doc) -> Doc:
    """Another site's layout: lines joined and split elsewhere, full-width digits and commas, extra spaces."""
    text = doc.body.replace("\n", "").replace("，", ",").replace("。", "。\n")
    text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９")).replace("条 ", "条　　")
    return Doc(doc.title, doc.doc_no, text)


def _traditional(doc: Doc) -> Doc:
    import opencc

    convert = opencc.OpenCC("s2t").convert
    return Doc(convert(doc.title), convert(doc.doc_no), convert(doc.body))


def _next_year(doc: Doc, year: int, amount: int, new_amount: int) -> Doc:
    body = doc.body.replace(f"{year}年", f"{year + 1}年").replace(f"{amount}元", f"{new_amount}元")
    return Doc(doc.title, doc.doc_no.replace(str(year), str(year + 1)), body)


def _revised(doc: Doc, rng: random.Random, sentences: tuple[str, ...]) -> Doc:
    """A revision: three articles rewritten and a new effective date."""
    lines = doc.body.split("\n")
    for n in (4, 5, 6):
        head = lines[n].split(" ", 1)[0]
        lines[n] = f"{head} {rng.choice(sentences)}"
    lines[-1] = lines[-1].split("本办法自")[0] + "本办法自2024年3月1日起施行。"
    return Doc(doc.title + "（修订）", "", "\n".join(lines))


def _shared_opening(doc: Doc, rng: random.Random, sentences: tuple[str, ...]) -> Doc:
    """Another document that opens with the same two articles and then says something else."""
    lines = doc.body.split("\n")[:2] + [f"第{n}条 {rng.choice(sentences)}" for n in "三四五六七八九十"]
    return Doc(doc.title.replace("办法", "实施细则"), "", "\n".join(lines))


def _reports() -> list[Pair]:
    """The demo's annual reports: two agencies' of one year, one agency's of two years. One template, other documents."""
    from xxgk.demo.model import build_agencies

    reports: dict[tuple[str, int], Doc] = {}
    for agency in build_agencies():
        for column in agency.columns:
            if column.name == "政府信息公开年度报告":
                for item in column.items:
                    reports[(agency.key, item.published.year - 1)] = Doc(item.title, "", "\n".join(item.paragraphs))
    years = sorted({year for _, year in reports if 2013 <= year <= 2018})
    keys = sorted({key for key, _ in reports})
    out = [
        Pair("template reports", False, reports[(a, year)], reports[(b, year)])
        for year in years[:3]
        for a, b in zip(keys, keys[1:])
        if (a, year) in reports and (b, year) in reports
    ]
    out += [
        Pair("template reports", False, reports[(key, year)], reports[(key, year + 1)])
        for key in keys[:2]
        for year in years[:2]
        if (key, year) in reports and (key, year + 1) in reports
    ]
    return out


def judged_pairs() -> list[Pair]:
    rng = random.Random(20231106)
    sentences = tuple(s for s in people_daily_sentences() if 20 <= len(s) <= 60)
    out: list[Pair] = []
    for topic in TOPICS:
        year, amount = rng.randint(2015, 2021), rng.randint(3, 12) * 100
        extra = [rng.choice(sentences) for _ in range(5)]
        base = _policy(topic, year, amount, rng, extra)
        out += [
            Pair("copy", True, base, Doc(base.title, base.doc_no, base.body)),
            Pair("traditional", True, base, _traditional(base)),
            Pair("reflowed", True, base, _reflow(base)),
            Pair("repost", True, base, _repost(base, "余杭区人民政府办公室", with_head=False)),
            Pair("repost with head", True, base, _repost(base, "临平区人民政府办公室", with_head=True)),
            Pair("next year", False, base, _next_year(base, year, amount, amount + 100)),
            Pair("revised", False, base, _revised(base, rng, sentences)),
            Pair("shared opening", False, base, _shared_opening(base, rng, sentences)),
        ]
    title, _, paragraphs = seed_report()
    seed = Doc(title, "", "\n".join(paragraphs))
    out += [
        Pair("copy", True, seed, _reflow(seed)),
        Pair("traditional", True, seed, _traditional(seed)),
        Pair(
            "next year",
            False,
            seed,
            Doc(title.replace("2016", "2017"), "", seed.body.replace("2016", "2017").replace("1", "2", 3)),
        ),
    ]
    return out + _reports()


def _print(doc: Doc, name: str, reposting: bool = False) -> Print | None:
    printed = fingerprint(doc.body)  # as the archive stores it
    if printed is None:
        return None
    parsed = parse_doc_no(doc.doc_no) if doc.doc_no else None
    own = numbers_in(doc.title + " " + doc.doc_no)
    return Print(name, printed[0], printed[1], own, parsed.key if parsed else "", reposting)


def judge(pair: Pair, threshold: float = THRESHOLD) -> tuple[bool, float]:
    """(grouped, similarity) of a pair as the grouping rule decides."""
    a, b = _print(pair.a, "a"), _print(pair.b, "b", reposting="repost" in pair.kind)
    if a is None or b is None:
        return False, 0.0
    sim = similarity(a.minhash, b.minhash)
    return sim >= threshold and same_document(a, b), sim


def main(argv: list[str]) -> int:
    threshold = float(argv[argv.index("--threshold") + 1]) if "--threshold" in argv else THRESHOLD
    pairs = judged_pairs()
    by_kind: dict[str, list[tuple[bool, bool, float]]] = {}
    for pair in pairs:
        grouped, sim = judge(pair, threshold)
        by_kind.setdefault(pair.kind, []).append((pair.same, grouped, sim))
    print(f"{'pairs':<18}{'n':>4}{'same':>6}{'grouped':>9}{'similarity':>17}")
    for kind, rows in by_kind.items():
        sims = [s for *_, s in rows]
        same, grouped = sum(r[0] for r in rows), sum(r[1] for r in rows)
        print(f"{kind:<18}{len(rows):>4}{same:>6}{grouped:>9}   {min(sims):.2f} - {max(sims):.2f}")
    same = [(s, g) for rows in by_kind.values() for s, g, _ in rows]
    merged_wrongly = sum(g and not s for s, g in same)
    recall = sum(g and s for s, g in same) / max(1, sum(s for s, _ in same))
    print(f"{len(pairs)} judged pairs at threshold {threshold}: recall {recall:.3f}, false merges {merged_wrongly}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
