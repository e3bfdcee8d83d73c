"""Every private part of Whoosh that the index code relies on, listed in one place, with the accessors.

Whoosh's public API reads postings one posting at a time and has no way to write whole terms or
commit segments built elsewhere; where that cost was measured too high, the index code reaches into
the pinned Whoosh's internals. Each such name is listed in `INTERNALS` with where it is used and why;
tests/index/whoosh/test_internals.py fails if the pinned Whoosh loses or changes one, and also fails if index code
starts using a private Whoosh name that is not listed here. Reading posting blocks and length columns
goes through the functions below, so the private access for reading lives in this module only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Internal:
    """One private attribute, method or module name of Whoosh that our code uses."""

    owner: str  # dotted path of the module or class that defines it
    name: str
    kind: str  # "method", "attribute" (on the class), "instance" (set in __init__/at run time), "module"
    used_in: str
    why: str


_LEAF = "whoosh.codec.whoosh3.W3LeafMatcher"
_SEGW = "whoosh.writing.SegmentWriter"
_BLOCKS = "posting blocks decoded whole (Whoosh's per-posting matcher costs tens of µs per document)"
_COMMIT = "the bulk writer commits segments built by forked workers, which SegmentWriter has no public call for"

INTERNALS: tuple[Internal, ...] = (
    # Reading: posting blocks as arrays (index/whoosh/postings.py through posting_blocks below).
    Internal(_LEAF, "_read_ids", "method", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_read_weights", "method", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_read_values", "method", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_next_block", "method", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_ids", "instance", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_weights", "instance", "index/whoosh/internals.py", _BLOCKS),
    Internal(_LEAF, "_values", "instance", "index/whoosh/internals.py", _BLOCKS),
    Internal(
        "whoosh.reading.SegmentReader",
        "_terms",
        "instance",
        "index/whoosh/internals.py",
        "the segment's block matcher without the FilterMatcher a segment with deletions adds",
    ),
    # Reading: one-byte field lengths as a column (BM25 length normalisation over whole arrays).
    Internal(
        "whoosh.reading.SegmentReader",
        "_perdoc",
        "instance",
        "index/whoosh/internals.py",
        "the per-document reader holds the field-length columns",
    ),
    Internal(
        "whoosh.codec.whoosh3.W3PerDocReader",
        "_cached_reader",
        "method",
        "index/whoosh/internals.py",
        "field lengths of a whole segment at once instead of one doc_field_length call per document",
    ),
    Internal("whoosh.codec.whoosh3", "_lenfield", "module", "index/whoosh/internals.py", "the name of a field's length column"),
    # Writing: whole terms to the codec (index/whoosh/codec.py).
    Internal(
        "whoosh.codec.whoosh3.W3FieldWriter",
        "_postfile",
        "instance",
        "index/whoosh/codec.py",
        "whole terms written to the postings file without per-posting calls",
    ),
    Internal(
        "whoosh.codec.whoosh3.W3FieldWriter", "_tindex", "instance", "index/whoosh/codec.py", "term infos added for whole terms"
    ),
    Internal(
        "whoosh.codec.whoosh3.W3FieldWriter",
        "_fieldid",
        "instance",
        "index/whoosh/codec.py",
        "the current field's number, the prefix of its term keys",
    ),
    Internal(
        "whoosh.codec.whoosh3.W3FieldWriter",
        "_codec",
        "instance",
        "index/whoosh/codec.py",
        "the codec whose block limit the written blocks follow",
    ),
    Internal(
        "whoosh.codec.whoosh3.W3Codec",
        "_blocklimit",
        "instance",
        "index/whoosh/codec.py",
        "postings per block, as Whoosh's own writer cuts them",
    ),
    Internal(
        "whoosh.codec.whoosh3.W3TermInfo", "_struct", "attribute", "index/whoosh/codec.py", "the packed layout of a term info"
    ),
    Internal("whoosh.system", "_INT_SIZE", "module", "index/whoosh/codec.py", "the size of a block's length prefix"),
    # Writing: a SegmentWriter whose text postings bypass the pool (index/whoosh/bulk.py).
    Internal(_SEGW, "_check_state", "method", "index/whoosh/bulk.py", "add_document keeps Whoosh's state check"),
    Internal(_SEGW, "_check_fields", "method", "index/whoosh/bulk.py", "add_document keeps Whoosh's field check"),
    Internal(
        _SEGW,
        "_tempstorage",
        "instance",
        "index/whoosh/bulk.py",
        "each bulk writer takes its own temporary storage (Whoosh's is named after the index)",
    ),
    Internal(_SEGW, "_added", "instance", "index/whoosh/bulk.py", "whether the writer has documents to commit"),
    Internal(_SEGW, "_merge_segments", "method", "index/whoosh/bulk.py", "overridden: a new index merges nothing"),
    Internal(_SEGW, "_flush_segment", "method", "index/whoosh/bulk.py", "overridden: buffered fields written as arrays"),
    Internal(_SEGW, "_finalize_segment", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_finish", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_close_segment", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_commit_toc", "method", "index/whoosh/bulk.py", _COMMIT),
)


def posting_blocks(
    reader: Any, field: str, text: str, values: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray, list[bytes] | None]]:
    """(document numbers, weights, raw values or None) of each posting block of a term in one
    segment reader, deleted documents included (segment-local numbers)."""
    if (field, text) not in reader:
        return
    # The segment's own block matcher: `reader.postings()` wraps it in a FilterMatcher when the segment
    # has deletions, which has no blocks and decodes the first block once more; the caller drops deleted
    # documents with its own mask instead.
    fieldobj = reader.schema[field]
    matcher = reader._terms.matcher(field, fieldobj.to_bytes(text), fieldobj.format)
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids = np.asarray(matcher._ids, dtype=np.int64)
        weights = np.asarray(matcher._weights, dtype=np.float32)
        raw = None
        if values:
            matcher._read_values()
            raw = list(matcher._values)
        yield ids, weights, raw
        matcher._next_block()


def length_codes(reader: Any, field: str) -> np.ndarray | None:
    """One-byte length codes of `field` for every document of a segment reader (None: not available)."""
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    except (AttributeError, ImportError):  # another codec: the caller takes the slow, public way
        return None
    count = reader.doc_count_all()
    if column is None:
        return np.zeros(count, np.int64)
    return np.fromiter(column, dtype=np.int64, count=count)
