"""Attachment text (PDF, DOCX, XLSX, XLS, OFD), extracted in a child process with time and memory limits.

Parsers of hostile files loop, explode or crash (pypdf infinite loops, zip bombs): the crawl only ever
sees text, or an error recorded on the document.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import zipfile

from archive.sniff import DOCX, OFD, XLSX, sniff_content_type

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
MAX_UNCOMPRESSED = 100_000_000
MAX_ZIP_ENTRIES = 10_000
OFD_NS_TEXT = "TextCode"


_KINDS = {"application/pdf": "pdf", DOCX: "docx", XLSX: "xlsx", OFD: "ofd"}


def kind_of(name: str, content_type: str, data: bytes) -> str:
    """The parser to use, from the bytes (our own sniffing); a legacy OLE file is an XLS only by name or type."""
    mime = sniff_content_type(data)
    if mime == "application/msword":  # the OLE container: .doc, .xls, .wps and .et all look alike
        return "xls" if name.lower().endswith((".xls", ".et")) or "excel" in content_type else "ole"
    return _KINDS.get(mime, "")


def _check_zip(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise ValueError("archive expands beyond the size limit (zip bomb?)")
    return archive


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    parts, total = [], 0
    for page in PdfReader(io.BytesIO(data)).pages:
        text = page.extract_text() or ""
        parts.append(text)
        total += len(text)
        if total > MAX_TEXT_CHARS:
            break
    return "\n".join(parts)


def _docx(data: bytes) -> str:
    _check_zip(data)
    import docx

    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text.strip())


def _xlsx(data: bytes) -> str:
    _check_zip(data)
    from openpyxl import load_workbook

    rows = []
    for sheet in load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [str(c) for c in row if c is not None and str(c).strip()]
            if cells:
                rows.append(" ".join(cells))
    return "\n".join(rows)


def _xls(data: bytes) -> str:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    rows = []
    for sheet in book.sheets():
        for r in range(sheet.nrows):
            cells = [str(c) for c in sheet.row_values(r) if str(c).strip()]
            if cells:
                rows.append(" ".join(cells))
    return "\n".join(rows)


def _ofd(data: bytes) -> str:
    """OFD (GB/T 33190): the text of every page's Content.xml TextCode elements, in page order."""
    from defusedxml import ElementTree

    archive = _check_zip(data)
    pages = sorted((n for n in archive.namelist() if n.endswith("Content.xml") and "/Pages/" in n),
                   key=lambda n: [int(part) if part.isdigit() else part for part in n.replace("_", "/").split("/")])
    lines = []
    for name in pages:
        root = ElementTree.fromstring(archive.read(name))
        lines.extend(el.text for el in root.iter() if el.tag.endswith(OFD_NS_TEXT) and el.text)
    return "\n".join(lines)


PARSERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "xls": _xls, "ofd": _ofd}


def extract_text(data: bytes, name: str = "", content_type: str = "") -> tuple[str, str]:
    """(text, error) in this process; use `extract_text_isolated` for untrusted files."""
    kind = kind_of(name, content_type, data)
    parser = PARSERS.get(kind)
    if parser is None:
        return "", f"unsupported attachment type ({kind or 'unknown'}): text not extracted"
    try:
        text = parser(data)
    except Exception as exc:  # noqa: BLE001 - any parser failure is recorded on the document, never fatal
        return "", f"extraction failed: {type(exc).__name__}: {exc}"[:300]
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if not text:
        return "", "no text layer (a scanned image?): indexed by its title and metadata only"
    return text[:MAX_TEXT_CHARS], ""


def _limit_memory(megabytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


class AttachmentWorker:
    """A long-lived child process that extracts text, one file at a time, under time and memory limits.

    A file that takes longer than `timeout_s` gets the worker killed (and a fresh one started for the
    next file); the memory limit is the child's address-space limit. Never raises from `extract`.
    """

    def __init__(self, timeout_s: float = 30.0, memory_mb: int = 1024) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen([sys.executable, "-m", "crawler.attachments"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          preexec_fn=_limit_memory(self.memory_mb))
        return self._proc

    def _kill(self) -> str:
        proc, self._proc = self._proc, None
        if proc is None:
            return ""
        proc.kill()
        _, err = proc.communicate()
        return (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1]

    def extract(self, data: bytes, name: str = "", content_type: str = "") -> tuple[str, str]:
        if not PARSERS.get(kind_of(name, content_type, data)):
            return extract_text(data, name, content_type)  # nothing to parse: no process needed
        import select

        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        header = json.dumps({"name": name, "content_type": content_type, "size": len(data)}, ensure_ascii=False)
        try:
            proc.stdin.write(header.encode("utf-8") + b"\n" + data)
            proc.stdin.flush()
        except BrokenPipeError:
            return "", f"extraction process failed: {self._kill()}"[:300]
        ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
        if not ready:
            self._kill()
            log.warning("attachment %s: text extraction timed out after %g s", name, self.timeout_s)
            return "", f"extraction timed out after {self.timeout_s:g} s"
        line = proc.stdout.readline()
        if not line:
            return "", f"extraction process failed (exit {proc.wait()}): {self._kill()}"[:300]
        result = json.loads(line)
        return result["text"], result["error"]

    def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.close()  # end of jobs: the worker loop returns
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        self._proc = None

    def __enter__(self) -> "AttachmentWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract_text_isolated(data: bytes, name: str = "", content_type: str = "", timeout_s: float = 30.0,
                          memory_mb: int = 1024) -> tuple[str, str]:
    """(text, error) from a one-off worker process; never raises."""
    with AttachmentWorker(timeout_s, memory_mb) as worker:
        return worker.extract(data, name, content_type)


def _serve() -> None:
    """The worker loop: a JSON header line, then that many bytes; answer one JSON line per file."""
    stdin, stdout = sys.stdin.buffer, sys.stdout
    while True:
        header = stdin.readline()
        if not header:
            return
        job = json.loads(header)
        data = stdin.read(job["size"])
        try:
            text, error = extract_text(data, job["name"], job["content_type"])
        except MemoryError:
            text, error = "", "extraction ran out of memory (attachment_memory_mb)"
        stdout.write(json.dumps({"text": text, "error": error}, ensure_ascii=False) + "\n")
        stdout.flush()


if __name__ == "__main__":  # the child process of AttachmentWorker
    _serve()
