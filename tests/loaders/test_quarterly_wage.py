"""Quarterly wage (QW) files, and streaming big files in chunks."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from loaders import FileRejected, iter_parsed_chunks, parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons
from tests.loaders.writers import new_hire_file, qw, w4, wage_file, write_lines


def test_good_file_with_partial_names(tmp_path: Path) -> None:
    details = [
        qw(),
        qw(first_name="", last_name="", wage_amount_cents="00000000000"),
        qw(wage_period="20265"),
    ]
    parsed = parse_file(
        "quarterly_wage", write_lines(tmp_path / "qw.txt", wage_file(details)), received_date=RECEIVED
    )
    assert_reconciled(parsed)
    assert parsed.quarantine.height == 0
    rows = parsed.records.to_dicts()
    assert rows[0]["wage_amount_cents"] == 123456 and rows[0]["wage_period"] == "20261"
    assert rows[0]["first_name"] == "J" and rows[0]["employer_fein"] == "361234567"
    assert rows[1]["first_name"] is None and rows[1]["wage_amount_cents"] == 0
    assert rows[2]["wage_period"] is None and rows[2]["data_issues"] == ["wage_period_invalid"]
    assert parsed.records.schema["wage_amount_cents"] == pl.Int64


def test_broken_records(tmp_path: Path) -> None:
    details = [qw(ssn="ABCDEFGHI"), qw()[:250], w4(), qw(wage_amount_cents="0000012 456"), qw()]
    parsed = parse_file(
        "quarterly_wage", write_lines(tmp_path / "qw.txt", wage_file(details)), received_date=RECEIVED
    )
    assert_reconciled(parsed)
    assert reasons(parsed) == {3: "line_length", 4: "record_type"}
    kept = {r["record_number"]: r for r in parsed.records.to_dicts()}
    assert kept[2]["ssn"] is None and kept[2]["data_issues"] == ["ssn_not_numeric"]  # as if missing
    assert kept[5]["wage_amount_cents"] is None and kept[5]["data_issues"] == ["wage_amount_cents_invalid"]


def test_new_hire_file_given_as_wage_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_file(
            "quarterly_wage", write_lines(tmp_path / "x.txt", new_hire_file([w4()])), received_date=RECEIVED
        )
    assert caught.value.code == "wrong_file_type"


def test_streamed_chunks_match_parse_file(tmp_path: Path) -> None:
    """200k records in chunks of 20k: same records, same quarantine, chunk sizes bounded."""
    good, bad = qw(), qw()[:-1]
    details = [bad if i % 997 == 0 else good for i in range(200_000)]
    path = write_lines(tmp_path / "qw.txt", wage_file(details), newline=b"\r\n")
    whole = parse_file("quarterly_wage", path, received_date=RECEIVED)
    chunks = list(iter_parsed_chunks("quarterly_wage", path, chunk_size=20_000, received_date=RECEIVED))
    assert_reconciled(whole)
    assert len(chunks) == 10  # 200,000 records (and a header and a trailer) in chunks of 20,000 records
    assert all(c.read == c.records.height + c.quarantine.height for c in chunks)
    assert {c.read for c in chunks} == {20_000}
    assert sum(c.read for c in chunks) == whole.read == 200_000
    assert whole.quarantine.height == len(range(0, 200_000, 997))
    streamed = pl.concat([c.records for c in chunks])
    assert streamed.equals(whole.records)
    assert pl.concat([c.quarantine for c in chunks]).equals(whole.quarantine)


def test_streaming_rejects_only_at_the_end(tmp_path: Path) -> None:
    """A wrong trailer count surfaces when the last chunk is asked for, after earlier chunks went out."""
    path = write_lines(tmp_path / "qw.txt", wage_file([qw()] * 50, count=49))
    chunks = iter_parsed_chunks("quarterly_wage", path, chunk_size=10, received_date=RECEIVED)
    handed_out = 0
    with pytest.raises(FileRejected) as caught:
        for chunk in chunks:
            handed_out += chunk.read
    assert caught.value.code == "trailer_count_mismatch"
    assert 0 < handed_out < 50
