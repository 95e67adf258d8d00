r"""The anchor: a competent Splink 5 (DuckDB) model on the same generated data as csmatch, side by side.

    uv run python -m bench.splink_anchor --persons 200000 --records 100000
    uv run python -m bench.splink_anchor --persons 2000000 --records 1000000 --train-records 100000

Both matchers see the same registry and the same W4 file. Splink gets the records already parsed and
normalised by csmatch (`matching.record_features`, `matching.prepare_registry`) for free, outside its timed
step, so its clock covers prediction only: load into DuckDB, block, compare, score, best candidate per
record. Splink's model: link_only registry identities <-> records; blocking on SSN, last name + DOB, first
name + DOB, phonetic surname + birth year + initial, DOB + ZIP, name + ZIP; comparisons with Jaro-Winkler
levels and term-frequency adjustment on names, Damerau-Levenshtein on SSN, DOB levels, address levels,
sex, suffix; prior from deterministic rules, u by random sampling, m by EM (two blocking passes). Training
runs in its own process beforehand (on a separate batch when --train-records is given).

Printed for both: F1 (best threshold), recall at precision >= 0.999 (best threshold), the shipped
csmatch decisions (`auto` precision, `auto`+`review` recall), wall time, CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from bench import data
from bench.common import emit, load_average, run_child

COLUMNS = ("first_name", "middle_name", "last_name", "suffix", "ssn", "dob", "sex", "street", "zip5", "city",
           "first_initial", "last_phonetic", "birth_year")  # fmt: skip


TRAIN_SEED = 7  # Splink's training batch: other records than any evaluated batch


def work_dir(persons: int, records: int) -> Path:
    return data.OUT / "splink" / f"{persons}_{records}"


# --- inputs (untimed) -------------------------------------------------------------------------------------


def write_features(where: data.Inputs, directory: Path, *, registry: bool) -> None:
    """Normalised records (and the registry identities) as parquet for DuckDB, via csmatch's normalisers."""
    import loaders
    import matching

    directory.mkdir(parents=True, exist_ok=True)
    parsed = loaders.parse_file(where.source, where.data, received_date=data.RECEIVED).records
    feats = matching.features.record_features(parsed, matching.get_profile(where.source))
    feats.select(
        pl.col("rec_id").cast(pl.Int64).alias("uid"), *COLUMNS, record_number=parsed["record_number"]
    ).write_parquet(directory / "records.parquet")
    if registry:
        ncp = pl.read_parquet(where.registry / "ncp.parquet")
        alias = pl.read_parquet(where.registry / "alias.parquet")
        prepared = matching.prepare_registry(ncp, alias)
        prepared.select(
            pl.col("identity_id").cast(pl.Int64).alias("uid"), "person_id", *COLUMNS
        ).write_parquet(directory / "registry.parquet")


# --- the Splink model -------------------------------------------------------------------------------------


def settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                "(street_l IS NULL AND zip5_l IS NULL) OR (street_r IS NULL AND zip5_r IS NULL)"
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("street"),
            cll.And(cll.JaroWinklerLevel("street", 0.93), cll.ExactMatchLevel("zip5")),
            cll.ExactMatchLevel("zip5"),
            cll.ExactMatchLevel("city"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        blocking_rules_to_generate_predictions=[
            block_on("ssn"),
            block_on("last_name", "dob"),
            block_on("first_name", "dob"),
            block_on("last_phonetic", "birth_year", "first_initial"),
            block_on("dob", "zip5"),
            block_on("first_name", "last_name", "zip5"),
        ],
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("ssn", [1, 2]),
            cl.NameComparison("first_name", jaro_winkler_thresholds=[0.92, 0.85]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("middle_name", [0.9]),
            cl.NameComparison("last_name", jaro_winkler_thresholds=[0.92, 0.85]).configure(
                term_frequency_adjustments=True
            ),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            address,
            cl.ExactMatch("sex"),
            cl.ExactMatch("suffix"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _linker(directory: Path, records: Path, model: Any) -> tuple[Any, Any]:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    con = db_api.duckdb_con
    registry = directory / "registry.parquet"
    con.execute(f"CREATE TABLE registry AS SELECT * EXCLUDE (person_id) FROM read_parquet('{registry}')")  # noqa: S608
    con.execute(f"CREATE TABLE records AS SELECT * EXCLUDE (record_number) FROM read_parquet('{records}')")  # noqa: S608
    tables = [
        db_api.register("registry", dataset_display_name="registry"),
        db_api.register("records", dataset_display_name="records"),
    ]
    return Linker(tables, model, log_level="WARNING"), con


def train(directory: Path) -> None:
    """Prior from deterministic rules, u by random sampling, m by EM; saves `model.json`."""
    from splink import block_on

    started = time.perf_counter()
    train_records = directory / "train_records.parquet"
    linker, _ = _linker(directory, train_records if train_records.exists() else directory / "records.parquet",
                        settings())  # fmt: skip
    linker.training.estimate_probability_two_random_records_match(
        [block_on("ssn", "dob"), block_on("ssn", "last_name", "first_name")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("ssn"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_name", "dob"))
    linker.misc.save_model_to_json(str(directory / "model.json"), overwrite=True)
    emit({"seconds": round(time.perf_counter() - started, 2)})


def predict(directory: Path) -> None:
    """Timed: load, predict, best candidate per record (`best.parquet`)."""
    started = time.perf_counter()
    linker, con = _linker(directory, directory / "records.parquet", str(directory / "model.json"))
    scored = linker.inference.predict(threshold_match_weight=-10)
    con.execute(
        f"""COPY (
            WITH pairs AS (
                SELECT
                    CASE WHEN source_dataset_l = 'records' THEN uid_l ELSE uid_r END AS rec_uid,
                    CASE WHEN source_dataset_l = 'records' THEN uid_r ELSE uid_l END AS identity_uid,
                    match_weight, match_probability
                FROM {scored.physical_name})
            SELECT * FROM pairs
            QUALIFY row_number() OVER (PARTITION BY rec_uid ORDER BY match_weight DESC, identity_uid) = 1
        ) TO '{directory / "best_raw.parquet"}' (FORMAT parquet)"""  # noqa: S608
    )
    emit({"seconds": round(time.perf_counter() - started, 2)})


# --- evaluation -------------------------------------------------------------------------------------------


def threshold_curve(best: pl.DataFrame, positives: int) -> dict[str, float]:
    """Best F1 and the recall at precision >= 0.999 over all cut-offs of `score` (one row per record:
    `score`, `correct`)."""
    by_score = (
        best.group_by("score").agg(n=pl.len(), tp=pl.col("correct").sum()).sort("score", descending=True)
    )
    curve = by_score.with_columns(taken=pl.col("n").cum_sum(), tp=pl.col("tp").cum_sum()).with_columns(
        precision=pl.col("tp") / pl.col("taken"), recall=pl.col("tp") / positives
    )
    curve = curve.with_columns(
        f1=2 * pl.col("precision") * pl.col("recall") / (pl.col("precision") + pl.col("recall"))
    )
    precise = curve.filter(pl.col("precision") >= 0.999)
    best_f1 = curve.select(pl.col("f1").max().fill_null(0.0)).item()
    recall = precise.select(pl.col("recall").max().fill_null(0.0)).item()
    return {"best_f1": round(best_f1, 4), "recall_at_p999": round(recall, 4)}


def splink_best(directory: Path) -> pl.DataFrame:
    """Splink's best candidate per record with `record_number`, `person_id`, `score`."""
    raw = pl.read_parquet(directory / "best_raw.parquet")
    records = pl.read_parquet(directory / "records.parquet", columns=["uid", "record_number"])
    registry = pl.read_parquet(directory / "registry.parquet", columns=["uid", "person_id"])
    return (
        raw.join(records, left_on="rec_uid", right_on="uid")
        .join(registry, left_on="identity_uid", right_on="uid")
        .select("record_number", "person_id", score="match_weight")
    )


def accuracy(best: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Threshold-free figures of a best-candidate frame (`record_number`, `person_id`, `score`)."""
    positives = int(truth["person_id"].is_not_null().sum())
    labelled = best.join(truth.select("record_number", true_id="person_id"), on="record_number", how="left")
    labelled = labelled.with_columns(correct=(pl.col("person_id") == pl.col("true_id")).fill_null(False))
    return threshold_curve(labelled, positives)


def csmatch_accuracy(run_dir: Path, truth: pl.DataFrame) -> dict[str, float]:
    """csmatch's shipped decisions and its threshold-free figures (on the `auto`/`review` rows)."""
    import matching

    matches = pl.read_parquet(run_dir / "matches.parquet")
    metrics = matching.evaluate(matches, truth.drop("file_name"))
    shipped = {
        "auto_precision": round(metrics["auto"]["precision"], 5),  # type: ignore[index]
        "auto_recall": round(metrics["auto"]["recall"], 5),  # type: ignore[index]
        "auto_review_recall": round(metrics["auto_or_review"]["recall"], 5),  # type: ignore[index]
    }
    # csmatch's operating curve: its `auto` decisions first, then by weight.
    auto_first = pl.col("match_weight") + pl.when(pl.col("decision") == "auto").then(1000.0).otherwise(0.0)
    best = matches.select("record_number", "person_id", score=auto_first)
    return {**accuracy(best, truth), **shipped}


# --- orchestration ----------------------------------------------------------------------------------------


def prepare(persons: int, records: int, train_records: int | None) -> tuple[data.Inputs, Path]:
    where = data.ensure_inputs("new_hire", persons, records)
    directory = work_dir(persons, records)
    if not (directory / "records.parquet").exists():
        write_features(where, directory, registry=True)
    if train_records and not (directory / "train_records.parquet").exists():
        other = data.ensure_inputs("new_hire", persons, train_records, seed=TRAIN_SEED)
        scratch = directory / "train"
        write_features(other, scratch, registry=False)
        (scratch / "records.parquet").rename(directory / "train_records.parquet")
    return where, directory


def run_splink(directory: Path, retrain: bool = False, model_from: Path | None = None) -> dict[str, Any]:
    """Train (once, in its own process; or take `model_from`'s model) then predict (timed, own process)."""
    if model_from is not None and model_from != directory:
        shutil.copyfile(model_from / "model.json", directory / "model.json")
    elif retrain or not (directory / "model.json").exists():
        trained = run_child("bench.splink_anchor", "train", "--dir", str(directory))
        print(f"splink training: {trained['seconds']} s (not counted), peak RSS {trained['peak_rss_mb']} MB",
              flush=True)  # fmt: skip
    return run_child("bench.splink_anchor", "predict", "--dir", str(directory))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", nargs="?", default="compare", choices=["compare", "train", "predict"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--train-records", type=int, help="train Splink on a separate batch of this size")
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    if args.step == "train":
        train(args.dir)
        return
    if args.step == "predict":
        predict(args.dir)
        return
    from bench.bench_pipeline import run_csmatch

    where, directory = prepare(args.persons, args.records, args.train_records)
    truth = pl.read_parquet(where.truth)
    ours = run_csmatch(where)
    theirs = run_splink(directory, args.retrain)
    rows = {
        "csmatch": {**csmatch_accuracy(Path(ours["run_dir"]), truth), **_timing(ours)},
        "splink": {**accuracy(splink_best(directory), truth), **_timing(theirs)},
    }
    print(f"\n== {args.records:,} W4 records vs {args.persons:,} NCPs (load average now {load_average()})")
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(pl.DataFrame([{"matcher": k, **v} for k, v in rows.items()]))
    print(json.dumps(rows))


def _timing(result: dict[str, Any]) -> dict[str, Any]:
    return {"wall_s": result["seconds"], "cpu_s": result["cpu_s"], "peak_rss_mb": result["peak_rss_mb"],
            "load": result["load_average"]}  # fmt: skip


if __name__ == "__main__":
    main()
