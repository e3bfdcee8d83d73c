"""The data model and source of truth: settings, documents, the WARC store and the SQLite catalog."""

from archive.errors import XxgkError
from archive.models import Attachment, Document
from archive.settings import Settings, load_settings

__all__ = ["Attachment", "Document", "Settings", "XxgkError", "load_settings"]
