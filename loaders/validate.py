"""The validation executor: clean, check and type the fields of a spec, split records from quarantine.

Engines (fixed width, delimited) hand over one raw String column per field, named after the field,
plus ``record_number`` and their own structural checks (record type, line length, …), which take
precedence. Each quarantined record gets one reason: the first failing check in declaration order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from loaders.canonical import QUARANTINE, conform
from loaders.spec import Field, SourceSpec
from loaders.transforms import apply_transforms

DATE_FORMATS: dict[str, tuple[str, str]] = {
    "CCYYMMDD": (r"^\d{8}$", "%Y%m%d"),
    "YYYY-MM-DD": (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    "MM/DD/YYYY": (r"^\d{1,2}/\d{1,2}/\d{4}$", "%m/%d/%Y"),  # 8/5/1967 occurs as well
}
_WHOLE_NUMBER = r"^\d{1,18}$"


@dataclass(frozen=True)
class Check:
    """A record-level check: ``fails`` is a boolean expression; ``detail`` a PII-free String expression."""

    fails: pl.Expr
    code: str
    detail: pl.Expr


@dataclass(frozen=True)
class Provenance:
    source: str
    file_name: str
    received_date: date


def clean(field: Field) -> pl.Expr:
    """Trim, optionally upper-case and delete characters; blank and declared blank values -> null."""
    value = pl.col(field.name)
    if field.remove_chars:
        value = value.str.replace_all(f"[{re.escape(field.remove_chars)}]", "")
    value = value.str.strip_chars()
    if field.upper:
        value = value.str.to_uppercase()
    blank = value == ""
    if field.blank_values:
        blank = blank | value.is_in(list(field.blank_values))
    return pl.when(blank).then(None).otherwise(value).alias(field.name)


def declared_blanks(field: Field) -> pl.Expr:
    """An already trimmed value that is one of the field's declared blank values -> null."""
    value = pl.col(field.name)
    return pl.when(value.is_in(list(field.blank_values))).then(None).otherwise(value).alias(field.name)


def typed(field: Field) -> pl.Expr:
    """The cleaned value converted to the field's type; null where it cannot be."""
    value = pl.col(field.name)
    if field.kind == "date":
        parsed = [
            pl.when(value.str.contains(DATE_FORMATS[name][0])).then(
                value.str.strptime(pl.Date, DATE_FORMATS[name][1], strict=False)
            )
            for name in field.date_formats
        ]
        return pl.coalesce(parsed)
    if field.kind == "int":
        return pl.when(value.str.contains(_WHOLE_NUMBER)).then(value.cast(pl.Int64, strict=False))
    return value


def field_checks(field: Field) -> list[Check]:
    """The checks one field declares: missing (when required), then invalid."""
    value = pl.col(field.name)
    checks = []
    if field.required:
        checks.append(Check(value.is_null(), field.missing_code, pl.lit(f"{field.name} is blank")))
    valid, expected = _validity(field)
    if valid is not None:
        checks.append(
            Check(value.is_not_null() & ~valid, field.invalid_code, pl.lit(f"{field.name} {expected}"))
        )
    return checks


def _validity(field: Field) -> tuple[pl.Expr | None, str]:
    value = pl.col(field.name)
    valid: pl.Expr | None = None
    expected = ""
    if field.kind == "digits":
        count = f"{{{field.digits}}}" if field.digits else "+"
        valid, expected = value.str.contains(rf"^\d{count}$"), f"is not {field.digits or 'all'} digits"
    elif field.kind == "int":
        valid, expected = value.str.contains(_WHOLE_NUMBER), "is not a whole number"
    elif field.kind == "date":
        valid, expected = (
            typed(field).is_not_null(),
            f"is not a valid date ({' or '.join(field.date_formats)})",
        )
    if field.pattern:
        matches = value.str.contains(field.pattern)
        valid = matches if valid is None else valid & matches
        expected = f"does not match {field.pattern}"
    if field.allowed:
        in_allowed = value.is_in(list(field.allowed))
        valid = in_allowed if valid is None else valid & in_allowed
        expected = f"is not one of {', '.join(field.allowed)}"
    return valid, expected


def finish(
    frame: pl.DataFrame,
    spec: SourceSpec,
    provenance: Provenance,
    structural: list[Check],
    ready_columns: dict[str, pl.DataType] | None = None,
    trimmed: Collection[str] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clean, transform and check ``frame``; return (canonical records, quarantine).

    ``frame`` holds ``record_number``, one raw String column per layout field, the columns the
    structural checks need, and ``ready_columns`` (already typed, e.g. copied header fields). The
    fields named in ``trimmed`` come already as `clean` makes them, but for declared blank values.
    """
    layout_fields = spec.layout.fields
    frame = frame.with_columns(
        [clean(f) for f in layout_fields if f.name not in trimmed]
        + [declared_blanks(f) for f in layout_fields if f.name in trimmed and f.blank_values]
    )
    frame = apply_transforms(frame, spec.transforms)
    frame = frame.with_columns([clean(f) for f in spec.derived_fields])
    fields = (*layout_fields, *spec.derived_fields)

    quarantining = [c for f in fields if f.on_invalid == "quarantine" for c in field_checks(f)]
    rules = [
        Check(
            pl.all_horizontal([pl.col(c).is_null() for c in rule.columns]),
            rule.code,
            pl.lit(f"{' and '.join(rule.columns)} all blank"),
        )
        for rule in spec.record_rules
    ]
    checks = [*structural, *quarantining, *rules]
    nulling = {f.name: field_checks(f) for f in fields if f.on_invalid == "null"}
    issue_codes = [pl.when(c.fails).then(pl.lit(c.code)) for cs in nulling.values() for c in cs]

    frame = frame.with_columns(_first_failure(checks, "code").alias("_reason"))
    records = frame.filter(pl.col("_reason").is_null()).select(
        pl.lit(provenance.source).alias("source"),
        pl.lit(provenance.file_name).alias("file_name"),
        pl.col("record_number"),
        pl.lit(provenance.received_date).alias("received_date"),
        *[_typed_value(f, nulling.get(f.name, [])) for f in fields],
        *[pl.col(name) for name in (ready_columns or {})],
        _issues(issue_codes).alias("data_issues"),
    )
    quarantine = frame.filter(pl.col("_reason").is_not_null()).select(
        pl.lit(provenance.source).alias("source"),
        pl.lit(provenance.file_name).alias("file_name"),
        pl.col("record_number"),
        pl.col("_reason").alias("reason"),
        _first_failure(checks, "detail").alias("detail"),
    )
    return conform(records, spec.output_schema), conform(quarantine, QUARANTINE)


def _typed_value(field: Field, checks: list[Check]) -> pl.Expr:
    if not checks:
        return typed(field).alias(field.name)
    failed = pl.any_horizontal([c.fails for c in checks])
    return pl.when(failed).then(None).otherwise(typed(field)).alias(field.name)


def _issues(codes: Sequence[pl.Expr]) -> pl.Expr:
    if not codes:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(codes).list.drop_nulls()


def _first_failure(checks: list[Check], what: str) -> pl.Expr:
    """The code (or detail) of the first failing check; null when every check passes."""
    if not checks:
        return pl.lit(None, dtype=pl.String)
    chain: Any = None
    for check in checks:
        value = pl.lit(check.code) if what == "code" else check.detail
        condition = check.fails.fill_null(False)
        chain = pl.when(condition).then(value) if chain is None else chain.when(condition).then(value)
    assert chain is not None
    return chain.otherwise(pl.lit(None, dtype=pl.String))
