"""Append-only WARC store: gzip-per-record files written as *.open, fsynced, sealed by rename."""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.errors import ArchiveError, BodyEncodingError
from archive.models import RecordRef

log = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
MANIFEST = "MANIFEST.sha256"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Hop-by-hop framing that no longer describes the stored (de-chunked) payload.
_FRAMING_HEADERS = {"transfer-encoding"}


@dataclass(frozen=True)
class StoredResponse:
    """An archived HTTP response as read back from its WARC record."""

    url: str
    record_type: str
    status: int
    headers: list[tuple[str, str]]
    payload: bytes
    warc_date: str
    payload_digest: str

    def header(self, name: str) -> str:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), "")

    def body(self, limit: int = 100_000_000) -> bytes:
        """The payload with Content-Encoding undone (what a browser would have rendered)."""
        return decode_content_encoding(self.payload, self.header("content-encoding"), limit)


@dataclass(frozen=True)
class WrittenRecord:
    """What the catalog needs to know about a record just written and fsynced."""

    ref: RecordRef
    payload_digest: str
    warc_date: str
    record_id: str


def decode_content_encoding(data: bytes, encoding: str, limit: int) -> bytes:
    """Undo gzip/deflate Content-Encoding with a cap on the decoded size (bombs raise BodyEncodingError)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(data, limit)
        if inflater.unconsumed_tail:
            raise BodyEncodingError(
                f"decoded body exceeds {limit} bytes", "raise max_page_bytes if this is legitimate", "decoded-size"
            )
        return out
    raise BodyEncodingError(f"unsupported Content-Encoding {encoding!r}", "report the portal to the maintainers", "encoding")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _http_response(status: int, reason: str, headers: Iterable[tuple[str, str]]) -> StatusAndHeaders:
    """The response's status line and headers as archived; framing headers are renamed."""
    archived = [("X-Archive-Orig-" + name if name.lower() in _FRAMING_HEADERS else name, value) for name, value in headers]
    return StatusAndHeaders(f"{status} {reason}".strip(), archived, protocol="HTTP/1.1")


class WarcSession:
    """Writes one crawl run's records; rolls over to a new file past `max_bytes`.

    Every `write_*` call returns only after the record's bytes are fsynced, so a catalog row may
    point at it safely. With `deferred_sync` set (group commit), writes are only flushed and the
    caller must call `sync()` before committing catalog rows that point at them.
    """

    def __init__(self, store: WarcStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix
        self._serial = 0
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""
        self.deferred_sync = False
        self._unsynced = False

    def _ensure_file(self) -> None:
        if self._fh is not None and self._fh.tell() < self._store.max_bytes:
            return
        if self._fh is not None:
            self._seal()
        self._fh = self._new_file()
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)  # held while we write: recover() leaves this file alone
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = self._writer.create_warcinfo_record(self._name, {"software": "xxgk-archive/0.1", "format": "WARC File Format 1.1"})
        self._writer.write_record(info)
        self._sync()
        log.info("opened WARC file %s", self._name)

    def _new_file(self) -> BinaryIO:
        """Create a file under a name no file of this store has yet, sealed or open.

        Two runs of one source in the same second (a one-second schedule, a crawl-now request right
        after a run) would otherwise share a name, and sealing the second would replace the first.
        """
        directory = self._store.directory
        while True:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            self._name = f"{self._prefix}-{stamp}-{os.getpid()}-{self._serial:05d}.warc.gz"
            if (directory / self._name).exists():
                continue
            try:
                return open(directory / (self._name + OPEN_SUFFIX), "xb")
            except FileExistsError:
                continue

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._unsynced = False

    def sync(self) -> None:
        """Make every record written so far durable (needed only with `deferred_sync`)."""
        if self._fh is not None and self._unsynced:
            self._sync()

    def _write(self, *records) -> WrittenRecord:  # type: ignore[no-untyped-def]
        self._ensure_file()
        assert self._fh is not None and self._writer is not None
        main_offset = main_length = 0
        for i, record in enumerate(records):
            offset = self._fh.tell()
            self._writer.write_record(record)
            if i == len(records) - 1:
                main_offset, main_length = offset, self._fh.tell() - offset
        if self.deferred_sync:
            self._fh.flush()  # readable now; durable at the next sync(), before any catalog commit
            self._unsynced = True
        else:
            self._sync()
        last = records[-1]
        return WrittenRecord(
            ref=RecordRef(self._name, main_offset, main_length),
            payload_digest=last.rec_headers.get_header("WARC-Payload-Digest") or "",
            warc_date=last.rec_headers.get_header("WARC-Date") or "",
            record_id=last.rec_headers.get_header("WARC-Record-ID") or "",
        )

    def _request_record(self, url: str, request_headers: list[tuple[str, str]], body: bytes | None = None):  # type: ignore[no-untyped-def]
        assert self._writer is not None
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        method = "GET" if body is None else "POST"
        http = StatusAndHeaders(f"{method} {target} HTTP/1.1", request_headers, is_http_request=True)
        if body is None:
            return self._writer.create_warc_record(url, "request", http_headers=http)
        return self._writer.create_warc_record(url, "request", payload=io.BytesIO(body), length=len(body), http_headers=http)

    def write_response(
        self,
        url: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        payload: bytes,
        truncated: str = "",
        request_body: bytes | None = None,
    ) -> WrittenRecord:
        """Archive one exchange as a request + response pair; `truncated` is a WARC-Truncated reason."""
        self._ensure_file()
        assert self._writer is not None
        http = _http_response(status, reason, headers)
        extra = {"WARC-Truncated": truncated} if truncated else {}
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(payload),
            length=len(payload),
            http_headers=http,
            warc_headers_dict=extra,
        )
        request = self._request_record(url, request_headers, request_body)
        return self._write(request, response)

    def write_revisit(
        self,
        url: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        payload_digest: str,
        refers_to_url: str,
        refers_to_date: str,
        not_modified: bool = False,
        request_body: bytes | None = None,
    ) -> WrittenRecord:
        """Archive a fetch whose payload is already stored (identical digest, or a 304)."""
        self._ensure_file()
        assert self._writer is not None
        http = _http_response(status, reason, headers)
        revisit = self._writer.create_revisit_record(url, payload_digest, refers_to_url, refers_to_date, http_headers=http)
        if not_modified:
            revisit.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED)
        request = self._request_record(url, request_headers, request_body)
        return self._write(request, revisit)

    def write_metadata(self, url: str, data: bytes, refers_to: str) -> WrittenRecord:
        """Archive what was extracted from a capture (JSON), pointing at that capture's record."""
        self._ensure_file()
        assert self._writer is not None
        record = self._writer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(data),
            length=len(data),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Refers-To": refers_to} if refers_to else {},
        )
        return self._write(record)

    def _seal(self) -> None:
        assert self._fh is not None
        self._sync()
        self._store.seal(self._store.directory / (self._name + OPEN_SUFFIX))  # renamed while still locked
        self._fh.close()
        self._fh = None
        self._writer = None
        log.info("sealed WARC file %s", self._name)

    def close(self) -> None:
        """Seal the current file (fsync, rename without .open, fsync the directory)."""
        if self._fh is not None:
            self._seal()

    def __enter__(self) -> WarcSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WarcStore:
    """The directory of WARC files; opens write sessions and reads records back by location."""

    def __init__(self, directory: Path, max_bytes: int = 100_000_000, create: bool = True) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)

    def session(self, prefix: str = "xxgk") -> WarcSession:
        return WarcSession(self, prefix)

    def path_for(self, name: str) -> Path:
        """The file holding `name`, sealed or still open; names never come from user input."""
        if "/" in name or "\\" in name or name.startswith("."):
            raise ArchiveError(f"invalid WARC file name {name!r}")
        path = self.directory / name
        if path.exists():
            return path
        open_path = self.directory / (name + OPEN_SUFFIX)
        if open_path.exists():
            return open_path
        raise ArchiveError(
            f"WARC file {name} is missing from {self.directory}", "restore it from a backup, then run `xxgk verify`"
        )

    def read(self, ref: RecordRef) -> StoredResponse:
        """Read the response or revisit record at `ref` (raw payload, never decoded)."""
        with open(self.path_for(ref.file), "rb") as fh:
            fh.seek(ref.offset)
            try:
                record = next(iter(ArchiveIterator(fh)))
            except (StopIteration, ArchiveLoadFailed) as exc:
                raise ArchiveError(
                    f"no readable record at {ref.file}:{ref.offset}: {exc}", "run `xxgk verify` to check the archive"
                ) from None
            status = int(record.http_headers.get_statuscode() or 0) if record.http_headers else 0
            headers = list(record.http_headers.headers) if record.http_headers else []
            payload = record.raw_stream.read()
            return StoredResponse(
                url=record.rec_headers.get_header("WARC-Target-URI") or "",
                record_type=record.rec_type,
                status=status,
                headers=headers,
                payload=payload,
                warc_date=record.rec_headers.get_header("WARC-Date") or "",
                payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
            )

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.warc.gz"))

    def seal(self, open_path: Path) -> Path:
        """Seal an *.open file: list its sha256 in the manifest, make it read-only, drop the suffix.

        The manifest line is durable before the rename, so a sealed file is always vouched for; a crash
        in between leaves an .open file that `recover()` seals again (the newest manifest line wins).
        """
        sealed = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
        digest = file_sha256(open_path)
        with open(self.directory / MANIFEST, "a", encoding="utf-8") as fh:
            fh.write(f"{digest}  {sealed.name}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(open_path, 0o444)
        os.replace(open_path, sealed)
        _fsync_dir(self.directory)
        return sealed

    def manifest(self) -> dict[str, str]:
        """File name -> sha256 of every sealed file, as recorded when it was sealed."""
        path = self.directory / MANIFEST
        if not path.exists():
            return {}
        entries = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            if name:
                entries[name] = digest
        return entries

    def recover(self) -> list[str]:
        """Seal *.open files left by a killed writer, cutting off a partial last record."""
        recovered = []
        for path in sorted(self.directory.glob("*.warc.gz" + OPEN_SUFFIX)):
            try:
                probe = open(path, "rb")
            except FileNotFoundError:
                continue  # sealed by its writer meanwhile
            with probe:
                try:
                    fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer (another crawl) still owns it
                if not path.exists():
                    continue
                self._cut_and_seal(path)
                recovered.append(path.name.removesuffix(OPEN_SUFFIX))
        return recovered

    def _cut_and_seal(self, path: Path) -> None:
        """Cut a dead writer's file after its last complete record and seal it (caller holds its lock)."""
        good_end = 0
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            try:
                for record in it:
                    it.read_to_end(record)
                    good_end = it.get_record_offset() + it.get_record_length()
            except Exception as exc:  # noqa: BLE001 - any parse failure marks the tail as partial
                log.warning("WARC %s: partial tail after byte %d cut off (%s)", path.name, good_end, exc)
        os.chmod(path, 0o644)
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())
        self.seal(path)
