"""Scale of the synthetic data generator: wall time and peak RSS.

    uv run python bench/bench_generate.py new-hire --persons 2000000 --records 1000000
    uv run python bench/bench_generate.py wage --persons 2000000 --records 20000000 --chunk 1000000

Each scenario should run in its own process so peak RSS belongs to it alone. Files go to --out (deleted
afterwards unless --keep).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from pipeline.demo_data import (
    generate_records,
    generate_registry,
    iter_records,
    write_new_hire,
    write_quarterly_wage,
    write_truth,
)

RECEIVED = date(2026, 1, 5)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(label: str, start: float) -> float:
    now = time.perf_counter()
    print(f"{label:<40} {now - start:8.2f} s   peak RSS {_peak_rss_mb():8.0f} MB", flush=True)
    return now


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["new-hire", "wage"])
    parser.add_argument("--persons", type=int, default=2_000_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="csmatch-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    begin = t = time.perf_counter()
    registry = generate_registry(args.persons, args.seed)
    t = _step(f"registry: {args.persons:,} persons", t)
    if args.scenario == "new-hire":
        batch = generate_records("new_hire", registry, args.records, args.seed + 1, received_date=RECEIVED)
        t = _step(f"generate: {args.records:,} new hires", t)
        path = out / "nh.txt"
        write_new_hire(batch.rows, path, created=RECEIVED)
        write_truth(batch.truth, out / "nh.parquet", file_name=path.name)
        t = _step("write W4 file + truth", t)
    else:
        path = out / "qw.txt"
        chunks = iter_records(
            "quarterly_wage",
            registry,
            args.records,
            args.seed + 1,
            received_date=RECEIVED,
            chunk_size=args.chunk,
        )
        write_quarterly_wage((c.rows for c in chunks), path, created=RECEIVED)
        t = _step(f"generate + write {args.records:,} QW (chunked)", t)
    size = path.stat().st_size
    print(f"{'total':<40} {t - begin:8.2f} s   file {size / 1e9:.2f} GB", flush=True)
    if not args.keep:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
