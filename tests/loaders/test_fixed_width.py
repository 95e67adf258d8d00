"""The fixed-width framing every H4/T4 and A/T source shares: what the trailer counts, a leading BOM,
what may follow the trailer. Each case runs on new-hire, quarterly-wage and FIDM files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from loaders import FileRejected, parse_file
from loaders.parsed import ParsedFile
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons
from tests.loaders.writers import fidm_a, fidm_b, fidm_t, h4, qw, t4, w4, write_lines

BOM = b"\xef\xbb\xbf"
SOURCES = ("new_hire", "quarterly_wage", "fidm")
DETAIL: dict[str, Callable[[], str]] = {"new_hire": w4, "quarterly_wage": qw, "fidm": fidm_b}
HEADER: dict[str, Callable[[], str]] = {
    "new_hire": lambda: h4("W4", 801),
    "quarterly_wage": lambda: h4("QW", 300),
    "fidm": fidm_a,
}
CODE = {"new_hire": "W4", "quarterly_wage": "QW", "fidm": "B"}


def trailer(source: str, count: int, details: list[str]) -> str:
    if source == "fidm":  # the balance total of the well-formed B lines
        total = sum(int(d[350:357]) for d in details if d.startswith("B") and len(d.encode()) == 500)
        return fidm_t(count, total)
    return t4(count, 801 if source == "new_hire" else 300)


def framed(source: str, details: list[str], count: int | None = None) -> list[str]:
    return [HEADER[source](), *details, trailer(source, len(details) if count is None else count, details)]


def parse(source: str, path: Path, chunk_size: int = 250_000) -> ParsedFile:
    return parse_file(source, path, received_date=RECEIVED, file_name="f.txt", chunk_size=chunk_size)


def rejection(source: str, path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse(source, path)
    return caught.value


def assert_same(parsed: ParsedFile, expected: ParsedFile) -> None:
    assert parsed.header == expected.header and parsed.read == expected.read
    assert parsed.records.equals(expected.records)
    assert parsed.quarantine.equals(expected.quarantine)


# --- the trailer's count: the detail records, or every line between header and trailer ------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("stray", ["", "    ", "header"])
@pytest.mark.parametrize("counts", ["typed", "all"])
@pytest.mark.parametrize("chunk_size", [1, 2, 1000])
def test_trailer_may_count_the_detail_records_only(
    tmp_path: Path, source: str, stray: str, counts: str, chunk_size: int
) -> None:
    """A blank line or a stray header among the details: the trailer counting only the detail records
    (as the layouts say) is as right as one counting every line; the stray line is quarantined."""
    line = HEADER[source]() if stray == "header" else stray
    details = [DETAIL[source](), line, DETAIL[source](), DETAIL[source]()]
    path = write_lines(tmp_path / "f.txt", framed(source, details, count=3 if counts == "typed" else 4))
    parsed = parse(source, path, chunk_size)
    assert_reconciled(parsed)
    assert parsed.read == 4 and parsed.records.height == 3
    assert reasons(parsed) == {3: "record_type"}


@pytest.mark.parametrize("source", SOURCES)
def test_malformed_detail_records_are_detail_records(tmp_path: Path, source: str) -> None:
    """A short, a long or a non-ASCII line of the detail type still counts as one of its records."""
    good = DETAIL[source]()
    details = [good, good[:-7], "", good + "X", good[:20] + "\u00e9" + good[21:], good]
    parsed = parse(source, write_lines(tmp_path / "f.txt", framed(source, details, count=5)))
    assert_reconciled(parsed)
    assert reasons(parsed) == {3: "line_length", 4: "record_type", 5: "line_length", 6: "line_length"}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("count", [0, 1, 3, 4, 6])
def test_a_count_matching_neither_rejects_the_file(tmp_path: Path, source: str, count: int) -> None:
    """Two detail records and three other lines: only 2 and 5 are right."""
    details = ["", DETAIL[source](), HEADER[source](), DETAIL[source](), ""]
    lines = framed(source, details, count=count)
    rejected = rejection(source, write_lines(tmp_path / "f.txt", lines))
    assert rejected.code == "trailer_count_mismatch"
    assert str(rejected) == (
        f"trailer_count_mismatch: trailer declares {count} detail records, "
        f"the file has 5 lines between header and trailer, 2 of them {CODE[source]} records"
    )
    assert "PUBLIC" not in str(rejected) and "123456789" not in str(rejected)


# --- a UTF-8 byte order mark before the header --------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_a_leading_bom_is_ignored(tmp_path: Path, source: str, newline: bytes) -> None:
    lines = framed(source, [DETAIL[source](), DETAIL[source]()[:30], DETAIL[source]()])
    plain = write_lines(tmp_path / "plain.txt", lines, newline=newline)
    with_bom = tmp_path / "bom.txt"
    with_bom.write_bytes(BOM + plain.read_bytes())
    expected = parse(source, plain)
    parsed = parse(source, with_bom)
    assert_same(parsed, expected)
    assert_reconciled(parsed)
    assert parsed.records["record_number"].to_list() == [2, 4] and reasons(parsed) == {3: "line_length"}
    assert parsed.header == expected.header and len(parsed.header) > 1


@pytest.mark.parametrize("source", SOURCES)
def test_a_bom_elsewhere_is_not_ignored(tmp_path: Path, source: str) -> None:
    good = DETAIL[source]()
    lines: list[str | bytes] = [HEADER[source](), good, BOM + good[3:].encode(), trailer(source, 2, [good])]
    parsed = parse(source, write_lines(tmp_path / "f.txt", lines))  # BOM instead of the record type
    assert reasons(parsed) == {3: "record_type"}
    doubled = tmp_path / "doubled.txt"
    doubled.write_bytes(BOM + BOM + b"\n".join(line.encode() for line in framed(source, [])) + b"\n")
    assert rejection(source, doubled).code == "missing_header"


# --- what may follow the trailer ----------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "tail",
    [b" " * 801, b"   \n\t\n", b"\x1a", b"\n\x1a", b"\r\n  \r\n\x1a", b"\x1a\r\n\r\n", b"\n   \x1a"],
)
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_whitespace_lines_and_a_dos_eof_mark_after_the_trailer_are_ignored(
    tmp_path: Path, source: str, tail: bytes, newline: bytes
) -> None:
    lines = framed(source, [DETAIL[source](), DETAIL[source]()[:40]])
    plain = write_lines(tmp_path / "plain.txt", lines, newline=newline)
    tailed = tmp_path / "tailed.txt"
    tailed.write_bytes(plain.read_bytes() + tail)
    parsed = parse(source, tailed)
    assert_same(parsed, parse(source, plain))
    assert_reconciled(parsed)
    assert parsed.read == 2 and reasons(parsed) == {3: "line_length"}


@pytest.mark.parametrize("source", SOURCES)
def test_a_dos_eof_mark_right_after_the_trailer_bytes_is_ignored(tmp_path: Path, source: str) -> None:
    path = write_lines(tmp_path / "f.txt", framed(source, [DETAIL[source]()]), final=False)
    path.write_bytes(path.read_bytes() + b"\x1a")
    assert parse(source, path).records.height == 1


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("tail", [b"x\n", b" . \n", b"\x1a\n\x1a", b"\x1ax", b"\x00\n", b"\n\x1a\nX   \n"])
def test_anything_else_after_the_trailer_still_rejects_the_file(
    tmp_path: Path, source: str, tail: bytes
) -> None:
    path = write_lines(tmp_path / "f.txt", framed(source, [DETAIL[source]()]))
    path.write_bytes(path.read_bytes() + tail)
    assert rejection(source, path).code == "missing_trailer"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("content", "code"),
    [
        (BOM, "empty_file"),
        (BOM + b"\r\n\n", "empty_file"),
        (b"\n\n   \n", "missing_header"),  # no trailer for the spaces to follow: a line as ever
        (BOM + b"   \r\n\t\n\x1a", "missing_header"),
    ],
)
def test_a_file_of_a_bom_and_whitespace(tmp_path: Path, source: str, content: bytes, code: str) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    assert rejection(source, path).code == code


def test_streamed_framing_fixes_match_the_whole_file(tmp_path: Path) -> None:
    """BOM, a blank line and a trailer counting W4 records only, then spaces and Ctrl-Z, in chunks of 1."""
    details = [w4(), "", w4()[:100], w4()]
    path = write_lines(tmp_path / "f.txt", framed("new_hire", details, count=3), newline=b"\r\n")
    path.write_bytes(BOM + path.read_bytes() + b" " * 801 + b"\r\n\x1a")
    whole = parse("new_hire", path)
    chunked = [parse("new_hire", path, chunk_size=n) for n in (1, 2)]
    for parsed in chunked:
        assert_same(parsed, whole)
    assert_reconciled(whole)
    assert reasons(whole) == {3: "record_type", 4: "line_length"}
    assert pl.Series(whole.records["record_number"]).to_list() == [2, 5]
