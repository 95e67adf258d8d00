"""Shared helpers of the scale benchmarks: peak RSS, load average, child processes reporting JSON."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process and its waited-for children, in MB.

    This process's own peak is its memory map's high-water mark (`VmHWM`), not `ru_maxrss`: Linux carries
    `ru_maxrss` over from the parent's memory at spawn (vfork + exec), so a child started by a big parent
    would report the parent's peak as its own."""
    status = Path("/proc/self/status")
    own = (
        next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        if status.exists()
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def emit(result: dict[str, Any]) -> None:
    """A child's result: one JSON line the parent picks out of its output."""
    result = {
        **result,
        "peak_rss_mb": round(peak_rss_mb()),
        "cpu_s": round(cpu_seconds(), 1),
        "load_average": load_average(),
    }
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args` in a fresh process (its own peak RSS) and return what it emitted."""
    done = subprocess.run([sys.executable, "-m", module, *args], check=False, capture_output=True, text=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
            return result
    raise RuntimeError(
        f"{module} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
