"""Split a file into physical lines, vectorised and in blocks, so memory stays flat in file size.

Lines end with LF or CRLF (mixed is fine); a last line without a line end is a line. Blank lines at
the very end of a file are not lines of the file (editors and transfer tools add them); a blank line
anywhere else is. Each line keeps its 1-based physical number and its length in bytes as read.

Fixed-width ("ascii") files: every byte outside printable ASCII (0x20-0x7E: NUL, control, 0x80-0xFF)
is counted in ``n_bad`` (with the 1-based position of the first in ``first_bad``) and replaced by
``?`` in ``line``, so one byte stays one character and positions stay true. Their ends and start are
cleaned of what DOS and Windows tools leave there: lines holding only whitespace (space, tab, CR, VT,
FF) after the last line holding anything else are not lines either, nor is a DOS end-of-file mark
(0x1A) that is the file's last byte other than whitespace (with anything after it); a UTF-8 byte order
mark at the start is not part of the first line, whose positions and number (1) count from after it.

Delimited ("utf-8") files: invalid UTF-8 sequences become U+FFFD and are counted in ``n_bad``; a byte
order mark stays (U+FEFF; the delimited engine drops it from its header line).

The ``line`` column is not copied out of the blocks read: it is a string-view column over them, and
``LineChunk.bytes`` says where each line's bytes are, for engines that read positions directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

Encoding = Literal["ascii", "utf-8"]
BLOCK_BYTES = 16 * 1024 * 1024
_LF, _CR, _QUESTION = 10, 13, 63
_REPLACEMENT = np.frombuffer("\ufffd".encode(), dtype=np.uint8)
INLINE_BYTES = 12  # a string view holds a string of up to 12 bytes itself
_MAX_OFFSET = 2**31 - 1  # a string view locates its bytes by an int32 offset in a buffer
BOM = b"\xef\xbb\xbf"  # UTF-8 byte order mark
_WHITESPACE = b" \t\r\n\x0b\x0c"
_EOF_MARK = 0x1A  # DOS end of file (Ctrl-Z)
_TAIL_BYTES = 64 * 1024  # the end of a file is searched backwards in windows of this size

LINE_SCHEMA: dict[str, pl.DataType] = {
    "record_number": pl.Int64(),
    "line": pl.String(),
    "n_bytes": pl.Int64(),
    "n_bad": pl.Int64(),
    "first_bad": pl.Int64(),
}


@dataclass(frozen=True)
class Lines:
    """Lines of one block: line ``i`` is ``data[start[i] : start[i] + n_bytes[i]]``."""

    data: np.ndarray  # uint8, the block as read (bad ASCII bytes already '?'), 2 GiB at most
    start: np.ndarray  # int64
    n_bytes: np.ndarray  # int64
    n_bad: np.ndarray  # int64
    first_bad: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.start)

    def slice(self, lo: int, hi: int) -> Lines:
        return Lines(self.data, *(a[lo:hi] for a in (self.start, self.n_bytes, self.n_bad, self.first_bad)))


@dataclass(frozen=True)
class LineBytes:
    """Where a chunk's lines are: line ``i`` starts at ``start[i]`` of ``buffers[buffer[i]]``."""

    buffers: tuple[np.ndarray, ...]
    buffer: np.ndarray  # int32
    start: np.ndarray  # int64

    def matrices(self, rows: np.ndarray, width: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The first ``width`` bytes of the lines ``rows`` (a bool mask; each line that long at least), as
        (row indices, uint8 matrix) per buffer; a view without copying when the lines are evenly spaced."""
        for index, data in enumerate(self.buffers):
            found = np.flatnonzero(rows & (self.buffer == index))
            if not found.size:
                continue
            starts = self.start[found]
            step = int(starts[1] - starts[0]) if found.size > 1 else width
            if step >= width and np.array_equal(np.diff(starts), np.full(found.size - 1, step)):
                matrix = np.ndarray(
                    (found.size, width), np.uint8, data, offset=int(starts[0]), strides=(step, 1)
                )
            else:
                matrix = np.lib.stride_tricks.sliding_window_view(data, width)[starts]
            yield found, matrix


class LineChunk(NamedTuple):
    lines: pl.DataFrame  # LINE_SCHEMA
    is_last: bool  # the final chunk: its last row is the file's last (non-blank) line
    bytes: LineBytes  # the same lines' bytes, row for row


def iter_line_chunks(
    path: Path,
    *,
    chunk_lines: int,
    encoding: Encoding,
    block_bytes: int = BLOCK_BYTES,
    head_lines: int = 0,
    tail_lines: int = 0,
) -> Iterator[LineChunk]:
    """Yield the file's lines in chunks of ``chunk_lines`` (more only when blank lines run on).

    The first chunk also takes the file's ``head_lines`` (a header), and the last chunk up to
    ``tail_lines`` more (a trailer) rather than leaving them a chunk of their own, so a file of
    n x ``chunk_lines`` records comes in n chunks. The last non-blank line seen so far is always held
    back, so the chunk that holds the file's final line is the one flagged ``is_last``. A file of no
    (non-blank) lines yields nothing.
    """
    if chunk_lines < 1:
        raise ValueError("chunk_lines must be at least 1")
    pending: list[Lines] = []
    held_from = -1  # index (in pending) of the last non-blank line
    number = 1
    size = chunk_lines + head_lines
    for block in _blocks(path, encoding, block_bytes):
        non_blank = np.flatnonzero(block.n_bytes)
        if non_blank.size:
            held_from = sum(map(len, pending)) + int(non_blank[-1])
        pending.append(block)
        while held_from >= size + tail_lines:
            taken, pending = _take(pending, size)
            yield _chunk(taken, number, is_last=False)
            number += size
            held_from -= size
            size = chunk_lines
    remaining, _ = _take(pending, held_from + 1)
    if remaining:
        yield _chunk(remaining, number, is_last=True)


def _take(pieces: list[Lines], count: int) -> tuple[list[Lines], list[Lines]]:
    """The first ``count`` lines of ``pieces`` (fewer when there are fewer), and the rest."""
    taken: list[Lines] = []
    for i, piece in enumerate(pieces):
        if count <= 0:
            return taken, pieces[i:]
        if len(piece) > count:
            return [*taken, piece.slice(0, count)], [piece.slice(count, len(piece)), *pieces[i + 1 :]]
        taken.append(piece)
        count -= len(piece)
    return taken, []


def _chunk(pieces: list[Lines], first_number: int, *, is_last: bool) -> LineChunk:
    """One LINE_SCHEMA frame (its ``line`` column a view over the pieces' blocks) and its LineBytes."""
    pieces = [p for p in pieces if len(p)]
    n = sum(map(len, pieces))
    views = (
        np.concatenate([_views(p, i) for i, p in enumerate(pieces)])
        if pieces
        else np.empty((0, 16), np.uint8)
    )
    buffers = tuple(p.data for p in pieces)
    text = pa.Array.from_buffers(
        pa.string_view(), n, [None, pa.py_buffer(views), *(pa.py_buffer(b) for b in buffers)]
    )

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in pieces]) if pieces else np.empty(0, np.int64)

    frame = pl.DataFrame(
        {
            "record_number": np.arange(first_number, first_number + n, dtype=np.int64),
            "line": pl.from_arrow(text),
            "n_bytes": joined("n_bytes"),
            "n_bad": joined("n_bad"),
            "first_bad": joined("first_bad"),
        },
        schema=LINE_SCHEMA,
    )
    buffer = np.repeat(np.arange(len(pieces), dtype=np.int32), [len(p) for p in pieces])
    return LineChunk(frame, is_last, LineBytes(buffers, buffer, joined("start")))


def _views(lines: Lines, buffer: int) -> np.ndarray:
    """Arrow string views (16 bytes each) of ``lines`` in buffer number ``buffer``."""
    views = np.zeros((len(lines), 16), np.uint8)
    words = views.view(np.int32)
    words[:, 0] = lines.n_bytes
    short = np.flatnonzero(lines.n_bytes <= INLINE_BYTES)
    if short.size:
        at = lines.start[short, None] + np.arange(INLINE_BYTES)
        inline = lines.data[np.minimum(at, lines.data.size - 1)]
        inline[np.arange(INLINE_BYTES) >= lines.n_bytes[short, None]] = 0
        views[short, 4:] = inline
    long = np.flatnonzero(lines.n_bytes > INLINE_BYTES)
    if long.size:
        prefixes = np.ndarray((lines.data.size - 3,), "<u4", lines.data, strides=(1,))
        words[long, 1] = prefixes[lines.start[long]].view(np.int32)
        words[long, 2] = buffer
        words[long, 3] = lines.start[long]
    return views


def byte_strings(name: str, values: np.ndarray, lengths: np.ndarray, valid: np.ndarray) -> pl.Series:
    """A String series of the rows of a byte matrix, each its first ``lengths`` bytes, null where not
    ``valid``, made as string views: the bytes of a string longer than INLINE_BYTES stay where they
    are, so ``values`` must be rows of a C-contiguous matrix (itself, or a column slice of it)."""
    n, width = values.shape
    lengths = np.where(valid, lengths, 0)
    views = np.zeros((n, 16), np.uint8)
    head = min(width, INLINE_BYTES)
    views[:, 4 : 4 + head] = values[:, :head]
    views[~valid] = 0
    trimmed = np.flatnonzero(valid & (lengths < head))  # zero the bytes past the end
    views[trimmed, 4:] *= np.arange(INLINE_BYTES) < lengths[trimmed, None]
    words = views.view(np.int32)
    words[:, 0] = lengths
    long = np.flatnonzero(lengths > INLINE_BYTES)
    buffers = []
    if long.size:
        matrix = values if values.base is None else values.base
        assert matrix.flags.c_contiguous and matrix.shape[0] == n and values.strides[1] == 1
        stride, column = matrix.strides[0], values.ctypes.data - matrix.ctypes.data
        per_buffer = _MAX_OFFSET // stride  # rows per data buffer
        words[long, 2] = long // per_buffer
        words[long, 3] = long % per_buffer * stride + column
        buffers = [pa.py_buffer(matrix[i : i + per_buffer]) for i in range(0, n, per_buffer)]
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    strings = pa.Array.from_buffers(pa.string_view(), n, [validity, pa.py_buffer(views), *buffers])
    series = pl.from_arrow(strings)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _blocks(path: Path, encoding: Encoding, block_bytes: int) -> Iterator[Lines]:
    """Read whole lines block by block; the partial line at a block's end waits for the next block.

    An "ascii" file is read from after a leading BOM up to the end of its last line of content only.
    """
    carry = b""
    with path.open("rb") as fh:
        remaining = None
        if encoding == "ascii":
            start = len(BOM) if fh.read(len(BOM)) == BOM else 0
            remaining = _content_end(fh, start) - start
            fh.seek(start)
        while True:
            size = block_bytes if remaining is None else min(block_bytes, remaining)
            buffer = bytearray(len(carry) + size)
            buffer[: len(carry)] = carry
            got = fh.readinto(memoryview(buffer)[len(carry) :]) if size else 0
            if remaining is not None:
                remaining -= got
            end = len(carry) + got
            if end == len(carry):
                break
            cut = buffer.rfind(b"\n", 0, end) + 1
            carry = bytes(buffer[cut:end])
            if cut:
                yield split_lines(memoryview(buffer)[:cut], encoding=encoding)
    if carry:
        yield split_lines(carry + b"\n", encoding=encoding)


def _content_end(fh: BinaryIO, start: int) -> int:
    """Where the file's lines (from ``start``) end: after the line end of the last line that holds
    anything but whitespace (the whitespace-only lines after it are not lines). A DOS end-of-file mark
    (0x1A) as the last byte other than whitespace ends the file where it stands. A file with no such line
    (only whitespace, maybe a mark) is read whole.

    Only the file's end is read, backwards in windows of _TAIL_BYTES (memory stays flat).
    """
    end = fh.seek(0, 2)
    last, byte = _last_content(fh, start, end)
    if byte == _EOF_MARK:
        end = last
        last, _ = _last_content(fh, start, end)
    if last < 0:  # nothing but whitespace: no end to clean up, the file is read as it is
        return fh.seek(0, 2)
    line_end = _find_newline(fh, last + 1, end)  # only whitespace between: the end of that line
    return end if line_end < 0 else line_end + 1


def _last_content(fh: BinaryIO, start: int, end: int) -> tuple[int, int]:
    """(position, value) of the last byte in ``[start, end)`` that is not whitespace; (-1, -1) if none."""
    while end > start:
        lo = max(start, end - _TAIL_BYTES)
        fh.seek(lo)
        kept = fh.read(end - lo).rstrip(_WHITESPACE)
        if kept:
            return lo + len(kept) - 1, kept[-1]
        end = lo
    return -1, -1


def _find_newline(fh: BinaryIO, start: int, end: int) -> int:
    """Position of the first LF in ``[start, end)``; -1 when none."""
    while start < end:
        fh.seek(start)
        window = fh.read(min(_TAIL_BYTES, end - start))
        if not window:
            break
        found = window.find(b"\n")
        if found >= 0:
            return start + found
        start += len(window)
    return -1


def split_lines(block: bytes | memoryview, *, encoding: Encoding) -> Lines:
    """Split whole lines (``block`` ends with LF) without a Python loop."""
    if encoding == "utf-8":
        data = np.frombuffer(bytes(block).decode("utf-8", errors="replace").encode("utf-8"), dtype=np.uint8)
        ends = np.flatnonzero(data == _LF)
    else:
        data = np.frombuffer(block, dtype=np.uint8)
        special = np.flatnonzero(np.subtract(data, 0x20, dtype=np.uint8) > 0x7E - 0x20)  # LF, CR, bad
        ends = special[data[special] == _LF]
    if data.size > _MAX_OFFSET:
        raise ValueError("a line longer than 2 GiB")
    starts = np.concatenate(([0], ends[:-1] + 1))
    has_cr = (ends > starts) & (data[ends - 1] == _CR)
    n_bytes = (ends - has_cr - starts).astype(np.int64)
    if encoding == "utf-8":
        bad = np.flatnonzero(
            (data[:-2] == _REPLACEMENT[0]) & (data[1:-1] == _REPLACEMENT[1]) & (data[2:] == _REPLACEMENT[2])
        )
    else:
        found = data[special]
        # a CR right before an LF is that line's end, not a bad byte
        line_end = (found == _LF) | ((found == _CR) & (data[np.minimum(special + 1, data.size - 1)] == _LF))
        bad = special[~line_end]
        if bad.size:
            data = data if data.flags.writeable else data.copy()
            data[bad] = _QUESTION
    n_bad, first_bad = _bad_counts(bad, starts, n_bytes)
    return Lines(data, starts.astype(np.int64), n_bytes, n_bad, first_bad)


def _bad_counts(bad: np.ndarray, starts: np.ndarray, n_bytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: how many flagged bytes, and the 1-based position of the first (0 when none)."""
    if not bad.size:
        return np.zeros(starts.size, dtype=np.int64), np.zeros(starts.size, dtype=np.int64)
    first = np.searchsorted(bad, starts)
    n_bad = (np.searchsorted(bad, starts + n_bytes) - first).astype(np.int64)
    nearest = bad[np.minimum(first, bad.size - 1)]
    return n_bad, np.where(n_bad > 0, nearest - starts + 1, 0).astype(np.int64)
