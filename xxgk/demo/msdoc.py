"""Legacy Word 97-2003 (.doc) files for the demo portal: a Compound File holding a minimal Word binary.

Portals still attach many .doc files. This writes the parts a reader needs ([MS-CFB] container with
`WordDocument` and `1Table` streams; [MS-DOC] FIB with `fcClx`/`lcbClx` and a one-piece table of
UTF-16 text), enough for real readers (antiword, olefile-based extractors) to get the text back.
"""

from __future__ import annotations

import struct

SECTOR = 512
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MIN_STREAM = 4096  # streams this size or larger live in regular sectors (no mini stream needed)
FIB_SIZE = 1472  # FibBase + FibRgW97 + FibRgLw97 + FibRgFcLcb97 (Word 97)
FC_CLX = 0x01A2  # offset of fcClx in the FIB; lcbClx follows


def _word_document(text: str) -> tuple[bytes, bytes]:
    """(WordDocument stream, 1Table stream) for `text` (paragraphs separated by \\r)."""
    encoded = text.encode("utf-16-le")
    fib = bytearray(FIB_SIZE)
    struct.pack_into("<HHHHH", fib, 0, 0xA5EC, 0x00C1, 0, 0x0409, 0)  # wIdent, nFib (Word 97), unused, lid, pnNext
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # fWhichTblStm: the table stream is 1Table
    struct.pack_into("<II", fib, 0x18, FIB_SIZE, FIB_SIZE + len(encoded))  # fcMin, fcMac (read by old readers)
    struct.pack_into("<H", fib, 32, 14)  # csw: 14 shorts of FibRgW97
    struct.pack_into("<H", fib, 62, 22)  # cslw: 22 longs of FibRgLw97
    struct.pack_into("<I", fib, 64 + 4 * 3, len(text))  # ccpText
    struct.pack_into("<H", fib, 152, 93)  # cbRgFcLcb: 93 pairs in FibRgFcLcb97
    text_start = FIB_SIZE
    # Clx: one Pcdt holding a PlcPcd with a single uncompressed piece covering the whole text.
    plc = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, text_start, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", fib, FC_CLX, 0, len(clx))
    word = bytes(fib) + encoded
    return word.ljust(MIN_STREAM, b"\0"), clx.ljust(MIN_STREAM, b"\0")


def _dir_entry(
    name: str,
    kind: int,
    left: int = NO_STREAM,
    right: int = NO_STREAM,
    child: int = NO_STREAM,
    start: int = END_OF_CHAIN,
    size: int = 0,
) -> bytes:
    raw = (name + "\0").encode("utf-16-le")
    return (
        raw.ljust(64, b"\0")
        + struct.pack("<HBB", len(raw), kind, 1)
        + struct.pack("<III", left, right, child)
        + b"\0" * 16
        + b"\0" * 4
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """A version 3 compound file with the given top-level streams (each at least 4096 bytes)."""
    data_sectors = [-(-len(data) // SECTOR) for _, data in streams]
    total = 1 + 1 + sum(data_sectors)  # one FAT sector, one directory sector, then the streams
    assert total <= SECTOR // 4 and len(streams) <= 3, "the demo writer keeps files small"
    fat = [FAT_SECTOR, END_OF_CHAIN]
    starts = []
    for count in data_sectors:
        starts.append(len(fat))
        fat.extend(range(len(fat) + 1, len(fat) + count))
        fat.append(END_OF_CHAIN)
    fat.extend([FREE] * (SECTOR // 4 - len(fat)))
    # Directory: the root's child is the first stream; the others hang off it as right siblings
    # (names must sort by length, then by upper-case name).
    order = sorted(range(len(streams)), key=lambda i: (len(streams[i][0]), streams[i][0].upper()))
    entries = [_dir_entry("Root Entry", 5, child=order[0] + 1)]
    for i, (name, data) in enumerate(streams):
        position = order.index(i)
        right = order[position + 1] + 1 if position + 1 < len(order) else NO_STREAM
        entries.append(_dir_entry(name, 2, right=right, start=starts[i], size=len(data)))
    unused = b"\0" * 68 + struct.pack("<III", NO_STREAM, NO_STREAM, NO_STREAM) + b"\0" * 48
    directory = b"".join(entries) + unused * (SECTOR // 128 - len(entries))
    header = bytearray(SECTOR)
    header[:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", header, 44, 1, 1, 0, 4096)  # FAT sectors, first directory sector, txn, cutoff
    struct.pack_into("<IIII", header, 60, END_OF_CHAIN, 0, END_OF_CHAIN, 0)  # no mini FAT, no DIFAT sectors
    difat = [0] + [FREE] * 108
    struct.pack_into("<109I", header, 76, *difat)
    body = struct.pack(f"<{SECTOR // 4}I", *fat) + directory
    for (_, data), count in zip(streams, data_sectors):
        body += data.ljust(count * SECTOR, b"\0")
    return bytes(header) + body


def doc_bytes(lines: list[str]) -> bytes:
    """A .doc file whose text is `lines`, one paragraph each."""
    word, table = _word_document("\r".join(lines) + "\r")
    return compound_file([("WordDocument", word), ("1Table", table)])
