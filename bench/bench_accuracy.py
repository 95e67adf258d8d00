r"""Matcher accuracy and speed on generated data: train, calibrate and evaluate on separate batches.

    uv run python bench/bench_accuracy.py --persons 200000 --records 100000
    uv run python bench/bench_accuracy.py --sources new_hire,quarterly_wage,dmv,fidm \
        --write-model matching/models/default.json

The registry and three record batches (training, threshold calibration, evaluation) come from
`pipeline.demo_data` with different seeds; each batch is written in its source layout and parsed by
`loaders`, as in production. The model is trained unsupervised on the training batch, its thresholds
calibrated on the labelled calibration batch, and the figures are measured on the evaluation batch
only (held out). Prints auto / auto+review precision and recall, recall per fault, hard negatives,
wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

import polars as pl

import loaders
import matching
from matching.model import version_stamp
from pipeline.demo_data import generate_records, generate_registry, write_file

RECEIVED = date(2026, 1, 5)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(
    source: str, registry: object, n: int, seed: int, directory: Path
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical records (written and parsed like a real file) and their truth."""
    generated = generate_records(source, registry, n, seed, received_date=RECEIVED)  # type: ignore[arg-type]
    path = directory / f"{source}_{seed}.txt"
    write_file(source, generated.rows, path, received_date=RECEIVED)
    parsed = loaders.parse_file(source, path, received_date=RECEIVED)
    truth = generated.truth.with_columns(file_name=pl.lit(path.name))
    return parsed.records, truth


def report(name: str, metrics: dict[str, object]) -> None:
    print(f"\n== {name}: {metrics['records']} records")
    for key in ("auto", "auto_or_review"):
        row = metrics[key]
        assert isinstance(row, dict)
        print(
            f"{key:>15}: precision {row['precision']:.5f}  recall {row['recall']:.5f}  f1 {row['f1']:.4f}"
            f"  (tp {row['true_positives']}, fp {row['false_positives']}, positives {row['positives']})"
        )
    for key in ("recall_by_fault", "hard_negatives"):
        rows = metrics.get(key)
        if isinstance(rows, list) and rows:
            with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
                print(pl.DataFrame(rows))


def scale_thresholds(
    model: matching.Model, sources: list[str], persons: int, scale_persons: int, n: int, seed: int, work: Path
) -> None:
    """Calibrate each source again on `scale_persons` NCPs and fit how its review threshold rises."""
    registry = generate_registry(scale_persons, seed)
    prepared = matching.prepare_registry(registry.ncp, registry.alias, registry.known_employer)
    for offset, source in enumerate(sources, start=10):
        records, truth = batch(source, registry, n, seed + offset, work)
        at_scale = matching.calibrate(records, truth, prepared, model, source)
        base = model.thresholds[source]
        base = base if base.persons else replace(base, persons=persons)
        model.thresholds[source] = base.with_review_scaling(at_scale)
        print(
            f"{source}: review {base.review:.2f} at {base.persons} NCPs, {at_scale.review:.2f}"
            f" at {scale_persons}"
        )
    model.version, model.created = version_stamp()  # decides differently from here


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sources", default="new_hire", help="comma-separated sources to evaluate")
    parser.add_argument("--write-model", type=Path, help="save the trained, calibrated model here")
    parser.add_argument("--model", type=Path, help="evaluate this model instead of training one")
    parser.add_argument("--dump", type=Path, help="write each source's evaluation truth + matches here")
    parser.add_argument(
        "--scale-persons",
        type=int,
        help="calibrate again against a registry of this many NCPs and fit each source's review slope"
        " (Thresholds.review_per_doubling); --model thresholds without a size count as at --persons",
    )
    args = parser.parse_args()
    figures: dict[str, object] = {"persons": args.persons, "records": args.records}

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        registry = generate_registry(args.persons, args.seed)
        t = time.perf_counter()
        prepared = matching.prepare_registry(registry.ncp, registry.alias, registry.known_employer)
        figures["prepare_registry_s"] = round(time.perf_counter() - t, 2)

        sources = args.sources.split(",")
        if args.model:
            model = matching.load_model(args.model)
        else:
            train_records, _ = batch("new_hire", registry, args.records, args.seed + 1, work)
            t = time.perf_counter()
            model = matching.train(train_records, prepared, "new_hire", seed=args.seed)
            figures["train_s"] = round(time.perf_counter() - t, 2)
            del train_records
            for offset, source in enumerate(sources, start=10):
                # Thresholds per source, each on its own labelled batch (not the evaluation batch).
                calib_records, calib_truth = batch(source, registry, args.records, args.seed + offset, work)
                t = time.perf_counter()
                model.thresholds[source] = matching.calibrate(
                    calib_records, calib_truth, prepared, model, source
                )
                figures[f"calibrate_{source}_s"] = round(time.perf_counter() - t, 2)
        if args.scale_persons:
            t = time.perf_counter()
            scale_thresholds(model, sources, args.persons, args.scale_persons, args.records, args.seed, work)
            figures["calibrate_at_scale_s"] = round(time.perf_counter() - t, 2)
        figures["thresholds"] = {
            name: {k: round(v, 2) for k, v in asdict(t).items() if isinstance(v, float)}
            for name, t in model.thresholds.items()
        }

        for offset, source in enumerate(sources, start=20):
            records, truth = batch(source, registry, args.records, args.seed + offset, work)
            rss_before = peak_rss_mb()
            t = time.perf_counter()
            matches = matching.match_records(records, prepared, model, source)
            elapsed = time.perf_counter() - t
            figures[f"match_{source}_s"] = round(elapsed, 2)
            figures[f"match_{source}_records_per_s"] = round(records.height / elapsed)
            figures[f"peak_rss_mb_after_{source}"] = round(max(rss_before, peak_rss_mb()))
            report(source, matching.evaluate(matches.filter(pl.col("decision") != "none"), truth))
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                found = matches.rename({"person_id": "matched_person_id"}).drop("source")
                truth.join(found, on=["file_name", "record_number"], how="left").write_parquet(
                    args.dump / f"{source}.parquet"
                )
        figures["total_s"] = round(time.perf_counter() - started, 1)
        figures["peak_rss_mb"] = round(peak_rss_mb())
    print("\n" + json.dumps(figures, indent=1))
    if args.write_model:
        model.save(args.write_model)
        print(f"model {model.version} written to {args.write_model}")


if __name__ == "__main__":
    main()
