"""The block-wise line splitter: block and chunk boundaries never change what is read."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from loaders.lines import iter_line_chunks


def read_all(path: Path, *, chunk_lines: int, block_bytes: int, encoding: str = "ascii") -> pl.DataFrame:
    chunks = list(iter_line_chunks(path, chunk_lines=chunk_lines, encoding=encoding, block_bytes=block_bytes))  # type: ignore[arg-type]
    assert [c.is_last for c in chunks] == [False] * (len(chunks) - 1) + [True]
    return pl.concat([c.lines for c in chunks])


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("chunk_lines", [1, 2, 5, 100])
def test_blocks_and_chunks_do_not_change_lines(tmp_path: Path, block_bytes: int, chunk_lines: int) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"H4 head\r\nabc\n\nd\xffe\x00f\r\n\r\nlast\n\n\r\n")
    lines = read_all(path, chunk_lines=chunk_lines, block_bytes=block_bytes)
    assert lines["line"].to_list() == ["H4 head", "abc", "", "d?e?f", "", "last"]
    assert lines["record_number"].to_list() == [1, 2, 3, 4, 5, 6]
    assert lines["n_bytes"].to_list() == [7, 3, 0, 5, 0, 4]
    assert lines["n_bad"].to_list() == [0, 0, 0, 2, 0, 0]
    assert lines["first_bad"].to_list() == [0, 0, 0, 2, 0, 0]


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
