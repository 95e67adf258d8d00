"""Property tests: generated W4 records round-trip; arbitrary bytes never break the parser."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import FileRejected, parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled
from tests.loaders.writers import W4_FIELDS, h4, new_hire_file, t4, w4, write_lines

UPPER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-' ", max_size=40)


def slot(name: str, strategy: st.SearchStrategy[str] = UPPER) -> st.SearchStrategy[str]:
    return strategy.map(lambda v: v[: W4_FIELDS[name][1]])


digits9 = st.text(alphabet="0123456789", min_size=9, max_size=9)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))

w4_values = st.fixed_dictionaries(
    {
        "ssn": st.one_of(digits9, st.just("")),
        "first_name": slot("first_name"),
        "middle_name": slot("middle_name"),
        "last_name": slot("last_name").filter(lambda v: v.strip() != ""),
        "address_line1": slot("address_line1"),
        "city": slot("city"),
        "dob": st.one_of(dates.map(lambda d: d.strftime("%Y%m%d")), st.just("")),
        "hire_date": dates.map(lambda d: d.strftime("%Y%m%d")),
        "employer_fein": st.one_of(digits9, st.just("")),
        "employer_name": slot("employer_name"),
    }
)


def expected(value: str) -> str | None:
    return value.strip() or None


def parse_lines(lines: list[str | bytes], *, final: bool = True):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp) / "nh.txt", lines, final=final)
        return parse_file("new_hire", path, received_date=RECEIVED)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(w4_values, min_size=1, max_size=5))
def test_generated_w4_records_round_trip(values: list[dict[str, str]]) -> None:
    parsed = parse_lines(list(new_hire_file([w4(**v) for v in values])))
    assert_reconciled(parsed)
    assert parsed.quarantine.height == 0
    for row, given_values in zip(parsed.records.to_dicts(), values, strict=True):
        for name in (
            "ssn",
            "first_name",
            "middle_name",
            "last_name",
            "address_line1",
            "city",
            "employer_name",
        ):
            assert row[name] == expected(given_values[name]), name
        assert row["employer_fein"] == expected(given_values["employer_fein"])
        assert row["hire_date"].strftime("%Y%m%d") == given_values["hire_date"]
        assert (row["dob"].strftime("%Y%m%d") if row["dob"] else "") == given_values["dob"]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.booleans())
def test_any_bytes_reject_or_reconcile(noise: bytes, framed: bool) -> None:
    """Random bytes (alone, or between a real header and trailer) never raise anything but FileRejected."""
    lines: list[str | bytes] = [h4("W4", 801), noise, t4(noise.count(b"\n") + 1, 801)] if framed else [noise]
    try:
        parsed = parse_lines(lines)
    except FileRejected as rejected:
        assert rejected.code
        return
    assert_reconciled(parsed)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=4, max_size=4), st.booleans())
def test_any_line_end_mix_reads_the_same(ends: list[bytes], final: bool) -> None:
    body = [line.encode() for line in new_hire_file([w4(), w4()[:-1], w4()])]
    data = (
        b"".join(line + end for line, end in zip(body, ends, strict=False))
        + body[-1]
        + (b"\n" if final else b"")
    )
    parsed = parse_lines([data], final=False)
    assert_reconciled(parsed)
    assert parsed.records.height == 2 and parsed.quarantine["reason"].to_list() == ["line_length"]


RAGGED = st.text(alphabet=" abXY09-'.", max_size=45)
TEXT_FIELDS = ("middle_name", "address_line1", "address_line2", "city", "state", "state_of_hire",
               "employer_sein", "employer_name", "iwo_city")  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({n: slot(n, RAGGED) for n in TEXT_FIELDS}),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=1, max_value=3),
)
def test_text_fields_are_trimmed_upper_case_or_null(values: list[dict[str, str]], chunk_size: int) -> None:
    """Spaces before, inside and after a value, any case, blank on some lines or all: the value is
    trimmed and upper-cased, null when blank, however the file is chunked."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp) / "nh.txt", new_hire_file([w4(**v) for v in values]))
        parsed = parse_file("new_hire", path, received_date=RECEIVED, chunk_size=chunk_size)
    assert parsed.records.height == len(values)
    for row, given_values in zip(parsed.records.to_dicts(), values, strict=True):
        for name in TEXT_FIELDS:
            assert row[name] == (given_values[name].strip().upper() or None), name


STRAY = st.sampled_from(["", "   ", "\t", h4("W4", 801), "T4", "H4"])
WHITESPACE_LINE = st.text(alphabet=" \t\x0b\x0c", max_size=4)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=4),
    strays=st.lists(st.tuples(st.integers(min_value=0, max_value=4), STRAY), max_size=3),
    bom=st.booleans(),
    count_all=st.booleans(),
    tail=st.lists(WHITESPACE_LINE, max_size=3),
    eof_mark=st.booleans(),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    chunk_size=st.integers(min_value=1, max_value=3),
)
def test_framing_noise_is_read_through(
    n: int,
    strays: list[tuple[int, str]],
    bom: bool,
    count_all: bool,
    tail: list[str],
    eof_mark: bool,
    newline: bytes,
    chunk_size: int,
) -> None:
    """A BOM before the header; blank, whitespace or stray header/trailer lines among the W4 records and a
    trailer counting either the W4 records or every line; whitespace-only lines and a Ctrl-Z after the
    trailer: the W4 records are read, the stray lines quarantined as ``record_type``, nothing else."""
    body = [w4(employer_name=f"EMPLOYER {i}") for i in range(n)]
    for at, line in strays:
        body.insert(min(at, len(body)), line)
    lines = [h4("W4", 801), *body, t4(len(body) if count_all else n, 801)]
    data = b"\xef\xbb\xbf" * bom + b"".join(line.encode() + newline for line in lines)
    data += b"".join(line.encode() + newline for line in tail) + b"\x1a" * eof_mark
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nh.txt"
        path.write_bytes(data)
        parsed = parse_file("new_hire", path, received_date=RECEIVED, chunk_size=chunk_size)
    assert_reconciled(parsed)
    assert parsed.records["employer_name"].to_list() == [f"EMPLOYER {i}" for i in range(n)]
    stray_numbers = [number for number, line in enumerate(body, start=2) if not line.startswith("W4")]
    assert parsed.quarantine["record_number"].to_list() == stray_numbers
    assert set(parsed.quarantine["reason"]) <= {"record_type"}
    assert parsed.header["transmission_type"] == "W4" and parsed.header["state_fips"] == "17"
