"""Whoosh's W3 codec, tuned for our writes: no per-posting length lookups, uncompressed blocks, whole terms."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC as _MAGIC
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3TermInfo
from whoosh.system import _INT_SIZE, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte


class FieldWriter(W3FieldWriter):
    """Postings without per-posting field lengths, and whole terms from arrays.

    Whoosh looks up the document's field length for every posting only to record each block's
    min/max length, which BM25's block-quality bound reads; without them the bound is looser but
    still an upper bound, so ranking is unchanged. The lookups were a fifth of commit time.
    """

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        super().add_postings(schema, None, items)

    def add_terms(
        self,
        btexts: Sequence[bytes],
        bounds: Sequence[int],
        ids: Sequence[int],
        weights: Sequence[float],
        values: Sequence[bytes],
    ) -> None:
        """Whole terms of the current field: term k has the postings bounds[k]:bounds[k + 1] of the lists.

        Writes exactly what `add` per posting would (W3 blocks of the codec's block limit, the same
        statistics and term infos), without Whoosh's per-posting and per-block calls: a rebuild
        writes millions of mostly one-block terms, and those calls were most of its commit time.
        """
        postfile = self._postfile
        write = postfile.write
        add_term = self._tindex.add
        prefix = pack_ushort(self._fieldid)
        limit = self._codec._blocklimit
        no_length = length_to_byte(0)
        info_pack = W3TermInfo._struct.pack
        offset = postfile.tell()
        f32 = array("f", weights).tolist()  # what a block's float32 weights read back as
        for k, btext in enumerate(btexts):
            start, end = bounds[k], bounds[k + 1]
            term_offset = offset
            write(_MAGIC)
            offset += len(_MAGIC)
            max_weight = 0.0
            total = 0.0
            for lo in range(start, end, limit):
                hi = min(end, lo + limit)
                block_ids = ids[lo:hi]
                deltas = tuple(map(sub, block_ids, [0, *block_ids[:-1]]))
                block_f32 = f32[lo:hi]
                first = block_f32[0]
                mini: float | tuple[float, ...] | None
                if first == 1.0 and block_f32.count(1.0) == len(block_f32):
                    mini = None
                elif block_f32.count(first) == len(block_f32):
                    mini = first
                else:
                    mini = tuple(block_f32)
                data = dumps((deltas, mini, tuple(values[lo:hi])), 2)
                block_max = max(weights[lo:hi])
                info = dumps((hi - lo, block_ids[-1], block_max, 0, 0, no_length), 2)
                size = len(info) + len(data)
                write(pack_int(-size if hi == end else size))
                write(info)
                write(data)
                offset += _INT_SIZE + size
                max_weight = max(max_weight, block_max)
                total += sum(block_f32)
            term_info = info_pack(False, total, end - start, 0, no_length, max_weight, ids[start], ids[end - 1])
            add_term(prefix + btext, term_info + pack_long(term_offset) + pack_int(offset - term_offset))


class Codec(W3Codec):
    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return FieldWriter(self, storage, segment)


def codec() -> Codec:
    """Uncompressed posting blocks (half the commit time of the default for ~20% more disk)."""
    return Codec(compression=0)
