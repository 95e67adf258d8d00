"""Every bad-input corpus file through the real CLI: a clear result, never a traceback, counts that reconcile.

The corpus (`tests/corpus/`, built by `make_corpus.py`) lists each file's expected outcome in `expected.json`.
All files share one workspace (one registry load), as a day of files would: each test checks what *its*
file changed. A few run as real subprocesses of the installed `csmatch` script, the rest in-process.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import loaders
from loaders.registry import read_extract
from tests.reliability.clirun import CORPUS, Result, Workspace, sha256_of
from tests.reliability.pii import PiiScanner

EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
RECEIVED = date(2026, 3, 2)
EXIT_REJECTED = 2
# Run as child processes (one per outcome kind), so the installed entry point is exercised too.
IN_SUBPROCESS = {"nh_binary_garbage.txt", "dmv_not_utf8.psv", "nh_duplicate.txt"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.sqlite(tmp_path_factory.mktemp("corpus"))
    assert ws.cli("registry", "load", str(CORPUS / "registry")).code == 0
    return ws


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    extract = read_extract(CORPUS / "registry")
    return PiiScanner.of([extract.ncp, extract.alias])


def run(ws: Workspace, name: str) -> Result:
    source = EXPECTED[name]["source"].replace("_", "-")
    args = ("run", source, str(CORPUS / "files" / name), "--received-date", RECEIVED.isoformat())
    return ws.subprocess(*args) if name in IN_SUBPROCESS else ws.cli(*args)


def test_the_corpus_is_broad_enough() -> None:
    sources = Counter(e["source"] for e in EXPECTED.values())
    outcomes = Counter(e["outcome"] for e in EXPECTED.values())
    assert len(EXPECTED) >= 30 and set(sources) == {"new_hire", "quarterly_wage", "dmv", "fidm"}
    assert outcomes["rejected"] >= 10 and outcomes["accepted"] >= 10 and outcomes["skipped"] == 1
    assert all((CORPUS / "files" / name).exists() for name in EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_corpus_file(name: str, workspace: Workspace, scanner: PiiScanner) -> None:
    expect = EXPECTED[name]
    path = CORPUS / "files" / name
    if expect["outcome"] == "skipped":
        processed_before = workspace.db().manifest_entry(sha256_of(CORPUS / "files" / expect["after"]))
        if processed_before is None:  # run alone (-k): process the original first
            assert run(workspace, expect["after"]).code == 0
    items_before = workspace.items()

    result = run(workspace, name)

    assert "Traceback" not in result.output and "Error" not in result.output, result.output
    assert scanner.hits(result.output) == [], "PII in the CLI output"
    if expect["outcome"] == "rejected":
        assert result.code == EXIT_REJECTED, result.output
        assert result.stdout.strip().splitlines() == [result.stdout.strip()], "reason on one line"
        assert result.stdout.startswith(f"rejected: {expect['reason']}: ")
        assert_nothing_queued(workspace, items_before)
        entry = workspace.db().manifest_entry(sha256_of(path))
        assert entry is not None and (entry.status, entry.reason) == ("rejected", expect["reason"])
        assert not workspace.run_dir(expect["source"], path).exists()
    elif expect["outcome"] == "skipped":
        assert result.code == 0 and result.stdout.startswith("skipped:"), result.output
        assert_nothing_queued(workspace, items_before)
        first = json.loads((workspace.run_dir(expect["source"], path) / "summary.json").read_text())
        assert first["file_name"] == expect["after"], "the first run's outputs were left as they were"
    else:
        assert result.code == 0, result.output
        assert_accepted(workspace, path, expect, items_before)


def assert_nothing_queued(ws: Workspace, before: pl.DataFrame) -> None:
    after = ws.items()
    assert after.height == before.height
    assert after.get_column("evidence_count").sum() == before.get_column("evidence_count").sum()


def assert_accepted(ws: Workspace, path: Path, expect: dict[str, Any], items_before: pl.DataFrame) -> None:
    out = ws.run_dir(expect["source"], path)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == summary["parsed"] + summary["quarantined"]
    assert summary["parsed"] == summary["matched_auto"] + summary["matched_review"] + summary["unmatched"]
    assert (summary["read"], summary["quarantined"]) == (expect["read"], expect["quarantined"])

    quarantine = pl.read_parquet(out / "quarantine.parquet")
    assert dict(Counter(quarantine.get_column("reason").to_list())) == expect["reasons"]
    matches = pl.read_parquet(out / "matches.parquet")
    assert matches.height == summary["matched_auto"] + summary["matched_review"]
    quarantined = set(quarantine.get_column("record_number"))
    assert not quarantined & set(matches.get_column("record_number")), "a quarantined record was matched"

    new = ws.items().join(items_before.select("item_id"), on="item_id", how="anti")
    assert new.filter(pl.col("run_id") == summary["run_id"]).height == new.height
    assert not quarantined & set(new.get_column("record_number")), "a quarantined record was queued"
    assert set(new.get_column("record_number")) <= set(matches.get_column("record_number"))

    # Nothing silently lost: every detail line is a parsed record or a quarantined one, exactly once.
    parsed = loaders.parse_file(expect["source"], path, received_date=RECEIVED)
    numbers = pl.concat([parsed.records["record_number"], parsed.quarantine["record_number"]]).sort()
    assert numbers.to_list() == list(range(2, 2 + expect["read"]))
    issues = parsed.records.get_column("data_issues").explode().drop_nulls().to_list()
    assert dict(Counter(issues)) == expect["data_issues"]


def test_a_file_rejected_as_the_wrong_source_still_runs_as_the_right_one(tmp_path: Path) -> None:
    """`run new-hire` on a wage file rejects it as new hire only: `run quarterly-wage` then processes it."""
    ws = Workspace.sqlite(tmp_path)
    assert ws.cli("registry", "load", str(CORPUS / "registry")).code == 0
    wage_file = CORPUS / "files" / "qw_good.txt"
    assert (CORPUS / "files" / "nh_is_a_qw_file.txt").read_bytes() == wage_file.read_bytes()

    wrong = ws.cli("run", "new-hire", str(wage_file))
    right = ws.cli("run", "quarterly-wage", str(wage_file), "--received-date", RECEIVED.isoformat())
    again = ws.cli("run", "new-hire", str(wage_file))

    assert wrong.code == EXIT_REJECTED and wrong.stdout.startswith("rejected: wrong_file_type: ")
    assert right.code == 0, right.output
    assert json.loads((ws.run_dir("quarterly_wage", wage_file) / "summary.json").read_text())["read"] == 8
    entry = ws.db().manifest_entry(sha256_of(wage_file))
    assert entry is not None and (entry.source, entry.status) == ("quarterly_wage", "processed")
    assert again.code == 0 and again.stdout.startswith("skipped:")  # processed bytes are not run again


def test_a_bad_registry_extract_is_refused_in_one_line_and_the_snapshot_kept(tmp_path: Path) -> None:
    ws = Workspace.sqlite(tmp_path)
    assert ws.cli("registry", "load", str(CORPUS / "registry")).code == 0
    snapshot = ws.db().current_snapshot()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ncp.csv").write_text("person_id,ssn\nP1,123456789\n")

    results = [ws.cli("registry", "load", str(broken)), ws.cli("registry", "load", str(tmp_path / "absent"))]

    for result in results:
        assert result.code == EXIT_REJECTED and "Traceback" not in result.output, result.output
        assert len(result.stdout.strip().splitlines()) == 1 and result.stdout.startswith("rejected: ")
    assert ws.db().current_snapshot() == snapshot
