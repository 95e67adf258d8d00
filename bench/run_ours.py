"""Child process of the scale benchmarks: one csmatch step, timed, reporting wall time and peak RSS.

    uv run python -m bench.run_ours load-registry --registry DIR --db URL --out DIR
    uv run python -m bench.run_ours run --source new_hire --data FILE --db URL --out DIR [--profile HTML]
        [--log-level INFO]

Runs in its own process so its peak RSS is its own (the parent prints the figures).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from bench.common import emit
from pipeline import log, runner
from pipeline.settings import Settings

RECEIVED = date(2026, 1, 5)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        db_url=args.db,
        out=args.out,
        chunk_size=args.chunk_size,
        model_path=args.model,
        log_level=args.log_level,
    )


def load_registry(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    report = runner.load_registry(str(args.registry), _settings(args))
    emit(
        {
            "seconds": round(time.perf_counter() - started, 2),
            "db_seconds": report["seconds"],
            "ncp": report["ncp"],
        }
    )


def run(args: argparse.Namespace) -> None:
    settings = _settings(args)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    started = time.perf_counter()
    summary = runner.run_file(args.source, str(args.data), settings, received_date=RECEIVED, force=True)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    emit(
        {
            "seconds": round(seconds, 2),
            "records_per_s": round(summary["read"] / seconds),
            "run_dir": str(settings.out / "runs" / summary["run_id"]),
            **{k: summary[k] for k in runner.COUNT_KEYS},
            "queued": summary["queued"],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["load-registry", "run"])
    parser.add_argument("--registry", type=Path)
    parser.add_argument("--source", default="new_hire")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk-size", type=int, default=Settings().chunk_size)
    parser.add_argument("--model", type=Path, help="a model JSON (default: the shipped model)")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile here")
    parser.add_argument("--log-level", default="WARNING", help="INFO shows each chunk's progress (stderr)")
    args = parser.parse_args()
    log.configure(args.log_level)
    load_registry(args) if args.step == "load-registry" else run(args)


if __name__ == "__main__":
    main()
