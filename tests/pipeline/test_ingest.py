"""`csmatch ingest`: everything new in the landing zone, source by source, on local folders and on S3."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from loaders.landing import open_landing
from pipeline.cli import app
from pipeline.database import Database
from pipeline.demo_data import DemoPaths, make_demo
from worklists import iwo_due_date

RECEIVED = date(2026, 11, 2)
SOURCES = ("new_hire", "quarterly_wage", "dmv", "fidm")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(
        tmp_path_factory.mktemp("demo"),
        persons=2_000,
        records=400,
        seed=5,
        sources=SOURCES,
        received_date=RECEIVED,
    )


def _stock_landing(uri: str, demo: DemoPaths, tmp_path: Path) -> None:
    """Drop every demo file in its source's folder, plus a new-hire file whose trailer is missing."""
    landing = open_landing(uri)
    for source, path in demo.files.items():
        landing.put_file(f"{source}/{path.name}", path)
    broken = tmp_path / "nh_broken.txt"
    broken.write_bytes(b"".join(demo.files["new_hire"].read_bytes().splitlines(keepends=True)[:-1]))
    landing.put_file("new_hire/nh_broken.txt", broken)


def _ingest(uri: str, db_url: str, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ingest", "--landing", uri, "--db", db_url, "--out", str(out)])
    return result.exit_code, result.output


def _check_ingest(uri: str, db_url: str, demo: DemoPaths, tmp_path: Path) -> None:
    out = tmp_path / "var"
    assert CliRunner().invoke(app, ["registry", "load", str(demo.registry), "--db", db_url]).exit_code == 0
    _stock_landing(uri, demo, tmp_path)

    code, output = _ingest(uri, db_url, out)
    assert code == 2, output  # one file was rejected: operations must notice
    landing = open_landing(uri)
    assert all(landing.list_incoming(source) == [] for source in SOURCES)
    assert landing.exists("rejected/new_hire/nh_broken.txt")
    assert "missing_trailer" in landing.read_bytes("rejected/new_hire/nh_broken.txt.reason.txt").decode()
    for source, path in demo.files.items():
        assert landing.exists(f"archive/{source}/{path.name}")

    summaries = [json.loads(p.read_text()) for p in (out / "runs").glob("*/summary.json")]
    assert sorted(s["source"] for s in summaries) == sorted(SOURCES)
    for s in summaries:
        assert s["read"] == 400 == s["parsed"] + s["quarantined"]
        assert s["parsed"] == s["matched_auto"] + s["matched_review"] + s["unmatched"]
        assert s["matched_auto"] > 0
    items = Database(db_url).list_items()
    kinds = set(items.get_column("item_kind"))
    assert {"locate_hit", "iwo_candidate", "match_review"} <= kinds
    received_today = datetime.now(
        UTC
    ).date()  # the landing zone's receipt time of the files, not their header date
    assert set(items.filter(pl.col("item_kind") == "iwo_candidate").get_column("due_date")) == {
        iwo_due_date(received_today)
    }

    code, output = _ingest(uri, db_url, out)  # nothing new: nothing happens
    assert code == 0, output
    assert Database(db_url).list_items().height == items.height


def test_ingest_local_landing_on_sqlite(demo: DemoPaths, tmp_path: Path) -> None:
    _check_ingest(str(tmp_path / "landing"), f"sqlite:///{tmp_path / 'csmatch.db'}", demo, tmp_path)


@pytest.mark.s3
@pytest.mark.postgres
def test_ingest_production_setup_s3_and_postgresql(
    demo: DemoPaths, tmp_path: Path, s3_landing_uri: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production configuration, same code: landing zone on S3 (moto's server) and PostgreSQL."""
    monkeypatch.setenv("CSMATCH_LANDING", s3_landing_uri)
    _check_ingest(s3_landing_uri, pg_url, demo, tmp_path)
