"""The base of every deliberate error, and the archive's own; other packages subclass XxgkError in their errors.py."""

from __future__ import annotations

from typing import Any


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


class ArchiveError(XxgkError):
    """The WARC store or the catalog cannot do what was asked."""


class BodyEncodingError(ArchiveError):
    """A stored or fetched body cannot be decoded (unknown Content-Encoding, or it inflates past its cap)."""

    def __init__(self, message: str, hint: str = "", reason: str = "encoding") -> None:
        super().__init__(message, hint)
        self.reason = reason


class LockHeld(XxgkError):
    """Another process holds the lock."""

    def __init__(self, what: str, holder: dict[str, Any]) -> None:
        who = (
            (
                f"进程 {holder.get('pid', '?')}（{holder.get('command', '?')}，{holder.get('host', '?')}，"
                f"开始于 {holder.get('since', '?')}）"
            )
            if holder
            else "另一个进程"
        )
        super().__init__(f"{what}正被{who}持有", "等它结束，或先停止那个进程")
        self.holder = holder
