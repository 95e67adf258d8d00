"""Benchmark inputs, generated once and cached under `bench/out/data/` (git-ignored).

    uv run python -m bench.data --persons 2000000 --new-hire 100000,300000,1000000 \
        --wage 2000000,6000000,20000000

A registry of `persons` NCPs (parquet extract) and, per size, a W4 new-hire file or a QW wage file in the
federal layout with its truth parquet. Same arguments -> same files (seeded), so every benchmark and Splink
see exactly the same records. Generation is chunked, so a 20M-record wage file needs little memory.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.demo_data import (
    RegistryFrames,
    generate_registry,
    iter_records,
    write_new_hire,
    write_quarterly_wage,
    write_registry,
)

OUT = Path(__file__).resolve().parent / "out"
DATA = OUT / "data"
RECEIVED = date(2026, 1, 5)
REGISTRY_SEED = 1
RECORDS_SEED = 2
SOURCES = ("new_hire", "quarterly_wage")


@dataclass(frozen=True)
class Inputs:
    """One benchmark input: the registry extract folder, the data file and its truth."""

    registry: Path
    data: Path
    truth: Path
    source: str
    records: int


def registry_dir(persons: int) -> Path:
    return DATA / f"registry_{persons}"


def _registry(persons: int, cache: dict[int, RegistryFrames]) -> RegistryFrames:
    if persons not in cache:
        cache[persons] = generate_registry(persons, REGISTRY_SEED)
    return cache[persons]


def ensure_registry(persons: int, cache: dict[int, RegistryFrames] | None = None) -> Path:
    """The registry extract (parquet) of `persons` NCPs, written once."""
    directory = registry_dir(persons)
    if not (directory / "ncp.parquet").exists():
        write_registry(_registry(persons, cache if cache is not None else {}), directory, fmt="parquet")
    return directory


def inputs(source: str, persons: int, records: int, seed: int = RECORDS_SEED) -> Inputs:
    """Where the input of (source, persons, records, seed) lives (see `ensure_inputs`)."""
    stem = f"{'nh' if source == 'new_hire' else 'qw'}_{persons}_{records}"
    stem += f"_seed{seed}" if seed != RECORDS_SEED else ""
    return Inputs(
        registry=registry_dir(persons),
        data=DATA / f"{stem}.txt",
        truth=DATA / f"{stem}_truth.parquet",
        source=source,
        records=records,
    )


def ensure_inputs(
    source: str,
    persons: int,
    records: int,
    cache: dict[int, RegistryFrames] | None = None,
    seed: int = RECORDS_SEED,
) -> Inputs:
    """Generate the registry and the (source, records) file with its truth unless they already exist."""
    cache = cache if cache is not None else {}
    ensure_registry(persons, cache)
    where = inputs(source, persons, records, seed)
    if where.data.exists() and where.truth.exists():
        return where
    registry = _registry(persons, cache)
    chunks = iter_records(source, registry, records, seed, received_date=RECEIVED, chunk_size=1_000_000)
    truths: list[pl.DataFrame] = []

    def rows() -> object:
        for chunk in chunks:
            truths.append(chunk.truth)
            yield chunk.rows

    partial = where.data.with_suffix(".partial")
    writer = write_new_hire if source == "new_hire" else write_quarterly_wage
    writer(rows(), partial, created=RECEIVED)  # type: ignore[arg-type]
    pl.concat(truths).select(pl.lit(where.data.name).alias("file_name"), pl.all()).write_parquet(where.truth)
    partial.rename(where.data)
    return where


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=2_000_000)
    parser.add_argument("--new-hire", default="", help="comma-separated record counts")
    parser.add_argument("--wage", default="", help="comma-separated record counts")
    args = parser.parse_args()
    cache: dict[int, RegistryFrames] = {}
    started = time.perf_counter()
    ensure_registry(args.persons, cache)
    print(f"registry {args.persons:,}: {time.perf_counter() - started:.1f} s", flush=True)
    for source, sizes in (("new_hire", _sizes(args.new_hire)), ("quarterly_wage", _sizes(args.wage))):
        for n in sizes:
            t = time.perf_counter()
            where = ensure_inputs(source, args.persons, n, cache)
            print(f"{source} {n:,}: {where.data} ({time.perf_counter() - t:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
