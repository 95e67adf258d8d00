"""Training: EM recovers known m-probabilities; a model trained on generated data is sane and round-trips."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import loaders
from matching import Model, load_model, prepare_registry, train
from matching.compare import LEVELS
from matching.train import run_em
from pipeline.demo_data import generate_records, generate_registry, write_file
from tests.matching.conftest import U_TEST

RECEIVED = date(2026, 1, 5)


def test_em_recovers_m_from_pattern_counts() -> None:
    """Pairs drawn from a known two-class model over three comparisons (the others null)."""
    rng = np.random.default_rng(7)
    true_m = {
        "ssn": [0.9, 0.04, 0.02, 0.0, 0.0, 0.04],
        "first_name": [0.8, 0.05, 0.02, 0.01, 0.04, 0.03, 0.02, 0.03],
        "dob": [0.85, 0.02, 0.05, 0.03, 0.05],
    }
    u = {c: dict(levels) for c, levels in U_TEST.items()}
    u["ssn"] = {"exact": 0.001, "one_substitution": 0.004, "transposition": 0.002, "last4_agree": 1e-9,
                "last4_differ": 1e-9, "other": 0.993}  # fmt: skip
    u["dob"] = {
        "exact": 0.01,
        "day_month_swapped": 0.005,
        "off_by_one": 0.02,
        "one_field": 0.1,
        "else": 0.865,
    }
    n, lam = 200_000, 0.3
    is_match = rng.random(n) < lam
    columns = {}
    for c in LEVELS:
        if c not in true_m:
            columns[f"{c}_code"] = np.zeros(n, dtype=np.int64)
            continue
        p_m = np.array(true_m[c]) / sum(true_m[c])
        p_u = np.array([u[c][lvl] for lvl in LEVELS[c][1:]])
        p_u = p_u / p_u.sum()
        draw_m = rng.choice(len(p_m), n, p=p_m) + 1
        draw_u = rng.choice(len(p_u), n, p=p_u) + 1
        columns[f"{c}_code"] = np.where(is_match, draw_m, draw_u)
    codes = pl.DataFrame(columns).cast(pl.UInt8)
    patterns = codes.group_by(codes.columns).len("count").with_columns(different=pl.lit(False))
    m, share, _ = run_em(patterns, u)
    assert share == pytest.approx(lam, abs=0.01)
    for c, expected in true_m.items():
        got = [m[c][lvl] for lvl in LEVELS[c][1:]]
        assert np.allclose(got, np.array(expected) / sum(expected), atol=0.015), c


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    registry = generate_registry(3000, seed=5)
    batch = generate_records("new_hire", registry, 2000, seed=6, received_date=RECEIVED)
    path = tmp_path_factory.mktemp("train") / "nh.txt"
    write_file("new_hire", batch.rows, path, received_date=RECEIVED)
    records = loaders.parse_file("new_hire", path, received_date=RECEIVED).records
    return records, prepare_registry(registry.ncp, registry.alias)


def test_trained_model_is_sane_and_round_trips(
    generated: tuple[pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    records, registry = generated
    model = train(records, registry, "new_hire", u_pairs=100_000, seed=1)
    for c in ("ssn", "first_name", "last_name", "dob"):
        assert model.weight(c, "exact") > 5 > 0 > model.weight(c, "else" if c != "ssn" else "other"), c
        assert sum(model.m[c].values()) == pytest.approx(1.0)
    assert 0.2 < model.match_rate < 0.7  # the generator makes about 40% of new hires NCPs
    assert model.training["records"] == records.height and model.training["blocked_pairs"] > 0
    path = tmp_path / "model.json"
    model.save(path)
    text = path.read_text()
    assert records["last_name"].drop_nulls()[0] not in text  # counts only, no PII
    again = load_model(path)
    assert again.version == model.version and again.m == model.m and again.match_rate == model.match_rate
    data = json.loads(text)
    assert data["version"].startswith("fs-") and data["created"]


def test_shipped_model_loads_with_thresholds_per_source() -> None:
    model = load_model()
    assert isinstance(model, Model)
    for source in ("new_hire", "quarterly_wage", "dmv", "fidm"):
        thresholds = model.thresholds_for(source)
        assert thresholds.review <= thresholds.auto
        assert thresholds.auto >= 9.9  # never below P(match) = 0.999 by the model's own account
    assert model.thresholds_for("ui_claim") == model.thresholds_for("new_hire")


def test_model_file_missing_levels_is_rejected(tmp_path: Path) -> None:
    data = json.loads(load_model().to_json())
    del data["m"]["dob"]["day_month_swapped"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="dob"):
        load_model(path)
