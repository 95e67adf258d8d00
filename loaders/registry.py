"""Read the case system's registry extract (``shared/formats/registry_extract.md``) into typed frames.

Each table is ``<name>.csv`` or ``<name>.parquet`` in one directory; only ``ncp`` is required, a missing
optional table is an empty frame with the right schema. Values are trimmed, blank -> null; dates are
Date, money Float64, everything else String. Anything wrong refuses the whole extract with
`RegistryRejected` (counts and column names in the message, never values).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from loaders.errors import RegistryRejected

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
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass(frozen=True)
class RegistryExtract:
    ncp: pl.DataFrame
    alias: pl.DataFrame
    ncp_case: pl.DataFrame
    known_employer: pl.DataFrame
    known_address: pl.DataFrame


def read_extract(directory: Path) -> RegistryExtract:
    """Read every table of the extract in ``directory``; raises RegistryRejected when any is unusable."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RegistryRejected("missing_directory", f"{directory} is not a directory")
    tables = {name: _read_table(directory, name, schema) for name, schema in REGISTRY_SCHEMAS.items()}
    ncp = tables["ncp"]
    if ncp.height == 0:
        raise RegistryRejected("empty_ncp", "ncp has no rows (a load would empty the registry)")
    missing_ids = ncp["person_id"].null_count()
    if missing_ids:
        raise RegistryRejected("missing_person_id", f"ncp has {missing_ids} rows without person_id")
    duplicates = ncp.height - ncp["person_id"].n_unique()
    if duplicates:
        raise RegistryRejected("duplicate_person_id", f"ncp has {duplicates} duplicate person_id rows")
    return RegistryExtract(**tables)


def _read_table(directory: Path, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    found = [p for p in (directory / f"{name}.csv", directory / f"{name}.parquet") if p.is_file()]
    if len(found) > 1:
        raise RegistryRejected("ambiguous_table", f"both {name}.csv and {name}.parquet are present")
    if not found:
        if name == "ncp":
            raise RegistryRejected("missing_ncp", "ncp.csv or ncp.parquet is required")
        return pl.DataFrame(schema=schema)
    if found[0].stat().st_size == 0 and name != "ncp":
        return pl.DataFrame(schema=schema)
    raw = _read_raw(found[0])
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise RegistryRejected("missing_columns", f"{found[0].name} lacks columns: {', '.join(missing)}")
    text = raw.select(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in schema]
    )
    return _typed(text, name, schema)


def _read_raw(path: Path) -> pl.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:  # the message may quote data: keep only its type
        raise RegistryRejected(
            "unreadable", f"{path.name} could not be read ({type(exc).__name__})"
        ) from None


def _typed(text: pl.DataFrame, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Convert date and money columns; any non-blank value that does not convert rejects the extract."""
    converted = text.with_columns(
        [
            pl.when(pl.col(c).str.contains(_ISO_DATE)).then(
                pl.col(c).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            )
            if dtype == _D
            else pl.col(c).cast(dtype, strict=False)
            for c, dtype in schema.items()
        ]
    )
    for column, dtype in schema.items():
        if dtype == _S:
            continue
        bad = text.height - converted[column].count() - text[column].null_count()
        if bad:
            what = "YYYY-MM-DD dates" if dtype == _D else "numbers"
            raise RegistryRejected(
                f"bad_{'dates' if dtype == _D else 'numbers'}",
                f"{name}.{column}: {bad} values are not {what}",
            )
    return converted
