"""Every source streams to the same result as a whole-file parse, whatever the chunk size."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from loaders import iter_parsed_chunks, parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled
from tests.loaders.test_dmv import COLUMNS, ROW
from tests.loaders.writers import fidm_b, fidm_file, h4, new_hire_file, qw, t4, ui, w4, wage_file, write_lines


def files(tmp_path: Path) -> dict[str, Path]:
    dmv = tmp_path / "dmv.txt"
    dmv.write_text("\n".join([COLUMNS, *[ROW] * 4, ROW.replace("|Public|", '|"Public|'), ROW]) + "\n")
    return {
        "new_hire": write_lines(
            tmp_path / "nh.txt", new_hire_file([w4(), w4(ssn="X"), w4()[:-1], qw(), w4(), w4()])
        ),
        "quarterly_wage": write_lines(tmp_path / "qw.txt", wage_file([qw(), qw()[:9], qw(), qw(), qw()])),
        "fidm": write_lines(
            tmp_path / "fidm.txt", fidm_file([fidm_b(), fidm_b(ssn="A"), fidm_b()[:450], fidm_b()])
        ),
        "ui_claim": write_lines(
            tmp_path / "ui.txt", [h4("UI", 250), ui(), ui(), ui(claim_date=""), t4(3, 250)]
        ),
        "dmv": dmv,
    }


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 1000])
def test_chunks_reassemble_the_whole_file(tmp_path: Path, chunk_size: int) -> None:
    for source, path in files(tmp_path).items():
        whole = parse_file(source, path, received_date=RECEIVED)
        assert_reconciled(whole)
        assert whole.quarantine.height >= 1 and whole.records.height >= 2, source
        chunks = list(iter_parsed_chunks(source, path, chunk_size=chunk_size, received_date=RECEIVED))
        assert all(c.header == whole.header for c in chunks), source
        assert pl.concat([c.records for c in chunks]).equals(whole.records), source
        assert pl.concat([c.quarantine for c in chunks]).equals(whole.quarantine), source
        assert sum(c.read for c in chunks) == whole.read


@pytest.mark.parametrize("source", ["new_hire", "quarterly_wage"])
def test_a_file_of_whole_chunks_parses_into_that_many_chunks(tmp_path: Path, source: str) -> None:
    """The header comes with the first chunk and the trailer with the last: 6 records in chunks of 3
    are 2 chunks of 3 (a trailing chunk of no records would cost a match and a queue transaction)."""
    lines = new_hire_file([w4()] * 6) if source == "new_hire" else wage_file([qw()] * 6)
    path = write_lines(tmp_path / "f.txt", lines)
    chunks = list(iter_parsed_chunks(source, path, chunk_size=3, received_date=RECEIVED))
    assert [(c.read, c.records.height) for c in chunks] == [(3, 3), (3, 3)]
