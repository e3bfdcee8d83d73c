"""The one part of tantivy's on-disk layout we rely on: joining indexes built apart into one index.

tantivy-py has one writer per index and no way to add another index's segments, so a rebuild that
indexes in several processes (each with its own writer, `index.tantivy.writer`) joins their results
here. A tantivy index directory holds `meta.json` (the index settings, the schema and the list of
segments with their document counts), `.managed.json` (the files tantivy may garbage-collect) and
each segment's files, named by the segment's id without dashes. Joining moves the segment files
of every part into the target and writes one `meta.json` listing all segments.

`LAYOUT` names what this relies on; tests/index/tantivy/test_layout.py fails if the pinned tantivy
writes something else, and checks that a joined index reads exactly as one built by a single writer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from index.errors import LayoutError

META = "meta.json"
MANAGED = ".managed.json"
LAYOUT = {
    META: ("index_settings", "segments", "schema", "opstamp"),  # its keys
    "segment": ("segment_id", "max_doc", "deletes"),  # the keys of each entry of "segments"
    MANAGED: "a JSON list of the file names tantivy manages",
    "segment files": "<segment_id without dashes>.<extension>",
}


def read_meta(index_dir: Path) -> dict[str, Any]:
    """A tantivy index's meta.json, checked against `LAYOUT`."""
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or set(meta) != set(LAYOUT[META]):
        found = sorted(meta) if isinstance(meta, dict) else meta
        raise LayoutError(f"{index_dir / META}: keys {found!r}, expected {LAYOUT[META]}")
    for segment in meta["segments"]:
        if set(segment) != set(LAYOUT["segment"]):
            raise LayoutError(f"{index_dir / META}: a segment has keys {sorted(segment)}, expected {LAYOUT['segment']}")
    return meta


def segment_files(index_dir: Path, segment_id: str) -> list[Path]:
    """The files of one segment."""
    stem = segment_id.replace("-", "")
    return sorted(p for p in index_dir.iterdir() if p.name.split(".", 1)[0] == stem)


def join(parts: list[Path], target: Path) -> int:
    """Move the segments of freshly built indexes `parts` (same schema and settings, no deletions) into
    `target`, an empty directory, as one index; returns its document count."""
    metas = [read_meta(part) for part in parts]
    if not metas:
        raise LayoutError("no index parts to join")
    first = metas[0]
    for part, meta in zip(parts, metas, strict=True):
        if meta["schema"] != first["schema"] or meta["index_settings"] != first["index_settings"]:
            raise LayoutError(f"{part}: its schema or settings differ from {parts[0]}'s")
        if any(segment["deletes"] is not None for segment in meta["segments"]):
            raise LayoutError(f"{part}: a freshly built part has deletions")
    segments: list[dict[str, Any]] = []
    managed: list[str] = [META]
    for part, meta in zip(parts, metas, strict=True):
        for segment in meta["segments"]:
            files = segment_files(part, segment["segment_id"])
            if not files:
                raise LayoutError(f"{part}: segment {segment['segment_id']} has no files")
            for path in files:
                os.replace(path, target / path.name)
                managed.append(path.name)
            segments.append(segment)
    joined = {
        "index_settings": first["index_settings"],
        "segments": segments,
        "schema": first["schema"],
        "opstamp": max(int(meta["opstamp"]) for meta in metas),
    }
    (target / MANAGED).write_text(json.dumps(managed), encoding="utf-8")
    tmp = target / (META + ".tmp")
    tmp.write_text(json.dumps(joined, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target / META)  # last: until it exists, `target` is no index
    return sum(int(segment["max_doc"]) for segment in segments)
