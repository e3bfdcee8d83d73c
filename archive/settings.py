"""One registry of settings; defaults < xxgk.toml < XXGK_* environment < command-line flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import ConfigError

ENV_PREFIX = "XXGK_"
DEFAULT_CONFIG_FILE = "xxgk.toml"


@dataclass(frozen=True)
class Setting:
    """A named setting with its default and help; the type is the default's type."""

    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()  # the allowed values, when the setting names one of a few


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./data", "Directory holding warc/, catalog.sqlite3 and the index."),
    Setting("sources_dir", "", "Extra directory of source TOML files, read after the bundled ones."),
    Setting("crawl_delay_s", 1.0, "Minimum pause between two requests to the same host."),
    Setting("max_crawl_delay_s", 60.0, "Cap on a robots.txt Crawl-delay (longer ones are capped and logged)."),
    Setting("request_timeout_s", 20.0, "Connect and read timeout of one HTTP request."),
    Setting("fetch_deadline_s", 120.0, "Whole-fetch deadline; a slower body is cut and marked truncated."),
    Setting("max_page_bytes", 10_000_000, "Largest HTML or listing body kept; longer ones are truncated."),
    Setting("max_attachment_bytes", 50_000_000, "Largest attachment body kept."),
    Setting("attachment_timeout_s", 30.0, "Wall-time limit of the process extracting one attachment's text."),
    Setting("attachment_memory_mb", 1024, "Address-space limit of that process."),
    Setting("max_redirects", 5, "Redirect hops followed per fetch."),
    Setting("max_retries", 3, "Retries of a fetch that failed to connect, timed out, or got 429/5xx/anti-bot."),
    Setting("retry_base_s", 1.0, "First retry delay; doubled each retry, with jitter."),
    Setting("max_retry_after_s", 120.0, "Longest Retry-After honoured; a longer one gives up on the URL for this run."),
    Setting("max_pages_per_source", 5000, "Page budget of one crawl run of one source."),
    Setting(
        "user_agent",
        "xxgk-archive/0.1 (+https://github.com/xxgk-archive/xxgk-archive)",
        "User-Agent sent with every request; keep a contact URL in it.",
    ),
    Setting("warc_max_bytes", 100_000_000, "WARC file size at which a new file is started."),
    Setting("host", "127.0.0.1", "Address the web app listens on."),
    Setting("port", 8080, "Port the web app listens on."),
    Setting("page_size", 20, "Results per search page (capped at 50)."),
    Setting("max_query_chars", 500, "Longest accepted search query (a pasted paragraph)."),
    Setting("synonyms_file", "", "Extra synonyms TOML (groups = [[...], ...]), merged with the shipped table."),
    Setting(
        "index_backend",
        "whoosh",
        "Search engine `xxgk reindex` builds the index with (whoosh or tantivy; syncs keep the index's own).",
        choices=("whoosh", "tantivy"),
    ),
    Setting("max_export_rows", 5000, "Most results one CSV export of a search returns."),
    Setting(
        "admin_password_hash",
        "",
        "Password hash for the /admin staff pages (make one with `xxgk admin-password`); empty = no /admin.",
    ),
    Setting("secret_key", "", "Key signing the staff session cookie; empty = a random key kept in <data_dir>/secret_key."),
    Setting("cookie_secure", True, "Send the staff session cookie over HTTPS only (browsers allow it on localhost)."),
    Setting(
        "hsts_max_age",
        0,
        "Seconds browsers should reach the site by HTTPS only (Strict-Transport-Security); 0 sends no such header.",
    ),
    Setting(
        "trusted_proxies",
        0,
        "Reverse proxies in front of the site whose X-Forwarded-For/-Proto/-Host are believed (0: none; 1: one nginx).",
    ),
    Setting(
        "index_writer_mb",
        1024,
        "Memory each rebuild worker fills with postings before it writes a segment (a sync: at most 256).",
    ),
    Setting("demo_port", 8765, "Port of the bundled demo portal started by `xxgk demo` (0: any free port)."),
    Setting("timezone", "Asia/Shanghai", "Time zone of the sources' cron schedules."),
    Setting("scheduler_poll_s", 5.0, 'How often the scheduler beats its heartbeat and picks up "crawl now" requests.'),
    Setting("scheduler_workers", 4, "Sources the scheduler may crawl at the same time (never one source twice)."),
    Setting("stop_timeout_s", 60.0, "On SIGTERM, how long the scheduler waits for running crawls to reach a safe point."),
    Setting("failure_backoff_after", 3, "Failed runs in a row after which a source is retried less and less often."),
    Setting("log_format", "text", 'Log lines as "text" or "json" (one JSON object per line).'),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Immutable settings object passed down explicitly; read values as attributes."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are read-only; use replace()")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated like any other source)."""
        values = dict(self._values)
        values.update(_validated(changes, "replace()"))
        return Settings(values)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def warc_dir(self) -> Path:
        return self.data_path / "warc"

    @property
    def catalog_path(self) -> Path:
        return self.data_path / "catalog.sqlite3"

    @property
    def index_path(self) -> Path:
        return self.data_path / "index"

    @property
    def cache_dir(self) -> Path:
        return self.data_path / "cache"

    @property
    def log_dir(self) -> Path:
        return self.data_path / "logs"


def _coerce(setting: Setting, value: Any, origin: str, from_text: bool) -> Any:
    kind = type(setting.default)
    if from_text and isinstance(value, str) and kind is not str:
        text = value.strip()
        try:
            if kind is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise ConfigError(
                f"{origin}: setting {setting.name!r} must be a {kind.__name__}, got {value!r}",
                f"example: {setting.name} = {setting.default!r}",
            ) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"{origin}: setting {setting.name!r} must be a {kind.__name__}, got {value!r}",
            f"remove quotes from numbers; example: {setting.name} = {setting.default!r}",
        )
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"{origin}: setting {setting.name!r} must be one of {', '.join(setting.choices)}, got {value!r}",
            f"example: {setting.name} = {setting.default!r}",
        )
    return value


def _validated(values: Mapping[str, Any], origin: str, from_text: bool = False) -> dict[str, Any]:
    """Check names and types; `from_text` (environment variables) converts strings to the type."""
    out = {}
    for name, value in values.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            known = ", ".join(sorted(_BY_NAME))
            raise ConfigError(f"{origin}: unknown setting {name!r}", f"known settings: {known}")
        out[name] = _coerce(setting, value, origin, from_text)
    return out


def read_toml(path: Path, what: str, if_missing: str) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed one is a ConfigError naming `what`, the path and the fix."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist", if_missing) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}", "fix the line named") from None


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings: defaults, then the TOML file, then XXGK_* variables, then overrides.

    Without `config_file`, `./xxgk.toml` is read when it exists; a named file must exist.
    """
    values = {s.name: s.default for s in SETTINGS}
    env = os.environ if env is None else env
    path = Path(config_file) if config_file else None
    if path is None and env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path is not None:
        data = read_toml(path, "config file", "create it or drop --config")
        values.update(_validated(data, str(path)))
    from_env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG"
    }
    values.update(_validated(from_env, "environment", from_text=True))
    if overrides:
        values.update(_validated({k: v for k, v in overrides.items() if v is not None}, "command line"))
    return Settings(values)
