"""The block-wise line splitter: block and chunk boundaries never change what is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from loaders import lines as lines_module
from loaders.lines import byte_strings, iter_line_chunks


def read_all(
    path: Path, *, chunk_lines: int, block_bytes: int, encoding: str = "ascii", head: int = 0, tail: int = 0
) -> pl.DataFrame:
    chunks = list(
        iter_line_chunks(
            path,
            chunk_lines=chunk_lines,
            encoding=encoding,  # type: ignore[arg-type]
            block_bytes=block_bytes,
            head_lines=head,
            tail_lines=tail,
        )
    )
    assert [c.is_last for c in chunks] == [False] * (len(chunks) - 1) + [True]
    return pl.concat([c.lines for c in chunks])


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("chunk_lines", [1, 2, 5, 100])
@pytest.mark.parametrize(("head", "tail"), [(0, 0), (1, 0), (1, 1), (2, 3)])
def test_blocks_and_chunks_do_not_change_lines(
    tmp_path: Path, block_bytes: int, chunk_lines: int, head: int, tail: int
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"H4 head\r\nabc\n\nd\xffe\x00f\r\n\r\nlast\n\n\r\n")
    lines = read_all(path, chunk_lines=chunk_lines, block_bytes=block_bytes, head=head, tail=tail)
    assert lines["line"].to_list() == ["H4 head", "abc", "", "d?e?f", "", "last"]
    assert lines["record_number"].to_list() == [1, 2, 3, 4, 5, 6]
    assert lines["n_bytes"].to_list() == [7, 3, 0, 5, 0, 4]
    assert lines["n_bad"].to_list() == [0, 0, 0, 2, 0, 0]
    assert lines["first_bad"].to_list() == [0, 0, 0, 2, 0, 0]


@pytest.mark.parametrize("block_bytes", [3, 1 << 20])
def test_header_and_trailer_ride_with_the_first_and_last_chunk(tmp_path: Path, block_bytes: int) -> None:
    """Header + 8 records + trailer in chunks of 4 records: two chunks, not a third for the trailer."""
    path = tmp_path / "f.txt"
    path.write_bytes(b"\n".join(b"line %d" % n for n in range(1, 11)) + b"\n\n")

    def sizes(head: int, tail: int) -> list[int]:
        chunks = iter_line_chunks(
            path, chunk_lines=4, encoding="ascii", block_bytes=block_bytes, head_lines=head, tail_lines=tail
        )
        return [c.lines.height for c in chunks]

    assert sizes(0, 0) == [4, 4, 2]
    assert sizes(1, 0) == [5, 4, 1]
    assert sizes(1, 1) == [5, 5]
    assert sizes(0, 2) == [4, 6]


def test_utf8_lines_flag_invalid_sequences(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes("a|JOSÉ\n".encode() + b"b|\xff\xfe|c")
    lines = read_all(path, chunk_lines=10, block_bytes=4, encoding="utf-8")
    assert lines["line"].to_list() == ["a|JOSÉ", "b|\ufffd\ufffd|c"]
    assert lines["n_bad"].to_list() == [0, 2]


def test_empty_and_blank_files_yield_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    for content in (b"", b"\n", b"\r\n\n"):
        path.write_bytes(content)
        assert list(iter_line_chunks(path, chunk_lines=3, encoding="ascii")) == []


@pytest.mark.parametrize("block_bytes", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize(
    "content",
    [b"H4 head\r\nabc\n\nd\xffe\x00f\r\na line of more than twelve bytes\r\nlast", b"abcd\n" * 9 + b"abcd"],
)
def test_line_bytes_say_where_each_line_is(tmp_path: Path, block_bytes: int, content: bytes) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    for chunk in iter_line_chunks(path, chunk_lines=4, encoding="ascii", block_bytes=block_bytes):
        lines, where = chunk.lines["line"].to_list(), chunk.bytes
        for i, line in enumerate(lines):
            data = where.buffers[where.buffer[i]]
            assert bytes(data[where.start[i] : where.start[i] + len(line)]).decode() == line
        heads = {
            int(row): bytes(head).decode()
            for rows, matrix in where.matrices((chunk.lines["n_bytes"] >= 3).to_numpy(), 3)
            for row, head in zip(rows, matrix, strict=True)
        }
        assert heads == {i: line[:3] for i, line in enumerate(lines) if len(line) >= 3}


def test_byte_strings_of_any_length_and_buffer_split(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        b"  a lower-case value of 33 bytes ",
        b"short       ",
        b" " * 33,
        b"exactly twelve bytes here..!!xyz",
    ]
    block = np.frombuffer(b"".join(r.ljust(40, b"#") for r in rows), dtype=np.uint8).reshape(4, 40).copy()
    values = block[:, 2:35]  # a column slice: long strings point into the block
    lengths = np.array([31, 5, 0, 12])
    valid = np.array([True, True, False, True])
    expected = ["a lower-case value of 33 bytes ", "ort  ", None, "actly twelve"]
    assert byte_strings("x", values, lengths, valid).to_list() == expected
    monkeypatch.setattr(lines_module, "_MAX_OFFSET", 90)  # two rows per data buffer
    assert byte_strings("x", values, lengths, valid).to_list() == expected


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 1 << 20])
def test_a_leading_bom_is_not_part_of_an_ascii_first_line(tmp_path: Path, block_bytes: int) -> None:
    """Numbers, lengths and byte positions are those of the file without its BOM; a BOM further on is
    three bad bytes like any other."""
    path = tmp_path / "f.txt"
    path.write_bytes(BOM + b"H4 head\r\nabc\n" + BOM + b"x\n")
    lines = read_all(path, chunk_lines=2, block_bytes=block_bytes, head=1)
    assert lines["line"].to_list() == ["H4 head", "abc", "???x"]
    assert lines["record_number"].to_list() == [1, 2, 3]
    assert lines["n_bytes"].to_list() == [7, 3, 4]
    assert lines["n_bad"].to_list() == [0, 0, 3]
    assert lines["first_bad"].to_list() == [0, 0, 1]
    first = next(iter_line_chunks(path, chunk_lines=2, encoding="ascii", block_bytes=block_bytes))
    heads = [bytes(m[0]) for rows, m in first.bytes.matrices(np.array([True, False]), 7) if 0 in rows]
    assert heads == [b"H4 head"]


def test_a_bom_alone_is_an_empty_ascii_file_and_stays_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(BOM + b"\r\n")
    assert list(iter_line_chunks(path, chunk_lines=3, encoding="ascii")) == []
    path.write_bytes(BOM + b"a|b\n")
    assert read_all(path, chunk_lines=3, block_bytes=2, encoding="utf-8")["line"].to_list() == ["\ufeffa|b"]


@pytest.mark.parametrize(
    ("content", "lines"),
    [(b"\n\n   \n\n", ["", "", "   "]), (b" \t\n\x1a", [" ?", "?"]), (BOM + b"  \r\n", ["  "])],
)
def test_a_file_of_only_whitespace_is_read_as_it_is(tmp_path: Path, content: bytes, lines: list[str]) -> None:
    """No line of content for the whitespace to follow: nothing is cleaned up but empty lines at the end."""
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    assert read_all(path, chunk_lines=2, block_bytes=3)["line"].to_list() == lines


@pytest.mark.parametrize("block_bytes", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("tail_window", [1, 2, 5, 1 << 16])
@pytest.mark.parametrize(
    "tail",
    [
        b"",
        b"   \n",
        b"   ",
        b"\t \r\n \x0b\x0c\r\n\r\n",
        b"\x1a",
        b"\x1a\r\n",
        b"\r\n \r\n\x1a",
        b"  \t\x1a\n\n",
        b"    \n" * 40 + b"\x1a",
    ],
)
def test_whitespace_lines_and_a_dos_eof_mark_at_the_end_are_not_ascii_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int, tail_window: int, tail: bytes
) -> None:
    """What is left after the last line of content: whitespace-only lines, a final Ctrl-Z (0x1A), both;
    whitespace-only lines before the last line of content stay lines."""
    monkeypatch.setattr(lines_module, "_TAIL_BYTES", tail_window)
    path = tmp_path / "f.txt"
    path.write_bytes(b"H4 head\r\n   \n\nT4 9  \r\n" + tail)
    lines = read_all(path, chunk_lines=2, block_bytes=block_bytes, head=1, tail=1)
    assert lines["line"].to_list() == ["H4 head", "   ", "", "T4 9  "]
    assert lines["n_bad"].to_list() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("content", "last"),
    [
        (b"T4 9  \x1a", "T4 9  "),  # the mark right after the last line's bytes
        (b"T4 9\r\n\x1a\x1a", "?"),  # only the last mark is the end of the file
        (b"T4 9\n\x1a\nx\n", "x"),
        (b"T4 9\n\x1ax\n", "?x"),
        (b"T4 9\n .\n  \n", " ."),
        (b"T4 9\n\x00\n", "?"),  # a NUL is not whitespace
    ],
)
def test_anything_else_at_the_end_is_a_line(tmp_path: Path, content: bytes, last: str) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"H4 head\n" + content)
    lines = read_all(path, chunk_lines=2, block_bytes=3, head=1, tail=1)
    assert lines["line"].to_list()[-1] == last
