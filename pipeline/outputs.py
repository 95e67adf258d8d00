"""The stable run outputs: matches, quarantine and scores parquet files and summary.json, owner-only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create a directory (and parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def _write_private(path: Path, write: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.close(fd)
    write(temporary)
    os.chmod(temporary, PRIVATE_FILE)
    os.replace(temporary, path)


def write_run_outputs(
    run_dir: Path,
    matches: pl.DataFrame,
    quarantine: pl.DataFrame,
    scores: pl.DataFrame,
    summary: dict[str, Any],
) -> Path:
    """Write one run's outputs atomically, each file replaced whole so a rerun never leaves a mix."""
    private_dir(run_dir)
    _write_private(run_dir / "matches.parquet", matches.write_parquet)
    _write_private(run_dir / "quarantine.parquet", quarantine.write_parquet)
    _write_private(run_dir / "scores.parquet", scores.write_parquet)
    _write_private(
        run_dir / "summary.json", lambda p: Path(p).write_text(json.dumps(summary, indent=2, default=str))
    )
    return run_dir


def read_summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())
