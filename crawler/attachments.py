"""Attachment text (PDF, DOC, DOCX, XLSX, XLS, OFD, Word-compatible WPS), extracted in a limited child process.

The child runs with time and memory limits.

Parsers of hostile files loop, explode or crash (pypdf infinite loops, zip bombs): the crawl only ever
sees text, or an error recorded on the document.
"""

from __future__ import annotations

import io
import json
import logging
import struct
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


# Word binary field and cell marks: 0x13 field start, 0x14 separator, 0x15 end, 0x07 cell/row end.
_FIELD_START, _FIELD_SEP, _FIELD_END, _CELL = "\x13", "\x14", "\x15", "\x07"
_DOC_CONTROL = dict.fromkeys(range(0x20), None) | {0x0D: "\n", 0x0B: "\n", 0x0C: "\n", 0x09: "\t", 0x07: "\t"}


def _doc_text(word: bytes, table: bytes) -> str:
    """The main text of a Word 97-2003 binary ([MS-DOC]): walk the piece table in the Clx."""
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x01A2)
    ccp_text = struct.unpack_from("<I", word, 64 + 12)[0]
    clx = table[fc_clx : fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc entries (formatting) come first
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ValueError("no piece table in the document")
    plc = clx[pos + 5 : pos + 5 + struct.unpack_from("<I", clx, pos + 1)[0]]
    pieces = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{pieces + 1}I", plc)
    parts, total = [], 0
    for i in range(pieces):
        count = min(cps[i + 1], ccp_text) - cps[i]
        if count <= 0:
            continue
        fc = struct.unpack_from("<I", plc, 4 * (pieces + 1) + 8 * i + 2)[0]
        if fc & 0x40000000:  # compressed: one byte per character, code page 1252
            start = (fc & 0x3FFFFFFF) // 2
            parts.append(word[start : start + count].decode("cp1252", "replace"))
        else:
            parts.append(word[fc : fc + 2 * count].decode("utf-16-le", "replace"))
        total += count
        if total > MAX_TEXT_CHARS:
            break
    text, out, depth, shown = "".join(parts), [], 0, [True]
    for char in text:  # keep a field's result, drop its instructions
        if char == _FIELD_START:
            depth += 1
            shown.append(False)
        elif char == _FIELD_SEP and depth:
            shown[-1] = True
        elif char == _FIELD_END and depth:
            depth -= 1
            shown.pop()
        elif all(shown):
            out.append(char)
    return "".join(out).translate(_DOC_CONTROL)


def _ole(data: bytes) -> str:
    """A legacy OLE file by its streams: Word binary (.doc, and .wps saved Word-compatible) or a workbook."""
    import olefile

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        if ole.exists("WordDocument"):
            word = ole.openstream("WordDocument").read()
            flags = struct.unpack_from("<H", word, 0x0A)[0]
            if flags & 0x0100:
                raise ValueError("the document is password-protected")
            table_name = "1Table" if flags & 0x0200 else "0Table"
            if not ole.exists(table_name):
                raise ValueError(f"{table_name} stream missing (not a Word 97+ file)")
            return _doc_text(word, ole.openstream(table_name).read())
        if ole.exists("Workbook") or ole.exists("Book"):
            return _xls(data)
    raise ValueError("OLE file without a Word or Excel stream (an older WPS format?)")


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

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:  # report statistics live in tables: one line per row, cells joined by " | "
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            lines.append(" | ".join(cells))
    return "\n".join(lines)


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
    pages = sorted(
        (n for n in archive.namelist() if n.endswith("Content.xml") and "/Pages/" in n),
        key=lambda n: [int(part) if part.isdigit() else part for part in n.replace("_", "/").split("/")],
    )
    lines: list[str] = []
    for name in pages:
        root = ElementTree.fromstring(archive.read(name))
        lines.extend(el.text for el in root.iter() if el.tag.endswith(OFD_NS_TEXT) and el.text)
    return "\n".join(lines)


PARSERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "xls": _xls, "ofd": _ofd, "ole": _ole}


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
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.attachments"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=_limit_memory(self.memory_mb),
            )
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

    def __enter__(self) -> AttachmentWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract_text_isolated(
    data: bytes, name: str = "", content_type: str = "", timeout_s: float = 30.0, memory_mb: int = 1024
) -> tuple[str, str]:
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
