"""Domain exceptions; each carries a message naming the problem and a hint naming the remedy."""

from __future__ import annotations


class XxgkError(Exception):
    """Base of every error this project raises on purpose.

    Raised by library code; the CLI and the web app turn it into a message (exit 1 / HTTP status)
    at their boundary.
    """

    status = 500

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(XxgkError):
    """A setting or config file is wrong; raised at start-up by settings loading."""


class SourceError(ConfigError):
    """A source TOML file is wrong; the message names the file and the key."""


class ArchiveError(XxgkError):
    """The WARC store or the catalog cannot do what was asked."""


class FetchError(XxgkError):
    """A URL could not be fetched; `reason` is a short machine-readable cause for crawl reports."""

    def __init__(self, message: str, hint: str = "", reason: str = "fetch") -> None:
        super().__init__(message, hint)
        self.reason = reason


class QueryError(XxgkError):
    """A search request is malformed; shown to the user as a friendly message (HTTP 400)."""

    status = 400


class IndexMissingError(XxgkError):
    """The search index does not exist or is of another schema version (HTTP 503)."""

    status = 503


class EngineError(XxgkError):
    """The search engine failed on a request it should have answered; logged with its traceback (HTTP 503)."""

    status = 503
