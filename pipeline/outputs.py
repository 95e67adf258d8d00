"""The stable run outputs: matches, quarantine and scores parquet files and summary.json, owner-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from loaders.landing_base import ensure_private_dir, write_atomically

Writer = Callable[[BinaryIO], object]


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
