"""Figures that pre-2019 prose reports state reliably, each with the sentence it came from."""

from __future__ import annotations

import re
import unicodedata

from reports.model import Figure

_SENTENCE = re.compile(r"[^。；;\n]+[。；;]?")
_NUM = r"(\d+)"

# (key, label, unit, section, pattern); the first group is the number, or the value is given.
PATTERNS: tuple[tuple[str, str, str, str, str, float | None], ...] = (
    ("prose.active", "主动公开政府信息", "条", "主动公开", rf"主动公开(?:政策类|政府)?信息(?:共|数)?{_NUM}条", None),
    ("prose.permits", "行政许可、非行政许可事项公开数", "条", "主动公开", rf"行政许可[^，。]*?公开数{_NUM}条", None),
    ("prose.penalties", "公开行政处罚事项", "项", "主动公开", rf"公开行政处罚事项{_NUM}项", None),
    (
        "apply.new.total",
        "收到依申请公开",
        "件",
        "依申请公开",
        rf"(?:收到|受理)(?:依申请公开(?:申请)?{_NUM}件|{_NUM}件依申请公开)",
        None,
    ),
    ("fees", "信息公开收费", "元", "收费及减免", r"无[^。]{0,10}收费|未收取任何费用|收费[^。]{0,6}(?:为0|为零)", 0.0),
    ("review.total", "因政府信息公开申请行政复议", "件", "复议和诉讼", r"无因[^。]*行政复议", 0.0),
    ("lit.total", "因政府信息公开提起行政诉讼", "件", "复议和诉讼", r"无因[^。]*行政诉讼", 0.0),
    ("staff", "信息公开工作人员", "人", "工作人员", rf"(?:兼职|专职)?(?:公开)?工作人员{_NUM}人", None),
)
_ALL_ON_TIME = re.compile(r"全部按时办结|均已按时办结|全部按期办结")


def read_prose(text: str) -> list[Figure]:
    """The figures a prose report states, first mention each, with its sentence."""
    figures: list[Figure] = []
    seen: set[str] = set()
    for sentence in (m.group(0).strip() for m in _SENTENCE.finditer(unicodedata.normalize("NFKC", text))):
        for key, label, unit, section, pattern, given in PATTERNS:
            if key in seen:
                continue
            match = re.search(pattern, sentence)
            if not match:
                continue
            number = next((g for g in match.groups() if g is not None), None)
            value = given if given is not None else float(number or 0)
            printed = match.group(0) if given is None else label  # the words as printed
            figures.append(Figure(key, printed, value, unit, section, sentence))
            seen.add(key)
            if key == "apply.new.total" and _ALL_ON_TIME.search(sentence):
                figures.append(Figure("apply.on_time.total", "按时办结依申请公开", value, unit, section, sentence))
                seen.add("apply.on_time.total")
    return figures
