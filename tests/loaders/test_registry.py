"""The registry extract reader: CSV or parquet, optional tables, typed columns, clear refusals."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from structlog.testing import capture_logs

from loaders.errors import RegistryRejected
from loaders.registry import REGISTRY_SCHEMAS, UNKNOWN_END_DATE, RegistryExtract, read_extract
from tests.worklists import scenario as s
from worklists import RulesConfig, build_work_items

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
        (  # no dob is a date: a format change, refused (a few impossible dates are nulled, see below)
            {"ncp": NCP_CSV.replace("1980-01-15", "01/15/1980").replace(",JR,,F,", ",JR,02/28/1981,F,")},
            "bad_dates",
            "ncp.dob: 2 values are not",
        ),
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
    assert not any(v in str(caught.value) for v in ("01/15/1980", "02/28/1981", "12OO"))


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


# --- whatever wrote the extract: dates, codes and digit strings come out the same (design.md "Normalise") --


def _complete(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The table's columns in order, those the frame lacks as nulls (the reader requires every column)."""
    schema = REGISTRY_SCHEMAS[name]
    return frame.select(
        pl.col(c) if c in frame.columns else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()
    )


def _write_csv(directory: Path, **tables: pl.DataFrame) -> Path:
    for name, frame in tables.items():
        _complete(name, frame).write_csv(directory / f"{name}.csv")
    return directory


def _new_hire_items(registry: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The scenario's new-hire run's work items against `registry` (the rules as the runner applies them)."""
    info = s.run("new_hire", ("locate_hit", "iwo_candidate"), s.NEW_HIRE_RECEIVED, "a" * 64)
    found = s.matches(s.NEW_HIRE_MATCHES, "new_hire", info.file_name)
    records = s.records(s.NEW_HIRE_RECORDS, "new_hire", info.file_name, s.NEW_HIRE_RECEIVED)
    return build_work_items(found, records, registry, RulesConfig(), info)


def _registry_of(extract: RegistryExtract) -> dict[str, pl.DataFrame]:
    return {name: getattr(extract, name) for name in REGISTRY_SCHEMAS}


@pytest.mark.parametrize("unit", ["ns", "us", "ms"])
def test_parquet_datetime_columns_are_taken_as_their_date(
    tmp_path: Path, unit: Literal["ns", "us", "ms"]
) -> None:
    # pandas and most ETL tools write dates as timestamps (pandas: ns or us; pyarrow from Python: us).
    dobs = [datetime(1980, 1, 15), None, datetime(1979, 12, 31, 23, 59, 59)]
    ncp = pl.DataFrame(
        {"person_id": ["P1", "P2", "P3"], "dob": dobs}, schema_overrides={"dob": pl.Datetime(unit)}
    )
    _complete("ncp", ncp).write_parquet(tmp_path / "ncp.parquet")
    employer = pl.DataFrame(
        {
            "person_id": ["P1", "P1"],
            "start_date": [datetime(2019, 5, 1), datetime(2019, 11, 21, 8, 30)],
            "end_date": [datetime(2019, 10, 22), None],
        },
        schema_overrides={"start_date": pl.Datetime(unit, "UTC"), "end_date": pl.Datetime(unit)},
    )
    _complete("known_employer", employer).write_parquet(tmp_path / "known_employer.parquet")
    extract = read_extract(tmp_path)
    assert extract.ncp["dob"].to_list() == [date(1980, 1, 15), None, date(1979, 12, 31)]
    assert extract.known_employer["start_date"].to_list() == [date(2019, 5, 1), date(2019, 11, 21)]
    assert extract.known_employer["end_date"].to_list() == [date(2019, 10, 22), None]  # blank: current
    assert extract.unreadable_dates == {}


def test_pyarrow_timestamp_parquet_dates_load(tmp_path: Path) -> None:
    text = pl.read_csv(io.StringIO(NCP_CSV), infer_schema=False)
    table = text.to_arrow().set_column(
        text.columns.index("dob"),
        "dob",
        pa.array([datetime(1980, 1, 15), None], type=pa.timestamp("ms")),
    )
    pq.write_table(table, tmp_path / "ncp.parquet")
    (tmp_path / "csv").mkdir()
    from_csv = read_extract(write(tmp_path / "csv", ncp=NCP_CSV)).ncp
    assert read_extract(tmp_path).ncp.equals(from_csv)


def test_csv_dates_with_a_time_part_are_their_date(tmp_path: Path) -> None:
    ncp = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "dob": ["1980-01-15 00:00:00", "1981-02-28T00:00:00.000", "1982-03-31 00:00", "1983-04-30 25"],
        }
    )
    _write_csv(tmp_path, ncp=ncp)
    extract = read_extract(tmp_path)
    assert extract.ncp["dob"].to_list() == [date(1980, 1, 15), date(1981, 2, 28), date(1982, 3, 31), None]
    assert extract.unreadable_dates == {"ncp.dob": 1}


def test_impossible_dates_are_null_counted_and_the_load_goes_on(tmp_path: Path) -> None:
    ncp = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4", "P5"],
            "dob": ["1981-02-30", "1980-01-15", "0000-00-00", " ", "01/15/1980"],
        }
    )
    address = pl.DataFrame(
        {"person_id": ["P1", "P2", "P3"], "verified_date": ["2024-02-29", "2023-02-29", "2024-13-01"]}
    )
    _write_csv(tmp_path, ncp=ncp, known_address=address)
    with capture_logs() as logs:
        extract = read_extract(tmp_path)
    assert extract.ncp["dob"].to_list() == [None, date(1980, 1, 15), None, None, None]
    assert extract.known_address["verified_date"].to_list() == [date(2024, 2, 29), None, None]
    counts = {"ncp.dob": 3, "known_address.verified_date": 2}  # a blank is not an unreadable date
    assert extract.unreadable_dates == counts
    warnings = [e for e in logs if e["event"] == "registry_unreadable_dates"]
    assert warnings == [
        {"event": "registry_unreadable_dates", "log_level": "warning", "unreadable_dates": counts}
    ]
    assert not any(v in repr(logs) for v in ("1981-02-30", "0000-00-00", "01/15/1980", "2023-02-29"))


def test_an_unreadable_end_date_is_a_past_employer_not_a_current_one(tmp_path: Path) -> None:
    # P1 left OLD JOB INC (FEIN 555555555): with end_date unreadable it must still count as ended, so a
    # new-hire report from that employer is new information (a locate hit), as with a readable end date.
    employer = s.KNOWN_EMPLOYER.with_columns(pl.col("end_date").cast(pl.String))
    bad_end = employer.with_columns(
        end_date=pl.when(pl.col("fein") == "555555555").then(pl.lit("0000-00-00")).otherwise("end_date")
    )
    rehired = [{"record_number": 2, "employer_fein": "555555555", "employer_name": "OLD JOB INC"}]
    items: dict[str, pl.DataFrame] = {}
    for label, table in (("readable", employer), ("unreadable", bad_end)):
        directory = tmp_path / label
        directory.mkdir()
        _write_csv(directory, ncp=s.NCP, ncp_case=s.NCP_CASE, known_employer=table)
        extract = read_extract(directory)
        info = s.run("new_hire", ("locate_hit",), s.NEW_HIRE_RECEIVED, "b" * 64)
        found = s.matches([(2, "P1", "auto")], "new_hire", info.file_name)
        records = s.records(rehired, "new_hire", info.file_name, s.NEW_HIRE_RECEIVED)
        items[label] = build_work_items(found, records, _registry_of(extract), RulesConfig(), info)
    ends = dict(extract.known_employer.select("fein", "end_date").iter_rows())
    assert ends == {"111111111": None, "555555555": UNKNOWN_END_DATE}  # blank stays "current"
    assert extract.unreadable_dates == {"known_employer.end_date": 1}
    locate = items["unreadable"].select("item_kind", "case_id").sort("case_id").rows()
    assert locate == [("locate_hit", "C1"), ("locate_hit", "C2")]
    assert items["unreadable"].select("idempotency_key").equals(items["readable"].select("idempotency_key"))


@pytest.mark.parametrize(
    ("tables", "code"),
    [
        (
            {"ncp": NCP_CSV.replace("1980-01-15", "1980-02-30") + "P1,,A,,B,,1990-01-01,,,,,,\n"},
            "duplicate_person_id",
        ),
        (
            {"ncp": NCP_CSV.replace("1980-01-15", "1980-02-30") + ",,A,,B,,1990-01-01,,,,,,\n"},
            "missing_person_id",
        ),
        ({"ncp": "person_id,dob\nP1,1980-02-30\nP2,1980-01-01\n"}, "missing_columns"),
        (
            {"ncp": NCP_CSV, "ncp_case": CASE_CSV.replace("1200", "12OO")},
            "bad_numbers",
        ),
    ],
)
def test_what_stays_strict_beside_lenient_dates(tmp_path: Path, tables: dict[str, str], code: str) -> None:
    with pytest.raises(RegistryRejected) as caught:
        read_extract(write(tmp_path, **tables))
    assert caught.value.code == code
    assert not any(v in str(caught.value) for v in ("1980-02-30", "1990-01-01", "12OO"))


def test_codes_are_trimmed_and_upper_cased(tmp_path: Path) -> None:
    ncp = pl.DataFrame({"person_id": ["P1", "P2"], "sex": ["m", " F "], "state": ["il", "Il "]})
    cases = pl.DataFrame(
        {
            "case_id": ["C1", "C2", "C3", "C4"],
            "person_id": ["P1", "P1", "P2", "P2"],
            "case_status": ["open", " Open ", "CLOSED", "closed"],
            "order_status": ["active", "Suspended ", " none", "ACTIVE"],
            "family_violence": ["y", " Y ", "", "n"],
        }
    )
    employer = pl.DataFrame({"person_id": ["P1", "P2"], "iwo_active": [" y", "N"]})
    address = pl.DataFrame({"person_id": ["P1"], "state": [" wi"]})
    _write_csv(tmp_path, ncp=ncp, ncp_case=cases, known_employer=employer, known_address=address)
    extract = read_extract(tmp_path)
    assert extract.ncp.select("sex", "state").rows() == [("M", "IL"), ("F", "IL")]
    assert extract.ncp_case.select("case_status", "order_status", "family_violence").rows() == [
        ("OPEN", "ACTIVE", "Y"),
        ("OPEN", "SUSPENDED", "Y"),
        ("CLOSED", "NONE", None),
        ("CLOSED", "ACTIVE", "N"),
    ]
    assert extract.known_employer["iwo_active"].to_list() == ["Y", "N"]
    assert extract.known_address["state"].to_list() == ["WI"]


def test_lower_case_codes_give_the_same_work_and_family_violence_protection(tmp_path: Path) -> None:
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    upper.mkdir()
    lower.mkdir()
    tables = {"ncp": s.NCP, "ncp_case": s.NCP_CASE, "known_employer": s.KNOWN_EMPLOYER}
    _write_csv(upper, **tables)
    codes = ("case_status", "order_status", "family_violence")
    lowered = {
        **tables,
        "ncp_case": s.NCP_CASE.with_columns(
            (" " + pl.col(c).str.to_lowercase() + " ").alias(c) for c in codes
        ),
        "known_employer": s.KNOWN_EMPLOYER.with_columns(pl.col("iwo_active").str.to_lowercase()),
    }
    _write_csv(lower, **lowered)
    expected = _new_hire_items(_registry_of(read_extract(upper)))
    items = _new_hire_items(_registry_of(read_extract(lower)))
    assert items.equals(expected)
    fv = items.filter(pl.col("person_id") == "P2")  # P2's case has family_violence " y "
    assert fv.height == 3 and fv["family_violence"].all()
    assert all("ELM" not in v and "62705" not in v for v in fv["new_info"])
    assert items.filter(pl.col("item_kind") == "iwo_candidate").height == 3


def test_boolean_flag_columns_are_y_and_n(tmp_path: Path) -> None:
    write(tmp_path, ncp=NCP_CSV)
    cases = pl.DataFrame({"case_id": ["C1", "C2", "C3"], "person_id": ["P1", "P1", "P2"]}).with_columns(
        family_violence=pl.Series([True, False, None], dtype=pl.Boolean())
    )
    _complete("ncp_case", cases).write_parquet(tmp_path / "ncp_case.parquet")
    employer = pl.DataFrame({"person_id": ["P1"], "iwo_active": [True]})
    _complete("known_employer", employer).write_parquet(tmp_path / "known_employer.parquet")
    extract = read_extract(tmp_path)
    assert extract.ncp_case["family_violence"].to_list() == ["Y", "N", None]
    assert extract.known_employer["iwo_active"].to_list() == ["Y"]


def test_flags_in_other_spellings_and_an_unknown_family_violence_value_withholds(tmp_path: Path) -> None:
    write(tmp_path, ncp=NCP_CSV)
    spelled = ["yes", "1", "TRUE", "no", "0", "F", "?", None]
    cases = pl.DataFrame({"case_id": [f"C{i}" for i in range(8)], "person_id": ["P1"] * 8}).with_columns(
        family_violence=pl.Series(spelled), order_status=pl.Series(["active"] * 8)
    )
    _complete("ncp_case", cases).write_csv(tmp_path / "ncp_case.csv")
    employer = pl.DataFrame({"person_id": ["P1"] * 3, "iwo_active": ["Yes", "false", "?"]})
    _complete("known_employer", employer).write_csv(tmp_path / "known_employer.csv")
    extract = read_extract(tmp_path)
    assert extract.ncp_case["family_violence"].to_list() == ["Y", "Y", "Y", "N", "N", "N", "Y", None]
    assert extract.known_employer["iwo_active"].to_list() == ["Y", "N", "?"]
    assert extract.ncp_case["order_status"].unique().to_list() == ["ACTIVE"]


def test_numeric_ssn_fein_and_zip_get_their_leading_zeros_back(tmp_path: Path) -> None:
    ncp = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "ssn": [12345678, 123456789, None, 1234],
            "zip": [2701, 62701, 27011234, None],  # 02701, 62701, ZIP+4 02701-1234
        }
    )
    _complete("ncp", ncp).write_parquet(tmp_path / "ncp.parquet")
    # pandas writes an integer column with missing values as float64
    alias = pl.DataFrame({"person_id": ["P1", "P2"], "ssn": [12345679.0, None]})
    _complete("alias", alias).write_parquet(tmp_path / "alias.parquet")
    employer = pl.DataFrame({"person_id": ["P1"], "fein": pl.Series([61234567], dtype=pl.UInt32())})
    _complete("known_employer", employer).write_parquet(tmp_path / "known_employer.parquet")
    address = pl.DataFrame({"person_id": ["P1"], "zip": pl.Series([501], dtype=pl.Int32())})
    _complete("known_address", address).write_parquet(tmp_path / "known_address.parquet")
    extract = read_extract(tmp_path)
    assert extract.ncp["ssn"].to_list() == ["012345678", "123456789", None, "000001234"]
    assert extract.ncp["zip"].to_list() == ["02701", "62701", "027011234", None]
    assert extract.alias["ssn"].to_list() == ["012345679", None]
    assert extract.known_employer["fein"].to_list() == ["061234567"]
    assert extract.known_address["zip"].to_list() == ["00501"]
    for name in REGISTRY_SCHEMAS:
        assert getattr(extract, name).schema == pl.Schema(REGISTRY_SCHEMAS[name]), name
