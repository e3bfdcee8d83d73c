"""The index's errors: a malformed query, a missing index, an engine failure; each maps to an HTTP status."""

from __future__ import annotations

from archive.errors import XxgkError


class QueryError(XxgkError):
    """A search request is malformed; shown to the user as a friendly message (HTTP 400)."""

    status = 400


class IndexMissingError(XxgkError):
    """The search index does not exist or is of another schema version (HTTP 503)."""

    status = 503


class EngineError(XxgkError):
    """The search engine failed on a request it should have answered; logged with its traceback (HTTP 503)."""

    status = 503


class LayoutError(EngineError):
    """A tantivy index part is not laid out as `index.tantivy.layout` expects (another tantivy version, or damaged)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "the rebuild stopped, the current index is unchanged; report this with the tantivy version")
