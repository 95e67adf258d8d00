"""The vocabulary of source specs: pure, frozen data that the generic engines execute.

A source is declared once (``loaders/specs/<name>.py``) as a `SourceSpec`: its layout (fixed width or
delimited), its fields with their checks, record-level rules and transforms, file-level checks, the
matching profile and the work rules it feeds. Nothing here parses; ``loaders.fixed_width``,
``loaders.delimited``, ``loaders.validate`` and ``loaders.transforms`` do. Field names are the output
column names: a canonical column (``loaders.canonical.CANONICAL``) or a source-specific extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from loaders.canonical import CANONICAL

Kind = Literal["text", "digits", "date", "int"]
OnInvalid = Literal["quarantine", "null"]
DateFormat = Literal["CCYYMMDD", "YYYY-MM-DD", "MM/DD/YYYY"]

KIND_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "digits": pl.String(),
    "date": pl.Date(),
    "int": pl.Int64(),
}


@dataclass(frozen=True, kw_only=True)
class Field:
    """One value of a record: where it is, what it must look like, what happens when it does not.

    ``start``/``length`` (1-based, inclusive start) locate it in a fixed-width record; a delimited
    source finds it by ``name`` in the header line. Values are trimmed, upper-cased (``upper``) and
    blank -> null before any check; ``blank_values`` (e.g. ``00000000``) also count as blank.
    A failed check either quarantines the record (``on_invalid="quarantine"``, reason ``invalid_code``)
    or nulls the value and appends ``invalid_code`` to ``data_issues``. ``required`` makes a blank
    value fail with ``missing_code`` (handled like an invalid value).
    """

    name: str
    start: int | None = None
    length: int | None = None
    kind: Kind = "text"
    digits: int | None = None  # kind "digits": exact number of digits (None: any number >= 1)
    date_formats: tuple[DateFormat, ...] = ("CCYYMMDD",)
    allowed: tuple[str, ...] = ()
    pattern: str | None = None  # a regular expression the cleaned value must match
    required: bool = False
    on_invalid: OnInvalid = "null"
    invalid_code: str = ""
    missing_code: str = ""
    blank_values: tuple[str, ...] = ()
    remove_chars: str = ""  # characters deleted before checking (e.g. "-" in a DMV SSN)
    upper: bool = True
    column_required: bool = False  # delimited: the header must name this column

    def __post_init__(self) -> None:
        if not self.invalid_code:
            object.__setattr__(self, "invalid_code", f"{self.name}_invalid")
        if not self.missing_code:
            object.__setattr__(self, "missing_code", f"{self.name}_missing")

    @property
    def dtype(self) -> pl.DataType:
        return KIND_DTYPES[self.kind]


@dataclass(frozen=True)
class HeaderRecord:
    """The first line: its record-type code, its (non-PII) fields, the values it must carry."""

    code: str
    fields: tuple[Field, ...]
    expect: tuple[tuple[str, str], ...] = ()  # (field, value) pairs, e.g. transmission type
    copy_to_records: tuple[str, ...] = ()  # header fields repeated on every record as extra columns


@dataclass(frozen=True)
class TrailerRecord:
    """The last line: the detail count it declares and, optionally, a control total.

    The count must equal the lines of the detail record type or every line between header and trailer.
    """

    code: str
    count_field: Field
    sum_field: Field | None = None
    # The detail field the control total adds up, over the well-formed detail lines (record length, ASCII):
    # when it disagrees but some detail lines were malformed, the engine warns instead of rejecting.
    sum_of: str | None = None
    sum_mismatch_code: str = "control_total_mismatch"


@dataclass(frozen=True)
class FixedWidthLayout:
    record_length: int
    type_length: int  # the record-type code occupies positions 1..type_length
    header: HeaderRecord
    detail_code: str
    fields: tuple[Field, ...]
    trailer: TrailerRecord

    def __post_init__(self) -> None:
        if len(self.detail_code) != self.type_length:
            raise ValueError(f"detail code {self.detail_code!r} is not {self.type_length} characters")
        every = (*self.fields, *self.header.fields, self.trailer.count_field)
        for f in every:
            if f.start is None or f.length is None or f.start < 1:
                raise ValueError(f"fixed-width field {f.name} needs start and length")
            if f.start + f.length - 1 > self.record_length:
                raise ValueError(f"field {f.name} ends past byte {self.record_length}")


@dataclass(frozen=True)
class DelimitedLayout:
    """A text file with a header line naming the columns (any order); unknown columns are kept as JSON."""

    separator: str
    quote_char: str
    fields: tuple[Field, ...]
    encoding: Literal["utf-8"] = "utf-8"


@dataclass(frozen=True)
class RequireAny:
    """Record rule: at least one of ``columns`` must be non-blank, else quarantine with ``code``."""

    columns: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class SplitPrefixed:
    """Transform: ``<prefix><rest>`` in ``column`` moves ``rest`` to ``target``; ``column`` -> null."""

    column: str
    prefix: str
    target: str


@dataclass(frozen=True)
class SplitPersonName:
    """Transform: a free-form ``LAST FIRST MIDDLE`` name into the canonical name columns (+ suffix)."""

    column: str
    suffixes: tuple[str, ...] = ("JR", "SR", "II", "III", "IV")


@dataclass(frozen=True)
class SplitZipPlus4:
    """Transform: ``62701-1234`` or ``627011234`` in ``column`` -> ``62701`` there, ``1234`` in ``target``.

    ``target`` is null for any other value (which ``column``'s own checks then judge).
    """

    column: str = "zip"
    target: str = "zip4"


Transform = SplitPrefixed | SplitPersonName | SplitZipPlus4


@dataclass(frozen=True)
class SourceSpec:
    """Everything csmatch knows about one incoming source."""

    name: str
    description: str
    landing_prefix: str
    layout: FixedWidthLayout | DelimitedLayout
    matching_profile: str
    work_rules: tuple[str, ...]
    transforms: tuple[Transform, ...] = ()
    derived_fields: tuple[Field, ...] = ()  # made by transforms, then checked like any field
    record_rules: tuple[RequireAny, ...] = ()
    # Records per match chunk unless the operator sets one (CSMATCH_CHUNK_SIZE): bounds a chunk's memory
    # while it is matched and the chunk before it is queued; a source with more candidates and work items
    # per record takes smaller chunks.
    chunk_records: int = 250_000

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def extra_columns(self) -> dict[str, pl.DataType]:
        """Source-specific output columns (not canonical), in declaration order."""
        header_fields = self.layout.header.fields if isinstance(self.layout, FixedWidthLayout) else ()
        copied = {f.name: f.dtype for f in header_fields if self._copied(f.name)}
        declared = {f.name: f.dtype for f in self.layout.fields}
        derived = {f.name: f.dtype for f in self.derived_fields}
        everything = {**declared, **copied, **derived}
        if isinstance(self.layout, DelimitedLayout):
            everything["unmapped_columns"] = pl.String()
        return {name: dtype for name, dtype in everything.items() if name not in CANONICAL}

    @property
    def output_schema(self) -> dict[str, pl.DataType]:
        return {**CANONICAL, **self.extra_columns}

    def _copied(self, name: str) -> bool:
        return isinstance(self.layout, FixedWidthLayout) and name in self.layout.header.copy_to_records


def text(name: str, start: int, length: int, **checks: object) -> Field:
    """A fixed-width text field."""
    return Field(name=name, start=start, length=length, **checks)  # type: ignore[arg-type]


def digits(name: str, start: int, length: int, **checks: object) -> Field:
    """A fixed-width field of exactly ``length`` digits (blank allowed unless required)."""
    return Field(name=name, start=start, length=length, kind="digits", digits=length, **checks)  # type: ignore[arg-type]


def date(name: str, start: int, **checks: object) -> Field:
    """A fixed-width ``CCYYMMDD`` date; ``00000000`` counts as blank."""
    return Field(name=name, start=start, length=8, kind="date", blank_values=("00000000",), **checks)  # type: ignore[arg-type]


def integer(name: str, start: int, length: int, **checks: object) -> Field:
    """A fixed-width zero-filled whole number (Int64)."""
    return Field(name=name, start=start, length=length, kind="int", **checks)  # type: ignore[arg-type]
