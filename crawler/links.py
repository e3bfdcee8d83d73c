"""Which links of a detail page are attachments, and what their files are called (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote, urlsplit

from archive.filenames import names_in_url

ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".ofd", ".zip", ".rar", ".et", ".7z", ".txt")
# Download handlers of the CMS platforms: Hanweb downfile.jsp / download.jsp, DownFile?fileName=, ...
_HANDLER = re.compile(r"(?:^|/)(?:down(?:load)?(?:_?file)?|getfile|fileDownload|attachDownload)(?:\.\w{2,4})?$", re.I)
_ATTACH_DIR = re.compile(r"/(?:attach|attachment|attachments|fujian|uploadfile|upload/file)/", re.I)
_NOT_FILES = (".html", ".htm", ".shtml", ".jsp", ".asp", ".aspx", ".php", ".jpg", ".jpeg", ".png", ".gif", ".css", ".js")
# Link texts that name no file ("下载", "点击下载"): the file's name comes from the URL or the server then.
_GENERIC = re.compile(r"^(?:附件\s*\d*|点击)?\s*(?:下载|查看|打开|附件)\s*(?:附件|文件)?\s*\d*[:：]?$")


@dataclass(frozen=True)
class AttachmentLink:
    """An attachment link found on a detail page."""

    url: str
    name: str


def _has_ext(text: str) -> bool:
    return text.lower().rstrip().endswith(ATTACHMENT_EXT)


def file_name_in_url(url: str) -> str:
    """A file name the URL carries: its path's last part, or a query value ending in a file extension."""
    return next((name for name in names_in_url(url) if _has_ext(name)), "")


def is_attachment_link(url: str, text: str, css_class: str = "") -> bool:
    """Whether a link leads to a file: by its path's extension, a file name in its query, a download
    handler or attachment folder in its path, a link text naming a file, or the platform's class."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = parts.path
    if _has_ext(path) or file_name_in_url(url):
        return True
    if "attachment" in css_class.lower():  # gkmlpt: <a class="nfw-cms-attachment">
        return True
    if path.lower().endswith(_NOT_FILES) and not _HANDLER.search(path.rsplit(".", 1)[0] if "." in path else path):
        return _has_ext(text) and bool(parts.query)
    # A download handler takes its file from the query (download.jsp?fileid=77); without one it is a page.
    return bool((_HANDLER.search(path) and parts.query) or _ATTACH_DIR.search(path) or _has_ext(text))


def link_name(text: str, url: str) -> str:
    """The name to show for an attachment: the link text, unless it names no file."""
    text = " ".join(text.split())
    if text and not _GENERIC.match(text):
        return text
    return file_name_in_url(url) or text or url.rsplit("/", 1)[-1]


def disposition_name(value: str) -> str:
    """The file name of a Content-Disposition header ("" when none), also when sent as raw UTF-8 or GBK."""
    if not value:
        return ""
    message = Message()
    message["content-disposition"] = value
    name = message.get_filename() or ""
    try:  # HTTP headers arrive as latin-1: raw UTF-8 or GBK bytes of a Chinese name are mis-read
        raw = name.encode("latin-1")
    except UnicodeEncodeError:
        return unquote(name)
    for codec in ("utf-8", "gb18030"):
        try:
            return unquote(raw.decode(codec))
        except UnicodeDecodeError:
            continue
    return unquote(name)


def file_name(link: AttachmentLink, disposition: str) -> str:
    """The attachment's name once fetched: a link text naming no file yields to the server's file name."""
    served = disposition_name(disposition)
    if not served or _has_ext(link.name):
        return link.name
    names_nothing = not link.name or _GENERIC.match(link.name) or link.name == link.url.rsplit("/", 1)[-1]
    return served if names_nothing else link.name
