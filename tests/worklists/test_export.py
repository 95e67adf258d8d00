"""Exports read back (csv module, openpyxl): masked SSNs, neutralised cells, FV withheld, by due date."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from pipeline.database import Database
from tests.worklists import scenario as s
from worklists.export import EXPORT_COLUMNS, export_frame, mask_ssn, write_export

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def items(tmp_path: Path) -> Iterator[pl.DataFrame]:
    db = Database(f"sqlite:///{tmp_path / 'csmatch.db'}")
    db.create_schema()
    case = pl.col("case_id")
    hostile_cases = s.NCP_CASE.with_columns(
        pl.when(case == "C1").then(pl.lit(FORMULA)).otherwise(pl.col("caseworker_id")).alias("caseworker_id"),
        pl.when(case == "C2").then(pl.lit("+1-555")).otherwise(pl.col("office_id")).alias("office_id"),
    )
    db.replace_registry({**s.REGISTRY, "ncp_case": hostile_cases})
    records = [{**s.NEW_HIRE_RECORDS[0], "employer_name": "@SUM(A1:A9)"}, *s.NEW_HIRE_RECORDS[1:]]
    rules = ("locate_hit", "iwo_candidate")
    s.queue(db, "new_hire", rules, s.NEW_HIRE_RECEIVED, "a" * 64, s.NEW_HIRE_MATCHES, records)
    yield db.list_items()
    db.dispose()


def _check(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 10
    assert {r["ssn"] for r in rows} == {
        "***-**-0001",
        "***-**-0002",
        "***-**-0003",
        "***-**-0004",
        "***-**-0005",
    }
    for row in rows:
        for value in row.values():
            assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")), value
    c1 = [r for r in rows if r["case_id"] == "C1"]
    assert {r["caseworker_id"] for r in c1} == {"'" + FORMULA}
    assert {r["office_id"] for r in rows if r["case_id"] == "C2"} == {"'+1-555"}
    assert {r["new_information"] for r in c1} == {"EMPLOYER @SUM(A1:A9) FEIN 222222222"}  # not at the start
    fv = [r for r in rows if r["person_id"] == "P2" and r["item_kind"] == "locate_hit"]
    assert "ADDRESS WITHHELD (FV)" in {r["new_information"] for r in fv}
    assert {r["family_violence"] for r in fv} == {"Y"}
    assert [r["due_date"] for r in rows] == ["2026-11-30"] * 4 + [""] * 6


def test_csv_export(items: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "out" / "worklist.csv"
    assert write_export(items, path, "csv") == 10
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
        rows = list(reader)
    _check(rows)
    assert "100000001" not in path.read_text()


def test_xlsx_export(items: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "worklist.xlsx"
    assert write_export(items, path, "xlsx") == 10
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    header, body = values[0], values[1:]
    assert header == EXPORT_COLUMNS
    rows = [{h: ("" if v is None else v) for h, v in zip(header, row, strict=True)} for row in body]
    _check(rows)
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)  # no formula cells at all


def test_export_frame_sorts_by_due_date_and_neutralises_every_trigger() -> None:
    triggers = ["=1+1", "+1", "-1", "@A1", "\tX", "\rX", "SAFE"]
    n = len(triggers)
    items = pl.DataFrame(
        {
            "item_id": list(range(n, 0, -1)),
            "due_date": [None, date(2026, 1, 5), date(2026, 1, 2), None, date(2026, 1, 2), None, None],
            "item_kind": ["locate_hit"] * n,
            "case_id": triggers,
            "person_id": ["P1"] * n,
            "ssn": ["100000001"] * n,
            "caseworker_id": ["CW1"] * n,
            "office_id": ["OF1"] * n,
            "source": ["new_hire"] * n,
            "new_info": ['{"text": "-5 ADDRESS"}'] * n,
            "match_probability": [0.99] * n,
            "reasons": ["ok"] * n,
            "family_violence": [False] * n,
            "evidence_count": [1] * n,
            "status": ["open"] * n,
            "assigned_to": [None] * n,
            "file_name": ["f"] * n,
            "record_number": [2] * n,
        }
    )
    rows = export_frame(items)
    assert rows.columns == list(EXPORT_COLUMNS)
    assert rows.get_column("item_id").to_list() == [3, 5, 6, 1, 2, 4, 7]  # due date, nulls last, then id
    by_id = dict(zip(rows.get_column("item_id"), rows.get_column("case_id"), strict=True))
    assert [by_id[i] for i in range(n, 0, -1)] == ["'" + t for t in triggers[:-1]] + ["SAFE"]
    assert set(rows.get_column("new_information")) == {"'-5 ADDRESS"}
    assert set(rows.get_column("ssn")) == {"***-**-0001"}


@pytest.mark.parametrize(
    ("ssn", "masked"),
    [("123456789", "***-**-6789"), ("123-45-6789", "***-**-6789"), (None, ""), ("12", ""), ("", "")],
)
def test_mask_ssn(ssn: str | None, masked: str) -> None:
    assert mask_ssn(ssn) == masked
