"""A readable diff of two document versions: changed fields, and paragraphs marked at character level."""

from __future__ import annotations

from difflib import SequenceMatcher
from html import escape

from markupsafe import Markup

from archive.models import Document

FIELD_LABELS = (
    ("title", "标题"),
    ("agency", "发布机构"),
    ("doc_no", "文号"),
    ("index_no", "索引号"),
    ("topic", "主题分类"),
    ("category", "栏目"),
    ("published", "发布日期"),
    ("validity", "有效性"),
)


def _inline(old: str, new: str) -> Markup:
    out = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(old[a1:a2]))
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(old[a1:a2])}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return Markup("".join(out))


def field_changes(old: Document, new: Document) -> list[tuple[str, str, str]]:
    changes = []
    for name, label in FIELD_LABELS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append((label, str(a or "—"), str(b or "—")))
    return changes


def body_diff(old: str, new: str) -> list[tuple[str, Markup]]:
    """(kind, html) per changed paragraph: kind is "changed", "removed" or "added"; equal ones are left out."""
    a, b = old.split("\n"), new.split("\n")
    out: list[tuple[str, Markup]] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace" and a2 - a1 == b2 - b1:
            out.extend(("changed", _inline(x, y)) for x, y in zip(a[a1:a2], b[b1:b2]))
            continue
        if op in ("delete", "replace"):
            out.extend(("removed", Markup(f"<del>{escape(x)}</del>")) for x in a[a1:a2])
        if op in ("insert", "replace"):
            out.extend(("added", Markup(f"<ins>{escape(y)}</ins>")) for y in b[b1:b2])
    return out
