"""Benchmark: warm search latency over N generated documents, the way the site searches.

Each query is one `engine.search`: parse, match, category/year/agency (and the other) facet counts,
ranking, and highlighted snippets for the first page. Prints p50/p95/p99 over the query mix and
the process's memory (RSS) once the searcher is warm.

Usage: python bench/search.py [N] [--deleted PCT] [--keywords-only] [--backend whoosh|tantivy]   (default 100000; the archive is
generated once into bench/.cache). Every other request of the mix is of the kinds people type (pasted
text, short forms, questions, typos, run-together words, punctuation and number variants); with
--keywords-only the mix is the keyword requests alone, as measured before those kinds were added.
With --deleted, PCT% of the documents are edited after the build and synced incrementally, so the
index serves segments holding that share of deleted documents.
"""

from __future__ import annotations

import multiprocessing
import platform
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ensure_archive, ensure_edited  # noqa: E402

from index.api import SearchRequest  # noqa: E402

WORDS = [
    "经济",
    "发展",
    "改革",
    "建设",
    "企业",
    "市场",
    "农村",
    "农民",
    "教育",
    "科技",
    "人民",
    "工作",
    "政府",
    "社会",
    "国有企业",
    "基础设施",
    "社会保障",
    "精神文明",
    "扶贫",
    "环境保护",
    "外资",
    "出口",
    "粮食",
    "干部",
    "群众",
    "两岸",
    "香港",
    "银行",
    "金融",
    "税收",
    "就业",
    "下岗职工",
    "再就业",
    "交通",
    "医疗",
    "文化",
    "体育",
    "法律",
    "公安",
    "安全生产",
    "质量",
    "消费者",
    "住房",
    "养老",
    "救济",
    "残疾人",
    "学校",
    "学生",
]
PHRASES = [
    '"国有企业改革"',
    '"社会主义市场经济"',
    '"精神文明建设"',
    '"人民群众"',
    '"基础设施建设"',
    '"下岗职工再就业"',
    '"科技进步"',
]
AGENCIES = ["余杭区民政局", "余杭区教育局", "余杭区财政局"]
# The ways people search (issue "search that finds what people mean"): short forms, questions, typos,
# run-together words, punctuation and number variants; pasted text is taken from the corpus itself.
SHORT_FORMS = ["低保", "医保", "社保", "公积金", "年报", "发改委", "人社局", "卫健委", "住建局", "五保", "非遗", "公租房"]
QUESTIONS = ["怎样申请{}", "{}怎么办理", "如何办理{}", "{}需要哪些材料", "{}在哪里办", "{}是多少"]
TYPOS = ["国有企叶", "基础设旋", "社会保樟", "精神文名", "环境保户", "下岗职公", "安全生厂", "消费着"]
NUMBERS = ["第四批", "第4批 名单", "二〇二一年 预算", "2021年度 工作", "第十五条", "１９９７年 经济"]
CATEGORIES = ["通知公告", "政策文件", "工作动态"]


def people_query(kind: int, rng: random.Random, sentences: list[str]) -> str:
    """One query of the kinds people type (kind 0-9): pasted text, short forms, questions, typos ..."""
    if kind in (0, 1):  # a pasted sentence (with its punctuation, or with spaces instead)
        sentence = rng.choice([s for s in sentences if 30 <= len(s) <= 150])
        return sentence if kind == 0 else sentence.replace("，", " ").replace("。", "")
    if kind == 2:  # a pasted paragraph, beyond the term caps
        start = rng.randrange(len(sentences) - 8)
        return "".join(sentences[start : start + 8])[:480]
    if kind == 3:
        return f"{rng.choice(SHORT_FORMS)} {rng.choice(WORDS)}" if rng.random() < 0.5 else rng.choice(SHORT_FORMS)
    if kind == 4:
        return rng.choice(QUESTIONS).format(rng.choice(SHORT_FORMS + WORDS))
    if kind == 5:
        return rng.choice(TYPOS)
    if kind == 6:  # words run together
        return "".join(rng.sample(WORDS, 2))
    if kind == 7:  # a phrase typed with other punctuation
        a, b = rng.sample(WORDS, 2)
        return f'"{a}{rng.choice("、，,；; ")}{b}"'
    if kind == 8:
        return rng.choice(NUMBERS)
    return rng.choice(AGENCIES)[3:] + rng.choice(WORDS)  # agency and subject run together: 民政局养老


def query_mix(n: int, seed: int = 11, people: bool = True) -> list[SearchRequest]:
    """Realistic requests: 1-3 keywords, phrases, 文号, filters, date windows, sort by date, page 2;
    with `people`, every other request is of the kinds in `people_query`."""
    from xxgk.demo.corpus import people_daily_sentences

    sentences = people_daily_sentences()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 10
        if people and i % 2:
            q = people_query(i // 2 % 10, rng, sentences)
        elif kind < 4:
            q = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        elif kind == 4:
            q = rng.choice(PHRASES)
        elif kind == 5:
            q = f"余政〔{rng.randint(2010, 2024)}〕{rng.randint(1, 99)}号"
        elif kind == 6:
            q = f"{rng.choice(WORDS)} -{rng.choice(WORDS)}"
        elif kind == 7:
            q = f"{rng.choice(WORDS)} OR {rng.choice(WORDS)}"
        elif kind == 8:
            q = f"title:{rng.choice(WORDS)}"
        else:
            q = rng.choice(WORDS)
        filters = {}
        if rng.random() < 0.3:
            filters["agency"] = rng.choice(AGENCIES)
        if rng.random() < 0.2:
            filters["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.2:
            filters["year"] = str(rng.randint(2010, 2024))
        window = {}
        if rng.random() < 0.1:
            year = rng.randint(2010, 2023)
            window = {"date_from": date(year, 1, 1), "date_to": date(year + 1, 6, 30)}
        out.append(
            SearchRequest(
                q=q,
                filters=filters,
                sort="date" if rng.random() < 0.1 else "relevance",
                page=2 if rng.random() < 0.1 else 1,
                **window,
            )
        )
    return out


def query_mix_apart(n: int, people: bool = True) -> list[SearchRequest]:
    """`query_mix`, generated in a forked process: the corpus its pasted sentences come from (about
    450 MB once parsed) is never held by the process whose memory is measured."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(query_mix, n, people=people).result()


def rss_mb(pid: int | str = "self", kind: str = "VmRSS") -> float:
    """Resident memory of a process (this one by default), in MB; 0 when it is gone. `kind` "RssAnon"
    is the process's own memory, "RssFile" the pages of mapped files (an index tantivy maps) it has
    touched, which the kernel may drop and which other processes mapping the same files share."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(kind + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    args = sys.argv[1:]
    deleted = 0.0
    if "--deleted" in args:
        at = args.index("--deleted")
        deleted = float(args[at + 1])
        del args[at : at + 2]
    backend = "whoosh"
    if "--backend" in args:
        at = args.index("--backend")
        backend = args[at + 1]
        del args[at : at + 2]
    people = "--keywords-only" not in args
    args = [a for a in args if a != "--keywords-only"]
    n = int(args[0]) if args else 100_000
    settings = ensure_edited(n, deleted) if deleted else ensure_archive(n, backend)
    requests = query_mix_apart(600, people=people)
    from index.api import open_backend

    before = rss_mb()
    engine = open_backend(settings)
    for req in requests[:50]:  # warm: dictionary, columns, OS page cache
        engine.search(req)
    timed, totals = [], []
    for req in requests:
        started = time.perf_counter()
        result = engine.search(req)
        timed.append(((time.perf_counter() - started) * 1000, req))
        totals.append(result.total)
    times = sorted(t for t, _ in timed)

    def pct(p: float, values: list[float] = times) -> float:
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    print(
        f"# {platform.node()} · Python {platform.python_version()} · {date.today()} · {engine.status().documents:,} documents"
        f" · {engine.status().backend}"
    )
    if backend == "whoosh":
        reader = engine._reader._searcher.reader()  # type: ignore[attr-defined]  # noqa: SLF001 - the index's shape
        segments = [(r.doc_count_all(), r.doc_count_all() - r.doc_count()) for r, _ in reader.leaf_readers()]
        print(f"segments (documents, deleted): {segments}")
    print(f"queries: {len(times)}, median matches {statistics.median(totals):,.0f}, max {max(totals):,}")
    print(f"p50 {pct(50):.1f} ms · p95 {pct(95):.1f} ms · p99 {pct(99):.1f} ms · max {times[-1]:.1f} ms")
    for name, part in (("keyword kinds", timed[0::2]), ("people's kinds", timed[1::2])):
        values = sorted(t for t, _ in part)
        print(f"  {name}: p50 {pct(50, values):.1f} ms · p95 {pct(95, values):.1f} ms")
    print(
        f"memory: {rss_mb():.0f} MB RSS warm ({rss_mb() - before:.0f} MB for the open searcher and its caches;"
        f" {rss_mb(kind='RssAnon'):.0f} MB its own, {rss_mb(kind='RssFile'):.0f} MB of mapped files)"
    )
    for name, part in (("keyword kinds", timed[0::2]), ("people's kinds", timed[1::2])):
        for ms, req in sorted(part, key=lambda tr: tr[0])[-3:]:
            print(f"  slowest {name}: {ms:.0f} ms  q={req.q[:60]!r} filters={req.filters} sort={req.sort}")


if __name__ == "__main__":
    main()
