"""Writers for the layouts in shared/formats: fixed-width lines built in bulk, written in chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl

Field = tuple[str | None, int]  # column (None = filler) and width


@dataclass(frozen=True)
class Layout:
    """A fixed-width detail record: a record-type literal, then fields, padded to `length`."""

    record_type: str
    length: int
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        total = len(self.record_type) + sum(width for _, width in self.fields)
        if total != self.length:
            raise ValueError(f"layout {self.record_type} adds up to {total}, not {self.length}")

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields if name is not None)


_ADDR = (("address_line1", 40), ("address_line2", 40), ("address_line3", 40), ("city", 25), ("state", 2))
_FOREIGN = (("foreign_country_code", 2), ("foreign_country_name", 25), ("foreign_postal_code", 15))


def _prefixed(prefix: str, fields: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple((f"{prefix}{name}", width) for name, width in fields)


_ADDRESS_BLOCK: tuple[Field, ...] = (*_ADDR, ("zip", 5), ("zip4", 4), *_FOREIGN)
W4 = Layout(
    "W4",
    801,
    (
        ("ssn", 9),
        ("first_name", 16),
        ("middle_name", 16),
        ("last_name", 30),
        *_ADDRESS_BLOCK,
        ("dob", 8),
        ("hire_date", 8),
        ("hire_state", 2),
        ("employer_fein", 9),
        ("employer_sein", 12),
        ("employer_name", 45),
        *_prefixed("employer_", _ADDRESS_BLOCK),
        *_prefixed("employer_opt_", _ADDRESS_BLOCK),
        (None, 50),
    ),
)
QW = Layout(
    "QW",
    300,
    (
        ("ssn", 9),
        ("first_name", 16),
        ("middle_name", 16),
        ("last_name", 30),
        ("employer_fein", 9),
        ("employer_sein", 12),
        ("employer_name", 45),
        ("employer_address_line1", 40),
        ("employer_address_line2", 40),
        ("employer_city", 25),
        ("employer_state", 2),
        ("employer_zip", 5),
        ("employer_zip4", 4),
        ("wage_cents", 11),
        ("period", 5),
        (None, 29),
    ),
)
FIDM_B = Layout(
    "B",
    500,
    (
        ("match_yyyymm", 6),
        ("last_name_control", 4),
        (None, 3),
        ("ssn", 9),
        ("account_number", 20),
        ("account_type", 2),
        ("payee_indicator", 1),
        ("name_match_flag", 1),
        (None, 13),
        ("account_title", 100),
        ("foreign_indicator", 1),
        ("first_owner_name", 40),
        ("second_owner_name", 40),
        ("street", 40),
        ("city", 29),
        ("state", 2),
        ("zip", 9),
        ("state_passback", 5),
        ("passback_id", 23),
        (None, 1),
        ("balance", 7),
        (None, 1),
        ("trust_indicator", 1),
        (None, 1),
        ("balance_indicator", 1),
        ("update_indicator", 1),
        ("owner_dob", 8),
        (None, 130),
    ),
)
DMV_COLUMNS = (
    "license_number",
    "license_state",
    "license_class",
    "license_status",
    "last_name",
    "first_name",
    "middle_name",
    "suffix",
    "dob",
    "sex",
    "ssn",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "issue_date",
    "expiration_date",
    "record_updated",
)

Rows = pl.DataFrame | Iterable[pl.DataFrame]


def _field(name: str, width: int, dtype: pl.DataType) -> pl.Expr:
    """Dates CCYYMMDD, integers zero-filled on the left, text blank-filled on the right; null = blanks."""
    col = pl.col(name)
    if dtype == pl.Date:
        text = col.dt.strftime("%Y%m%d")
    elif dtype.is_integer():
        text = col.cast(pl.String).str.pad_start(width, "0")
    else:
        text = col.cast(pl.String).str.to_uppercase()
    return text.fill_null("").str.slice(0, width).str.pad_end(width)


def fixed_width_lines(rows: pl.DataFrame, layout: Layout) -> pl.Series:
    """One string of exactly `layout.length` characters per row."""
    missing = [c for c in layout.columns if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack the {layout.record_type} columns {missing}")
    parts = [
        pl.lit(" " * width) if name is None else _field(name, width, rows.schema[name])
        for name, width in layout.fields
    ]
    return rows.select(pl.concat_str([pl.lit(layout.record_type), *parts]).alias("line")).to_series()


def _chunks(rows: Rows, size: int) -> Iterator[pl.DataFrame]:
    frames = [rows] if isinstance(rows, pl.DataFrame) else rows
    for frame in frames:
        for offset in range(0, frame.height, size):
            yield frame.slice(offset, size)


def _write_lines(out: BinaryIO, lines: pl.Series, eol: str) -> None:
    if lines.len():
        lines.to_frame().write_csv(out, include_header=False, quote_style="never", line_terminator=eol)


def _write_fixed(
    path: Path,
    rows: Rows,
    layout: Layout,
    header: str,
    trailer: Callable[[int, int], str],
    *,
    eol: str,
    final_eol: bool,
    chunk_size: int,
    total_column: str | None = None,
) -> int:
    """Header, detail lines (chunk by chunk), trailer built from (count, total of `total_column`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = total = 0
    with path.open("wb") as out:
        out.write((header.ljust(layout.length) + eol).encode("ascii"))
        for chunk in _chunks(rows, chunk_size):
            _write_lines(out, fixed_width_lines(chunk, layout), eol)
            count += chunk.height
            if total_column is not None:
                total += int(chunk[total_column].fill_null(0).sum())
        out.write((trailer(count, total).ljust(layout.length) + (eol if final_eol else "")).encode("ascii"))
    return count


def _h4(transmission: str, state_fips: str, agency_code: str, created: date, batch_number: int) -> str:
    return f"H4{state_fips:>2.2}{agency_code:<9.9}{transmission:2.2} 01{created:%Y%m%d}{batch_number:06d}"


@dataclass(frozen=True)
class _H4Writer:
    """Writes an H4 (transmission type = the detail record type) / detail ... / T4 file of `layout`."""

    layout: Layout

    def __call__(
        self,
        rows: Rows,
        path: Path,
        *,
        created: date,
        state_fips: str = "17",
        agency_code: str = "",
        batch_number: int = 1,
        eol: Literal["\n", "\r\n"] = "\n",
        final_eol: bool = True,
        chunk_size: int = 500_000,
    ) -> int:
        """Write the file; `rows` may be an iterable of chunks; returns the number of detail records."""
        return _write_fixed(
            path,
            rows,
            self.layout,
            _h4(self.layout.record_type, state_fips, agency_code, created, batch_number),
            lambda count, _total: f"T4{count:011d}",
            eol=eol,
            final_eol=final_eol,
            chunk_size=chunk_size,
        )


write_new_hire = _H4Writer(W4)
"""H4 / W4 ... / T4 file of 801-byte records."""
write_quarterly_wage = _H4Writer(QW)
"""H4 (type QW) / QW ... / T4 file of 300-byte records."""


@dataclass(frozen=True)
class Institution:
    """The financial institution of a FIDM file (the A record)."""

    tin: str = "361234567"
    name: str = "PRAIRIE STATE BANK AND TRUST"
    street: str = "100 W MONROE ST"
    city: str = "CHICAGO"
    state: str = "IL"
    zip: str = "606031234"


def write_fidm(
    rows: Rows,
    path: Path,
    *,
    match_period: str,
    institution: Institution = Institution(),
    eol: Literal["\n", "\r\n"] = "\n",
    final_eol: bool = True,
    chunk_size: int = 500_000,
) -> int:
    """A / B ... / T file of 500-byte records, the trailer with the count and the sum of balances."""
    i = institution
    header = (
        f"A{match_period:5.5}{i.tin:9.9}{'':34}{i.name:<40.40}{'':41}{i.street:<40.40}{i.city:<29.29}"
        f"{i.state:2.2}{i.zip:<9.9}{'':160}M"
    )
    return _write_fixed(
        path,
        rows,
        FIDM_B,
        header,
        lambda count, total: f"T{count:08d}{total:015d}",
        eol=eol,
        final_eol=final_eol,
        chunk_size=chunk_size,
        total_column="balance",
    )


def write_dmv(rows: pl.DataFrame, path: Path, *, us_dates: bool = False) -> int:
    """Pipe-delimited extract with a header line; dates YYYY-MM-DD (or MM/DD/YYYY)."""
    fmt = "%m/%d/%Y" if us_dates else "%Y-%m-%d"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = rows.select(
        pl.col(c).dt.strftime(fmt) if rows.schema[c] == pl.Date else pl.col(c) for c in DMV_COLUMNS
    )
    text.write_csv(path, separator="|", quote_style="necessary", null_value="")
    return text.height


def write_truth(truth: pl.DataFrame, path: Path, *, file_name: str | None = None) -> Path:
    """Truth as parquet, with `file_name` (the data file's name) as the first column when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_name is not None:
        truth = truth.select(pl.lit(file_name).alias("file_name"), pl.exclude("file_name"))
    truth.write_parquet(path)
    return path
