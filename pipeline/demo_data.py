"""Synthetic demo and test data: a registry extract, source files in the shared layouts, and the ground truth.

Everything is seeded and built in bulk (numpy + polars), so it scales to benchmark sizes:

    registry = generate_registry(200_000, seed=1)
    batch = generate_records("new_hire", registry, 100_000, seed=2, received_date=date(2026, 1, 5))
    write_new_hire(batch.rows, path, created=date(2026, 1, 5))
    write_truth(batch.truth, truth_path, file_name=path.name)

`truth` has `record_number` (physical line, header = 1), `person_id` (the true NCP, null for others),
`faults` (codes of what was done to the record, see FAULT_CODES; also `employer_known`/`employer_known_iwo`
and FIDM's `second_owner`, `owner_name_free_form`, `passback_wrong`, `passback_blank`) and `hard_negative`
(HARD_NEGATIVE_KINDS, for records of people who only resemble an NCP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.synth.faults import CODES as FAULT_CODES
from pipeline.synth.records import (
    HARD_NEGATIVE_KINDS,
    PROFILES,
    TRUTH_SCHEMA,
    GeneratedRecords,
    previous_quarter,
)
from pipeline.synth.registry import RegistryFrames, generate_registry, write_registry
from pipeline.synth.sources import SOURCES, generate_records, iter_records
from pipeline.synth.writers import (
    Institution,
    write_dmv,
    write_fidm,
    write_new_hire,
    write_quarterly_wage,
    write_truth,
)

__all__ = [
    "FAULT_CODES",
    "HARD_NEGATIVE_KINDS",
    "PROFILES",
    "SOURCES",
    "TRUTH_SCHEMA",
    "DemoPaths",
    "GeneratedRecords",
    "Institution",
    "RegistryFrames",
    "generate_records",
    "generate_registry",
    "iter_records",
    "make_demo",
    "write_dmv",
    "write_fidm",
    "write_file",
    "write_new_hire",
    "write_quarterly_wage",
    "write_registry",
    "write_truth",
]


@dataclass(frozen=True)
class DemoPaths:
    """Where make_demo put things: the registry directory, and per source the data file and its truth."""

    root: Path
    registry: Path
    files: dict[str, Path] = field(default_factory=dict)
    truth: dict[str, Path] = field(default_factory=dict)


def file_name_for(source: str, received_date: date) -> str:
    """The landing-zone file name a source's file gets for a received date."""
    year, quarter = previous_quarter(received_date)
    return {
        "new_hire": f"nh_{received_date:%Y%m%d}_001.txt",
        "quarterly_wage": f"qw_{year}q{quarter}.txt",
        "dmv": f"dmv_{received_date:%Y%m%d}.psv",
        "fidm": f"fidm_{year}q{quarter}.txt",
    }[source]


def write_file(source: str, rows: pl.DataFrame, path: Path, *, received_date: date) -> int:
    """Write rows of `source` in its layout, header fields derived from the received date."""
    year, quarter = previous_quarter(received_date)
    if source == "new_hire":
        return write_new_hire(rows, path, created=received_date)
    if source == "quarterly_wage":
        return write_quarterly_wage(rows, path, created=received_date)
    if source == "dmv":
        return write_dmv(rows, path)
    if source == "fidm":
        return write_fidm(rows, path, match_period=f"{year}{quarter}")
    raise ValueError(f"unknown source {source!r}")


def make_demo(
    directory: Path,
    *,
    persons: int,
    records: int,
    seed: int,
    sources: tuple[str, ...] = ("new_hire",),
    received_date: date | None = None,
    match_rate: float | None = None,
) -> DemoPaths:
    """Write `registry/` (CSV), `landing/<source>/<file>` and `truth/<file stem>.parquet` under directory."""
    received = received_date or date.today()
    registry = generate_registry(persons, seed)
    paths = DemoPaths(root=directory, registry=write_registry(registry, directory / "registry"))
    for offset, source in enumerate(sources, start=1):
        batch = generate_records(
            source, registry, records, seed + offset, received_date=received, match_rate=match_rate
        )
        name = file_name_for(source, received)
        paths.files[source] = directory / "landing" / source / name
        write_file(source, batch.rows, paths.files[source], received_date=received)
        paths.truth[source] = write_truth(
            batch.truth, directory / "truth" / f"{Path(name).stem}.parquet", file_name=name
        )
    return paths
