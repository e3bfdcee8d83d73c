"""Catalog timestamps: UTC now, parsing, and how old a heartbeat is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utcnow() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime:
    """A catalog timestamp (ISO 8601, UTC when it has no offset)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def beat_age_s(beat: dict[str, Any] | None) -> float | None:
    """Seconds since a heartbeat; None when there never was one or its process stopped cleanly."""
    if not beat or beat["info"].get("stopped_at"):
        return None
    return (datetime.now(UTC) - parse_time(beat["beat_at"])).total_seconds()


def is_alive(beat: dict[str, Any] | None, poll_s: float) -> bool:
    """Whether a heartbeat is recent: at most three poll periods (plus slack) old."""
    age = beat_age_s(beat)
    return age is not None and age <= 3 * poll_s + 5
