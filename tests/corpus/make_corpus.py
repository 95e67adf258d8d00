"""Build the bad-input corpus: `uv run python tests/corpus/make_corpus.py [DIR]` (default: this folder).

A tiny synthetic registry (`registry/`), clean base files per source, then one file per fault, each built
from the base by a small byte-level edit. `expected.json` records, per file, the source and the outcome the
edit calls for (the test checks the real pipeline against it):

- `{"outcome": "rejected", "reason": CODE}`: the whole file is refused, nothing queued;
- `{"outcome": "accepted", "read": N, "quarantined": Q, "reasons": {CODE: n}}`: bad records set aside;
- `{"outcome": "skipped", "after": FILE}`: the same bytes as FILE, processed before, so skipped.

Everything is seeded: running the script twice writes the same bytes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipeline.demo_data import (
    RegistryFrames,
    generate_records,
    generate_registry,
    write_dmv,
    write_fidm,
    write_new_hire,
    write_quarterly_wage,
    write_registry,
)

HERE = Path(__file__).parent
RECEIVED = date(2026, 3, 2)
PERSONS, RECORDS, SEED = 40, 8, 2026

# Hostile values: quotes, semicolons and SQL. They must round-trip intact (bound parameters only).
HOSTILE_LAST = ("O'BRIEN'); DROP TABLE X;--", 'SMITH"; DELETE FROM WORK_ITEM; --', "D'ANGELO-O'NEIL")
HOSTILE_FIRST = ("SEAN", "BOBBY' OR '1'='1", "MARY-JO")
HOSTILE_STREET = "1 MAIN ST'; DROP TABLE X;--"
HOSTILE_EMPLOYER = "ACME'); DROP TABLE WORK_ITEM;--"
HOSTILE_FEINS = ("901000001", "901000002", "901000003")  # employers the registry does not know

Lines = list[bytes]


@dataclass(frozen=True)
class Base:
    """Clean files as lines without line ends (fixed width: header, details, trailer; DMV: header, rows)."""

    new_hire: Lines
    quarterly_wage: Lines
    dmv: Lines
    fidm: Lines
    hostile_new_hire: Lines
    hostile_dmv: Lines


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    build: Callable[[Base], bytes]
    expect: dict[str, Any]


# --- the registry and the clean base files --------------------------------------------------------------


def hostile_registry(registry: RegistryFrames) -> tuple[RegistryFrames, list[str]]:
    """Give three NCPs with an open case and active order hostile names; their person ids."""
    active = registry.ncp_case.filter(pl.col("case_status") == "OPEN", pl.col("order_status") == "ACTIVE")
    targets = active.get_column("person_id").unique(maintain_order=True).head(len(HOSTILE_LAST)).to_list()
    names = pl.DataFrame({"person_id": targets, "_first": HOSTILE_FIRST, "_last": HOSTILE_LAST})
    ncp = (
        registry.ncp.join(names, on="person_id", how="left")
        .with_columns(
            first_name=pl.coalesce("_first", "first_name"),
            last_name=pl.coalesce("_last", "last_name"),
        )
        .drop("_first", "_last")
    )
    frames = registry.frames() | {"ncp": ncp}
    return RegistryFrames(**frames), targets


def _lines(path: Path) -> Lines:
    return path.read_bytes().splitlines()


def _clean(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows a loader takes whole: some name present (the generator blanks names on purpose)."""
    return rows.filter(pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null())


def _records(source: str, registry: RegistryFrames, seed: int) -> pl.DataFrame:
    rows = generate_records(source, registry, RECORDS * 2, seed, received_date=RECEIVED, match_rate=0.7).rows
    return (_clean(rows) if source in ("new_hire", "dmv") else rows).head(RECORDS)


def hostile_rows(rows: pl.DataFrame, ncp: pl.DataFrame, person_ids: list[str]) -> pl.DataFrame:
    """New-hire or DMV rows of the hostile NCPs (exact SSN, name, DOB), at a hostile street and employer."""
    people = ncp.filter(pl.col("person_id").is_in(person_ids)).sort("person_id")
    base = rows.head(people.height)
    person = {c: people.get_column(c) for c in ("ssn", "first_name", "last_name", "dob")}
    extra: dict[str, Any] = {
        "middle_name": pl.lit(None, dtype=pl.String),
        "address_line1": pl.lit(HOSTILE_STREET),
    }
    if "employer_name" in rows.columns:
        extra |= {
            "employer_name": pl.lit(HOSTILE_EMPLOYER),
            "employer_fein": pl.Series(HOSTILE_FEINS[: people.height]),
        }
    return base.with_columns(**person, **extra)


def build_base(directory: Path) -> Base:
    registry, hostile_ids = hostile_registry(generate_registry(PERSONS, SEED))
    write_registry(registry, directory / "registry")
    scratch = directory / ".base"
    year, quarter = 2025, 4
    rows = {
        source: _records(source, registry, SEED + i)
        for i, source in enumerate(("new_hire", "quarterly_wage", "dmv", "fidm"))
    }
    write_new_hire(rows["new_hire"], scratch / "nh.txt", created=RECEIVED)
    write_quarterly_wage(rows["quarterly_wage"], scratch / "qw.txt", created=RECEIVED)
    write_dmv(rows["dmv"], scratch / "dmv.psv")
    write_fidm(rows["fidm"], scratch / "fidm.txt", match_period=f"{year}{quarter}")
    write_new_hire(
        hostile_rows(rows["new_hire"], registry.ncp, hostile_ids),
        scratch / "nh_hostile.txt",
        created=RECEIVED,
    )
    write_dmv(hostile_rows(rows["dmv"], registry.ncp, hostile_ids), scratch / "dmv_hostile.psv")
    base = Base(
        new_hire=_lines(scratch / "nh.txt"),
        quarterly_wage=_lines(scratch / "qw.txt"),
        dmv=_lines(scratch / "dmv.psv"),
        fidm=_lines(scratch / "fidm.txt"),
        hostile_new_hire=_lines(scratch / "nh_hostile.txt"),
        hostile_dmv=_lines(scratch / "dmv_hostile.psv"),
    )
    for file in scratch.iterdir():
        file.unlink()
    scratch.rmdir()
    return base


# --- byte-level edits -------------------------------------------------------------------------------------


def joined(lines: Lines, eol: bytes = b"\n", final: bool = True) -> bytes:
    return eol.join(lines) + (eol if final else b"")


def put(line: bytes, position: int, value: bytes) -> bytes:
    """`line` with `value` written over it from 1-based `position`."""
    return line[: position - 1] + value + line[position - 1 + len(value) :]


def t4(count: int, length: int) -> bytes:
    return f"T4{count:011d}".ljust(length).encode()


def fidm_trailer(details: Lines) -> bytes:
    """The T record for these B lines: count, and the sum of every balance that reads as a number."""
    total = sum(int(b[350:357]) for b in details if b[350:357].isdigit())
    return f"T{len(details):08d}{total:015d}".ljust(500).encode()


def with_details(lines: Lines, details: Lines, *, length: int) -> bytes:
    """Header, the given detail lines, and a T4 trailer that counts them."""
    return joined([lines[0], *details, t4(len(details), length)])


def replace_details(lines: Lines, edits: dict[int, Callable[[bytes], bytes]]) -> Lines:
    """The detail lines with edits by 0-based detail index."""
    details = lines[1:-1]
    return [edits[i](d) if i in edits else d for i, d in enumerate(details)]


def garbage(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def accepted(read: int, issues: dict[str, int] | None = None, **reasons: int) -> dict[str, Any]:
    """Accepted with `read` detail lines, quarantined by reason, and kept records' `data_issues` by code."""
    expect = {"outcome": "accepted", "read": read, "quarantined": sum(reasons.values()), "reasons": reasons}
    return expect | {"data_issues": issues or {}}


def rejected(reason: str) -> dict[str, Any]:
    return {"outcome": "rejected", "reason": reason}


# --- the cases --------------------------------------------------------------------------------------------

N = RECORDS
W4_LEN, QW_LEN, FIDM_LEN = 801, 300, 500
W4_DOB, W4_HIRE, W4_SSN, QW_SSN, FIDM_SSN, FIDM_BALANCE = 272, 280, 3, 3, 15, 351


def nh_cases() -> list[Case]:
    def nh(name: str, build: Callable[[Lines], bytes], expect: dict[str, Any]) -> Case:
        return Case(name, "new_hire", lambda b: build(b.new_hire), expect)

    def edited(edits: dict[int, Callable[[bytes], bytes]]) -> Callable[[Lines], bytes]:
        return lambda ls: with_details(ls, replace_details(ls, edits), length=W4_LEN)

    return [
        nh("nh_good.txt", joined, accepted(N)),
        nh("nh_empty.txt", lambda ls: b"", rejected("empty_file")),
        nh("nh_blank_lines_only.txt", lambda ls: b"\n\n   \n", rejected("missing_header")),
        nh("nh_header_only.txt", lambda ls: joined(ls[:1]), rejected("missing_trailer")),
        nh("nh_header_and_trailer_only.txt", lambda ls: joined([ls[0], t4(0, W4_LEN)]), accepted(0)),
        nh("nh_missing_header.txt", lambda ls: joined(ls[1:]), rejected("missing_header")),
        nh("nh_missing_trailer.txt", lambda ls: joined(ls[:-1]), rejected("missing_trailer")),
        nh(
            "nh_trailer_count_wrong.txt",
            lambda ls: joined([*ls[:-1], t4(N + 3, W4_LEN)]),
            rejected("trailer_count_mismatch"),
        ),
        nh(
            "nh_trailer_count_not_a_number.txt",
            lambda ls: joined([*ls[:-1], put(ls[-1], 3, b"12X45")]),
            rejected("trailer_invalid"),
        ),
        nh(
            "nh_short_and_long_lines.txt",
            edited({1: lambda d: d[:700], 4: lambda d: d + b"EXTRA" * 10}),
            accepted(N, line_length=2),
        ),
        nh("nh_crlf.txt", lambda ls: joined(ls, b"\r\n"), accepted(N)),
        nh(
            "nh_mixed_line_ends.txt",
            lambda ls: b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(ls)),
            accepted(N),
        ),
        nh("nh_no_final_newline.txt", lambda ls: joined(ls, final=False), accepted(N)),
        nh(
            "nh_non_ascii.txt",  # a Latin-1 byte keeps the length; UTF-8 É makes the line one byte longer
            edited({0: lambda d: put(d, 13, b"\xc9"), 2: lambda d: put(d, 13, "É".encode())[:W4_LEN]}),
            accepted(N, non_ascii=2),
        ),
        nh(
            "nh_binary_line.txt",
            lambda ls: with_details(
                ls,
                [*ls[1:4], garbage(W4_LEN, 1).replace(b"\n", b" ").replace(b"\r", b" "), *ls[4:-1]],
                length=W4_LEN,
            ),
            accepted(N + 1, record_type=1),
        ),
        nh("nh_binary_garbage.txt", lambda ls: garbage(4000, 2), rejected("missing_header")),
        nh(
            "nh_nul_bytes.txt",
            edited({3: lambda d: put(d, 760, b"\x00" * 20), 5: lambda d: put(d, 300, b"\x00")}),
            accepted(N, non_ascii=2),
        ),
        nh("nh_all_nul.txt", lambda ls: b"\x00" * 3000, rejected("missing_header")),
        nh(
            "nh_impossible_dates.txt",  # bad DOB or hire date: kept, a data issue
            edited({0: lambda d: put(d, W4_DOB, b"20260230"), 1: lambda d: put(d, W4_HIRE, b"20261301")}),
            accepted(N, {"dob_invalid": 1, "hire_date_invalid": 1}),
        ),
        nh(
            "nh_ssn_letters.txt",
            edited({2: lambda d: put(d, W4_SSN, b"12345678A"), 6: lambda d: put(d, W4_SSN, b"ABC-DE-FG")}),
            accepted(N, {"ssn_not_numeric": 2}),  # treated as missing SSNs
        ),
        nh(
            "nh_names_blank.txt",
            edited({3: lambda d: put(d, 12, b" " * 62)}),
            accepted(N, name_missing=1),
        ),
        Case(
            "nh_is_a_qw_file.txt", "new_hire", lambda b: joined(b.quarterly_wage), rejected("wrong_file_type")
        ),
        Case(
            "nh_with_qw_records.txt",  # a W4 header and trailer around QW records: every record is refused
            "new_hire",
            lambda b: with_details(b.new_hire, b.quarterly_wage[1:-1], length=W4_LEN),
            accepted(N, record_type=N),
        ),
        Case("nh_hostile_names.txt", "new_hire", lambda b: joined(b.hostile_new_hire), accepted(3)),
        Case(
            "nh_duplicate.txt",
            "new_hire",
            lambda b: joined(b.new_hire),
            {"outcome": "skipped", "after": "nh_good.txt"},
        ),
    ]


def qw_cases() -> list[Case]:
    def qw(name: str, build: Callable[[Lines], bytes], expect: dict[str, Any]) -> Case:
        return Case(name, "quarterly_wage", lambda b: build(b.quarterly_wage), expect)

    def edited(edits: dict[int, Callable[[bytes], bytes]]) -> Callable[[Lines], bytes]:
        return lambda ls: with_details(ls, replace_details(ls, edits), length=QW_LEN)

    return [
        qw("qw_good.txt", joined, accepted(N)),
        qw("qw_empty.txt", lambda ls: b"", rejected("empty_file")),
        qw("qw_header_only.txt", lambda ls: joined(ls[:1]), rejected("missing_trailer")),
        qw("qw_missing_trailer.txt", lambda ls: joined(ls[:-1]), rejected("missing_trailer")),
        qw(
            "qw_trailer_count_wrong.txt",
            lambda ls: joined([*ls[:-1], t4(N - 1, QW_LEN)]),
            rejected("trailer_count_mismatch"),
        ),
        qw(
            "qw_short_and_long_lines.txt",
            edited({0: lambda d: d[:299], 7: lambda d: d + b" "}),
            accepted(N, line_length=2),
        ),
        qw("qw_crlf_no_final_newline.txt", lambda ls: joined(ls, b"\r\n", final=False), accepted(N)),
        qw(
            "qw_ssn_letters.txt",
            edited({5: lambda d: put(d, QW_SSN, b"12-34-567")}),
            accepted(N, {"ssn_not_numeric": 1}),
        ),
        Case(
            "qw_is_a_new_hire_file.txt",  # batch 2: not nh_good.txt's bytes (processed: skipped)
            "quarterly_wage",
            lambda b: joined([put(b.new_hire[0], 27, b"000002"), *b.new_hire[1:]]),
            rejected("wrong_file_type"),
        ),
    ]


def _dmv_with(lines: Lines, edit: Callable[[list[list[bytes]]], list[list[bytes]]]) -> bytes:
    """Edit the DMV file as cells (header row first); cells are raw bytes, joined with `|`."""
    cells = edit([line.split(b"|") for line in lines])
    return joined([b"|".join(row) for row in cells])


def _column(lines: Lines, name: bytes) -> int:
    return lines[0].split(b"|").index(name)


def dmv_cases() -> list[Case]:
    def dmv(name: str, build: Callable[[Lines], bytes], expect: dict[str, Any]) -> Case:
        return Case(name, "dmv", lambda b: build(b.dmv), expect)

    def set_cell(row: int, column: bytes, value: bytes) -> Callable[[Lines], bytes]:
        def build(ls: Lines) -> bytes:
            at = _column(ls, column)
            return _dmv_with(
                ls,
                lambda rows: [r if i != row else [*r[:at], value, *r[at + 1 :]] for i, r in enumerate(rows)],
            )

        return build

    def drop_column(ls: Lines) -> bytes:
        at = _column(ls, b"dob")
        return _dmv_with(ls, lambda rows: [[*r[:at], *r[at + 1 :]] for r in rows])

    def extra_columns(ls: Lines) -> bytes:
        extra = [[b"eye_color", b"notes"]] + [[b"BRO", b'"SEE ""FILE"" | 2"']] * (len(ls) - 1)
        return _dmv_with(ls, lambda rows: [r + e for r, e in zip(rows, extra, strict=True)])

    def field_counts(ls: Lines) -> bytes:
        return _dmv_with(
            ls, lambda rows: [r[:-2] if i == 2 else [*r, b"X"] if i == 5 else r for i, r in enumerate(rows)]
        )

    return [
        dmv("dmv_good.psv", joined, accepted(N)),
        dmv("dmv_empty.psv", lambda ls: b"", rejected("empty_file")),
        dmv("dmv_header_only.psv", lambda ls: joined(ls[:1]), accepted(0)),
        dmv("dmv_missing_header.psv", lambda ls: joined(ls[1:]), rejected("missing_header")),
        dmv("dmv_missing_required_column.psv", drop_column, rejected("missing_columns")),
        dmv("dmv_extra_columns.psv", extra_columns, accepted(N)),
        dmv("dmv_broken_quoting.psv", set_cell(3, b"last_name", b'"UNCLOSED'), accepted(N, broken_quoting=1)),
        dmv("dmv_wrong_field_count.psv", field_counts, accepted(N, column_count=2)),
        dmv("dmv_impossible_dates.psv", set_cell(2, b"dob", b"2026-02-30"), accepted(N, {"dob_invalid": 1})),
        dmv("dmv_ssn_letters.psv", set_cell(4, b"ssn", b"12345678O"), accepted(N, {"ssn_not_numeric": 1})),
        dmv("dmv_not_utf8.psv", set_cell(1, b"last_name", b"PE\xd1A"), accepted(N, not_utf8=1)),
        dmv("dmv_crlf.psv", lambda ls: joined(ls, b"\r\n"), accepted(N)),
        dmv("dmv_binary_garbage.psv", lambda ls: garbage(3000, 3), rejected("not_decodable")),
        Case("dmv_hostile_names.psv", "dmv", lambda b: joined(b.hostile_dmv), accepted(3)),
    ]


def fidm_cases() -> list[Case]:
    def fidm(name: str, build: Callable[[Lines], bytes], expect: dict[str, Any]) -> Case:
        return Case(name, "fidm", lambda b: build(b.fidm), expect)

    def edited(edits: dict[int, Callable[[bytes], bytes]]) -> Callable[[Lines], bytes]:
        def build(ls: Lines) -> bytes:
            details = replace_details(ls, edits)
            return joined([ls[0], *details, fidm_trailer(details)])

        return build

    return [
        fidm("fidm_good.txt", joined, accepted(N)),
        fidm("fidm_empty.txt", lambda ls: b"", rejected("empty_file")),
        fidm("fidm_missing_trailer.txt", lambda ls: joined(ls[:-1]), rejected("missing_trailer")),
        fidm(
            "fidm_trailer_count_wrong.txt",
            lambda ls: joined([*ls[:-1], put(ls[-1], 2, b"00000099")]),
            rejected("trailer_count_mismatch"),
        ),
        fidm(
            "fidm_balance_sum_wrong.txt",
            lambda ls: joined([*ls[:-1], put(ls[-1], 10, b"999999999999999")]),
            rejected("balance_sum_mismatch"),
        ),
        fidm(
            "fidm_not_a_match_file.txt",
            lambda ls: joined([put(ls[0], 371, b"X"), *ls[1:]]),
            rejected("wrong_file_type"),
        ),
        fidm(
            "fidm_balance_decimal_and_sign.txt",
            edited(
                {
                    0: lambda d: put(d, FIDM_BALANCE, b"0012.50"),
                    3: lambda d: put(d, FIDM_BALANCE, b"-000150"),
                    5: lambda d: put(d, FIDM_BALANCE, b"+000150"),
                }
            ),
            accepted(N, {"account_balance_invalid": 3}),  # kept and matched; no levy on an unknown balance
        ),
        fidm(
            "fidm_ssn_letters.txt",
            edited({2: lambda d: put(d, FIDM_SSN, b"SSN000000")}),
            accepted(N, {"ssn_not_numeric": 1}),
        ),
        fidm("fidm_short_line.txt", edited({6: lambda d: d[:499]}), accepted(N, line_length=1)),
    ]


CASES: tuple[Case, ...] = (*nh_cases(), *qw_cases(), *dmv_cases(), *fidm_cases())


def build(directory: Path = HERE) -> dict[str, dict[str, Any]]:
    """Write the registry, every case file and expected.json under `directory`; the expectations."""
    base = build_base(directory)
    files = directory / "files"
    files.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, Any]] = {}
    for case in CASES:
        (files / case.name).write_bytes(case.build(base))
        expected[case.name] = {"source": case.source, **case.expect}
    (directory / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    return expected


if __name__ == "__main__":
    built = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{len(built)} corpus files")
