"""Sources as data: load and validate one TOML file per portal (or portal column group)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.errors import SourceError

PLATFORMS = ("hanweb", "trs", "gkmlpt", "generic")
_SELECTOR_KEYS = ("list_item", "list_date", "next_page", "body", "title")


@dataclass(frozen=True)
class Column:
    """A listing (栏目) to walk; its documents get `category`."""

    name: str
    url: str
    category: str


@dataclass(frozen=True)
class Source:
    """One portal (or part of one) to crawl, as declared in its TOML file."""

    id: str
    name: str
    agency: str
    platform: str
    base_url: str
    columns: tuple[Column, ...]
    allowed_hosts: tuple[str, ...] = ()
    allow_private: bool = False
    charset: str = ""
    crawl_delay_s: float | None = None
    schedule: str = ""
    stop_after_known_pages: int = 0
    selectors: dict[str, str] = field(default_factory=dict)
    path: str = ""
    default_agency: bool = False  # `agency` fills 发布机构 when a page names none (single-agency sites only)
    attachment_recheck_days: int = 30

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", url)

    def column_urls(self) -> list[tuple[Column, str]]:
        return [(c, self.absolute(c.url)) for c in self.columns]

    def hosts(self) -> tuple[str, ...]:
        """Hosts the crawler may contact: the base URL's host plus `allowed_hosts`."""
        own = urlsplit(self.base_url).hostname or ""
        return tuple(dict.fromkeys((own, *self.allowed_hosts)))

    def with_base_url(self, base_url: str) -> Source:
        return replace(self, base_url=base_url)


def _require(data: dict[str, Any], key: str, kind: type, where: str, example: str) -> Any:
    if key not in data:
        raise SourceError(f"{where}: missing key {key!r}", f"add a line like: {example}")
    value = data[key]
    if not isinstance(value, kind):
        raise SourceError(f"{where}: key {key!r} must be a {kind.__name__}, got {value!r}", f"example: {example}")
    return value


def parse_source(data: dict[str, Any], where: str) -> Source:
    """Validate a parsed TOML mapping into a Source; errors name `where` and the key."""
    known = {
        "id",
        "name",
        "agency",
        "platform",
        "base_url",
        "columns",
        "allowed_hosts",
        "allow_private",
        "charset",
        "crawl_delay_s",
        "schedule",
        "selectors",
        "stop_after_known_pages",
        "default_agency",
        "attachment_recheck_days",
    }
    for key in data:
        if key not in known:
            raise SourceError(f"{where}: unknown key {key!r}", f"known keys: {', '.join(sorted(known))}")
    source_id = _require(data, "id", str, where, 'id = "my-portal"')
    platform = _require(data, "platform", str, where, 'platform = "hanweb"')
    if platform not in PLATFORMS:
        raise SourceError(f"{where}: platform {platform!r} is not supported", f"use one of: {', '.join(PLATFORMS)}")
    base_url = _require(data, "base_url", str, where, 'base_url = "https://www.example.gov.cn"')
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise SourceError(
            f"{where}: base_url {base_url!r} is not an http(s) URL", 'example: base_url = "https://www.example.gov.cn"'
        )
    raw_columns = _require(data, "columns", list, where, '[[columns]] name = "通知公告" url = "/col/col1/index.html"')
    if not raw_columns:
        raise SourceError(f"{where}: no [[columns]] declared", "add at least one [[columns]] table with name and url")
    columns = []
    for i, col in enumerate(raw_columns, 1):
        cwhere = f"{where}: columns[{i}]"
        if not isinstance(col, dict):
            raise SourceError(f"{cwhere} must be a table", 'write it as [[columns]] with name = "..." and url = "..."')
        name = _require(col, "name", str, cwhere, 'name = "通知公告"')
        url = _require(col, "url", str, cwhere, 'url = "/col/col1/index.html"')
        columns.append(Column(name=name, url=url, category=str(col.get("category") or name)))
    selectors = data.get("selectors", {})
    if not isinstance(selectors, dict) or any(k not in _SELECTOR_KEYS for k in selectors):
        raise SourceError(f"{where}: [selectors] may only hold {', '.join(_SELECTOR_KEYS)}", "remove the other keys")
    delay = data.get("crawl_delay_s")
    if delay is not None and (not isinstance(delay, (int, float)) or delay < 0):
        raise SourceError(f"{where}: crawl_delay_s must be a number >= 0, got {delay!r}", "example: crawl_delay_s = 2.0")
    schedule = data.get("schedule", "")
    if not isinstance(schedule, str):
        raise SourceError(f"{where}: schedule must be a string, got {schedule!r}", 'example: schedule = "35 2 * * *"')
    if schedule.strip():
        from crawler.cron import cron_trigger

        try:
            cron_trigger(schedule, UTC)
        except ValueError as exc:
            raise SourceError(
                f"{where}: schedule {schedule!r} is not a cron expression: {exc}",
                'write "minute hour day month weekday", e.g. schedule = "35 2 * * *" (02:35 daily)',
            ) from None
    stop_after = data.get("stop_after_known_pages", 0)
    if not isinstance(stop_after, int) or isinstance(stop_after, bool) or stop_after < 0:
        raise SourceError(
            f"{where}: stop_after_known_pages must be a whole number >= 0, got {stop_after!r}",
            "0 walks every list page; 2 stops after two pages with nothing new",
        )
    default_agency = data.get("default_agency", False)
    if not isinstance(default_agency, bool):
        raise SourceError(
            f"{where}: default_agency must be true or false, got {default_agency!r}",
            "write default_agency = true only when every page of the site is published by `agency`",
        )
    if default_agency and not data.get("agency"):
        raise SourceError(f"{where}: default_agency = true needs an agency", 'add a line like: agency = "杭州市余杭区民政局"')
    recheck = data.get("attachment_recheck_days", 30)
    if not isinstance(recheck, int) or isinstance(recheck, bool) or recheck < 0:
        raise SourceError(
            f"{where}: attachment_recheck_days must be a whole number >= 0, got {recheck!r}",
            "30 re-fetches unchanged pages' attachments monthly; 0 re-fetches them on every run",
        )
    return Source(
        id=source_id,
        name=str(data.get("name") or source_id),
        agency=str(data.get("agency") or data.get("name") or ""),
        platform=platform,
        base_url=base_url,
        columns=tuple(columns),
        allowed_hosts=tuple(data.get("allowed_hosts") or ()),
        allow_private=bool(data.get("allow_private", False)),
        charset=str(data.get("charset") or ""),
        crawl_delay_s=float(delay) if delay is not None else None,
        schedule=schedule.strip(),
        stop_after_known_pages=stop_after,
        selectors=dict(selectors),
        path=where,
        default_agency=default_agency,
        attachment_recheck_days=recheck,
    )


def load_source(path: Path) -> Source:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}", "fix the line named in the message") from None
    return parse_source(data, str(path))


def load_sources(directories: list[Path]) -> dict[str, Source]:
    """Every *.toml in the directories, in order; a later file with the same id is an error."""
    sources: dict[str, Source] = {}
    for directory in directories:
        for path in sorted(Path(directory).glob("*.toml")):
            source = load_source(path)
            if source.id in sources:
                raise SourceError(
                    f"{path}: id {source.id!r} is already used by {sources[source.id].path}", "give each source a unique id"
                )
            sources[source.id] = source
    return sources
