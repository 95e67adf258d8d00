"""Normalised facts for "is this new information?": address line 1 + ZIP5 (USPS style), employer FEIN."""

from __future__ import annotations

import polars as pl

# USPS Publication 28 street suffixes, unit designators and directionals most seen in practice.
USPS_ABBREVIATIONS = {
    "ALLEY": "ALY", "AVENUE": "AVE", "AV": "AVE", "BOULEVARD": "BLVD", "CIRCLE": "CIR", "COURT": "CT",
    "COVE": "CV", "CROSSING": "XING", "DRIVE": "DR", "EXPRESSWAY": "EXPY", "FREEWAY": "FWY", "HIGHWAY": "HWY",
    "LANE": "LN", "LOOP": "LOOP", "PARKWAY": "PKWY", "PLACE": "PL", "PLAZA": "PLZ", "POINT": "PT",
    "ROAD": "RD", "ROUTE": "RTE", "SQUARE": "SQ", "STREET": "ST", "STR": "ST", "TERRACE": "TER",
    "TRAIL": "TRL",
    "TURNPIKE": "TPKE", "WAY": "WAY", "APARTMENT": "APT", "BUILDING": "BLDG", "FLOOR": "FL", "SUITE": "STE",
    "UNIT": "UNIT", "ROOM": "RM", "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE",
    "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip


def address_line(line: pl.Expr) -> pl.Expr:
    """Upper case, punctuation dropped (`#` becomes a word gap), USPS abbreviations, single spaces."""
    words = (
        line.str.to_uppercase()
        .str.replace_all(r"\bP\s*\.?\s*O\.?\s+BOX\b|\bPOST OFFICE BOX\b", "PO BOX")
        .str.replace_all(r"[^A-Z0-9/ -]", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != "").replace(USPS_ABBREVIATIONS))
    )
    joined = words.list.join(" ")
    return pl.when(joined != "").then(joined)


def zip5(zip_code: pl.Expr) -> pl.Expr:
    digits = zip_code.str.replace_all(r"\D", "").str.slice(0, 5)
    return pl.when(digits.str.len_chars() == 5).then(digits)


def address_key(line1: pl.Expr, zip_code: pl.Expr) -> pl.Expr:
    """`<line 1>|<ZIP5>`, or null when either part is missing (then no address fact at all)."""
    return pl.concat_str([address_line(line1), zip5(zip_code)], separator="|")


def fein(value: pl.Expr) -> pl.Expr:
    """Nine digits (dashes dropped), null when not a usable FEIN (wrong length, all zeros)."""
    digits = value.str.replace_all(r"\D", "")
    return pl.when((digits.str.len_chars() == 9) & (digits != "000000000")).then(digits)
