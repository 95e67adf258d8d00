"""The spine, end to end through the CLI on the embedded default: registry + new-hire file → queued work."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import matching
from pipeline.cli import app
from pipeline.database import Database
from pipeline.demo_data import DemoPaths, make_demo
from worklists import iwo_due_date

RECEIVED = date(2026, 11, 25)  # the day before Thanksgiving: IWO due dates skip the holiday and the weekend
MATCHES_COLUMNS = {
    "source", "file_name", "record_number", "person_id", "match_weight", "match_probability", "decision",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(
        tmp_path_factory.mktemp("demo"), persons=3_000, records=1_500, seed=11, received_date=RECEIVED
    )


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"CSMATCH_DB_URL": f"sqlite:///{tmp_path / 'csmatch.db'}", "CSMATCH_OUT": str(tmp_path / "var")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def cli(*args: str) -> tuple[int, str]:
    """Exit code and what a person reads: stdout and stderr without the structured log lines."""
    result = CliRunner().invoke(app, list(args))
    said = [line for line in result.output.splitlines() if not line.startswith("timestamp=")]
    return result.exit_code, "\n".join(said)


def run_dir(env: dict[str, str], output: str) -> Path:
    runs = sorted((Path(env["CSMATCH_OUT"]) / "runs").iterdir())
    assert len(runs) == 1, output
    return runs[0]


def queued(env: dict[str, str]) -> pl.DataFrame:
    return Database(env["CSMATCH_DB_URL"]).list_items()


def test_new_hire_file_becomes_queued_work(demo: DemoPaths, env: dict[str, str]) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    code, output = cli(
        "run", "new-hire", str(demo.files["new_hire"]), "--received-date", RECEIVED.isoformat()
    )
    assert code == 0, output

    out = run_dir(env, output)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == 1_500
    assert summary["read"] == summary["parsed"] + summary["quarantined"]
    assert summary["parsed"] == summary["matched_auto"] + summary["matched_review"] + summary["unmatched"]
    matches = pl.read_parquet(out / "matches.parquet")
    assert set(matches.columns) >= MATCHES_COLUMNS
    assert any(c.endswith("_level") for c in matches.columns) and any(
        c.endswith("_weight") for c in matches.columns
    )
    assert set(matches.get_column("decision").unique()) <= {"auto", "review"}
    assert matches.height == summary["matched_auto"] + summary["matched_review"]
    assert set(pl.read_parquet(out / "quarantine.parquet").columns) >= {"record_number", "reason"}

    truth = pl.read_parquet(demo.truth["new_hire"])
    auto = matches.filter(pl.col("decision") == "auto").join(truth, on="record_number", suffix="_true")
    correct = auto.filter(pl.col("person_id") == pl.col("person_id_true")).height
    assert (
        correct / auto.height >= 0.995
    )  # precision first: wrong auto matches send IWOs to strangers' employers
    assert auto.height / truth.filter(pl.col("person_id").is_not_null()).height >= 0.85

    items = queued(env)
    kinds = set(items.get_column("item_kind").unique())
    assert {"locate_hit", "iwo_candidate"} <= kinds
    iwo = items.filter(pl.col("item_kind") == "iwo_candidate")
    assert (iwo.get_column("due_date") == iwo_due_date(RECEIVED)).all()
    assert iwo_due_date(RECEIVED) == date(2026, 11, 30)  # Wed; Thanksgiving skipped, Fri is day 1, Mon day 2
    auto_persons = set(matches.filter(pl.col("decision") == "auto").get_column("person_id"))
    assert set(items.filter(pl.col("item_kind") != "match_review").get_column("person_id")) <= auto_persons


def test_running_the_same_file_twice_changes_nothing(demo: DemoPaths, env: dict[str, str]) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    file = str(demo.files["new_hire"])
    assert cli("run", "new-hire", file)[0] == 0
    before = queued(env)
    code, output = cli("run", "new-hire", file)
    assert code == 0 and "skipped" in output
    code, output = cli("run", "new-hire", file, "--force")
    assert code == 0, output
    after = queued(env)
    assert after.height == before.height
    assert after.get_column("idempotency_key").n_unique() == after.height


def test_a_rejected_file_exits_non_zero_and_queues_nothing(
    demo: DemoPaths, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    broken = tmp_path / "nh_no_trailer.txt"
    lines = demo.files["new_hire"].read_bytes().splitlines(keepends=True)
    broken.write_bytes(b"".join(lines[:-1]))
    code, output = cli("run", "new-hire", str(broken))
    assert code != 0
    assert "missing_trailer" in output and len(output.strip().splitlines()) == 1
    assert queued(env).height == 0
    assert cli("run", "new-hire", str(broken))[0] != 0  # still rejected the second time


def test_running_before_any_registry_is_a_clear_error(demo: DemoPaths, env: dict[str, str]) -> None:
    code, output = cli("run", "new-hire", str(demo.files["new_hire"]))
    assert code != 0 and "registry load" in output


def test_a_missing_file_is_a_one_line_error(demo: DemoPaths, env: dict[str, str], tmp_path: Path) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    code, output = cli("run", "new-hire", str(tmp_path / "nh-missing.txt"))
    assert (code, output) == (4, f"error: no such file: {tmp_path / 'nh-missing.txt'}")


def test_report_takes_db_and_restores_a_lost_summary_and_names_an_unknown_run(
    demo: DemoPaths, env: dict[str, str]
) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    assert cli("run", "new-hire", str(demo.files["new_hire"]))[0] == 0
    run = run_dir(env, "")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").unlink()
    (run / "report.html").unlink()
    code, output = cli("report", run.name, "--db", env["CSMATCH_DB_URL"], "--out", env["CSMATCH_OUT"])
    assert code == 0 and (run / "report.html").is_file()
    assert json.loads((run / "summary.json").read_text())["read"] == summary["read"]
    code, output = cli("report", "new_hire-0000000000000000")
    assert code == 4 and output.startswith("error: no finished run new_hire-0000000000000000")


def test_evaluate_joins_a_renamed_file_to_its_truth_by_record_number(
    demo: DemoPaths, env: dict[str, str], tmp_path: Path
) -> None:
    renamed = tmp_path / "nh-renamed.txt"
    renamed.write_bytes(demo.files["new_hire"].read_bytes().replace(b"\r\n", b"\n"))
    assert cli("registry", "load", str(demo.registry))[0] == 0
    assert cli("run", "new-hire", str(renamed))[0] == 0
    matches = str(run_dir(env, "") / "matches.parquet")
    code, output = cli("evaluate", "--matches", matches, "--truth", str(demo.truth["new_hire"]))
    assert code == 0 and "joined on record number" in output
    auto = next(line for line in output.splitlines() if line.startswith("│") and "auto " in line)
    assert float(auto.split("│")[3]) > 0.9  # recall: the records were found, not all counted as missed


def test_evaluate_warns_when_matched_records_are_missing_from_the_truth(
    demo: DemoPaths, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("registry", "load", str(demo.registry))[0] == 0
    assert cli("run", "new-hire", str(demo.files["new_hire"]))[0] == 0
    matches = str(run_dir(env, "") / "matches.parquet")
    full = pl.read_parquet(demo.truth["new_hire"])
    code, output = cli("evaluate", "--matches", matches, "--truth", str(demo.truth["new_hire"]))
    assert code == 0 and "not in the truth" not in output
    ncps_only = tmp_path / "ncps_only.parquet"
    full.filter(pl.col("person_id").is_not_null()).write_parquet(ncps_only)
    code, output = cli("evaluate", "--matches", matches, "--truth", str(ncps_only))
    unlisted = pl.read_parquet(matches).join(full.filter(pl.col("person_id").is_null()), on="record_number")
    assert code == 0 and unlisted.height > 0
    assert f"{unlisted.height} matched records are not in the truth" in " ".join(output.split())
    by_number = tmp_path / "by_record_number.parquet"  # a truth without file_name: keyed by record number
    full.filter(pl.col("person_id").is_not_null()).drop("file_name").write_parquet(by_number)
    code, output = cli("evaluate", "--matches", matches, "--truth", str(by_number))
    assert code == 0 and f"{unlisted.height} matched records are not in the truth" in " ".join(output.split())


def test_dispositions_become_labels_that_evaluate_reads(demo: DemoPaths, env: dict[str, str]) -> None:
    """A specialist's `confirmed` / `wrong-person` is truth for `csmatch evaluate --labels-db`."""
    assert cli("registry", "load", str(demo.registry))[0] == 0
    assert cli("run", "new-hire", str(demo.files["new_hire"]))[0] == 0
    db = Database(env["CSMATCH_DB_URL"])
    reviews = db.list_items(kind="match_review").head(4)
    truth = pl.read_parquet(demo.truth["new_hire"])
    judged = reviews.join(truth, on="record_number", suffix="_true").with_columns(
        right=pl.col("person_id") == pl.col("person_id_true")
    )
    for item_id, right in judged.select("item_id", "right").iter_rows():
        disposition = "confirmed" if right else "wrong-person"
        assert (
            cli("worklist", "resolve", str(item_id), "--disposition", disposition, "--worker", "W1")[0] == 0
        )

    code, output = cli(
        "evaluate",
        "--matches",
        str(run_dir(env, "") / "matches.parquet"),
        "--labels-db",
        env["CSMATCH_DB_URL"],
    )
    assert code == 0, output
    assert f"{judged.height} records" in output
    right = int(judged.get_column("right").sum())
    assert f"{right / judged.height:.4f}" in output  # precision of the reviewed matches, as judged


def test_a_run_decides_with_the_review_threshold_of_its_registry_size(
    demo: DemoPaths, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thresholds calibrated on a tenth of the registry: review rises by the slope × log2(10), recorded."""
    model = matching.load_model()
    calibrated = replace(model.thresholds["new_hire"], persons=300, review_per_doubling=1.0)
    model.thresholds["new_hire"] = calibrated
    model.save(tmp_path / "model.json")
    monkeypatch.setenv("CSMATCH_MODEL_PATH", str(tmp_path / "model.json"))
    assert cli("registry", "load", str(demo.registry))[0] == 0
    code, output = cli("run", "new-hire", str(demo.files["new_hire"]))
    assert code == 0, output
    out = run_dir(env, output)
    review = json.loads((out / "summary.json").read_text())["thresholds"]["review"]
    assert review == pytest.approx(calibrated.review + math.log2(3_000 / 300))
    reviews = pl.read_parquet(out / "matches.parquet").filter(pl.col("decision") == "review")
    # below the threshold only where the SSN alone agrees (domain.md: someone else on the NCP's SSN)
    below = reviews.filter(pl.col("match_weight") < review)
    assert reviews.height > below.height and (below["ssn_level"] == "exact").all()
