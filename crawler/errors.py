"""The crawler's errors: a wrong source file, a URL that could not be fetched."""

from __future__ import annotations

from archive.errors import ConfigError, XxgkError


class SourceError(ConfigError):
    """A source TOML file is wrong; the message names the file and the key."""


class FetchError(XxgkError):
    """A URL could not be fetched; `reason` is a short machine-readable cause for crawl reports."""

    def __init__(self, message: str, hint: str = "", reason: str = "fetch") -> None:
        super().__init__(message, hint)
        self.reason = reason
