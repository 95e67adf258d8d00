"""`csmatch model train` and `csmatch evaluate` on generated files (the I/O edges of matching)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

import loaders
import matching
from pipeline.cli import app
from pipeline.demo_data import make_demo

RECEIVED = date(2026, 1, 5)


def test_train_then_evaluate(tmp_path: Path) -> None:
    demo = make_demo(tmp_path / "demo", persons=2000, records=1500, seed=3, received_date=RECEIVED)
    runner = CliRunner()
    model_path = tmp_path / "model.json"
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            "--registry",
            str(demo.registry),
            "--records",
            str(demo.files["new_hire"]),
            "--source",
            "new-hire",
            "--out",
            str(model_path),
            "--truth",
            str(demo.truth["new_hire"]),
            "--received-date",
            RECEIVED.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))
    model = matching.load_model(model_path)
    assert summary["version"] == model.version
    assert model.training["records"] == 1500
    calibrated, shipped = model.thresholds["new_hire"], matching.load_model().thresholds["new_hire"]
    assert calibrated.calibrated_on["records"] > 0
    assert (calibrated.persons, calibrated.review_per_doubling) == (2000, shipped.review_per_doubling)

    # a run's matches file: auto/review rows of match_records
    parsed = loaders.parse_file("new_hire", demo.files["new_hire"], received_date=RECEIVED)
    registry = matching.prepare_registry(pl.read_csv(demo.registry / "ncp.csv", infer_schema=False))
    matches = matching.match_records(parsed.records, registry, model, "new_hire")
    matches_path = tmp_path / "matches.parquet"
    matches.filter(pl.col("decision") != "none").write_parquet(matches_path)

    plots = tmp_path / "plots"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--matches",
            str(matches_path),
            "--truth",
            str(demo.truth["new_hire"]),
            "--plots",
            str(plots),
            "--model",
            str(model_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "auto_or_review" in result.output and "recall by fault" in result.output
    for name in ("precision_recall.png", "match_weight_histogram.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
