"""CSV cells that a spreadsheet (Excel, WPS) would read as a formula are written as text (OWASP "CSV injection")."""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value`, with a text cell that starts like a formula prefixed by an apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
