"""Faults injected into records in bulk: one draw per record and group, codes listed in `faults`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipeline.synth import people, pools

ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "zip")


@dataclass(frozen=True)
class Fault:
    """One fault: its code, when it can apply, and the new value of each column it changes."""

    code: str
    updates: dict[str, pl.Expr]
    eligible: pl.Expr = field(default_factory=lambda: pl.lit(True))


def _col(name: str) -> pl.Expr:
    return pl.col(name)


def _digit_typo() -> pl.Expr:
    ssn, pos = _col("ssn"), _col("_pos9")
    new = ((ssn.str.slice(pos, 1).cast(pl.Int64) + _col("_k9")) % 10).cast(pl.String)
    return ssn.str.slice(0, pos) + new + ssn.str.slice(pos + 1)


def _transpose() -> pl.Expr:
    ssn, pos = _col("ssn"), _col("_pos8")
    return ssn.str.slice(0, pos) + ssn.str.slice(pos + 1, 1) + ssn.str.slice(pos, 1) + ssn.str.slice(pos + 2)


def _char_typo(name: str) -> pl.Expr:
    text = _col(name)
    pos = (_col("_u_pos") * text.str.len_chars()).cast(pl.Int64)
    return text.str.slice(0, pos) + _col("_letter") + text.str.slice(pos + 1)


def _char_typo_eligible(name: str) -> pl.Expr:
    return (_col(name).str.len_chars() > 2) & (_char_typo(name) != _col(name))


def _day_month_swapped() -> pl.Expr:
    dob = _col("dob")
    can = dob.dt.day() <= 12  # the swapped value must be a date even where the fault does not apply
    month = pl.when(can).then(dob.dt.day()).otherwise(dob.dt.month())
    day = pl.when(can).then(dob.dt.month()).otherwise(dob.dt.day())
    return pl.date(dob.dt.year(), month, day)


def _truncated(name: str) -> pl.Expr:
    text = _col(name)
    keep = pl.max_horizontal(
        pl.lit(3), (text.str.len_chars() * (0.4 + 0.5 * _col("_u_trunc"))).cast(pl.Int64)
    )
    return text.str.slice(0, keep)


_SSN_GROUP = (
    Fault("ssn_typo", {"ssn": _digit_typo()}, _col("ssn").is_not_null()),
    Fault(
        "ssn_transposed",
        {"ssn": _transpose()},
        _col("ssn").str.slice(_col("_pos8"), 1) != _col("ssn").str.slice(_col("_pos8") + 1, 1),
    ),
    Fault("ssn_missing", {"ssn": pl.lit(None, dtype=pl.String)}),
    Fault("ssn_zeros", {"ssn": pl.lit("000000000")}),
    Fault("ssn_dummy", {"ssn": pl.lit("123456789")}),
    Fault("ssn_itin", {"ssn": _col("_itin")}),
    Fault("ssn_relative", {"ssn": _col("_fresh_ssn")}),
)
_LAST_GROUP = (
    Fault(
        "surname_hyphenated",
        {"last_name": _col("last_name") + "-" + _col("_fresh_last")},
        ~_col("last_name").str.contains("-", literal=True),
    ),
    Fault("surname_changed", {"last_name": _col("_fresh_last")}),
    Fault("last_typo", {"last_name": _char_typo("last_name")}, _char_typo_eligible("last_name")),
    Fault("last_truncated", {"last_name": _truncated("last_name")}, _col("last_name").str.len_chars() >= 6),
    Fault("last_blank", {"last_name": pl.lit(None, dtype=pl.String)}, _col("first_name").is_not_null()),
)
_FIRST_GROUP = (
    Fault("nickname", {"first_name": _col("_nickname")}, _col("_nickname").is_not_null()),
    Fault(
        "middle_as_first",
        {"first_name": _col("middle_name"), "middle_name": pl.lit(None, dtype=pl.String)},
        _col("middle_name").str.len_chars() > 1,
    ),
    Fault("first_typo", {"first_name": _char_typo("first_name")}, _char_typo_eligible("first_name")),
    Fault(
        "first_initial",
        {"first_name": _col("first_name").str.head(1)},
        _col("first_name").str.len_chars() > 1,
    ),
    Fault("first_blank", {"first_name": pl.lit(None, dtype=pl.String)}, _col("last_name").is_not_null()),
)
_DOB_GROUP = (
    Fault("dob_missing", {"dob": pl.lit(None, dtype=pl.Date)}),
    Fault(
        "dob_day_month_swap",
        {"dob": _day_month_swapped()},
        (_col("dob").dt.day() <= 12) & (_col("dob").dt.day() != _col("dob").dt.month()),
    ),
    Fault("dob_off_day", {"dob": _col("dob").dt.offset_by(_col("_sign") + "d")}),
    Fault("dob_off_month", {"dob": _col("dob").dt.offset_by(_col("_sign") + "mo")}),
    Fault("dob_off_year", {"dob": _col("dob").dt.offset_by(_col("_sign") + "y")}),
)
_BLANK_NAMES = {c: pl.lit(None, dtype=pl.String) for c in ("first_name", "middle_name", "last_name")}
# Groups in the order they apply; within a group at most one fault per record.
GROUPS: tuple[tuple[Fault, ...], ...] = (
    (Fault("ssn_alias", {"ssn": _col("_alias_ssn")}, _col("_alias_ssn").is_not_null()),),
    _SSN_GROUP,
    (
        Fault(
            "alias_name",
            {c: _col(f"_alias_{c}") for c in ("first_name", "middle_name", "last_name")},
            _col("_alias_last_name").is_not_null(),
        ),
    ),
    _LAST_GROUP,
    (
        Fault(
            "suffix_in_last",
            {"last_name": _col("last_name") + " " + _col("suffix"), "suffix": pl.lit(None, dtype=pl.String)},
            _col("suffix").is_not_null() & _col("last_name").is_not_null(),
        ),
    ),
    _FIRST_GROUP,
    (Fault("name_swap", {"first_name": _col("last_name"), "last_name": _col("first_name")}),),
    (Fault("name_blank", _BLANK_NAMES),),
    _DOB_GROUP,
    (Fault("address_new", {c: _col(f"_new_{c}") for c in ADDRESS_FIELDS}),),
)
CODES: tuple[str, ...] = tuple(f.code for group in GROUPS for f in group)


def _helpers(rng: np.random.Generator, frame: pl.DataFrame, taken_ssns: people.SsnSet) -> pl.DataFrame:
    """Random ingredients the faults draw on, one per record."""
    n = frame.height
    letters = pl.Series([chr(c) for c in range(ord("A"), ord("Z") + 1)])
    new_address = people.addresses(rng, n)
    nick = frame.select("first_name").join(
        pools.nicknames(), on="first_name", how="left", maintain_order="left"
    )
    pick = pl.Series(rng.integers(0, 1 << 30, n))
    return pl.DataFrame(
        {
            "_pos9": pl.Series(rng.integers(0, 9, n)),
            "_pos8": pl.Series(rng.integers(0, 8, n)),
            "_k9": pl.Series(rng.integers(1, 10, n)),
            "_u_pos": pl.Series(rng.random(n)),
            "_u_trunc": pl.Series(rng.random(n)),
            "_letter": letters.gather(rng.integers(0, 26, n)),
            "_sign": pools.pick(rng, ("1", "-1"), n),
            "_itin": people.itins(rng, n),
            "_fresh_ssn": people.valid_ssns(rng, n, taken_ssns),
            "_fresh_last": people.surnames(rng, n),
            "_nickname": nick.select(
                pl.col("nicknames").list.get(pick % pl.col("nicknames").list.len(), null_on_oob=True)
            ).to_series(),
            **{f"_new_{c}": new_address[c] for c in ADDRESS_FIELDS},
        }
    )


def apply_faults(
    rng: np.random.Generator, frame: pl.DataFrame, probabilities: dict[str, float], taken_ssns: people.SsnSet
) -> pl.DataFrame:
    """Apply the faults with the given probabilities (absent = never) and append their codes to `faults`.

    `frame` holds the person columns plus `_alias_ssn`, `_alias_first_name`, `_alias_middle_name`,
    `_alias_last_name` (null where the registry has none) and a `faults` list column.
    """
    helpers = _helpers(rng, frame, taken_ssns)
    work = frame.hstack(helpers)
    applied: list[str] = []
    for group in GROUPS:
        active = [f for f in group if probabilities.get(f.code, 0.0) > 0]
        if not active:
            continue
        u = rng.random(work.height)
        bounds = np.cumsum([probabilities[f.code] for f in active])
        drawn = [
            pl.Series((u >= lo) & (u < hi)) for lo, hi in zip(np.r_[0.0, bounds[:-1]], bounds, strict=True)
        ]
        work = work.with_columns(
            (pl.lit(hit) & f.eligible.fill_null(False)).alias(f"_f_{f.code}")
            for f, hit in zip(active, drawn, strict=True)
        )
        columns = {c for f in active for c in f.updates}
        updates = []
        for column in sorted(columns):
            expr: pl.Expr = pl.col(column)
            for f in reversed(active):
                if column in f.updates:
                    expr = pl.when(pl.col(f"_f_{f.code}")).then(f.updates[column]).otherwise(expr)
            updates.append(expr.alias(column))
        work = work.with_columns(updates)
        applied += [f.code for f in active]
    if applied:
        codes = (pl.when(pl.col(f"_f_{code}")).then(pl.lit(code)) for code in applied)
        work = work.with_columns(pl.concat_list(pl.col("faults"), *codes).list.drop_nulls().alias("faults"))
    return work.select(frame.columns)


FAULT_BY_CODE: dict[str, Fault] = {f.code: f for group in GROUPS for f in group}
