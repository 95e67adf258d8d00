"""The stable run outputs: matches, quarantine and scores parquet files and summary.json, owner-only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import pyarrow.parquet as pq

from loaders.landing_base import atomic_file, ensure_private_dir, write_atomically

Writer = Callable[[BinaryIO], object]


@contextmanager
def streamed_parquet(path: Path) -> Iterator[Callable[[pl.DataFrame], None]]:
    """An append function for one parquet output written frame by frame (each a row group, in the first
    frame's columns and types), so a run's outputs are written while it is queued, one chunk in memory.

    The file is replaced whole when the block ends cleanly (0600, via a temp file) and left as it was if not.
    """
    with atomic_file(path) as out:
        parquet: pq.ParquetWriter | None = None
        first: pl.DataFrame | None = None

        def append(frame: pl.DataFrame) -> None:
            nonlocal parquet, first
            if first is None:
                first = frame.clear()
                parquet = pq.ParquetWriter(out, frame.to_arrow().schema)
            assert parquet is not None
            parquet.write_table(frame.select(first.columns).cast(first.schema).to_arrow())

        try:
            yield append
        finally:
            if parquet is not None:
                parquet.close()
        if first is None:
            raise ValueError(f"no rows were given for {path.name}")  # a run has at least one chunk


def write_run_outputs(run_dir: Path, files: dict[str, Writer], summary: dict[str, Any]) -> Path:
    """Write one run's outputs, each file replaced whole (0600, via a temp file): a rerun never leaves a mix.

    `summary.json` goes last: its presence says the run's other outputs are complete.
    """
    ensure_private_dir(run_dir)
    for name, write in files.items():
        write_atomically(run_dir / name, write)
    text = json.dumps(summary, indent=2, default=str).encode()
    write_atomically(run_dir / "summary.json", lambda out: out.write(text))
    return run_dir
