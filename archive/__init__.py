"""The foundation and source of truth: settings, documents, the WARC store, the SQLite catalog, the base
error class and the command-line plumbing. Imports none of the other packages."""

from archive.errors import XxgkError
from archive.models import Attachment, Document
from archive.settings import Settings, load_settings

__all__ = ["Attachment", "Document", "Settings", "XxgkError", "load_settings"]
