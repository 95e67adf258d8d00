"""Registry-side blocking keys, built once per prepared registry and reused for every chunk matched to it.

A rule's registry side is one integer key per registry row (its columns dictionary-coded and packed into
64 bits), sorted, so a chunk costs one merge join per rule instead of a pass over the whole registry
with string keys. SSN near misses are screened by two hashed bit sets of registry SSN keys.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import polars as pl

KEY_BITS = 64
# Columns the rules read that neither frame carries as such (the same expression on both sides).
DERIVED = {"last_stem": pl.col("last_name").str.slice(0, 3)}
# Registry columns coded with one dictionary, so a record's surname can meet a registry first name.
DOMAIN = {"first_name": "names", "last_name": "names"}
# SSN screens, in bits of hash: every registry SSN key (32 MB; at 2M SSNs about 7% of other values
# pass), and the blanked-digit keys two registry SSNs share (512 KB).
SSN_KEY_BITS = 28
SHARED_KEY_BITS = 22
_POWERS = 10 ** np.arange(9, dtype=np.int64)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier


@dataclass(frozen=True)
class Rule:
    """Pairs agree on every `left` (record) column = `right` (registry) column; nulls never agree.

    Registry keys shared by more than `max_block` registry rows are skipped (e.g. a placeholder DOB); a
    `right` list column (`employer_feins`) agrees when any of its elements does.
    """

    left: tuple[str, ...]
    right: tuple[str, ...]
    max_block: int


@dataclass(frozen=True)
class _Step:
    """One column of a packed key: the dictionary coding it, its width in bits and, where the key so far
    and this column would overflow 64 bits, the dense codes of the key so far."""

    domain: str
    bits: int
    regroup: pl.DataFrame | None


@dataclass(frozen=True)
class _Keys:
    """Registry rows (`key`, `identity_id`, sorted by key) of every identity with all the columns set,
    and how a record's columns make a key (no steps: the single column is the key itself)."""

    frame: pl.DataFrame
    steps: tuple[_Step, ...]


class _HashedBits:
    """Non-negative integers kept as one bit per hash slot: `may_hold` is True for every value added
    and for some others."""

    def __init__(self, bits: int) -> None:
        self._shift = np.uint64(64 - bits)
        self._bytes = np.zeros(1 << (bits - 3), dtype=np.uint8)

    def _slots(self, values: np.ndarray) -> np.ndarray:
        return (values.astype(np.uint64) * _GOLDEN) >> self._shift

    def add(self, values: np.ndarray) -> None:
        slots = self._slots(values)
        np.bitwise_or.at(self._bytes, slots >> np.uint64(3), np.left_shift(1, slots & 7).astype(np.uint8))

    def may_hold(self, values: np.ndarray) -> np.ndarray:
        slots = self._slots(values)
        return (self._bytes[slots >> np.uint64(3)] >> (slots & 7).astype(np.uint8)) & 1 == 1


def sorted_values(values: np.ndarray) -> np.ndarray:
    """`values` (integers) sorted, as a new writable array: polars' sort, several times numpy's here."""
    return pl.Series(values).sort(multithreaded=False).to_numpy(writable=True)


def run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values in `values` starts."""
    if not len(values):
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, values[1:] != values[:-1]])


def _blanked(ssns: np.ndarray, digits: np.ndarray, position: int) -> np.ndarray:
    """The SSNs with the digit at `position` (0: last) set to 0."""
    return ssns - digits[position] * _POWERS[position]


def _digits(ssns: np.ndarray) -> np.ndarray:
    """(9, len) decimal digits, last digit first (divided by a scalar: much faster than by an array)."""
    digits = np.empty((9, len(ssns)), dtype=ssns.dtype)
    rest = ssns
    for position in range(9):
        higher = rest // 10
        digits[position] = rest - higher * 10
        rest = higher
    return digits


# Keys in the SSN screens: a blanked SSN tagged with its position (0-8), a whole SSN tagged 9.
def _tagged(values: np.ndarray, tag: int) -> np.ndarray:
    return values * 10 + tag


def _expr(column: str) -> pl.Expr:
    return DERIVED.get(column, pl.col(column)).alias(column)


def _coded(values: pl.Series, dictionary: pl.DataFrame) -> pl.Series:
    """Dense codes of `values` (null where the dictionary does not hold the value)."""
    frame = values.to_frame("value").join(dictionary, on="value", how="left", maintain_order="left")
    return frame["code"]


def _dictionary(values: pl.Series) -> pl.DataFrame:
    """`value` -> dense `code` (UInt32) of the distinct non-null values."""
    return values.drop_nulls().unique().to_frame("value").with_row_index("code")


def _bits(dictionary: pl.DataFrame) -> int:
    return max(dictionary.height - 1, 0).bit_length()


def _appended(key: pl.Series, code: pl.Series, bits: int) -> pl.Series:
    """The key so far with `code` (`bits` wide) packed in below it."""
    return key * (1 << bits) + code.cast(pl.UInt64)


class RegistryIndex:
    """Blocking keys of one prepared registry, built on first use (never for rules the profiles in use
    lack or records never fill). Holds the registry weakly: the caller passes it alive to every call."""

    def __init__(self, registry: pl.DataFrame) -> None:
        self._registry = weakref.ref(registry)
        self._dictionaries: dict[str, pl.DataFrame] = {}
        self._keys: dict[tuple[str, ...], _Keys] = {}
        self._oversize: dict[tuple[tuple[str, ...], int], pl.Series] = {}
        self._ssn_screens: tuple[_HashedBits, _HashedBits] | None = None
        self._surnames: tuple[pl.DataFrame, pl.DataFrame] | None = None

    def _live(self) -> pl.DataFrame:
        registry = self._registry()
        if registry is None:  # unreachable while a caller holds the registry it looked the index up by
            raise RuntimeError("registry index used after its registry was freed")
        return registry

    def identity_bits(self) -> int:
        """Bits that hold any `identity_id` of the registry."""
        return int(self._live().select(pl.col("identity_id").max()).item() or 0).bit_length()

    def _dictionary(self, domain: str) -> pl.DataFrame:
        if domain not in self._dictionaries:
            columns = [column for column, name in DOMAIN.items() if name == domain] or [domain]
            values = pl.concat(self._live().select(_expr(c).alias("value")) for c in columns)
            if isinstance(values.schema["value"], pl.List):
                values = values.explode("value")
            self._dictionaries[domain] = _dictionary(values["value"])
        return self._dictionaries[domain]

    def _code(self, values: pl.Series, column: str) -> pl.Series:
        return _coded(values, self._dictionary(DOMAIN.get(column, column)))

    def _view_code(self, view: pl.DataFrame, column: str) -> pl.Series:
        return self._code(view[column], column)

    def _built(self, rights: Iterable[tuple[str, ...]]) -> list[_Keys]:
        """The registry side of rules on these registry columns (`Rule.right`), built once with each
        registry column coded once."""
        registry = self._live()
        coded: dict[str, pl.Series] = {}

        def code(column: str) -> pl.Series:
            if column not in coded:
                coded[column] = self._code(registry.select(_expr(column))[column], column)
            return coded[column]

        rights = list(rights)
        for right in rights:
            if right in self._keys:
                continue
            view = registry.select("identity_id", *(_expr(c) for c in right))
            lists = [name for name, dtype in view.schema.items() if isinstance(dtype, pl.List)]
            if lists:  # one row per element, coded here
                view = view.explode(lists)
            self._keys[right] = self._build(right, view, partial(self._view_code, view) if lists else code)
        return [self._keys[right] for right in rights]

    def _build(self, columns: tuple[str, ...], view: pl.DataFrame, code: Callable[[str], pl.Series]) -> _Keys:
        """The keys of the registry `view` (`identity_id` and the columns); `code` gives the dictionary
        codes of a column, row for row with the view."""
        steps: list[_Step] = []
        if len(columns) == 1:
            key = view[columns[0]]
        else:
            domains = [DOMAIN.get(column, column) for column in columns]
            widths = [_bits(self._dictionary(domain)) for domain in domains]
            key, width = code(columns[0]).cast(pl.UInt64), widths[0]
            steps.append(_Step(domains[0], widths[0], None))
            for column, domain, bits in zip(columns[1:], domains[1:], widths[1:], strict=True):
                regroup = None
                if width + bits > KEY_BITS:
                    regroup = _dictionary(key)
                    key, width = _coded(key, regroup).cast(pl.UInt64), _bits(regroup)
                key, width = _appended(key, code(column), bits), width + bits
                steps.append(_Step(domain, bits, regroup))
            if width <= 32:
                key = key.cast(pl.UInt32)
        keyed = pl.DataFrame({"key": key, "identity_id": view["identity_id"]}).drop_nulls("key")
        return _Keys(keyed.sort("key", multithreaded=False), tuple(steps))

    def _too_big(self, rule: Rule) -> pl.Series:
        """The registry keys of the rule that more than `max_block` registry rows share."""
        if (rule.right, rule.max_block) not in self._oversize:
            key = self._keys[rule.right].frame["key"]
            starts = run_starts(key.to_numpy())
            sizes = np.diff(np.r_[starts, key.len()])
            self._oversize[rule.right, rule.max_block] = key.gather(starts[sizes > rule.max_block])
        return self._oversize[rule.right, rule.max_block]

    def record_keys(self, records: pl.DataFrame, rules: dict[str, Rule]) -> pl.DataFrame:
        """One key column per rule, named after it, row for row with `records` (null: no registry row
        can agree). A rule whose record columns are all empty is keyed null without building it."""
        filled = records.select(
            _expr(c).is_not_null().any() for c in {c for r in rules.values() for c in r.left}
        )
        live = {name: rule for name, rule in rules.items() if all(filled[c].item() for c in rule.left)}
        codes: dict[tuple[str, str], pl.Series] = {}

        def code(left: str, domain: str) -> pl.Series:
            if (left, domain) not in codes:
                codes[left, domain] = _coded(records.select(_expr(left))[left], self._dictionary(domain))
            return codes[left, domain]

        columns = [
            self._record_key(records, rule, keys, code).cast(keys.frame.schema["key"]).alias(name)
            for (name, rule), keys in zip(
                live.items(), self._built(r.right for r in live.values()), strict=True
            )
        ]
        empty = [
            pl.repeat(None, records.height, dtype=pl.UInt64, eager=True).alias(n)
            for n in rules
            if n not in live
        ]
        return pl.DataFrame([*columns, *empty], height=records.height).select(list(rules))

    @staticmethod
    def _record_key(
        records: pl.DataFrame, rule: Rule, keys: _Keys, code: Callable[[str, str], pl.Series]
    ) -> pl.Series:
        if not keys.steps:
            return records.select(_expr(rule.left[0]))[rule.left[0]]
        key = code(rule.left[0], keys.steps[0].domain).cast(pl.UInt64)
        for left, step in zip(rule.left[1:], keys.steps[1:], strict=True):
            if step.regroup is not None:
                key = _coded(key, step.regroup).cast(pl.UInt64)
            key = _appended(key, code(left, step.domain), step.bits)
        return key

    def pairs(self, rule: Rule, keys: pl.DataFrame) -> pl.DataFrame:
        """(`rec_id`, `identity_id`) of `keys` (`rec_id`, `key`) agreeing with a registry row whose key
        `max_block` registry rows at most share."""
        keys = keys.drop_nulls("key")
        if keys.is_empty():
            return pl.DataFrame(schema={"rec_id": keys.schema["rec_id"], "identity_id": pl.UInt32})
        (built,) = self._built([rule.right])
        too_big = self._too_big(rule)
        if too_big.len():
            keys = keys.filter(~pl.col("key").is_in(too_big.implode()))
        # Both sides sorted by key: a merge join, not a hash table per chunk.
        return keys.sort("key").join(built.frame, on="key").select("rec_id", "identity_id")

    def surname_keys(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(`identity_id`, `surname`, `dob`) of the identities with a birth date: each part of a compound
        surname (GARCIA-LOPEZ: GARCIA and LOPEZ); and those parts with every other whole surname."""
        if self._surnames is None:
            registry = self._live().select("identity_id", "last_name", "last_parts", "dob").drop_nulls("dob")
            parts = surname_part_keys(registry)
            self._surnames = (parts.filter(pl.col("compound")), parts)
        return self._surnames

    def _registry_ssns(self) -> np.ndarray:
        """Every registry `ssn_num`, sorted (one per identity that has one)."""
        return self._built([("ssn_num",)])[0].frame["key"].to_numpy()

    def _screens(self) -> tuple[_HashedBits, _HashedBits]:
        """Every registry SSN key (`_tagged`), and the blanked ones two registry SSNs share."""
        if self._ssn_screens is None:
            ssns = self._registry_ssns()
            ssns = ssns[run_starts(ssns)]
            keys, shared = _HashedBits(SSN_KEY_BITS), _HashedBits(SHARED_KEY_BITS)
            keys.add(_tagged(ssns, 9))
            digits = _digits(ssns)
            for position in range(9):
                blanked = sorted_values(_tagged(_blanked(ssns, digits, position), position))
                keys.add(blanked)
                shared.add(blanked[1:][blanked[1:] == blanked[:-1]])
            self._ssn_screens = keys, shared
        return self._ssn_screens

    def near_ssns(self, ssns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `ssns`, variant) of the variants of each SSN (one digit substituted, or two
        adjacent digits swapped) that may be registry SSNs: all those that are, and a few that are not.

        `ssns` are distinct, sorted and non-negative. A registry SSN differing from one of them in one
        digit shares its blanked key there: a key of the registry's if the SSN is not a registry SSN,
        a key two registry SSNs share if it is. So only those positions are tried.
        """
        registry_ssns = self._registry_ssns()
        if not len(registry_ssns) or not len(ssns):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        keys, shared = self._screens()
        found = (
            registry_ssns[np.minimum(np.searchsorted(registry_ssns, ssns), len(registry_ssns) - 1)] == ssns
        )
        digits = _digits(ssns)
        swapped = ssns[:, None] + (digits[1:] - digits[:8]).T * (_POWERS[:8] - _POWERS[1:])
        candidates = [(np.arange(len(ssns)), swapped)]
        for position in range(9):
            blanked = _blanked(ssns, digits, position)
            tagged = _tagged(blanked, position)
            rows = np.flatnonzero(np.where(found, shared.may_hold(tagged), keys.may_hold(tagged)))
            candidates.append((rows, blanked[rows][:, None] + np.arange(10) * _POWERS[position]))
        screened = [
            (rows[r], variants[r, c])
            for rows, variants in candidates
            for r, c in [np.nonzero((variants != ssns[rows][:, None]) & keys.may_hold(_tagged(variants, 9)))]
        ]
        return np.concatenate([r for r, _ in screened]), np.concatenate([v for _, v in screened])


_CACHE: list[tuple[weakref.ref[pl.DataFrame], RegistryIndex]] = []


def surname_part_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows (`identity_id` or `rec_id`, `surname`, `dob`, `compound`): one per part of a compound surname,
    one with the whole surname otherwise."""
    compound = pl.col("last_parts").list.len() > 0
    surname = pl.when(compound).then(pl.col("last_parts")).otherwise(pl.concat_list("last_name"))
    return (
        frame.select(pl.exclude("last_name", "last_parts"), surname=surname, compound=compound)
        .explode("surname")
        .drop_nulls("surname")
    )


def registry_index(registry: pl.DataFrame) -> RegistryIndex:
    """The index of `registry` (`prepare_registry` output, never modified in place): the last one
    built is kept while its registry lives, so the chunks of a file share it."""
    if not _CACHE or _CACHE[0][0]() is not registry:
        _CACHE.clear()
        _CACHE.append((weakref.ref(registry, _forget), RegistryIndex(registry)))
    return _CACHE[0][1]


def _forget(ref: weakref.ref[pl.DataFrame]) -> None:
    """Frees the index with its registry."""
    if _CACHE and _CACHE[0][0] is ref:
        _CACHE.clear()
