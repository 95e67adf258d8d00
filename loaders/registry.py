"""Read the case system's registry extract (``shared/formats/registry_extract.md``) into typed frames.

Each table is ``<name>.csv`` or ``<name>.parquet`` in one directory; only ``ncp`` is required, a missing
optional table is an empty frame with the right schema. `conform_table` gives every table the same shape
whatever wrote it (it is also what `Database.replace_registry` applies to the frames it is given):

- text is trimmed, blank -> null; code columns (`CODE_COLUMNS`: sex, state, case/order status, the Y/N
  flags) are upper-cased, so ``y``, `` Y `` and ``Y`` all mean ``Y``; a flag spelled otherwise (``yes``,
  ``1``, a boolean column) is ``Y``/``N`` (`FLAG_COLUMNS`), an unknown family-violence value ``Y``;
- an SSN, FEIN or ZIP stored as a number gets back the leading zeros the number lost (`DIGIT_COLUMNS`);
- dates are Date: a parquet date or datetime column is taken as its date (a datetime's calendar date in its
  own time zone); text must be ``YYYY-MM-DD``, perhaps with a time part (``1980-01-15 00:00:00``). An
  impossible or unreadable date (``1981-02-30``, ``0000-00-00``) is null and counted per ``table.column``
  (`unreadable_dates`), except
  `known_employer.end_date`, where null means "current employer": there it becomes `UNKNOWN_END_DATE`
  (ended, date unknown), so a past employer is never read as the current one;
- money is Float64.

Refused with `RegistryRejected` (counts and column names in the message, never values): a missing or
unreadable file, a missing column, no NCPs, an NCP without person_id or a duplicate one, a money value that
is not a number, and a date column with several values none of which is a date (a format change such as
MM/DD/YYYY, not a few bad values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import structlog

from loaders.errors import RegistryRejected

log = structlog.get_logger(__name__)

_S, _D, _F = pl.String(), pl.Date(), pl.Float64()

REGISTRY_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "ncp": {
        "person_id": _S,
        "ssn": _S,
        "first_name": _S,
        "middle_name": _S,
        "last_name": _S,
        "suffix": _S,
        "dob": _D,
        "sex": _S,
        "address_line1": _S,
        "address_line2": _S,
        "city": _S,
        "state": _S,
        "zip": _S,
    },
    "alias": {"person_id": _S, "first_name": _S, "middle_name": _S, "last_name": _S, "suffix": _S, "ssn": _S},
    "ncp_case": {
        "case_id": _S,
        "person_id": _S,
        "caseworker_id": _S,
        "office_id": _S,
        "case_status": _S,
        "order_status": _S,
        "current_support_monthly": _F,
        "arrears_balance": _F,
        "family_violence": _S,
    },
    "known_employer": {
        "person_id": _S,
        "fein": _S,
        "employer_name": _S,
        "start_date": _D,
        "end_date": _D,
        "iwo_active": _S,
    },
    "known_address": {
        "person_id": _S,
        "address_line1": _S,
        "address_line2": _S,
        "city": _S,
        "state": _S,
        "zip": _S,
        "verified_date": _D,
    },
}
# Coded columns (the work rules compare case_status, order_status, family_violence and iwo_active with
# upper-case codes): trimmed and upper-cased at load.
CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "ncp": ("sex", "state"),
    "ncp_case": ("case_status", "order_status", "family_violence"),
    "known_employer": ("iwo_active",),
    "known_address": ("state",),
}
# Y/N flags, whatever spelling or type the extract used (a boolean or 0/1 column as pandas writes one):
# `FLAG_YES` -> Y, `FLAG_NO` -> N. Any other value of family_violence is Y: an indicator someone set in a
# form nobody expected must still withhold the address (domain.md); of iwo_active it is kept as given (not
# Y: no order in force, so an IWO candidate goes to a specialist rather than no order at all).
FLAG_COLUMNS = ("family_violence", "iwo_active")
FLAG_YES = ("Y", "YES", "T", "TRUE", "1")
FLAG_NO = ("N", "NO", "F", "FALSE", "0")
# Digit strings that a number loses leading zeros of: zero-padded back to their width when stored as numbers
# (a ZIP above 99999 is a ZIP+4, padded to 9).
DIGIT_COLUMNS: dict[str, int] = {"ssn": 9, "fein": 9, "zip": 5}
# known_employer.end_date that is present but not a date: the employment ended, on a date nobody can read.
# Not null, which means "current employer": that would hide a re-hire by a past employer from the locate
# rule (a FEIN held as current is not new information). A date no real employment ends on instead.
UNKNOWN_END_DATE = date(1, 1, 1)
# YYYY-MM-DD, optionally with the time part a database export gives a date (`1980-01-15 00:00:00`,
# `1980-01-15T00:00:00.000`): the date is the first ten characters.
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_PARSED = "\x00parsed"


@dataclass(frozen=True)
class RegistryExtract:
    """The extract's tables as `read_extract` made them: each already through `conform_table`."""

    ncp: pl.DataFrame
    alias: pl.DataFrame
    ncp_case: pl.DataFrame
    known_employer: pl.DataFrame
    known_address: pl.DataFrame
    # `table.column` -> how many present values were not dates (nulled; known_employer.end_date: ended,
    # date unknown). Only columns with some; counts only, never values.
    unreadable_dates: dict[str, int] = field(default_factory=dict)


def read_extract(directory: Path) -> RegistryExtract:
    """Read every table of the extract in ``directory``; raises RegistryRejected when any is unusable."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RegistryRejected("missing_directory", f"{directory} is not a directory")
    tables: dict[str, pl.DataFrame] = {}
    unreadable: dict[str, int] = {}
    for name, schema in REGISTRY_SCHEMAS.items():
        tables[name], counts = _read_table(directory, name, schema)
        unreadable.update(counts)
    ncp = tables["ncp"]
    if ncp.height == 0:
        raise RegistryRejected("empty_ncp", "ncp has no rows (a load would empty the registry)")
    missing_ids = ncp["person_id"].null_count()
    if missing_ids:
        raise RegistryRejected("missing_person_id", f"ncp has {missing_ids} rows without person_id")
    duplicates = ncp.height - ncp["person_id"].n_unique()
    if duplicates:
        raise RegistryRejected("duplicate_person_id", f"ncp has {duplicates} duplicate person_id rows")
    if unreadable:
        log.warning("registry_unreadable_dates", unreadable_dates=unreadable)
    return RegistryExtract(**tables, unreadable_dates=unreadable)


def conform_table(name: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """The table with exactly its columns (missing ones null) and types, normalised as the module says,
    and the count of unreadable dates per ``table.column`` (only columns with some).

    Raises RegistryRejected for a money value that is not a number, or a date column with several values
    and none of them a date.
    """
    schema = REGISTRY_SCHEMAS[name]
    codes = CODE_COLUMNS.get(name, ())
    cleaned = frame.select(
        _cleaned(c, frame.schema[c], t, c in codes) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in schema.items()
    )
    text = {c: t for c, t in schema.items() if cleaned.schema[c] != t}  # dates and money still as text
    if not text:
        return cleaned, {}
    parsed = cleaned.with_columns(_parsed(pl.col(c), t).alias(c + _PARSED) for c, t in text.items())
    unreadable: dict[str, int] = {}
    for column, dtype in text.items():
        present = parsed[column].count()
        bad = parsed[column + _PARSED].null_count() - parsed[column].null_count()
        if not bad:
            continue
        if dtype == _F:
            raise RegistryRejected("bad_numbers", f"{name}.{column}: {bad} values are not numbers")
        if bad == present > 1:  # one value alone may be a typo; several and none a date is a format change
            raise RegistryRejected(
                "bad_dates",
                f"{name}.{column}: {bad} values are not YYYY-MM-DD dates, and no value is one "
                "(a format error, not a few bad dates)",
            )
        unreadable[f"{name}.{column}"] = bad
    return parsed.select(_final(name, c, c in text) for c in schema), unreadable


def _cleaned(column: str, source: pl.DataType, target: pl.DataType, code: bool) -> pl.Expr:
    """The column in its target type when its source type allows, else as trimmed text (blank -> null)."""
    col = pl.col(column)
    if target == _D and source == _D:
        return col
    if target == _D and isinstance(source, pl.Datetime):
        return col.dt.date()
    if target == _F and source.is_numeric():
        return col.cast(_F)
    if target == _S and column in DIGIT_COLUMNS and source.is_numeric():
        digits = col.cast(pl.Int64, strict=False)
        padded = digits.cast(_S).str.zfill(DIGIT_COLUMNS[column])
        if column == "zip":
            return pl.when(digits > 99_999).then(digits.cast(_S).str.zfill(9)).otherwise(padded).alias(column)
        return padded
    text = col.cast(_S).str.strip_chars().replace("", None)
    if column in FLAG_COLUMNS:
        flag = text.str.to_uppercase()
        other = pl.lit("Y") if column == "family_violence" else flag
        return (
            pl.when(flag.is_in(FLAG_YES))
            .then(pl.lit("Y"))
            .when(flag.is_in(FLAG_NO))
            .then(pl.lit("N"))
            .when(flag.is_not_null())
            .then(other)
            .alias(column)
        )
    return text.str.to_uppercase() if code else text


def _parsed(text: pl.Expr, target: pl.DataType) -> pl.Expr:
    """Text as a date (YYYY-MM-DD, a real calendar date, perhaps with a time part) or a number; null where
    it is not one."""
    if target == _D:
        day = text.str.slice(0, 10)
        return pl.when(text.str.contains(_ISO_DATE)).then(day.str.strptime(_D, "%Y-%m-%d", strict=False))
    return text.cast(target, strict=False)


def _final(name: str, column: str, was_text: bool) -> pl.Expr:
    if not was_text:
        return pl.col(column)
    parsed = pl.col(column + _PARSED)
    if (name, column) == ("known_employer", "end_date"):
        unreadable = pl.col(column).is_not_null() & parsed.is_null()
        parsed = pl.when(unreadable).then(pl.lit(UNKNOWN_END_DATE)).otherwise(parsed)
    return parsed.alias(column)


def _read_table(
    directory: Path, name: str, schema: dict[str, pl.DataType]
) -> tuple[pl.DataFrame, dict[str, int]]:
    found = [p for p in (directory / f"{name}.csv", directory / f"{name}.parquet") if p.is_file()]
    if len(found) > 1:
        raise RegistryRejected("ambiguous_table", f"both {name}.csv and {name}.parquet are present")
    if not found:
        if name == "ncp":
            raise RegistryRejected("missing_ncp", "ncp.csv or ncp.parquet is required")
        return pl.DataFrame(schema=schema), {}
    if found[0].stat().st_size == 0 and name != "ncp":
        return pl.DataFrame(schema=schema), {}
    raw = _read_raw(found[0])
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise RegistryRejected("missing_columns", f"{found[0].name} lacks columns: {', '.join(missing)}")
    return conform_table(name, raw)


def _read_raw(path: Path) -> pl.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:  # the message may quote data: keep only its type
        raise RegistryRejected(
            "unreadable", f"{path.name} could not be read ({type(exc).__name__})"
        ) from None
