"""Fixity: recompute every WARC digest and the manifest, and check that the catalog's pointers resolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.catalog import Catalog
from archive.errors import ArchiveError
from archive.store import OPEN_SUFFIX, WarcStore, file_sha256


@dataclass
class VerifyReport:
    """What `xxgk verify` found; `problems` name the file (and record) of every failure."""

    files: int = 0
    records: int = 0
    captures: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_records(path: Path, report: VerifyReport) -> None:
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, check_digests=True)
        try:
            for record in it:
                stream = record.content_stream()
                while stream.read(1 << 20):
                    pass
                report.records += 1
                if record.digest_checker.passed is False:
                    rid = record.rec_headers.get_header("WARC-Record-ID")
                    for problem in record.digest_checker.problems:
                        report.problems.append(f"{path.name}: record {rid} at offset {it.get_record_offset()}: {problem}")
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            report.problems.append(f"{path.name}: unreadable after {report.records} records: {exc}")
        except Exception as exc:  # noqa: BLE001 - zlib and parser errors on corrupt bytes take many forms
            report.problems.append(f"{path.name}: unreadable ({type(exc).__name__}: {exc})")


def verify_archive(store: WarcStore, catalog: Catalog | None = None) -> VerifyReport:
    """Check every sealed file against the manifest and its own digests, then every catalog pointer."""
    report = VerifyReport()
    manifest = store.manifest()
    on_disk = {p.name: p for p in store.files()}
    for name in sorted(set(manifest) - set(on_disk)):
        report.problems.append(f"{name}: listed in the manifest but missing; restore it from a backup")
    for name, path in on_disk.items():
        report.files += 1
        if name not in manifest:
            report.problems.append(f"{name}: sealed file not in the manifest")
        elif file_sha256(path) != manifest[name]:
            report.problems.append(f"{name}: sha256 differs from the manifest (file changed since it was sealed)")
        _check_records(path, report)
    for path in sorted(store.directory.glob("*" + OPEN_SUFFIX)):
        report.files += 1
        _check_records(path, report)
    if catalog is not None:
        for capture in catalog.all_captures():
            report.captures += 1
            try:
                record = store.read(capture.ref)
            except ArchiveError as exc:
                report.problems.append(f"{capture.ref.file}: capture {capture.id} ({capture.url}): {exc.message}")
                continue
            if record.url != capture.url:
                report.problems.append(f"{capture.ref.file}: capture {capture.id} points at a record of {record.url}")
            if capture.refers_to is not None and catalog.get_capture(capture.refers_to) is None:
                report.problems.append(f"{capture.ref.file}: revisit capture {capture.id} refers to a missing capture")
    return report
