"""Every private part of Whoosh that the index code relies on, listed in one place, with the accessors.

Whoosh's public API reads postings one posting at a time and has no way to write whole terms or
commit segments built elsewhere; where that cost was measured too high, the index code reaches into
the pinned Whoosh's internals. Each such name is listed in `INTERNALS` with where it is used and why;
tests/index/whoosh/test_internals.py fails if the pinned Whoosh loses or changes one, and also fails if index code
starts using a private Whoosh name that is not listed here. Reading posting blocks and length columns
goes through the functions below, so the private access for reading lives in this module only.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import pickle
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.reading import TermNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Internal:
    """One private attribute, method or module name of Whoosh that our code uses."""

    owner: str  # dotted path of the module or class that defines it
    name: str
    kind: str  # "method", "attribute" (on the class), "instance" (set in __init__/at run time), "module"
    used_in: str
    why: str


_SEGW = "whoosh.writing.SegmentWriter"
_BLOCKS = (
    "a term's posting bytes read at once and decoded whole (Whoosh's per-posting matcher costs tens of µs per"
    " document, its block matcher several file calls per block)"
)
_PROBE = (
    "a term's info found by a hash probe with positioned reads of the segment's compound file (Whoosh's lookup"
    " makes about six seek-and-read calls, 20-60 µs, and a segment is probed for every term a query reads)"
)
_COMMIT = "the bulk writer commits segments built by forked workers, which SegmentWriter has no public call for"

INTERNALS: tuple[Internal, ...] = (
    # Reading: a term's postings decoded whole (index/whoosh/postings.py through term_postings below).
    Internal(
        "whoosh.reading.SegmentReader",
        "_terms",
        "instance",
        "index/whoosh/internals.py",
        "the segment's terms reader: a term's info and postings file, without the FilterMatcher a segment with deletions adds",
    ),
    Internal("whoosh.codec.whoosh3.W3TermsReader", "_postfile", "instance", "index/whoosh/internals.py", _BLOCKS),
    # Reading: a term looked up by a hash probe on the mapped segment file (SegmentTerms below).
    Internal("whoosh.codec.whoosh3.W3TermsReader", "_tindex", "instance", "index/whoosh/internals.py", _PROBE),
    Internal("whoosh.codec.whoosh3.W3TermsReader", "_fieldmap", "instance", "index/whoosh/internals.py", _PROBE),
    Internal("whoosh.filedb.compound.SubFile", "_file", "instance", "index/whoosh/internals.py", _PROBE),
    Internal("whoosh.filedb.compound.SubFile", "_offset", "instance", "index/whoosh/internals.py", _PROBE),
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
        "each bulk writer takes its own temporary storage (Whoosh's is named after the index); its folder"
        " holds the spilled runs and goes with the writer",
    ),
    Internal(_SEGW, "_added", "instance", "index/whoosh/bulk.py", "whether the writer has documents to commit"),
    Internal(_SEGW, "_merge_segments", "method", "index/whoosh/bulk.py", "overridden: a new index merges nothing"),
    Internal(_SEGW, "_flush_segment", "method", "index/whoosh/bulk.py", "overridden: buffered fields written as arrays"),
    Internal(_SEGW, "_finalize_segment", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_finish", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_close_segment", "method", "index/whoosh/bulk.py", _COMMIT),
    Internal(_SEGW, "_commit_toc", "method", "index/whoosh/bulk.py", _COMMIT),
)


@dataclass
class TermPostings:
    """One term's postings in one segment, deleted documents included (segment-local numbers)."""

    ids: np.ndarray  # int64, ascending
    weights: np.ndarray  # float32
    values: list[bytes] | None  # each posting's raw value (positions), when asked for


_MAGIC_SIZE = 4  # the header tag at the start of a term's postings
_PROTO2, _MARK, _TUPLE, _BINFLOAT, _NONE, _BINPUT, _LONG_BINPUT = 0x80, 0x28, 0x74, 0x47, 0x4E, 0x71, 0x72
_FLOAT = struct.Struct(">d")
_INTS = re.compile(rb"(?:K.|M..|J....)*", re.DOTALL)  # pickled ints: BININT1, BININT2, BININT and their bytes


def _after_memo(data: bytes, at: int) -> int:
    """The offset past a memo store at `at` (the pickler memoises each tuple), or -1."""
    if data[at] == _BINPUT:
        return at + 2
    if data[at] == _LONG_BINPUT:
        return at + 5
    return -1


def _block_fields(data: bytes, count: int) -> tuple[bytes, float | bytes | None] | None:
    """A block's id deltas as their pickled int opcodes, and its weights (None: all 1.0; one float; or
    one BINFLOAT record of 9 bytes per posting), cut out without unpickling its values; None when the
    block is not in the common shape (then it is unpickled whole).

    Unpickling a block's values (one bytes object per posting, which protocol 2 stores as a call to
    `_codecs.encode`) costs several times the rest, and ids-only reads are most reads. The common
    shape, as pickle protocol 2 writes it for at least 4 postings: PROTO 2; the deltas as MARK, one
    int opcode each, TUPLE, a memo store; the weights as NONE, one BINFLOAT, or MARK, one BINFLOAT
    each, TUPLE. The parts of a term's blocks are decoded together (`_deltas`, `_floats`)."""
    if count < 4 or len(data) < 4 + 2 * count or data[0] != _PROTO2 or data[2] != _MARK:
        return None
    end = _INTS.match(data, 3).end()  # type: ignore[union-attr]  # matches at least the empty string
    if end >= len(data) or data[end] != _TUPLE:
        return None
    at = _after_memo(data, end + 1)
    if at < 0 or at >= len(data):
        return None
    op = data[at]
    if op == _NONE:
        return data[3:end], None
    if op == _BINFLOAT:
        return data[3:end], float(_FLOAT.unpack_from(data, at + 1)[0])
    if op != _MARK or len(data) < at + 2 + 9 * count or data[at + 1 + 9 * count] != _TUPLE:
        return None
    return data[3:end], data[at + 1 : at + 1 + 9 * count]


def _deltas(opcodes: list[bytes]) -> tuple[int, ...]:
    """The ints of pickled int opcodes (of one block or of several joined), in one unpickling."""
    return tuple(pickle.loads(b"\x80\x02(" + b"".join(opcodes) + b"t."))


def _floats(records: bytes) -> np.ndarray | None:
    """float32 weights from BINFLOAT records (9 bytes each; None if one is not a BINFLOAT)."""
    floats = np.frombuffer(records, dtype=np.uint8).reshape(-1, 9)
    if not (floats[:, 0] == _BINFLOAT).all():
        return None
    return floats[:, 1:].copy().view(">f8").ravel().astype(np.float32)


def _weight_part(weights: Any, count: int) -> bytes | np.ndarray:
    """A block's weights as `_decoded` takes them: BINFLOAT records as they are, otherwise an array."""
    if weights is None:
        return np.ones(count, dtype=np.float32)
    if isinstance(weights, float):
        return np.full(count, weights, dtype=np.float32)
    return weights if isinstance(weights, bytes) else np.array(weights, dtype=np.float32)


_SLOT = struct.Struct("!Iq")  # a hash table slot: the key's hash, where its entry starts
_ENTRY = struct.Struct("!ii")  # an entry's head: key length, value length
_VALUE_GUESS = 64  # a term info's packed size, read with its key (an inlined one may be longer)


class SegmentTerms:
    """One segment's terms: info and posting bytes, found by hash probes read straight from its file.

    Whoosh keeps a segment's term dictionary (.trm, an ordered on-disk hash) and postings (.pst) in
    one compound file and reads them through layers of seek-and-read calls: about six per term
    lookup, 20-60 µs, and a query looks each of its terms up in every segment. This probes the hash
    with positioned reads (`os.pread`) of the few bytes it needs. The hash file's layout: 256 tables,
    each of slots (key hash, entry position); a key's table is its hash & 255, its first slot
    (hash >> 8) % slots, probed in turn until an empty one; an entry is the key and value lengths,
    the key, the value (a packed W3TermInfo). Reads, unlike a memory map, fail cleanly when the file
    was cut short under a running site. A segment outside a compound file on disk reads Whoosh's way.
    """

    def __init__(self, reader: Any, direct: bool = True) -> None:
        self.reader = reader
        self.schema = reader.schema
        self.terms = reader._terms
        self._index = self.terms._tindex
        self._prefixes = {name: struct.pack(">H", number) for name, number in self.terms._fieldmap.items()}
        self._file: io.FileIO | None = None
        if direct:
            self._open_file()

    def _open_file(self) -> None:
        index_file: Any = getattr(self._index.dbfile, "file", None)
        post_file: Any = getattr(self.terms._postfile, "file", None)
        path = getattr(getattr(index_file, "_file", None), "name", None)
        if not isinstance(path, str) or getattr(getattr(post_file, "_file", None), "name", None) != path:
            return  # not one compound file on disk (a RAM index, a memory-mapped one): Whoosh's reads
        try:
            self._file = io.FileIO(path, "r")
        except OSError as e:
            log.warning("cannot open %s (%s): terms are read through Whoosh's file calls", path, e)
            return
        self._index_at = int(index_file._offset)
        self._postings_at = int(post_file._offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _pread(self, size: int, at: int, need: int | None = None) -> bytes:
        """`size` bytes at `at` (fewer only past the file's end, and at least `need`, default all)."""
        assert self._file is not None
        data = os.pread(self._file.fileno(), size, at)
        if len(data) < (size if need is None else need):
            raise OSError(f"索引文件 {self._file.name} 比其目录记载的短（已损坏或被截断），请运行 xxgk reindex 重建索引。")
        return data

    def info(self, field: str, text: str) -> Any:
        """The term's W3TermInfo, or None when the segment does not hold it."""
        prefix = self._prefixes.get(field)
        if prefix is None:
            return None
        key = prefix + self.schema[field].to_bytes(text)
        if self._file is None:
            try:
                return self.terms.term_info(field, key[2:])
            except TermNotFound:
                return None
        found = self._probe(key)
        return None if found is None else W3TermInfo.from_bytes(found)

    def _probe(self, key: bytes) -> bytes | None:
        index, base = self._index, self._index_at
        h = index.hashfn(key)
        start, slots = index.tables[h & 255]
        if not slots:
            return None
        end = start + slots * _SLOT.size
        slot = start + (h >> 8) % slots * _SLOT.size
        for _ in range(slots):
            slot_hash, at = _SLOT.unpack(self._pread(_SLOT.size, base + slot))
            if not at:
                return None
            if slot_hash == h:
                # The entry's head, key and (usually) value in one read.
                entry = self._pread(_ENTRY.size + len(key) + _VALUE_GUESS, base + at, need=_ENTRY.size + len(key))
                key_length, value_length = _ENTRY.unpack_from(entry)
                head = _ENTRY.size
                if key_length == len(key) and entry[head : head + key_length] == key:
                    value_at = head + key_length
                    if len(entry) < value_at + value_length:
                        entry = self._pread(value_at + value_length, base + at)
                    return entry[value_at : value_at + value_length]
            slot += _SLOT.size
            if slot == end:
                slot = start
        return None

    def postings_bytes(self, offset: int, length: int) -> bytes:
        if self._file is None:
            return bytes(self.terms._postfile.get(offset, length))
        return self._pread(length, self._postings_at + offset)

    def doc_frequency(self, field: str, text: str) -> int:
        """Documents holding the term in this segment, deleted ones included (from its info)."""
        info = self.info(field, text)
        return 0 if info is None else int(info.doc_frequency())


def term_postings(
    segment: SegmentTerms,
    field: str,
    text: str,
    values: bool = False,
    within: np.ndarray | None = None,
    info: Any = None,
    fast: bool = True,
) -> TermPostings | None:
    """A term's postings in one segment, decoded from its bytes in one read (None: not there).
    With `within` (sorted segment-local numbers), only the blocks that may hold one of them are
    decoded: a phrase check needs the positions of a few candidates, not of every 的 in the index.

    The W3 format stores a term as a header tag and blocks, each an int length (negative for the
    last), a pickled info tuple (count, last id, max weight, compression, min and max length code) and
    a pickled data tuple (id deltas from the previous id in the block, the first one from 0; weights:
    None for all 1.0, one float, or one per posting; values). Whoosh's own matcher reads the same
    bytes through several file calls per block and decodes the deltas one by one in Python.

    `info` is the term's info in this segment when the caller looked it up already. Without `fast`,
    every block is unpickled whole (the fast way falls back to it for a block it cannot check).
    """
    info = info if info is not None else segment.info(field, text)
    if info is None:
        return None
    if info.is_inlined():  # our codec never inlines (its limit is 1), another codec might
        inline_ids, inline_weights, inline_values = info.inlined_postings()
        return TermPostings(
            np.asarray(inline_ids, dtype=np.int64),
            np.asarray(inline_weights, dtype=np.float32),
            list(inline_values) if values else None,
        )
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps the length as struct.unpack's 1-tuple
        length = length[0]
    data = segment.postings_bytes(offset, length)
    stream = io.BytesIO(data)
    stream.seek(_MAGIC_SIZE)
    deltas: list[bytes | tuple[int, ...]] = []  # each block's (first from 0): int opcodes, or the ints
    counts: list[int] = []
    lasts: list[int] = []  # each block's last id
    weight_parts: list[bytes | np.ndarray] = []  # each block's: BINFLOAT records, or the weights
    raw: list[bytes] | None = [] if values else None
    previous_last = -1
    while True:
        size = int.from_bytes(stream.read(4), "big", signed=True)
        block_start = stream.tell()
        count, last_id, _, compression, _, _ = pickle.load(stream)
        if within is not None:  # the block holds ids in (previous_last, last_id]
            at = int(np.searchsorted(within, previous_last, side="right"))
            previous_last = last_id
            if at == len(within):
                break
            if within[at] > last_id:
                if size < 0:
                    break
                stream.seek(block_start + size)
                continue
        block = data[stream.tell() : block_start + abs(size)]
        if compression:
            block = zlib.decompress(block)
        fields = _block_fields(block, count) if fast and not values else None
        if fields is not None:
            block_deltas, weights = fields
        else:
            block_deltas, weights, block_values = pickle.loads(block)
            if raw is not None:
                raw.extend(block_values)
        deltas.append(block_deltas)
        counts.append(count)
        lasts.append(last_id)
        weight_parts.append(_weight_part(weights, count))
        if size < 0:
            break
        stream.seek(block_start + size)
    total = sum(counts)
    if not total:
        return TermPostings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), raw)
    steps, weights_all = _decoded(deltas, weight_parts, counts)
    if steps is None or weights_all is None:  # a block the fast way misread: every block the slow way
        return term_postings(segment, field, text, values, within, info, fast=False)
    # A block's first id is from 0: made a step from the previous block's last id.
    steps[np.cumsum(counts[:-1], dtype=np.int64)] -= np.array(lasts[:-1], dtype=np.int64)
    return TermPostings(np.cumsum(steps), weights_all, raw)


def _decoded(
    deltas: list[bytes | tuple[int, ...]], weights: list[bytes | np.ndarray], counts: list[int]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A term's blocks' id steps and weights, the pickled parts of all blocks decoded together (one
    unpickling, one conversion of float records: per block, these calls cost more than their work);
    None for either when a block's part does not hold `count` items of the expected kind."""
    opcodes = [d for d in deltas if isinstance(d, bytes)]
    ints = _deltas(opcodes) if opcodes else ()
    if len(ints) != sum(c for d, c in zip(deltas, counts) if isinstance(d, bytes)):
        return None, None
    if len(opcodes) == len(deltas):
        steps = np.array(ints, dtype=np.int64)
    else:
        spliced = _spliced(deltas, ints, counts)
        steps = np.fromiter(itertools.chain.from_iterable(spliced), dtype=np.int64, count=sum(counts))
    records = [w for w in weights if isinstance(w, bytes)]
    floats = _floats(b"".join(records)) if records else np.zeros(0, np.float32)
    if floats is None:
        return steps, None
    return steps, floats if len(records) == len(weights) else np.concatenate(_spliced(weights, floats, counts))


def _spliced(parts: list[Any], decoded: Any, counts: list[int]) -> list[Any]:
    """`parts` with each bytes part replaced by its count of items from `decoded` (the bytes parts'
    items decoded together, in order)."""
    out, at = [], 0
    for part, count in zip(parts, counts):
        if isinstance(part, bytes):
            out.append(decoded[at : at + count])
            at += count
        else:
            out.append(part)
    return out


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
