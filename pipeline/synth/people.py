"""Fresh synthetic people, SSNs, addresses and employers, drawn in bulk (no loop per person)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipeline.synth import pools

_AREAS = np.array([a for a in range(1, 900) if a != 666], dtype=np.int64)
_DOB_FIRST = date(1955, 1, 1)
_DOB_LAST = date(2004, 12, 31)
_EPOCH = date(1970, 1, 1)


def ssn_text(values: np.ndarray) -> pl.Series:
    return pl.Series("ssn", values, dtype=pl.Int64).cast(pl.String).str.pad_start(9, "0")


class SsnSet:
    """A set of SSNs (sorted integers) for fast membership tests of whole columns."""

    def __init__(self, ssns: pl.Series) -> None:
        values = np.sort(ssns.drop_nulls().cast(pl.Int64, strict=False).drop_nulls().to_numpy())
        self._sorted = values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values

    def contains_int(self, values: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.zeros(len(values), dtype=bool)
        at = np.minimum(np.searchsorted(self._sorted, values), len(self._sorted) - 1)
        return self._sorted[at] == values

    def contains(self, ssns: pl.Series) -> pl.Series:
        values = ssns.cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
        return pl.Series(self.contains_int(values))


def valid_ssns(rng: np.random.Generator, n: int, exclude: SsnSet | None = None) -> pl.Series:
    """n distinct SSNs valid by SSA rules (area 001-899 but 666, group 01-99, serial 0001-9999)."""
    out = np.zeros(0, dtype=np.int64)
    while len(out) < n:
        m = int((n - len(out)) * 1.05) + 16
        raw = (
            rng.choice(_AREAS, m) * 1_000_000 + rng.integers(1, 100, m) * 10_000 + rng.integers(1, 10_000, m)
        )
        if exclude is not None:
            raw = raw[~exclude.contains_int(raw)]
        both = np.concatenate([out, raw])
        _, first = np.unique(both, return_index=True)
        out = both[np.sort(first)]
    return ssn_text(out[:n])


def itins(rng: np.random.Generator, n: int) -> pl.Series:
    """Individual taxpayer numbers: 9XX-7X/8X-XXXX (invalid as SSNs)."""
    raw = 900_000_000 + rng.integers(0, 100, n) * 1_000_000 + rng.integers(70, 89, n) * 10_000
    return ssn_text(raw + rng.integers(0, 10_000, n))


def dates_between(rng: np.random.Generator, n: int, first: date, last: date) -> pl.Series:
    days = rng.integers((first - _EPOCH).days, (last - _EPOCH).days + 1, n)
    return pl.Series(days, dtype=pl.Int32).cast(pl.Date)


def first_names(rng: np.random.Generator, sex: np.ndarray) -> pl.Series:
    """First names drawn with census frequencies for each person's sex ('M' or 'F')."""
    male, female = pools.first_names("M"), pools.first_names("F")
    n = len(sex)
    idx = np.where(
        sex == "M",
        rng.choice(male.names.len(), n, p=male.probs),
        male.names.len() + rng.choice(female.names.len(), n, p=female.probs),
    )
    return pl.concat([male.names, female.names]).gather(idx)


def other_first_names(rng: np.random.Generator, sex: np.ndarray, avoid: pl.Series) -> pl.Series:
    """First names for the given sexes, never equal to `avoid` at the same position."""
    names = first_names(rng, sex)
    while (clash := (names == avoid).fill_null(False)).any():
        redraw = first_names(rng, sex)
        names = pl.select(pl.when(clash).then(redraw).otherwise(names)).to_series()
    return names


def surnames(rng: np.random.Generator, n: int) -> pl.Series:
    """Census-frequency surnames; ~2% hyphenated (two surnames), ~1% compound (DE LA CRUZ)."""
    base = pools.surnames().sample(rng, n)
    second = pools.surnames().sample(rng, n)
    compound = pools.pick(rng, pools.COMPOUND_SURNAMES, n)
    u = pl.Series(rng.random(n))
    return (
        pl.DataFrame({"b": base, "s": second, "c": compound, "u": u})
        .select(
            pl.when(pl.col("u") < 0.02)
            .then(pl.col("b") + "-" + pl.col("s"))
            .when(pl.col("u") < 0.03)
            .then(pl.col("c"))
            .otherwise(pl.col("b"))
        )
        .to_series()
        .alias("last_name")
    )


def addresses(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Number + (directional) + street name + type, an apartment on some, city/state/ZIP from the pool."""
    city_frame, city_p = pools.cities()
    city = city_frame[rng.choice(city_frame.height, n, p=city_p)]
    street = pl.concat([pl.Series(pools.STREET_NAMES), pools.surnames().names.head(400)])
    frame = pl.DataFrame(
        {
            "num": pl.Series(np.minimum(rng.lognormal(6.5, 1.1, n).astype(np.int64) + 1, 99999)),
            "dir": pools.pick(rng, ("", "N ", "S ", "E ", "W "), n, (0.75, 0.07, 0.07, 0.05, 0.06)),
            "street": street.gather(rng.integers(0, street.len(), n)),
            "type": pools.pick(rng, pools.STREET_TYPES, n, pools.STREET_TYPE_WEIGHTS),
            "unit": pools.pick(rng, pools.UNIT_WORDS, n),
            "unit_no": pl.Series(rng.integers(1, 40, n)).cast(pl.String)
            + pools.pick(rng, ("", "", "A", "B", "C", "F"), n),
            "has_unit": pl.Series(rng.random(n) < 0.15),
            "zip_off": pl.Series(rng.random(n)),
        }
    ).hstack(city)
    return frame.select(
        pl.concat_str(["num", pl.lit(" "), "dir", "street", pl.lit(" "), "type"]).alias("address_line1"),
        pl.when("has_unit").then(pl.concat_str(["unit", pl.lit(" "), "unit_no"])).alias("address_line2"),
        "city",
        "state",
        (pl.col("zip0") + (pl.col("zip_off") * pl.col("nzip")).cast(pl.Int64))
        .cast(pl.String)
        .str.pad_start(5, "0")
        .alias("zip"),
    )


def people(
    rng: np.random.Generator, n: int, exclude_ssns: SsnSet | None = None, *, male_share: float = 0.5
) -> pl.DataFrame:
    """n fresh persons: sex, names (middle names/initials, some suffixes), DOB 1955-2004, SSN, address."""
    sex = np.where(rng.random(n) < male_share, "M", "F")
    middle = first_names(rng, sex)
    middle_kind = rng.random(n)
    suffix = pools.pick(rng, pools.SUFFIXES, n, pools.SUFFIX_WEIGHTS)
    frame = pl.DataFrame(
        {
            "sex": pl.Series(sex, dtype=pl.String),
            "first_name": first_names(rng, sex),
            "middle_name": pl.DataFrame({"m": middle, "k": middle_kind})
            .select(
                pl.when(pl.col("k") < 0.55).then("m").when(pl.col("k") < 0.8).then(pl.col("m").str.head(1))
            )
            .to_series(),
            "last_name": surnames(rng, n),
            "suffix": pl.DataFrame({"s": suffix, "u": rng.random(n), "x": sex})
            .select(pl.when((pl.col("u") < 0.08) & (pl.col("x") == "M")).then("s"))
            .to_series(),
            "dob": dates_between(rng, n, _DOB_FIRST, _DOB_LAST),
            "ssn": valid_ssns(rng, n, exclude_ssns),
        }
    )
    return frame.hstack(addresses(rng, n))


def twins(
    rng: np.random.Generator, base: pl.DataFrame, taken: SsnSet, *, next_ssn_share: float, valid_serial: bool
) -> pl.DataFrame:
    """A twin per base row: same surname, DOB and address; another first name; for `next_ssn_share` of
    them the next SSN (last digit + 1, unless taken; with `valid_serial`, never a 0000 serial)."""
    n = base.height
    base_sex = base["sex"].to_numpy()
    sex = np.where(rng.random(n) < 0.7, base_sex, np.where(base_sex == "M", "F", "M"))
    fresh = people(rng, n, taken)
    next_ssn = base["ssn"].str.head(8) + ((base["ssn"].str.tail(1).cast(pl.Int64) + 1) % 10).cast(pl.String)
    adjacent = pl.Series(rng.random(n) < next_ssn_share) & ~taken.contains(next_ssn)
    if valid_serial:
        adjacent &= ~next_ssn.str.ends_with("0000")
    return base.with_columns(
        sex=pl.Series(sex, dtype=pl.String),
        first_name=other_first_names(rng, sex, base["first_name"]),
        middle_name=fresh["middle_name"],
        suffix=pl.lit(None, dtype=pl.String),
        ssn=pl.select(pl.when(adjacent).then(next_ssn).otherwise(fresh["ssn"])).to_series(),
    )


def _mix(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64: a stable pseudo-random value per input, so employer details follow from the FEIN."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15) * np.uint64(salt + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def employers(rng: np.random.Generator, n: int, exclude_feins: pl.Series | None = None) -> pl.DataFrame:
    """n employers with distinct valid-prefix FEINs and names (a few chains, many small firms)."""
    out = pl.Series("fein", [], dtype=pl.String)
    while out.len() < n:
        m = n - out.len() + 16
        raw = rng.choice(pools.EIN_PREFIXES, m) * 10_000_000 + rng.integers(0, 10_000_000, m)
        fresh = pl.Series(raw).cast(pl.String).str.pad_start(9, "0")
        if exclude_feins is not None:
            fresh = fresh.filter(~fresh.is_in(exclude_feins.implode()))
        out = pl.concat([out, fresh]).unique(maintain_order=True)
    fein = out.head(n).alias("fein")
    a = pools.pick(rng, pools.EMPLOYER_WORDS_A, n)
    b = pools.pick(rng, pools.EMPLOYER_WORDS_B, n)
    form = pools.pick(rng, pools.EMPLOYER_FORMS, n)
    owner = pools.surnames().sample(rng, n)
    name = (
        pl.DataFrame({"a": a, "b": b, "f": form, "o": owner, "u": rng.random(n)})
        .select(
            pl.when(pl.col("u") < 0.35)
            .then(pl.concat_str(["o", pl.lit(" "), "b", pl.lit(" "), "f"]))
            .otherwise(pl.concat_str(["a", pl.lit(" "), "b", pl.lit(" "), "f"]))
        )
        .to_series()
        .alias("employer_name")
    )
    return pl.DataFrame([fein, name])


def employer_details(fein: pl.Series) -> pl.DataFrame:
    """Address, SEIN and optional payroll (IWO) address of each employer, a pure function of its FEIN."""
    key = fein.cast(pl.Int64).to_numpy()
    h = [_mix(key, salt) for salt in range(12)]
    city_frame, city_p = pools.cities()
    cum = np.cumsum(city_p)

    def city_at(hash_: np.ndarray) -> pl.DataFrame:
        idx = np.minimum(np.searchsorted(cum, (hash_ % np.uint64(1_000_000)) / 1e6), city_frame.height - 1)
        return city_frame[idx]

    def choose(values: tuple[str, ...], hash_: np.ndarray) -> pl.Series:
        return pl.Series(values).gather((hash_ % np.uint64(len(values))).astype(np.int64))

    def num(hash_: np.ndarray, modulo: int) -> pl.Series:
        return pl.Series((hash_ % np.uint64(modulo)).astype(np.int64))

    c1, c2 = city_at(h[5]), city_at(h[9])
    frame = pl.DataFrame(
        {
            "fein": fein,
            "num": num(h[0], 9900) + 100,
            "street": choose(pools.STREET_NAMES, h[1]),
            "type": choose(pools.STREET_TYPES, h[2]),
            "suite": num(h[3], 5),
            "suite_no": num(h[3] >> np.uint64(8), 900) + 100,
            "sein": num(h[4], 10**12),
            "has_sein": num(h[4] >> np.uint64(48), 10) < 7,
            "city": c1["city"],
            "state": c1["state"],
            "zip": c1["zip0"] + num(h[6], 1_000_000) % c1["nzip"],
            "zip4": num(h[7], 10_000),
            "has_zip4": num(h[7] >> np.uint64(32), 2) == 0,
            "iwo": num(h[8], 4) == 0,
            "box": num(h[8] >> np.uint64(16), 9000) + 100,
            "ocity": c2["city"],
            "ostate": c2["state"],
            "ozip": c2["zip0"] + num(h[10], 1_000_000) % c2["nzip"],
        }
    )
    z5 = {c: pl.col(c).cast(pl.String).str.pad_start(5, "0") for c in ("zip", "ozip")}
    return frame.select(
        pl.col("fein").alias("employer_fein"),
        pl.when("has_sein")
        .then(pl.col("sein").cast(pl.String).str.pad_start(12, "0"))
        .alias("employer_sein"),
        pl.concat_str(["num", pl.lit(" "), "street", pl.lit(" "), "type"]).alias("employer_address_line1"),
        pl.when(pl.col("suite") == 0)
        .then(pl.concat_str([pl.lit("SUITE "), "suite_no"]))
        .alias("employer_address_line2"),
        pl.lit(None, dtype=pl.String).alias("employer_address_line3"),
        pl.col("city").alias("employer_city"),
        pl.col("state").alias("employer_state"),
        z5["zip"].alias("employer_zip"),
        pl.when("has_zip4").then(pl.col("zip4").cast(pl.String).str.pad_start(4, "0")).alias("employer_zip4"),
        pl.when("iwo").then(pl.concat_str([pl.lit("PO BOX "), "box"])).alias("employer_opt_address_line1"),
        pl.when("iwo").then(pl.lit("ATTN PAYROLL")).alias("employer_opt_address_line2"),
        pl.lit(None, dtype=pl.String).alias("employer_opt_address_line3"),
        pl.when("iwo").then("ocity").alias("employer_opt_city"),
        pl.when("iwo").then("ostate").alias("employer_opt_state"),
        pl.when("iwo").then(z5["ozip"]).alias("employer_opt_zip"),
    )
