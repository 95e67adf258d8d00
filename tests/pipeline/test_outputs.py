"""Run outputs streamed chunk by chunk: one parquet file in the first chunk's shape, put in place whole."""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl
import pytest

from pipeline.outputs import streamed_parquet


def test_chunks_become_one_file_in_the_first_chunks_columns_and_types(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "r1" / "scores.parquet"
    first = pl.DataFrame({"record_number": [1, 2], "person_id": ["P1", None]})
    later = pl.DataFrame({"person_id": ["P3"], "record_number": pl.Series([3], dtype=pl.Int32)})
    with streamed_parquet(path) as append:
        append(first)
        append(later)
        assert not path.exists()  # in place only once every chunk is written
    written = pl.read_parquet(path)
    assert written.schema == first.schema
    assert written.rows() == [(1, "P1"), (2, None), (3, "P3")]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["scores.parquet"]


def test_a_failure_part_way_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "matches.parquet"
    pl.DataFrame({"record_number": [9]}).write_parquet(path)
    with pytest.raises(RuntimeError, match="queue failed"), streamed_parquet(path) as append:
        append(pl.DataFrame({"record_number": [1]}))
        raise RuntimeError("queue failed")
    assert pl.read_parquet(path)["record_number"].to_list() == [9]
    assert [p.name for p in tmp_path.iterdir()] == ["matches.parquet"]


def test_no_chunk_at_all_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no rows"), streamed_parquet(tmp_path / "scores.parquet"):
        pass
    assert not list(tmp_path.iterdir())
