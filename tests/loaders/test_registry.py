"""The registry extract reader: CSV or parquet, optional tables, typed columns, clear refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from loaders.errors import RegistryRejected
from loaders.registry import REGISTRY_SCHEMAS, read_extract

NCP_CSV = (
    "person_id,ssn,first_name,middle_name,last_name,suffix,dob,sex,address_line1,address_line2,city,state,zip\n"
    "P1,012345678,John,Q,Public,,1980-01-15,M,12 Main St,,Springfield,IL,02701\n"
    "P2,,Mary,, Smith ,JR,,F,,,,,\n"
)
CASE_CSV = (
    "case_id,person_id,caseworker_id,office_id,case_status,order_status,current_support_monthly,"
    "arrears_balance,family_violence\nC1,P1,W1,O1,OPEN,ACTIVE,450.50,1200,Y\n"
)


def write(directory: Path, **tables: str) -> Path:
    for name, text in tables.items():
        (directory / f"{name}.csv").write_text(text)
    return directory


def test_csv_extract_with_missing_optional_tables(tmp_path: Path) -> None:
    extract = read_extract(write(tmp_path, ncp=NCP_CSV, ncp_case=CASE_CSV))
    for name, schema in REGISTRY_SCHEMAS.items():
        assert getattr(extract, name).schema == pl.Schema(schema), name
    ncp = extract.ncp.to_dicts()
    assert ncp[0]["ssn"] == "012345678" and ncp[0]["zip"] == "02701" and ncp[0]["dob"] == date(1980, 1, 15)
    assert ncp[1]["ssn"] is None and ncp[1]["last_name"] == "Smith" and ncp[1]["dob"] is None
    case = extract.ncp_case.to_dicts()[0]
    assert case["current_support_monthly"] == 450.5 and case["arrears_balance"] == 1200.0
    assert extract.alias.height == 0 and extract.known_employer.height == 0


def test_parquet_tables_and_extra_columns(tmp_path: Path) -> None:
    write(tmp_path, ncp=NCP_CSV)
    pl.DataFrame(
        {
            "person_id": ["P1"],
            "fein": ["361234567"],
            "employer_name": ["ACME"],
            "start_date": [date(2024, 1, 1)],
            "end_date": [None],
            "iwo_active": ["Y"],
            "note": ["ignored"],
        }
    ).write_parquet(tmp_path / "known_employer.parquet")
    extract = read_extract(tmp_path)
    assert extract.known_employer.columns == list(REGISTRY_SCHEMAS["known_employer"])
    assert extract.known_employer["start_date"].to_list() == [date(2024, 1, 1)]
    assert extract.known_employer["end_date"].to_list() == [None]


@pytest.mark.parametrize(
    ("tables", "code", "message"),
    [
        ({}, "missing_ncp", "ncp.csv or ncp.parquet is required"),
        (
            {"ncp": NCP_CSV + "P1,,A,,B,,,,,,,,\n"},
            "duplicate_person_id",
            "ncp has 1 duplicate person_id rows",
        ),
        (
            {"ncp": "person_id,ssn,first_name\nP1,1,A\n"},
            "missing_columns",
            "ncp.csv lacks columns: middle_name",
        ),
        ({"ncp": NCP_CSV.replace("1980-01-15", "01/15/1980")}, "bad_dates", "ncp.dob: 1 values are not"),
        (
            {"ncp": NCP_CSV, "ncp_case": CASE_CSV.replace("1200", "12OO")},
            "bad_numbers",
            "ncp_case.arrears_balance",
        ),
    ],
)
def test_refusals_name_counts_and_columns_not_values(
    tmp_path: Path, tables: dict[str, str], code: str, message: str
) -> None:
    with pytest.raises(RegistryRejected) as caught:
        read_extract(write(tmp_path, **tables))
    assert caught.value.code == code
    assert message in caught.value.message
    assert "01/15/1980" not in str(caught.value) and "12OO" not in str(caught.value)


def test_empty_optional_file_is_an_empty_table_but_empty_ncp_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ncp=NCP_CSV, alias="")
    assert read_extract(tmp_path).alias.schema == pl.Schema(REGISTRY_SCHEMAS["alias"])
    write(tmp_path, ncp=NCP_CSV.splitlines()[0] + "\n")
    with pytest.raises(RegistryRejected, match="empty_ncp"):
        read_extract(tmp_path)


def test_csv_and_parquet_of_the_same_table_is_ambiguous(tmp_path: Path) -> None:
    write(tmp_path, ncp=NCP_CSV)
    pl.read_csv(tmp_path / "ncp.csv", infer_schema=False).write_parquet(tmp_path / "ncp.parquet")
    with pytest.raises(RegistryRejected, match="ambiguous_table"):
        read_extract(tmp_path)
