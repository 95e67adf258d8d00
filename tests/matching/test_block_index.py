"""The registry-side blocking index agrees with the rules' plain definition and finds every SSN near miss."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import polars as pl
import pytest

from matching import block_index
from matching.block_index import RegistryIndex, Rule, registry_index

NAMES = ["ANNA", "BO", "CY", "DEE", "ED"]
RULES = {
    "one": Rule(("ssn_num",), ("ssn_num",), 2),
    "same": Rule(("last_name", "dob", "zip5"), ("last_name", "dob", "zip5"), 3),
    "swapped": Rule(("last_name", "first_name"), ("first_name", "last_name"), 4),
    "listed": Rule(("employer_fein", "last_stem"), ("employer_feins", "last_stem"), 2),
}


def _frame(rng: np.random.Generator, n: int, id_column: str) -> pl.DataFrame:
    """Random people over small value sets, so keys collide and some blocks are over size."""

    def pick(values: list, nulls: float = 0.1) -> list:
        return [None if rng.random() < nulls else values[i] for i in rng.integers(0, len(values), n)]

    dobs = [f"19{y}-01-0{d}" for y in (70, 80) for d in (1, 2, 3)]
    return pl.DataFrame(
        {
            id_column: np.arange(n, dtype=np.uint32),
            "ssn_num": pick(list(range(100_000_000, 100_000_030))),
            "first_name": pick(NAMES),
            "last_name": pick([*NAMES, "EDWARDS", "EDISON"]),
            "dob": pick(dobs),
            "zip5": pick(["60601", "60602"]),
            "feins": [list(map(str, rng.integers(0, 4, rng.integers(0, 3)))) for _ in range(n)],
        },
        schema_overrides={"ssn_num": pl.Int64},
    ).with_columns(pl.col("dob").str.to_date())


def _by_definition(records: pl.DataFrame, registry: pl.DataFrame, rule: Rule) -> set[tuple[int, int]]:
    """The rule as a plain join on the raw values, skipping registry keys over the block size."""
    reg = registry.select("identity_id", *(block_index._expr(c) for c in rule.right))
    if "employer_feins" in rule.right:
        reg = reg.explode("employer_feins")
    reg = reg.drop_nulls().filter(pl.len().over(rule.right) <= rule.max_block)
    rec = records.select("rec_id", *(block_index._expr(c) for c in rule.left)).drop_nulls()
    joined = rec.join(reg, left_on=list(rule.left), right_on=list(rule.right))
    return set(joined.select("rec_id", "identity_id").iter_rows())


@pytest.mark.parametrize("key_bits", [64, 6])  # 6: the wider keys overflow and are regrouped
def test_rule_pairs_agree_with_the_plain_join(monkeypatch: pytest.MonkeyPatch, key_bits: int) -> None:
    monkeypatch.setattr(block_index, "KEY_BITS", key_bits)
    rng = np.random.default_rng(7)
    registry = _frame(rng, 400, "identity_id").rename({"feins": "employer_feins"})
    records = (
        _frame(rng, 150, "rec_id").with_columns(employer_fein=pl.col("feins").list.first()).drop("feins")
    )
    index = RegistryIndex(registry)
    keys = pl.concat([records.select("rec_id"), index.record_keys(records, RULES)], how="horizontal")
    for name, rule in RULES.items():
        found = index.pairs(rule, keys.select("rec_id", key=name))
        expected = _by_definition(records, registry, rule)
        assert set(found.iter_rows()) == expected, name
        assert found.height == len(expected), name  # no pair twice


def test_a_rule_no_record_can_use_is_not_built() -> None:
    registry = _frame(np.random.default_rng(1), 50, "identity_id").rename({"feins": "employer_feins"})
    records = pl.DataFrame(
        {"rec_id": [0, 1], "ssn_num": [None, None]}, schema={"rec_id": pl.UInt32, "ssn_num": pl.Int64}
    )
    index = RegistryIndex(registry)
    keys = index.record_keys(records, {"one": RULES["one"]})
    assert keys["one"].null_count() == 2
    assert index.pairs(RULES["one"], keys.select(pl.lit(0, pl.UInt32).alias("rec_id"), key="one")).is_empty()
    assert not index._keys


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[i, j]: a[i] and b[j] differ in one digit or by two adjacent digits swapped."""
    da, db = (a[:, None, None] // block_index._POWERS) % 10, (b[None, :, None] // block_index._POWERS) % 10
    differ = da != db
    swapped = (
        differ[..., :-1] & differ[..., 1:] & (da[..., :-1] == db[..., 1:]) & (da[..., 1:] == db[..., :-1])
    )
    count = differ.sum(axis=2)
    return (count == 1) | ((count == 2) & swapped.any(axis=2))


def _changed(ssns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each SSN with one random digit (not the first) replaced, or two adjacent ones swapped."""
    digits = (ssns[:, None] // block_index._POWERS) % 10
    position = rng.integers(0, 8, len(ssns))
    here, above = digits[np.arange(len(ssns)), position], digits[np.arange(len(ssns)), position + 1]
    substituted = ssns + (rng.integers(0, 10, len(ssns)) - here) * block_index._POWERS[position]
    swapped = ssns + (above - here) * (block_index._POWERS[position] - block_index._POWERS[position + 1])
    return np.where(rng.random(len(ssns)) < 0.5, substituted, swapped)


def test_near_ssns_include_every_registry_near_miss() -> None:
    rng = np.random.default_rng(3)
    # Clustered registry SSNs: many are one digit or one swap from another registry SSN.
    base = rng.integers(100_000_000, 899_999_999, 60)
    registry_ssns = np.concatenate([base, _changed(base, rng), _changed(base, rng)])
    registry = pl.DataFrame(
        {
            "identity_id": np.arange(len(registry_ssns), dtype=np.uint32),
            "ssn_num": registry_ssns.astype(np.int64),
        }
    )
    # Registry SSNs themselves (their near misses are other registry SSNs) and near misses of them.
    ssns = np.unique(np.concatenate([registry_ssns[::2], _changed(base, rng)]))
    rows, variants = RegistryIndex(registry).near_ssns(ssns)
    distinct = np.unique(registry_ssns)
    expected = {
        (int(ssns[i]), int(distinct[j])) for i, j in zip(*np.nonzero(_near(ssns, distinct)), strict=True)
    }
    held = set(distinct.tolist())
    found = {(int(ssns[r]), int(v)) for r, v in zip(rows, variants, strict=True) if int(v) in held}
    assert len(expected) > 50
    assert found == expected


def test_the_index_is_kept_for_its_registry_only_while_it_lives() -> None:
    registry = _frame(np.random.default_rng(2), 20, "identity_id")
    index = registry_index(registry)
    assert registry_index(registry) is index
    assert registry_index(registry.clone()) is not index
    freed = weakref.ref(registry_index(registry))
    del index, registry
    gc.collect()
    assert freed() is None
