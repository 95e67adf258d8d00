"""Split a file into physical lines, vectorised and in blocks, so memory stays flat in file size.

Lines end with LF or CRLF (mixed is fine); a last line without a line end is a line. Blank lines at
the very end of a file are not lines of the file (editors and transfer tools add them); a blank line
anywhere else is. Each line keeps its 1-based physical number and its length in bytes as read.

Fixed-width ("ascii") files: every byte outside printable ASCII (0x20-0x7E: NUL, control, 0x80-0xFF)
is counted in ``n_bad`` (with the 1-based position of the first in ``first_bad``) and replaced by
``?`` in ``line``, so one byte stays one character and positions stay true. Delimited ("utf-8")
files: invalid UTF-8 sequences become U+FFFD and are counted in ``n_bad``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

Encoding = Literal["ascii", "utf-8"]
BLOCK_BYTES = 16 * 1024 * 1024
_LF, _CR, _QUESTION = 10, 13, 63
_REPLACEMENT = np.frombuffer("\ufffd".encode(), dtype=np.uint8)

LINE_SCHEMA: dict[str, pl.DataType] = {
    "record_number": pl.Int64(),
    "line": pl.String(),
    "n_bytes": pl.Int64(),
    "n_bad": pl.Int64(),
    "first_bad": pl.Int64(),
}


class LineChunk(NamedTuple):
    lines: pl.DataFrame  # LINE_SCHEMA
    is_last: bool  # the final chunk: its last row is the file's last (non-blank) line


def iter_line_chunks(
    path: Path, *, chunk_lines: int, encoding: Encoding, block_bytes: int = BLOCK_BYTES
) -> Iterator[LineChunk]:
    """Yield the file's lines in chunks of ``chunk_lines`` (more only when blank lines run on).

    The last non-blank line seen so far is always held back, so the chunk that holds the file's
    final line is the one flagged ``is_last``. A file of no (non-blank) lines yields nothing.
    """
    if chunk_lines < 1:
        raise ValueError("chunk_lines must be at least 1")
    pending = pl.DataFrame(schema=LINE_SCHEMA)
    for frame in _block_frames(path, encoding, block_bytes):
        pending = pl.concat([pending, frame])
        held_from = _last_non_blank(pending)
        while held_from >= chunk_lines:
            yield LineChunk(pending.slice(0, chunk_lines), is_last=False)
            pending = pending.slice(chunk_lines)
            held_from -= chunk_lines
    pending = pending.slice(0, _last_non_blank(pending) + 1)
    while pending.height:
        yield LineChunk(pending.slice(0, chunk_lines), is_last=pending.height <= chunk_lines)
        pending = pending.slice(chunk_lines)


def _last_non_blank(lines: pl.DataFrame) -> int:
    """Index of the last line with any bytes; -1 when there is none."""
    idx = lines.select(pl.arg_where(pl.col("n_bytes") > 0).max()).item()
    return -1 if idx is None else int(idx)


def _block_frames(path: Path, encoding: Encoding, block_bytes: int) -> Iterator[pl.DataFrame]:
    """Read whole lines block by block; the partial line at a block's end waits for the next block."""
    number = 1
    carry = b""
    with path.open("rb") as fh:
        while block := fh.read(block_bytes):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                frame = split_lines(data[:cut], first_number=number, encoding=encoding)
                number += frame.height
                yield frame
    if carry:
        yield split_lines(carry + b"\n", first_number=number, encoding=encoding)


def split_lines(block: bytes, *, first_number: int, encoding: Encoding) -> pl.DataFrame:
    """Split whole lines (``block`` ends with LF) into a LINE_SCHEMA frame without a Python loop."""
    if encoding == "utf-8":
        block = block.decode("utf-8", errors="replace").encode("utf-8")
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == _LF)
    starts = np.concatenate(([0], ends[:-1] + 1))
    has_cr = (ends > starts) & (data[ends - 1] == _CR)
    terminator = data == _LF
    terminator[ends[has_cr] - 1] = True
    content = data[~terminator]
    n_bytes = (ends - has_cr - starts).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(n_bytes)))
    if encoding == "ascii":
        bad = (content < 0x20) | (content > 0x7E)
    else:
        bad = np.zeros(content.size, dtype=bool)
        if content.size >= 3:
            bad[:-2] = (content[:-2] == _REPLACEMENT[0]) & (content[1:-1] == _REPLACEMENT[1])
            bad[:-2] &= content[2:] == _REPLACEMENT[2]
    n_bad, first_bad = _bad_counts(bad, offsets)
    if encoding == "ascii" and n_bad.any():
        content = np.where(bad, np.uint8(_QUESTION), content)
    text = pa.Array.from_buffers(
        pa.large_string(),
        len(n_bytes),
        [None, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(np.ascontiguousarray(content))],
    )
    return pl.DataFrame(
        {
            "record_number": np.arange(first_number, first_number + len(n_bytes), dtype=np.int64),
            "line": pl.from_arrow(text),
            "n_bytes": n_bytes,
            "n_bad": n_bad,
            "first_bad": first_bad,
        },
        schema=LINE_SCHEMA,
    )


def _bad_counts(bad: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line: how many flagged bytes, and the 1-based position of the first (0 when none)."""
    positions = np.flatnonzero(bad)
    lines = offsets.size - 1
    if not positions.size:
        return np.zeros(lines, dtype=np.int64), np.zeros(lines, dtype=np.int64)
    first = np.searchsorted(positions, offsets[:-1])
    n_bad = (np.searchsorted(positions, offsets[1:]) - first).astype(np.int64)
    nearest = positions[np.minimum(first, positions.size - 1)]
    return n_bad, np.where(n_bad > 0, nearest - offsets[:-1] + 1, 0).astype(np.int64)
