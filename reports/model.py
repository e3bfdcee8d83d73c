"""The extracted figures of one annual report and the consistency checks run on them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One number as printed: its key, the label(s) it was printed under, and where it was read."""

    key: str
    label: str
    value: float
    unit: str
    section: str
    source: str  # the sentence (prose) or the table row as printed

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if float(self.value).is_integer():
            data["value"] = int(self.value)
        return data


@dataclass(frozen=True)
class Check:
    """A consistency check the standard format implies, with the cells involved."""

    name: str
    ok: bool
    detail: str
    cells: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "cells": list(self.cells)}


@dataclass
class Report:
    """An annual report read from one archived document."""

    doc_id: str
    agency: str
    year: int
    title: str
    format: str  # "standard" (2019 State Council tables) or "prose"
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows that could not be read

    def value(self, key: str) -> float | None:
        return next((f.value for f in self.figures if f.key == key), None)
