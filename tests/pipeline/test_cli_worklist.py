"""`csmatch worklist list|claim|resolve|export` and `csmatch audit` against a real SQLite database."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.database import Database
from tests.worklists import scenario as s


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'var' / 'csmatch.db'}"
    db = Database(url)
    db.create_schema()
    db.replace_registry(s.REGISTRY)
    rules = ("locate_hit", "iwo_candidate")
    s.queue(db, "new_hire", rules, s.NEW_HIRE_RECEIVED, "a" * 64, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS)
    db.dispose()
    yield url


def _run(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_list_claim_resolve_export_audit(db_url: str, tmp_path: Path) -> None:
    listed = _run("worklist", "list", "--worker", "CW2", "--db", db_url)
    assert "iwo_candidate" in listed and "***-**-0001" in listed and "100000001" not in listed
    claimed = _run("worklist", "claim", "--worker", "CW2", "--n", "2", "--db", db_url)
    assert "Claimed by CW2: 2 items" in claimed
    db = Database(db_url)
    mine = db.list_items(worker="CW2", status="claimed")
    assert mine.height == 2
    item = int(mine.get_column("item_id")[0])
    out = _run(
        "worklist", "resolve", str(item), "--disposition", "already-known", "--worker", "CW2", "--db", db_url
    )
    assert "already-known" in out
    assert db.list_items(status="resolved").get_column("item_id").to_list() == [item]

    path = tmp_path / "export" / "cw2.csv"
    _run("worklist", "export", "--worker", "CW2", "--format", "csv", "--output", str(path), "--db", db_url)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and str(item) not in {r["item_id"] for r in rows}  # resolved items left out
    assert {r["caseworker_id"] for r in rows} == {"CW2"}

    chain = json.loads(_run("audit", str(item), "--db", db_url))
    assert chain["item"]["item_id"] == item and chain["item"]["disposition"] == "already-known"
    assert [a["action"] for a in chain["actions"]] == ["claim", "resolve"]
    assert chain["sightings"][0]["file_sha256"] == "a" * 64
    db.dispose()


def test_errors_exit_non_zero(db_url: str) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["worklist", "resolve", "999", "--disposition", "confirmed", "--worker", "X",
                                  "--db", db_url])  # fmt: skip
    assert missing.exit_code == 1 and "no work item 999" in missing.output
    bad = runner.invoke(
        app, ["worklist", "resolve", "1", "--disposition", "maybe", "--worker", "X", "--db", db_url]
    )
    assert bad.exit_code == 2
    assert runner.invoke(app, ["audit", "999", "--db", db_url]).exit_code == 1


def test_db_defaults_from_the_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CSMATCH_DB_URL", db_url)
    out = tmp_path / "all.xlsx"
    assert "wrote 10 items" in _run("worklist", "export", "--format", "xlsx", "--output", str(out))
    assert out.stat().st_size > 0
