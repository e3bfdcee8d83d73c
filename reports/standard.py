"""The 2019 State Council standard format (tables 二, 三 and 四), read from text however it was flattened.

HTML tables come out one cell per line, mirrors join cells with `|`, PDFs put a row on a line with
spaces. All of these become one stream of label runs and number runs; each row of the format is found
by its label (in order) and takes the numbers printed after it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from reports.model import Figure

_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_ZERO_MARKS = {"—", "-", "–", "/", "无", "0.0"}
_SPLIT = re.compile(r"[|｜\s]+")

APPLICANTS = (
    ("natural", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("public_interest", "社会公益组织"),
    ("legal", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)

# (key, pattern of the row label, label as the format prints it)
APPLICATION_ROWS = (
    ("new", r"本年新收.*申请数量", "本年新收政府信息公开申请数量"),
    ("carried_over", r"上年结转.*申请数量", "上年结转政府信息公开申请数量"),
    ("granted", r"予以公开", "（一）予以公开"),
    ("partial", r"部分公开", "（二）部分公开"),
    ("refused.secret", r"属于国家秘密", "不予公开：属于国家秘密"),
    ("refused.law", r"其他法律行政法规禁止公开", "不予公开：其他法律行政法规禁止公开"),
    ("refused.safety", r"危及.*三安全一稳定", "不予公开：危及“三安全一稳定”"),
    ("refused.third_party", r"保护第三方合法权益", "不予公开：保护第三方合法权益"),
    ("refused.internal", r"三类内部事务信息", "不予公开：属于三类内部事务信息"),
    ("refused.process", r"四类过程性信息", "不予公开：属于四类过程性信息"),
    ("refused.enforcement", r"行政执法案卷", "不予公开：属于行政执法案卷"),
    ("refused.query", r"行政查询事项", "不予公开：属于行政查询事项"),
    ("unable.not_held", r"不掌握相关政府信息", "无法提供：本机关不掌握相关政府信息"),
    ("unable.need_create", r"没有现成信息需要另行制作", "无法提供：没有现成信息需要另行制作"),
    ("unable.unclear", r"补正后申请内容仍不明确", "无法提供：补正后申请内容仍不明确"),
    ("not_processed.petition", r"信访举报投诉类申请", "不予处理：信访举报投诉类申请"),
    ("not_processed.repeat", r"重复申请", "不予处理：重复申请"),
    ("not_processed.publication", r"要求提供公开出版物", "不予处理：要求提供公开出版物"),
    ("not_processed.massive", r"无正当理由大量反复申请", "不予处理：无正当理由大量反复申请"),
    ("not_processed.confirm", r"要求行政机关确认或重新出具", "不予处理：要求行政机关确认或重新出具已获取信息"),
)
OTHER_ROWS = (  # 2021 revision: （六）其他处理 split into three
    ("other.no_correction", r"逾期不补正", "其他处理：申请人无正当理由逾期不补正"),
    ("other.no_fee", r"逾期未按收费通知要求缴纳费用", "其他处理：申请人逾期未按收费通知要求缴纳费用"),
    ("other.other", r"其他$", "其他处理：其他"),
)
CLOSING_ROWS = (
    ("total", r"总计$", "（七）总计"),
    ("carry_forward", r"结转下年度继续办理", "结转下年度继续办理"),
)
REVIEW_GROUPS = (("review", "行政复议"), ("lit_direct", "行政诉讼：未经复议直接起诉"), ("lit_after", "行政诉讼：复议后起诉"))
REVIEW_COLS = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)
ACTIVE_ROWS = (
    ("active.rules", r"规章$", "规章", ("issued", "本年制发件数"), ("abolished", "本年废止件数"), ("valid", "现行有效件数")),
    (
        "active.normative",
        r"规范性文件$",
        "行政规范性文件",
        ("issued", "本年制发件数"),
        ("abolished", "本年废止件数"),
        ("valid", "现行有效件数"),
    ),
    ("active.permits", r"行政许可$", "行政许可", ("decisions", "本年处理决定数量")),
    ("active.penalties", r"行政处罚$", "行政处罚", ("decisions", "本年处理决定数量")),
    ("active.enforcement", r"行政强制$", "行政强制", ("decisions", "本年处理决定数量")),
    ("active.fees", r"行政事业性收费$", "行政事业性收费", ("amount", "本年收费金额（万元）")),
)


@dataclass
class Segment:
    """A run of label text followed by the numbers printed after it."""

    label: str
    numbers: list[float]
    raw: str


def segments(text: str) -> list[Segment]:
    """Label runs and the number runs after them, from text flattened any of the usual ways."""
    text = unicodedata.normalize("NFKC", text)
    out: list[Segment] = []
    label_parts: list[str] = []
    numbers: list[float] = []
    raw: list[str] = []
    for token in (t.strip() for t in _SPLIT.split(text)):
        if not token:
            continue
        if _NUMBER.match(token) or token in _ZERO_MARKS:
            numbers.append(float(token) if _NUMBER.match(token) else 0.0)
            raw.append(token)
            continue
        if numbers:
            out.append(Segment("".join(label_parts), numbers, " ".join(raw)))
            label_parts, numbers, raw = [], [], []
        label_parts.append(token)
        raw.append(token)
    out.append(Segment("".join(label_parts), numbers, " ".join(raw)))
    return out


def is_standard(text: str) -> bool:
    normal = unicodedata.normalize("NFKC", text)
    return "本年新收" in normal and ("结转下年度继续办理" in normal or "上年结转" in normal)


class _Reader:
    """Walks the segments in order, finding each row by its label."""

    def __init__(self, segs: list[Segment]) -> None:
        self.segs = segs
        self.pos = 0
        self.problems: list[str] = []

    def seek(self, pattern: str) -> bool:
        regex = re.compile(pattern)
        for i in range(self.pos, len(self.segs)):
            if regex.search(self.segs[i].label):
                self.pos = i
                return True
        return False

    def row(self, pattern: str, count: int, name: str, required: bool = True, limit: int | None = None) -> Segment | None:
        regex = re.compile(pattern)
        for i in range(self.pos, len(self.segs) if limit is None else limit):
            if regex.search(self.segs[i].label):
                seg = self.segs[i]
                self.pos = i + 1
                if len(seg.numbers) < count:
                    self.problems.append(f"{name}：应有 {count} 个数字，只读到 {len(seg.numbers)} 个（{seg.raw[:60]}）")
                    return None
                return seg
        if required:
            self.problems.append(f"{name}：没有找到这一行")
        return None


def _figure(key: str, label: str, value: float, unit: str, section: str, seg: Segment) -> Figure:
    return Figure(key, label, value, unit, section, seg.raw[:300])


def read_standard(text: str) -> tuple[list[Figure], list[str]]:
    """Every cell of tables 二, 三 and 四 that could be read, and the rows that could not."""
    reader = _Reader(segments(text))
    figures: list[Figure] = []
    # 二、主动公开政府信息情况 (only up to where table 三 starts)
    start = next((i for i, seg in enumerate(reader.segs) if "本年新收" in seg.label), len(reader.segs))
    if reader.seek(r"主动公开政府信息情况|第二十条") and reader.pos < start:
        for key, pattern, label, *cols in ACTIVE_ROWS:
            seg = reader.row(pattern, 1, label, required=False, limit=start)
            if seg is None:
                continue
            unit = "万元" if key == "active.fees" else "件"
            if len(seg.numbers) == len(cols):
                named = [(f"{key}.{col}", f"{label}：{col_label}") for col, col_label in cols]
            else:  # another edition of the table (2019 printed 上一年项目数量 and 本年增/减 too): keep the columns by position
                named = [(f"{key}.c{k + 1}", f"{label}：第 {k + 1} 列") for k in range(len(seg.numbers))]
            for (fig_key, fig_label), value in zip(named, seg.numbers):
                figures.append(_figure(fig_key, fig_label, value, unit, "二", seg))
    reader.pos = start
    # 三、收到和处理政府信息公开申请情况
    for key, pattern, label in APPLICATION_ROWS + (("other", r"其他处理", "（六）其他处理"),):
        if key == "other":
            mark = reader.pos
            rows: list[tuple[str, str, Segment | None]]
            seg = reader.row(pattern, 0, label)
            if seg is not None and len(seg.numbers) >= 7 and not re.search(OTHER_ROWS[0][1], seg.label):
                rows = [(key, label, seg)]
            else:  # 2021 edition: three sub-rows (the first may share its label run with the heading)
                reader.pos = mark
                rows = [(k, lab, reader.row(p, 7, lab)) for k, p, lab in OTHER_ROWS]
        else:
            rows = [(key, label, reader.row(pattern, 7, label))]
        for row_key, row_label, seg in rows:
            if seg is None:
                continue
            for (col, col_label), value in zip(APPLICANTS, seg.numbers[:7]):
                figures.append(_figure(f"apply.{row_key}.{col}", f"{row_label} / {col_label}", value, "件", "三", seg))
    for key, pattern, label in CLOSING_ROWS:
        seg = reader.row(pattern, 7, label)
        if seg is not None:
            for (col, col_label), value in zip(APPLICANTS, seg.numbers[:7]):
                figures.append(_figure(f"apply.{key}.{col}", f"{label} / {col_label}", value, "件", "三", seg))
    # 四、政府信息公开行政复议、行政诉讼情况: 15 numbers after the headers
    if reader.seek(r"行政复议"):
        seg = next((s for s in reader.segs[reader.pos :] if len(s.numbers) >= 15), None)
        if seg is None:
            reader.problems.append("行政复议、行政诉讼：没有读到 15 个数字")
        else:
            values = iter(seg.numbers[:15])
            for group, group_label in REVIEW_GROUPS:
                for col, col_label in REVIEW_COLS:
                    figures.append(_figure(f"{group}.{col}", f"{group_label} / {col_label}", next(values), "件", "四", seg))
    else:
        reader.problems.append("行政复议、行政诉讼：没有找到这张表")
    return figures, reader.problems
