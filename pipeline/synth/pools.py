"""Value pools the generator samples from: census name frequencies, nicknames, streets, cities, employers."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import polars as pl

SUFFIXES = ("JR", "SR", "II", "III", "IV")
SUFFIX_WEIGHTS = (0.55, 0.15, 0.1, 0.15, 0.05)
COMPOUND_SURNAMES = (
    "DE LA CRUZ",
    "DEL RIO",
    "DE LEON",
    "VAN BUREN",
    "VAN DYKE",
    "ST JOHN",
    "MC DONALD",
    "DOS SANTOS",
    "LA ROSA",
    "DE JESUS",
    "VON ESSEN",
    "DI MAGGIO",
    "DEL TORO",
    "MAC ARTHUR",
    "O NEAL",
)
STREET_NAMES = (
    "MAIN",
    "OAK",
    "PINE",
    "MAPLE",
    "CEDAR",
    "ELM",
    "WASHINGTON",
    "LAKE",
    "HILL",
    "PARK",
    "WALNUT",
    "LINCOLN",
    "JACKSON",
    "MADISON",
    "JEFFERSON",
    "FRANKLIN",
    "CHESTNUT",
    "SPRING",
    "RIDGE",
    "HIGHLAND",
    "CHURCH",
    "MILL",
    "SUNSET",
    "RIVER",
    "FOREST",
    "MEADOW",
    "PROSPECT",
    "CENTER",
    "UNION",
    "GROVE",
    "WILLOW",
    "HICKORY",
    "BIRCH",
    "DOGWOOD",
    "SHERIDAN",
    "HALSTED",
    "ASHLAND",
    "WESTERN",
    "PULASKI",
    "CICERO",
    "KEDZIE",
    "ROOSEVELT",
    "GRAND",
    "DIVISION",
    "IRVING PARK",
    "MARTIN LUTHER KING",
    "STATE",
    "BROADWAY",
    "MARKET",
    "COLLEGE",
    "UNIVERSITY",
    "VINE",
    "SYCAMORE",
    "ASPEN",
    "LOCUST",
    "POPLAR",
    "MAGNOLIA",
    "1ST",
    "2ND",
    "3RD",
    "4TH",
    "5TH",
    "6TH",
    "7TH",
    "8TH",
    "9TH",
    "10TH",
    "12TH",
    "15TH",
    "22ND",
    "35TH",
)
STREET_TYPES = ("ST", "AVE", "RD", "DR", "LN", "CT", "BLVD", "WAY", "PL", "CIR", "PKWY", "TER")
STREET_TYPE_WEIGHTS = (0.3, 0.25, 0.12, 0.1, 0.06, 0.05, 0.04, 0.02, 0.02, 0.02, 0.01, 0.01)
UNIT_WORDS = ("APT", "UNIT", "#", "APT", "APT")
# (city, state, first ZIP, ZIPs in range, weight): the agency's state (IL), neighbours, a few far away.
CITIES: tuple[tuple[str, str, int, int, float], ...] = (
    ("CHICAGO", "IL", 60601, 60, 30.0),
    ("AURORA", "IL", 60502, 6, 2.0),
    ("NAPERVILLE", "IL", 60540, 25, 1.6),
    ("JOLIET", "IL", 60431, 6, 1.6),
    ("ROCKFORD", "IL", 61101, 14, 1.6),
    ("SPRINGFIELD", "IL", 62701, 12, 1.2),
    ("ELGIN", "IL", 60120, 4, 1.2),
    ("PEORIA", "IL", 61602, 14, 1.2),
    ("CHAMPAIGN", "IL", 61820, 4, 0.9),
    ("WAUKEGAN", "IL", 60085, 3, 0.9),
    ("CICERO", "IL", 60804, 1, 0.8),
    ("BLOOMINGTON", "IL", 61701, 4, 0.8),
    ("ARLINGTON HEIGHTS", "IL", 60004, 3, 0.8),
    ("EVANSTON", "IL", 60201, 3, 0.8),
    ("DECATUR", "IL", 62521, 6, 0.7),
    ("SCHAUMBURG", "IL", 60173, 22, 0.7),
    ("BOLINGBROOK", "IL", 60440, 1, 0.7),
    ("PALATINE", "IL", 60067, 8, 0.7),
    ("SKOKIE", "IL", 60076, 2, 0.6),
    ("DES PLAINES", "IL", 60016, 3, 0.6),
    ("ORLAND PARK", "IL", 60462, 6, 0.6),
    ("OAK LAWN", "IL", 60453, 3, 0.6),
    ("BERWYN", "IL", 60402, 1, 0.5),
    ("MOUNT PROSPECT", "IL", 60056, 1, 0.5),
    ("NORMAL", "IL", 61761, 1, 0.5),
    ("WHEATON", "IL", 60187, 3, 0.5),
    ("DANVILLE", "IL", 61832, 2, 0.3),
    ("MOLINE", "IL", 61265, 1, 0.4),
    ("ROCK ISLAND", "IL", 61201, 1, 0.4),
    ("QUINCY", "IL", 62301, 6, 0.4),
    ("CARBONDALE", "IL", 62901, 3, 0.3),
    ("EAST ST LOUIS", "IL", 62201, 8, 0.5),
    ("KANKAKEE", "IL", 60901, 1, 0.3),
    ("ST LOUIS", "MO", 63101, 40, 1.2),
    ("GARY", "IN", 46402, 8, 0.6),
    ("HAMMOND", "IN", 46320, 8, 0.4),
    ("INDIANAPOLIS", "IN", 46201, 30, 0.6),
    ("MILWAUKEE", "WI", 53202, 25, 0.6),
    ("KENOSHA", "WI", 53140, 5, 0.3),
    ("DAVENPORT", "IA", 52801, 6, 0.4),
    ("LOUISVILLE", "KY", 40202, 20, 0.2),
    ("DETROIT", "MI", 48201, 30, 0.3),
    ("HOUSTON", "TX", 77002, 60, 0.3),
    ("ATLANTA", "GA", 30303, 30, 0.3),
    ("PHOENIX", "AZ", 85003, 40, 0.2),
    ("LOS ANGELES", "CA", 90001, 60, 0.2),
    ("MEMPHIS", "TN", 38103, 20, 0.2),
    ("MINNEAPOLIS", "MN", 55401, 20, 0.2),
)
EMPLOYER_WORDS_A = (
    "MIDWEST",
    "PRAIRIE",
    "LAKESHORE",
    "GREAT LAKES",
    "NORTHERN",
    "SUMMIT",
    "HERITAGE",
    "PIONEER",
    "LINCOLN",
    "CENTRAL",
    "UNITED",
    "AMERICAN",
    "FIRST",
    "NATIONAL",
    "PREMIER",
    "RELIABLE",
    "TRI-STATE",
    "RIVERSIDE",
    "HEARTLAND",
    "ALLIED",
    "METRO",
    "WINDY CITY",
    "ILLINI",
    "CORNERSTONE",
    "KEYSTONE",
    "LIBERTY",
    "PATRIOT",
    "EAGLE",
    "BLUE RIVER",
    "GOLDEN",
    "STERLING",
    "APEX",
    "VANGUARD",
    "PINNACLE",
    "EVERGREEN",
    "FRONTIER",
)
EMPLOYER_WORDS_B = (
    "LOGISTICS",
    "FOODS",
    "HEALTH SYSTEMS",
    "MANUFACTURING",
    "STAFFING",
    "CONSTRUCTION",
    "RETAIL",
    "AUTO PARTS",
    "HOSPITALITY",
    "SECURITY SERVICES",
    "TRANSPORT",
    "ENERGY",
    "PLASTICS",
    "BAKERY",
    "DENTAL GROUP",
    "FREIGHT",
    "WAREHOUSING",
    "STEEL",
    "ROOFING",
    "LANDSCAPING",
    "JANITORIAL",
    "CARE CENTER",
    "HOME HEALTH",
    "MARKETS",
    "PACKAGING",
    "ELECTRIC",
    "PLUMBING",
    "MOTORS",
    "RESTAURANTS",
    "TECHNOLOGIES",
    "NURSING HOME",
    "TRUCKING",
)
EMPLOYER_FORMS = ("INC", "LLC", "CORP", "CO", "LTD", "INC", "LLC")
# IRS campus prefixes in use for EINs.
EIN_PREFIXES = np.array(
    [
        *range(1, 7),
        *range(10, 17),
        *range(20, 28),
        *range(30, 49),
        *range(50, 69),
        *range(71, 78),
        *range(80, 89),
        *range(90, 96),
        98,
        99,
    ]
)
STATE_FIPS = {"IL": "17"}


@dataclass(frozen=True)
class NamePool:
    """Names and their sampling probabilities (census frequency)."""

    names: pl.Series
    probs: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> pl.Series:
        return self.names.gather(rng.choice(len(self.names), size=n, p=self.probs))


def _census_file(name: str) -> NamePool:
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    rows = [line.split() for line in text.splitlines() if line.strip()]
    freq = np.array([float(r[1]) for r in rows]) + 1e-4  # the long tail has 0.000: keep it drawable
    return NamePool(pl.Series("name", [r[0] for r in rows], dtype=pl.String), freq / freq.sum())


@cache
def surnames() -> NamePool:
    return _census_file("dist.all.last")


@cache
def first_names(sex: str) -> NamePool:
    return _census_file("dist.male.first" if sex == "M" else "dist.female.first")


@cache
def nicknames() -> pl.DataFrame:
    """`first_name` (upper) -> `nicknames` (list of upper-case nicknames), from the nicknames package."""
    text = resources.files("nicknames").joinpath("names.csv").read_text(encoding="utf-8")
    pairs = [(r["name1"].upper(), r["name2"].upper()) for r in csv.DictReader(text.splitlines())]
    frame = pl.DataFrame(pairs, schema={"first_name": pl.String, "nickname": pl.String}, orient="row")
    frame = frame.filter(
        pl.col("nickname").str.contains(r"^[A-Z]+$") & (pl.col("nickname").str.len_chars() > 1)
    )
    return (
        frame.group_by("first_name")
        .agg(pl.col("nickname").unique().sort().alias("nicknames"))
        .sort("first_name")
    )


@cache
def cities() -> tuple[pl.DataFrame, np.ndarray]:
    frame = pl.DataFrame(
        [c[:4] for c in CITIES],
        schema={"city": pl.String, "state": pl.String, "zip0": pl.Int64, "nzip": pl.Int64},
        orient="row",
    )
    weights = np.array([c[4] for c in CITIES])
    return frame, weights / weights.sum()


def pick(
    rng: np.random.Generator, values: tuple[str, ...], n: int, p: tuple[float, ...] | None = None
) -> pl.Series:
    """n draws from a small tuple of strings."""
    probs = None if p is None else np.asarray(p) / np.sum(p)
    return pl.Series(values, dtype=pl.String).gather(rng.choice(len(values), size=n, p=probs))


def digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    """n random zero-padded digit strings of the given width."""
    return (
        pl.Series(rng.integers(0, 10**width, size=n, dtype=np.int64))
        .cast(pl.String)
        .str.pad_start(width, "0")
    )
