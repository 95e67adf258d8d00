"""`csmatch model train` and `csmatch evaluate` (owned by the matching work): the I/O around `matching`."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from matching.model import Thresholds

model_app = typer.Typer(help="Train and inspect the match model.", no_args_is_help=True)


def read_records(path: Path, source: str, received_date: date) -> pl.DataFrame:
    """Canonical records from a parquet of canonical records or a source file in its layout."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    import loaders

    return loaders.parse_file(source, path, received_date=received_date).records


@model_app.command("train")
def train_command(
    registry: Annotated[Path, typer.Option("--registry", help="Registry extract directory")],
    records: Annotated[Path, typer.Option("--records", help="Source file, or parquet of canonical records")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the model JSON")],
    source: Annotated[
        str, typer.Option("--source", help="new-hire | quarterly-wage | dmv | fidm")
    ] = "new-hire",
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Truth parquet (record_number, person_id): calibrate thresholds"),
    ] = None,
    target_precision: Annotated[float, typer.Option(help="Auto precision the thresholds aim for")] = 0.999,
    received_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD the file was received")] = None,
) -> None:
    """Train m/u by EM on a batch of records (unsupervised) and write a versioned model JSON.

    With --truth the decision thresholds are calibrated on the labelled batch; without, they are
    carried over from the shipped model.
    """
    import matching
    from loaders.registry import read_extract

    key = source.replace("-", "_")
    received = date.fromisoformat(received_date) if received_date else date.today()
    extract = read_extract(registry)
    prepared = matching.prepare_registry(extract.ncp, extract.alias, extract.known_employer)
    batch = read_records(records, key, received)
    model = matching.train(batch, prepared, key, thresholds=matching.load_model().thresholds)
    if truth is not None:
        # Calibrated at this registry's size; how review rises on a larger registry is carried over.
        profile = matching.get_profile(key).name
        calibrated = matching.calibrate(batch, pl.read_parquet(truth), prepared, model, key, target_precision)
        slope = model.thresholds_for(profile).review_per_doubling
        model.thresholds[profile] = replace(calibrated, review_per_doubling=slope)
    model.save(out)
    typer.echo(
        json.dumps(
            {
                "model": str(out),
                "version": model.version,
                "training": model.training,
                "thresholds": {name: asdict(t) for name, t in model.thresholds.items()},
            }
        )
    )


def _same_file_names(truth: pl.DataFrame, matches: pl.DataFrame, console: Console) -> pl.DataFrame:
    """The truth, keyed to the run's file: records are joined on (file_name, record_number), so a file run
    under another name than the truth's (one file each) is matched by record number, and said so."""
    if "file_name" not in truth.columns:  # keyed by record number alone
        return truth
    truth_names, run_names = set(truth["file_name"].unique()), set(matches["file_name"].unique())
    if truth_names & run_names or matches.is_empty():
        return truth
    if len(truth_names) == len(run_names) == 1:
        (name,) = run_names
        console.print(
            f"note: the truth's file is {truth_names.pop()}, the run's {name}: joined on record number",
            soft_wrap=True,
        )
        return truth.with_columns(file_name=pl.lit(name))
    console.print(
        "[yellow]warning[/yellow]: no file of the run is in the truth: every record counts as missed",
        soft_wrap=True,
    )
    return truth


def _warn_unlisted(matches: pl.DataFrame, truth: pl.DataFrame, console: Console) -> None:
    """Say so when matched records are missing from the truth: they are not counted, which flatters
    precision (a truth listing only the NCPs' records makes every wrong match on a non-NCP vanish)."""
    from matching.metrics import join_keys

    unlisted = matches.join(truth, on=join_keys(matches, truth), how="anti").height
    if unlisted:
        console.print(
            f"[yellow]warning[/yellow]: {unlisted} matched records are not in the truth and are not counted; "
            "a truth file lists every record, non-NCPs with an empty person_id",
            soft_wrap=True,
        )


def evaluate_command(
    matches: Annotated[Path, typer.Option("--matches", help="matches.parquet of a run")],
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Truth parquet (file_name, record_number, person_id, …)")
    ] = None,
    labels_db: Annotated[
        str | None,
        typer.Option("--labels-db", help="Use specialists' dispositions in this database as the truth"),
    ] = None,
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Write precision-recall and weight PNGs here")
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model whose thresholds to draw")] = None,
    source: Annotated[str, typer.Option("--source", help="Source whose thresholds to draw")] = "new-hire",
) -> None:
    """Precision and recall of a run's matches against a truth file, or against specialists' dispositions
    (`--labels-db`: only the records a specialist resolved count, so precision is the figure to read)."""
    import matching

    if (truth is None) == (labels_db is None):
        raise typer.BadParameter("give exactly one of --truth and --labels-db")
    match_frame = pl.read_parquet(matches)
    console = Console()
    if truth is not None:
        truth_frame = _same_file_names(pl.read_parquet(truth), match_frame, console)
        _warn_unlisted(match_frame, truth_frame, console)
    else:
        from pipeline.database import Database

        truth_frame = matching.truth_from_labels(Database(str(labels_db)).labels())
        match_frame = match_frame.join(truth_frame, on=["file_name", "record_number"], how="semi")
    metrics = matching.evaluate(match_frame, truth_frame)
    table = Table(title=f"{metrics['records']} records")
    for column in ("decision", "precision", "recall", "f1", "true positives", "false positives"):
        table.add_column(column, justify="right")
    for name in ("auto", "auto_or_review"):
        row = metrics[name]
        assert isinstance(row, dict)
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      str(row["true_positives"]), str(row["false_positives"]))  # fmt: skip
    console.print(table)
    for key, title in (("recall_by_fault", "recall by fault"), ("hard_negatives", "hard negatives")):
        rows = metrics.get(key)
        if isinstance(rows, list) and rows:
            sub = Table(title=title)
            for column in rows[0]:
                sub.add_column(column, justify="right")
            for row in rows:
                sub.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
            console.print(sub)
    if plots is not None:
        thresholds = matching.load_model(model).thresholds_for(matching.get_profile(source).name)
        for path in write_plots(matching.labelled(match_frame, truth_frame), thresholds, plots):
            console.print(f"wrote {path}")


def write_plots(frame: pl.DataFrame, thresholds: Thresholds, directory: Path) -> list[Path]:
    """Precision-recall curve over the match-weight threshold, and the match-weight histogram of
    correct and wrong matches, with the auto and review thresholds drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    positives = max(int(frame["person_id"].is_not_null().sum()), 1)
    matched = frame.filter(pl.col("match_weight").is_not_null()).sort("match_weight", descending=True)
    curve = matched.select(
        "match_weight",
        precision=pl.col("correct").cum_sum() / pl.int_range(1, pl.len() + 1),
        recall=pl.col("correct").cum_sum() / positives,
    )
    pr_path, hist_path = directory / "precision_recall.png", directory / "match_weight_histogram.png"
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(curve["recall"].to_numpy(), curve["precision"].to_numpy())
    for name, value in (("auto", thresholds.auto), ("review", thresholds.review)):
        at = curve.filter(pl.col("match_weight") >= value).tail(1)
        if at.height:
            ax.scatter(at["recall"].to_numpy(), at["precision"].to_numpy(), label=f"{name} >= {value:.1f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall over the match-weight threshold")
    ax.legend()
    fig.savefig(pr_path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, correct in (("correct", True), ("wrong", False)):
        weights = matched.filter(pl.col("correct") == correct)["match_weight"].to_numpy()
        ax.hist(weights, bins=60, alpha=0.6, label=label)
    ax.axvline(thresholds.auto, linestyle="--", color="k", label="auto")
    ax.axvline(thresholds.review, linestyle=":", color="k", label="review")
    ax.set(xlabel="match weight (bits)", ylabel="matches", title="Match weights", yscale="log")
    ax.legend()
    fig.savefig(hist_path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [pr_path, hist_path]
