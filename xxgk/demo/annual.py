"""Standard-format (2019 State Council) annual report tables for the demo portal and the tests.

The numbers are generated consistent (新收 + 上年结转 = 办结 + 结转下年; totals equal their parts) unless
asked to break one; the same figures render as the layouts portals really publish.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape

from reports.standard import APPLICANTS, REVIEW_COLS, REVIEW_GROUPS

# How the State Council's template prints the row labels (the extractor matches them by pattern).
ROW_LABELS = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "refused.secret": "属于国家秘密",
    "refused.law": "其他法律行政法规禁止公开",
    "refused.safety": "危及“三安全一稳定”",
    "refused.third_party": "保护第三方合法权益",
    "refused.internal": "属于三类内部事务信息",
    "refused.process": "属于四类过程性信息",
    "refused.enforcement": "属于行政执法案卷",
    "refused.query": "属于行政查询事项",
    "unable.not_held": "本机关不掌握相关政府信息",
    "unable.need_create": "没有现成信息需要另行制作",
    "unable.unclear": "补正后申请内容仍不明确",
    "not_processed.petition": "信访举报投诉类申请",
    "not_processed.repeat": "重复申请",
    "not_processed.publication": "要求提供公开出版物",
    "not_processed.massive": "无正当理由大量反复申请",
    "not_processed.confirm": "要求行政机关确认或重新出具已获取信息",
    "other": "（六）其他处理",
    "other.no_correction": "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other.no_fee": "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other.other": "其他",
    "total": "（七）总计",
    "carry_forward": "四、结转下年度继续办理",
}
_OUTCOMES = [k for k in ROW_LABELS if k.startswith(("granted", "partial", "refused.", "unable.", "not_processed."))]
OUTCOME_2019 = [*_OUTCOMES, "other"]
OUTCOME_2021 = [*_OUTCOMES, "other.no_correction", "other.no_fee", "other.other"]
GROUPS = {"refused": "（三）不予公开", "unable": "（四）无法提供", "not_processed": "（五）不予处理", "other": "（六）其他处理"}


@dataclass
class StandardTables:
    """The numbers of tables 二, 三 and 四 of one report."""

    edition: int
    active: dict[str, list[float]]
    rows: dict[str, list[int]]  # application row key -> the 7 columns
    review: list[int]  # 15 numbers

    def expected(self) -> dict[str, float]:
        """Every cell by the key the extractor uses."""
        cols = {
            "active.rules": ("issued", "abolished", "valid"),
            "active.normative": ("issued", "abolished", "valid"),
            "active.permits": ("decisions",),
            "active.penalties": ("decisions",),
            "active.enforcement": ("decisions",),
            "active.fees": ("amount",),
        }
        out: dict[str, float] = {}
        for key, values in self.active.items():
            names: tuple[str, ...] = (
                cols[key] if len(values) == len(cols[key]) else tuple(f"c{k + 1}" for k in range(len(values)))
            )
            out.update({f"{key}.{name}": v for name, v in zip(names, values)})
        for row, counts in self.rows.items():
            out.update({f"apply.{row}.{col}": v for (col, _), v in zip(APPLICANTS, counts)})
        review = iter(self.review)
        out.update({f"{g}.{c}": next(review) for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLS})
        return out


def standard_tables(seed: int, edition: int = 2021, unbalanced: bool = False) -> StandardTables:
    """Consistent random figures; `unbalanced` makes 新收 + 上年结转 ≠ 办结 + 结转 for 自然人 (one cell off)."""
    rng = random.Random(seed)
    outcomes = OUTCOME_2021 if edition >= 2021 else OUTCOME_2019
    rows: dict[str, list[int]] = {key: [] for key in ["new", "carried_over", *outcomes, "total", "carry_forward"]}
    for c in range(6):
        new = rng.randint(0, 15) if c == 0 else rng.choice([0, 0, 0, 1, 2, 3])
        carried = rng.choice([0, 0, 1, 2])
        forward = rng.randint(0, min(2, new + carried))
        handled = new + carried - forward
        split = [0] * len(outcomes)
        for _ in range(handled):
            split[min(int(rng.expovariate(0.6)), len(outcomes) - 1)] += 1
        for key, value in zip(["new", "carried_over", *outcomes, "carry_forward"], [new, carried, *split, forward]):
            rows[key].append(value)
        rows["total"].append(sum(split))
    if unbalanced:
        rows["new"][0] += 1
    for values in rows.values():
        values.append(sum(values))
    active: dict[str, list[float]] = {
        "active.rules": [0, 0, 0],
        "active.normative": [rng.randint(0, 8), rng.randint(0, 3), rng.randint(10, 60)],
        "active.permits": [rng.randint(0, 3000)],
        "active.penalties": [rng.randint(0, 400)],
        "active.enforcement": [rng.randint(0, 50)],
        "active.fees": [round(rng.uniform(0, 90), 2)],
    }
    if edition < 2021:  # the 2019 edition: 上一年项目数量, 本年增/减, 处理决定数量
        for key in ("active.permits", "active.penalties", "active.enforcement"):
            active[key] = [rng.randint(5, 80), rng.randint(-3, 6), active[key][0]]
        active["active.fees"] = [rng.randint(0, 9), rng.randint(-2, 2)]
    review = []
    for _ in REVIEW_GROUPS:
        parts = [rng.choice([0, 0, 0, 1, 2]) for _ in range(4)]
        review += parts + [sum(parts)]
    return StandardTables(edition, active, rows, review)


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def table_rows(t: StandardTables) -> list[tuple[str, list[str]]]:
    """(section heading or row labels, cells) in reading order: the tables as lines of cells."""
    out: list[tuple[str, list[str]]] = [("二、主动公开政府信息情况", [])]
    head = ["本年制发件数", "本年废止件数", "现行有效件数"]
    out.append(("第二十条第（一）项", ["信息内容", *head]))
    out.append(("", ["规章", *map(_n, t.active["active.rules"])]))
    out.append(("", ["行政规范性文件", *map(_n, t.active["active.normative"])]))
    last = ["上一年项目数量", "本年增/减", "处理决定数量"] if t.edition < 2021 else ["本年处理决定数量"]
    out.append(("第二十条第（五）项", ["信息内容", *last]))
    out.append(("", ["行政许可", *map(_n, t.active["active.permits"])]))
    out.append(("第二十条第（六）项", ["信息内容", *last]))
    out.append(("", ["行政处罚", *map(_n, t.active["active.penalties"])]))
    out.append(("", ["行政强制", *map(_n, t.active["active.enforcement"])]))
    fee_head = ["上一年项目数量", "本年增/减"] if t.edition < 2021 else ["本年收费金额（单位：万元）"]
    out.append(("第二十条第（八）项", ["信息内容", *fee_head]))
    out.append(("", ["行政事业性收费", *map(_n, t.active["active.fees"])]))
    out.append(("三、收到和处理政府信息公开申请情况", []))
    out.append(
        ("", ["申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
    )
    seen_groups: set[str] = set()
    for key, values in t.rows.items():
        cells = [str(v) for v in values]
        group = key.split(".")[0] if "." in key else ""
        labels = []
        if key == "granted":
            labels.append("三、本年度办理结果")
        if group and group not in seen_groups:
            seen_groups.add(group)
            labels.append(GROUPS[group])
        if group:
            index = [k for k in t.rows if k.startswith(group + ".")].index(key) + 1
            labels.append(f"{index}.{ROW_LABELS[key]}")
        else:
            labels.append(ROW_LABELS[key])
        out.append(("", [*labels, *cells]))
    out.append(("四、政府信息公开行政复议、行政诉讼情况", []))
    out.append(("", ["行政复议", "行政诉讼"]))
    out.append(("", [*(c for _, c in REVIEW_COLS), "未经复议直接起诉", "复议后起诉"]))
    out.append(("", [*(c for _, c in REVIEW_COLS), *(c for _, c in REVIEW_COLS)]))
    out.append(("", [str(v) for v in t.review]))
    return out


def as_lines(t: StandardTables, sep: str = " | ") -> list[str]:
    """One line per table row, cells joined by `sep` (mirrors use " | "; PDFs spaces)."""
    return [sep.join(([heading] if heading else []) + cells) for heading, cells in table_rows(t)]


def as_html(t: StandardTables) -> str:
    """The tables as HTML, one <table> per section, each row a <tr>, as CMS editors paste them."""
    parts: list[str] = []
    rows: list[str] = []
    for heading, cells in table_rows(t):
        if heading and not cells:
            if rows:
                parts.append("<table border='1'>" + "".join(rows) + "</table>")
                rows = []
            parts.append(f"<p><strong>{escape(heading)}</strong></p>")
            continue
        label = [f"<td>{escape(heading)}</td>"] if heading else []
        rows.append("<tr>" + "".join(label) + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    if rows:
        parts.append("<table border='1'>" + "".join(rows) + "</table>")
    return "".join(parts)
