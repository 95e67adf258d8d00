r"""csmatch end to end at state scale: registry load, then parse + match + queue at 10%, 30% and 100%.

    uv run python -m bench.bench_pipeline new-hire --persons 2000000 --records 1000000 --splink
    uv run python -m bench.bench_pipeline wage --persons 2000000 --records 20000000
    uv run python -m bench.bench_pipeline registry --persons 2000000 --db postgresql://postgres@127.0.0.1:5432/bench_registry

Inputs come from `bench.data` (generated once, cached in bench/out/data). The registry is loaded once per
size into a template SQLite database (`csmatch registry load`, timed: the registry-load figure); every run
then starts from a copy of it, in a fresh process (`bench.run_ours`), so its wall time, CPU time and peak
RSS are its own. `--splink` also runs the Splink 5 anchor (`bench.splink_anchor`, predict only, trained
model) on the same records and prints the ratios csmatch / Splink. `--repeat 3` reports medians.
The machine is shared: the load average at each run is printed with it, and CPU seconds next to wall.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path
from typing import Any

import polars as pl

from bench import data
from bench.common import load_average, run_child

FRACTIONS = (0.1, 0.3, 1.0)


def pipeline_dir(persons: int) -> Path:
    return data.OUT / "pipeline" / str(persons)


def template_db(persons: int) -> Path:
    return pipeline_dir(persons) / "registry.db"


def load_registry(persons: int, db: str | None = None) -> dict[str, Any]:
    """Load the registry extract into `db` (default: the size's template SQLite database), timed."""
    directory = data.ensure_registry(persons)
    out = pipeline_dir(persons)
    out.mkdir(parents=True, exist_ok=True)
    if db is None:
        for path in out.glob("registry.db*"):
            path.unlink()
        db = f"sqlite:///{template_db(persons)}"
    elif db.startswith("postgres"):
        from bench.bench_registry_load import fresh_postgres_database

        fresh_postgres_database(db)
    return run_child(
        "bench.run_ours", "load-registry", "--registry", str(directory), "--db", db, "--out", str(out)
    )


def run_csmatch(
    where: data.Inputs, chunk_size: int | None = None, model: Path | None = None
) -> dict[str, Any]:
    """One run of csmatch on `where.data` from a fresh copy of the registry database, in its own process."""
    persons = int(where.registry.name.removeprefix("registry_"))
    if not template_db(persons).exists():
        loaded = load_registry(persons)
        print(f"registry load ({persons:,} NCPs, SQLite): {loaded['seconds']} s", flush=True)
    out = pipeline_dir(persons)
    run_db = out / "run.db"
    for path in out.glob("run.db*"):
        path.unlink()
    shutil.copyfile(template_db(persons), run_db)
    args = ["run", "--source", where.source, "--data", str(where.data), "--db", f"sqlite:///{run_db}",
            "--out", str(out)]  # fmt: skip
    if chunk_size:
        args += ["--chunk-size", str(chunk_size)]
    if model:
        args += ["--model", str(model)]
    return run_child("bench.run_ours", *args)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, annotated with all wall times."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["all_seconds"] = [r["seconds"] for r in runs]
    chosen["seconds"] = statistics.median(r["seconds"] for r in runs)
    return chosen


def scale(
    source: str,
    persons: int,
    records: int,
    repeat: int,
    splink: bool,
    chunk_size: int | None,
    train_records: int | None = None,
    model: Path | None = None,
) -> None:
    rows: list[dict[str, Any]] = []
    for fraction in FRACTIONS:
        n = int(records * fraction)
        where = data.ensure_inputs(source, persons, n)
        ours = median_of([run_csmatch(where, chunk_size, model) for _ in range(repeat)])
        row: dict[str, Any] = {
            "records": n,
            "wall_s": ours["seconds"],
            "cpu_s": ours["cpu_s"],
            "records_per_s": round(n / ours["seconds"]),
            "peak_rss_mb": ours["peak_rss_mb"],
            "load": ours["load_average"],
        }
        if repeat > 1:
            row["all_wall_s"] = str(ours["all_seconds"])
        if source == "new_hire":
            from bench.splink_anchor import csmatch_accuracy

            truth = pl.read_parquet(where.truth)
            shipped = csmatch_accuracy(Path(ours["run_dir"]), truth)
            row |= {k: shipped[k] for k in ("auto_precision", "auto_review_recall")}
        if splink:
            from bench.splink_anchor import prepare, run_splink

            # One Splink model per registry size, trained beforehand on a separate batch of train_records.
            _, full = prepare(persons, records, train_records)
            run_splink(full) if not (full / "model.json").exists() else None
            _, directory = prepare(persons, n, None)
            theirs = median_of([run_splink(directory, model_from=full) for _ in range(repeat)])
            row |= {
                "splink_wall_s": theirs["seconds"],
                "splink_cpu_s": theirs["cpu_s"],
                "splink_rss_mb": theirs["peak_rss_mb"],
                "wall_ratio": round(ours["seconds"] / theirs["seconds"], 3),
                "rss_ratio": round(ours["peak_rss_mb"] / theirs["peak_rss_mb"], 3),
            }
        rows.append(row)
        print(row, flush=True)
    print(f"\n== {source}: csmatch parse + match + queue against {persons:,} NCPs (load average now "
          f"{load_average()})")  # fmt: skip
    with pl.Config(tbl_rows=20, tbl_cols=30, tbl_width_chars=250, tbl_hide_dataframe_shape=True):
        print(pl.DataFrame(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["new-hire", "wage", "registry"])
    parser.add_argument("--persons", type=int, default=2_000_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--splink", action="store_true", help="also run the Splink anchor and print ratios")
    parser.add_argument("--chunk-size", type=int, help="records per match chunk (default: the source's)")
    parser.add_argument("--splink-train-records", type=int, default=100_000, help="Splink's training batch")
    parser.add_argument("--model", type=Path, help="csmatch model JSON (default: the shipped model)")
    parser.add_argument("--db", help="registry scenario: database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.scenario == "registry":
        for _ in range(args.repeat):
            loaded = load_registry(args.persons, args.db)
            print(f"registry load {args.persons:,} NCPs into {args.db or 'SQLite'}: {loaded}", flush=True)
        return
    source = "new_hire" if args.scenario == "new-hire" else "quarterly_wage"
    scale(
        source,
        args.persons,
        args.records,
        args.repeat,
        args.splink,
        args.chunk_size,
        args.splink_train_records,
        args.model,
    )


if __name__ == "__main__":
    main()
