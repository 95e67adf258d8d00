"""Normalisation of names, SSNs, dates and addresses: polars expressions only, no per-value Python."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib.resources import files

import polars as pl

SUFFIXES: dict[str, str] = {
    "JR": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "III": "III",
    "3RD": "III",
    "IV": "IV",
    "4TH": "IV",
}

# Words that end an account owner's name (FIDM): what follows is the account's role or another party
# (`… UTMA CUSTODIAN`, `… CUST`, `… TTEE`, `… FBO JANE DOE`, `… DBA SMITH AUTO`, `… ET AL`).
ACCOUNT_ROLE_WORDS = frozenset(
    {"UTMA", "UGMA", "CUST", "CUSTODIAN", "CUSTDN", "TTEE", "TRUSTEE", "ATF", "FBO", "DBA", "POA", "ETAL",
     "ET", "JTWROS", "GDN", "GUARDIAN", "EXEC", "EXECUTOR", "ADMR", "ADMINISTRATOR", "REP", "PAYEE"}
)  # fmt: skip

# Surname particles are kept in the whole surname but are not parts on their own.
PARTICLES = frozenset(
    {"DE", "LA", "DEL", "DELA", "DA", "DI", "DOS", "DAS", "DU", "VAN", "VON", "DER", "DEN", "LE", "ST", "MC",
     "MAC", "Y", "E", "AL", "EL", "BIN", "TER", "O"}
)  # fmt: skip

# USPS Publication 28 street suffixes, directionals and unit designators (the common ones).
USPS: dict[str, str] = {
    "STREET": "ST", "STR": "ST", "AVENUE": "AVE", "AV": "AVE", "AVN": "AVE", "ROAD": "RD", "DRIVE": "DR",
    "LANE": "LN", "BOULEVARD": "BLVD", "BOUL": "BLVD", "COURT": "CT", "PLACE": "PL", "CIRCLE": "CIR",
    "HIGHWAY": "HWY", "PARKWAY": "PKWY", "TERRACE": "TER", "TRAIL": "TRL", "SQUARE": "SQ", "WAY": "WAY",
    "EXPRESSWAY": "EXPY", "FREEWAY": "FWY", "PIKE": "PIKE", "ROUTE": "RTE", "POINT": "PT", "CROSSING": "XING",
    "HEIGHTS": "HTS", "HILL": "HL", "LOOP": "LOOP", "MOUNT": "MT", "MOUNTAIN": "MTN", "RIDGE": "RDG",
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE", "NORTHWEST": "NW",
    "SOUTHEAST": "SE", "SOUTHWEST": "SW", "APARTMENT": "APT", "SUITE": "STE", "BUILDING": "BLDG",
    "FLOOR": "FL", "ROOM": "RM", "DEPARTMENT": "DEPT", "UNIT": "UNIT", "NUMBER": "NO", "POST": "PO",
}  # fmt: skip

# SSNs that are valid by the area/group/serial rules but are well-known dummies or advertising numbers.
DUMMY_SSNS = (
    "123456789", "987654321", "012345678", "234567890", "078051120", "219099999", "111223333",
    *(str(d) * 9 for d in range(10)),
)  # fmt: skip

MIN_DOB_YEAR = 1900


def ascii_upper(expr: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """Upper case with accents folded to ASCII (JOSÉ -> JOSE); other non-ASCII characters dropped.

    `ascii_only`: every value is known to be ASCII already, so there is nothing to fold or drop.
    """
    if ascii_only:
        return expr.str.to_uppercase()
    return expr.str.normalize("NFKD").str.replace_all(r"[^\x00-\x7f]", "").str.to_uppercase()


def _tokens(expr: pl.Expr) -> pl.Expr:
    """Name tokens: apostrophes and periods vanish (O'BRIEN -> OBRIEN), other punctuation splits."""
    cleaned = ascii_upper(expr).str.replace_all(r"['.`]", "").str.replace_all(r"[^A-Z0-9]+", " ")
    return cleaned.str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))


def _suffix_of(tokens: pl.Expr) -> pl.Expr:
    """The generation suffix when the last of several tokens is one (SMITH JR -> JR)."""
    last = tokens.list.last()
    return pl.when(tokens.list.len() > 1).then(
        last.replace_strict(SUFFIXES, default=None, return_dtype=pl.String)
    )


def _without_suffix(tokens: pl.Expr, tail_suffix: pl.Expr) -> pl.Expr:
    """The tokens without the trailing generation suffix (`tail_suffix`, see `_suffix_of`) and digits."""
    return (
        pl.when(tail_suffix.is_not_null())
        .then(tokens.list.slice(0, tokens.list.len() - 1))
        .otherwise(tokens)
        .list.eval(pl.element().str.replace_all(r"[0-9]", ""))
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def _joined(tokens: pl.Expr) -> pl.Expr:
    joined = tokens.list.join("")
    return pl.when(joined != "").then(joined)


def suffix(expr: pl.Expr) -> pl.Expr:
    """A suffix field (JR., 3RD, SENIOR) as JR, SR, II, III or IV; anything else -> null."""
    cleaned = ascii_upper(expr).str.replace_all(r"[^A-Z0-9]", "")
    return cleaned.replace_strict(SUFFIXES, default=None, return_dtype=pl.String)


def name_fields(frame: pl.DataFrame, raw: str) -> pl.DataFrame:
    """The raw name column `raw` as `whole` (letters only: SMITH-JONES -> SMITHJONES, DE LA CRUZ ->
    DELACRUZ), `parts` (the pieces of a hyphenated or compound name: SMITH, JONES; CRUZ) and
    `tail_suffix` (a generation suffix written at its end: SMITH JR -> JR), one row per row of `frame`.

    Built in stages, so each name's token list is made once."""
    tokens, clean = pl.col("_tokens"), pl.col("_clean")
    parts = clean.list.eval(
        pl.element().filter((pl.element().str.len_chars() > 1) & ~pl.element().is_in(PARTICLES))
    )
    return (
        frame.lazy()
        .select(_tokens(pl.col(raw)).alias("_tokens"))
        .with_columns(_suffix_of(tokens).alias("tail_suffix"))
        .with_columns(_without_suffix(tokens, pl.col("tail_suffix")).alias("_clean"))
        .select(
            _joined(clean).alias("whole"),
            pl.when(clean.list.len() > 1)
            .then(parts)
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
            .alias("parts"),
            "tail_suffix",
        )
        .collect()
    )


def names(frame: pl.DataFrame, first: str, middle: str, last: str, suffix_field: str) -> pl.DataFrame:
    """Normalised `first_name`, `middle_name`, `last_name`, `last_parts`, `suffix` from the raw name
    columns of `frame` (see `name_fields`); a suffix written into the last or first name moves to `suffix`."""
    f, m, last_f = (name_fields(frame, column) for column in (first, middle, last))
    return pl.DataFrame(
        {
            "first_name": f["whole"],
            "middle_name": m["whole"],
            "last_name": last_f["whole"],
            "last_parts": last_f["parts"],
            "_last_suffix": last_f["tail_suffix"],
            "_first_suffix": f["tail_suffix"],
            "_suffix_field": frame[suffix_field],
        }
    ).select(
        "first_name",
        "middle_name",
        "last_name",
        "last_parts",
        combine_suffix(pl.col("_suffix_field"), pl.col("_last_suffix"), pl.col("_first_suffix")),
    )


def combine_suffix(suffix_field: pl.Expr, from_last: pl.Expr, from_first: pl.Expr) -> pl.Expr:
    """The suffix field if it holds one, else a suffix found at the end of the last or first name."""
    return pl.coalesce(suffix(suffix_field), from_last, from_first).alias("suffix")


def read_full_name(full: pl.Expr, *, given_first: bool) -> list[pl.Expr]:
    """A free-form whole name as raw `last_name`, `first_name`, `middle_name`, `suffix`.

    Read as `LAST FIRST MIDDLE…` (`given_first=False`) or as `FIRST MIDDLE… LAST` (`given_first=True`;
    null unless there are two name words or more and no comma). Generation suffixes anywhere go to
    `suffix`; an account-role word (`UTMA`, `CUST`, `DBA` …) and everything after it are not the name.
    """
    upper = ascii_upper(full)
    tokens = upper.str.replace_all(r"[,.]", " ").str.strip_chars().str.split(" ")
    # The name ends at the first account-role word (`ACCOUNT_ROLE_WORDS`).
    before_role = pl.element().is_in(list(ACCOUNT_ROLE_WORDS)).cum_sum() == 0
    tokens = tokens.list.eval(pl.element().filter((pl.element() != "") & before_role))
    is_suffix = pl.element().is_in(list(SUFFIXES))
    words = tokens.list.eval(pl.element().filter(~is_suffix))
    n = words.list.len()
    if given_first:
        last, first, middle = words.list.last(), words.list.first(), words.list.slice(1, (n - 2).clip(0))
        usable = (n >= 2) & ~upper.str.contains(",", literal=True)  # `SMITH, JOHN` is surname first
    else:
        last, first, middle = words.list.first(), words.list.get(1, null_on_oob=True), words.list.slice(2)
        usable = n >= 1
    middle_text = middle.list.join(" ")
    return [
        pl.when(usable).then(last).alias("last_name"),
        pl.when(usable).then(first).alias("first_name"),
        pl.when(usable & (middle_text != "")).then(middle_text).alias("middle_name"),
        pl.when(usable).then(tokens.list.eval(pl.element().filter(is_suffix)).list.first()).alias("suffix"),
    ]


def fein(expr: pl.Expr) -> pl.Expr:
    """An employer's federal id as 9 digits; anything else (blank, all zeros) -> null."""
    digits = expr.str.replace_all(r"[\s-]", "")
    return pl.when(digits.str.contains(r"^[0-9]{9}$") & (digits != "000000000")).then(digits)


def ssn(expr: pl.Expr) -> pl.Expr:
    """A 9-digit SSN valid by SSA rules, else null: invalid SSNs are missing, never evidence.

    Invalid: area 000, 666 or 900-999 (ITINs start with 9), group 00, serial 0000, all one digit,
    known dummies (123456789 …).
    """
    digits = expr.str.replace_all(r"[\s-]", "")
    number = digits.cast(pl.Int64, strict=False)  # area, group and serial as numbers: no string slices
    area, group, serial = number // 1_000_000, number // 10_000 % 100, number % 10_000
    valid = (
        digits.str.contains(r"^[0-9]{9}$")
        & (area != 0)
        & (area != 666)
        & (area < 900)
        & (group != 0)
        & (serial != 0)
        & ~digits.is_in(DUMMY_SSNS)
    )
    return pl.when(valid).then(digits)


def ssn_last4(full: pl.Expr, last4_field: pl.Expr) -> pl.Expr:
    """The last four SSN digits from a valid full SSN, or from a last-four-only field (DMV)."""
    given = last4_field.str.replace_all(r"[^0-9]", "")
    return pl.coalesce(
        full.str.slice(5, 4), pl.when(given.str.contains(r"^[0-9]{4}$") & (given != "0000")).then(given)
    )


def dob(expr: pl.Expr) -> pl.Expr:
    """Date of birth; years before 1900 are placeholders and treated as missing."""
    return pl.when(expr.dt.year() >= MIN_DOB_YEAR).then(expr)


def street(expr: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """Address line to USPS style: upper ASCII, punctuation out, suffixes/directionals abbreviated."""
    padded = (
        " "
        + ascii_upper(expr, ascii_only=ascii_only).str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars()
        + " "
    )
    words = [f" {k} " for k in USPS]
    abbreviations = [f" {v} " for v in USPS.values()]
    # Whole-word replacement; twice, because adjacent words share the space between them.
    for _ in range(2):
        padded = padded.str.replace_many(words, abbreviations)
    cleaned = padded.str.strip_chars()
    return pl.when(cleaned != "").then(cleaned)


def zip5(expr: pl.Expr) -> pl.Expr:
    """First five digits of a ZIP or ZIP+4; placeholders (00000) and short values -> null."""
    digits = expr.str.replace_all(r"[^0-9]", "").str.slice(0, 5)
    return pl.when((digits.str.len_chars() == 5) & (digits != "00000")).then(digits)


def place(expr: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """City or state: upper ASCII letters and single spaces."""
    cleaned = ascii_upper(expr, ascii_only=ascii_only).str.replace_all(r"[^A-Z]+", " ").str.strip_chars()
    return pl.when(cleaned != "").then(cleaned)


def sex(expr: pl.Expr, *, ascii_only: bool = False) -> pl.Expr:
    """M or F; anything else (X, U, blank) -> null."""
    first = ascii_upper(expr, ascii_only=ascii_only).str.strip_chars().str.slice(0, 1)
    return pl.when(first.is_in(["M", "F"])).then(first)


@lru_cache(maxsize=1)
def nickname_pairs() -> pl.DataFrame:
    """Pairs of first names that are the same person's name (`name_a`, `name_b`, both directions).

    From the `nicknames` package: direct nickname and English/Spanish translation edges, plus two
    nicknames of the same longer formal name (BILL ~ WILL via WILLIAM).
    """
    text = files("nicknames").joinpath("names.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    edges = pl.DataFrame(
        {"formal": [r["name1"] for r in rows], "nick": [r["name2"] for r in rows]},
        schema={"formal": pl.String, "nick": pl.String},
    ).select(pl.col("formal", "nick").str.to_uppercase().str.replace_all(r"[^A-Z]", ""))
    siblings = (
        edges.join(edges, on="formal", suffix="_b")
        .filter(
            (pl.col("nick") != pl.col("nick_b"))
            & (pl.col("formal").str.len_chars() > pl.col("nick").str.len_chars())
            & (pl.col("formal").str.len_chars() > pl.col("nick_b").str.len_chars())
        )
        .select(name_a="nick", name_b="nick_b")
    )
    direct = edges.select(name_a="formal", name_b="nick")
    both = pl.concat([direct, direct.select(name_a="name_b", name_b="name_a"), siblings])
    return (
        both.filter((pl.col("name_a") != pl.col("name_b")) & (pl.col("name_a") != ""))
        .unique()
        .sort("name_a", "name_b")
    )
