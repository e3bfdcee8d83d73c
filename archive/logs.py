"""Log lines that carry their source and run id, as text or JSON lines, plus one log file per crawl run."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archive.errors import ConfigError

_SOURCE: contextvars.ContextVar[str] = contextvars.ContextVar("xxgk_source", default="")
_RUN: contextvars.ContextVar[int] = contextvars.ContextVar("xxgk_run", default=0)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


class ContextFilter(logging.Filter):
    """Adds `source`, `run_id` and a printable `context` to every record (empty outside a crawl run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        source = getattr(record, "source", "") or _SOURCE.get()
        run_id = getattr(record, "run_id", 0) or _RUN.get()
        record.source, record.run_id = source, run_id
        record.context = f" [{source} run {run_id}]" if source else ""
        return True


def _zone(name: str) -> tzinfo:
    """The configured time zone (UTC when the name is unknown: a log line is never lost to a typo)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT with times in the configured zone and its offset (2026-11-30 16:02:24,640+08:00)."""

    def __init__(self, zone: tzinfo) -> None:
        super().__init__(TEXT_FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        when = datetime.fromtimestamp(record.created, self.zone)
        offset = when.strftime("%z")  # +0800
        return f"{when:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d}{offset[:3]}:{offset[3:]}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (with the zone's offset), level, logger, source, run, message (and the traceback)."""

    def __init__(self, zone: tzinfo = UTC) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "source": getattr(record, "source", ""),
            "run": getattr(record, "run_id", 0),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str, timezone: str = "UTC") -> logging.Formatter:
    """Log lines as text or JSON, their times in `timezone` (the site's and the schedules' zone)."""
    if log_format == "json":
        return JsonFormatter(_zone(timezone))
    if log_format == "text":
        return TextFormatter(_zone(timezone))
    raise ConfigError(
        f'log_format must be "text" or "json", not {log_format!r}', "fix log_format in xxgk.toml or XXGK_LOG_FORMAT"
    )


def configure(level: int, log_format: str, timezone: str = "UTC") -> None:
    """Set up the root logger once per process (the CLI calls this; library code never does)."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter(log_format, timezone))
    handler.setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(min(level, logging.INFO))  # INFO always reaches the per-run log files


class _RunFilter(logging.Filter):
    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        ContextFilter().filter(record)
        return bool(getattr(record, "run_id", 0) == self.run_id)


@contextmanager
def crawl_context(source_id: str, run_id: int, log_dir: Path, log_format: str = "text", timezone: str = "UTC") -> Iterator[Path]:
    """Tag this thread's log records with the run, and copy them (INFO and up) to the run's own file."""
    path = Path(log_dir) / f"run-{run_id:06d}-{source_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.addFilter(_RunFilter(run_id))
    handler.setFormatter(formatter(log_format, timezone))
    root = logging.getLogger()
    source_token, run_token = _SOURCE.set(source_id), _RUN.set(run_id)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        _SOURCE.reset(source_token)
        _RUN.reset(run_token)
