"""No SSN, name or date of birth of an input in logs, messages, reports or metrics; files are private.

The whole pipeline runs at DEBUG through the CLI: registry load, every source (plus rejected files, whose
messages are exceptions' texts), run reports, model evaluation (the metrics), worklist list/claim/resolve and
exports. Every line written and every report is scanned for the SSNs (raw and dashed), names and dates of
birth (YYYY-MM-DD and CCYYMMDD) of the registry and of every input record. Then: exports carry masked SSNs
only; run artifacts and the SQLite file are owner-only; a full `csmatch ingest` from S3 encrypts every put.
"""

from __future__ import annotations

import io
import logging
import re
import stat
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import loaders
from loaders.registry import read_extract
from pipeline.demo_data import DemoPaths, make_demo
from tests.fixtures_s3 import MotoS3
from tests.reliability.clirun import Result, Workspace
from tests.reliability.pii import PiiScanner

RECEIVED = date(2026, 3, 2)
SOURCES = ("new_hire", "quarterly_wage", "dmv", "fidm")
DEBUG = {"CSMATCH_LOG_LEVEL": "DEBUG"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(
        tmp_path_factory.mktemp("pii"),
        persons=400,
        records=150,
        seed=31,
        sources=SOURCES,
        received_date=RECEIVED,
    )


def people_of(demo: DemoPaths) -> PiiScanner:
    """Everyone in the registry and in the input files (the bad files below hold the same records)."""
    extract = read_extract(demo.registry)
    inputs = [loaders.parse_file(s, path, received_date=RECEIVED).records for s, path in demo.files.items()]
    return PiiScanner.of([extract.ncp, extract.alias, *inputs])


def bad_files(demo: DemoPaths, directory: Path) -> list[Path]:
    """A new-hire file without its trailer, and a DMV file whose first line is a record, not the header."""
    directory.mkdir()
    no_trailer = directory / "nh_no_trailer.txt"
    no_trailer.write_bytes(b"".join(demo.files["new_hire"].read_bytes().splitlines(keepends=True)[:-1]))
    no_header = directory / "dmv_no_header.psv"
    no_header.write_bytes(b"".join(demo.files["dmv"].read_bytes().splitlines(keepends=True)[1:]))
    return [no_trailer, no_header]


def test_nothing_personal_in_logs_messages_reports_or_metrics(demo: DemoPaths, tmp_path: Path) -> None:
    ws = Workspace.sqlite(tmp_path / "ws")
    bad = bad_files(demo, tmp_path / "bad")
    scanner = people_of(demo)
    scanned: list[Result] = [ws.cli("registry", "load", str(demo.registry), **DEBUG)]
    for source, path in demo.files.items():
        scanned.append(
            ws.cli("run", source.replace("_", "-"), str(path), "--received-date", "2026-03-02", **DEBUG)
        )
        assert scanned[-1].code == 0, scanned[-1].output
    rejected = [ws.cli("run", "new-hire", str(bad[0]), **DEBUG), ws.cli("run", "dmv", str(bad[1]), **DEBUG)]
    assert [r.code for r in rejected] == [2, 2]
    scanned += rejected
    runs = sorted((ws.out / "runs").iterdir())
    assert len(runs) == len(SOURCES)
    for run in runs:
        scanned.append(ws.cli("report", run.name, **DEBUG))
    nh_run = next(r for r in runs if r.name.startswith("new_hire"))
    truth = demo.truth["new_hire"]
    scanned.append(
        ws.cli("evaluate", "--matches", str(nh_run / "matches.parquet"), "--truth", str(truth), **DEBUG)
    )
    assert scanned[-1].code == 0, scanned[-1].output

    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    lines = [line for r in scanned for line in r.output.splitlines()]
    hits = [(kind, line) for line in lines for kind, _ in scanner.hits(line)]
    assert hits == [], hits[:5]
    assert len(lines) > 100

    artifacts = [p for run in runs for p in (run / "summary.json", run / "report.html")]
    for artifact in artifacts:
        text = re.sub(r"data:image/[^\"')]+", "", artifact.read_text())  # base64 charts: random letters
        assert scanner.hits(text) == [], artifact
    for run in runs:  # quarantine details are free text: codes and counts only
        details = pl.read_parquet(run / "quarantine.parquet").get_column("detail").to_list()
        assert scanner.hits("\n".join(d or "" for d in details)) == []

    # Worklists show case data (addresses, employers) but SSNs only masked, and no date of birth.
    ssn_and_dob = PiiScanner({k: v for k, v in scanner.patterns.items() if k != "name"})
    claimed = ws.cli("worklist", "claim", "--worker", "W1", "--n", "3")
    listed = ws.cli("worklist", "list")
    item_id = ws.items().filter(pl.col("assigned_to") == "W1").get_column("item_id")[0]
    resolved = ws.cli("worklist", "resolve", str(item_id), "--disposition", "confirmed", "--worker", "W1")
    assert claimed.code == listed.code == resolved.code == 0
    assert ssn_and_dob.hits(claimed.output + listed.output + resolved.output) == []
    csv_path, xlsx_path = tmp_path / "export" / "worklist.csv", tmp_path / "export" / "worklist.xlsx"
    for path, fmt in ((csv_path, "csv"), (xlsx_path, "xlsx")):
        assert ws.cli("worklist", "export", "--output", str(path), "--format", fmt).code == 0
    export_text = csv_path.read_text() + "\n".join(
        str(cell)
        for row in openpyxl.load_workbook(io.BytesIO(xlsx_path.read_bytes())).active.iter_rows(
            values_only=True
        )
        for cell in row
    )
    assert ssn_and_dob.hits(export_text) == [], "a full SSN or a DOB in the export"
    masked = pl.read_csv(csv_path, infer_schema=False).get_column("ssn").drop_nulls()
    assert masked.len() > 0 and masked.str.contains(r"^\*\*\*-\*\*-\d{4}$").all()
    print(f"scanned {len(lines)} output lines at DEBUG, {len(artifacts)} reports and summaries")

    assert_private(ws, runs, [csv_path, xlsx_path])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(ws: Workspace, runs: list[Path], exports: list[Path]) -> None:
    """The SQLite file (and its WAL), every run folder and file, the work area and the exports: owner only."""
    database = Path(ws.db_url.removeprefix("sqlite:///"))
    for path in [database, *(p for p in database.parent.glob(database.name + "-*"))]:
        assert mode(path) == 0o600, path
    for run in runs:
        assert mode(run) == 0o700, run
        files = list(run.iterdir())
        assert {"summary.json", "report.html", "matches.parquet", "quarantine.parquet"} <= {
            f.name for f in files
        }
        for file in files:
            assert mode(file) == 0o600, file
    work = ws.out / "landing" / "work"
    for path in work.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    for export in exports:
        assert mode(export) == 0o600, export


def test_ingest_from_s3_encrypts_every_object_it_writes(
    demo: DemoPaths, s3_landing_uri: str, s3_env: MotoS3, tmp_path: Path
) -> None:
    client = s3_env.client()
    bucket, _, prefix = s3_landing_uri.removeprefix("s3://").partition("/")
    bad = bad_files(demo, tmp_path / "bad")
    uploads = {f"{s}/{p.name}": p for s, p in demo.files.items()} | {f"new_hire/{bad[0].name}": bad[0]}
    for key, path in uploads.items():  # an upload by the sender, not by csmatch: no SSE asked for
        client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=path.read_bytes())
    ws = Workspace.sqlite(tmp_path / "ws")
    assert ws.cli("registry", "load", str(demo.registry)).code == 0

    result = ws.cli("ingest", "--landing", s3_landing_uri, **DEBUG)

    assert result.code == 2 and "Traceback" not in result.output, result.output  # one file was rejected
    lines = result.output.splitlines()
    assert sum("event='run_queued'" in line for line in lines) == len(demo.files), (
        "every run's log lines are scanned"
    )
    scanner = people_of(demo)
    assert [hit for line in lines for hit in scanner.hits(line)] == []
    print(f"scanned {len(lines)} DEBUG output lines of `csmatch ingest` from S3")
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
    keys = [o["Key"].removeprefix(f"{prefix}/") for o in listed.get("Contents", [])]
    assert {f"archive/{k}" for k in demo_keys(demo)} <= set(keys)
    assert f"rejected/new_hire/{bad[0].name}.reason.txt" in keys
    written = [k for k in keys if k.split("/")[0] in ("archive", "rejected", "work")]
    assert len(written) > len(uploads)
    for key in written:
        head = client.head_object(Bucket=bucket, Key=f"{prefix}/{key}")
        assert head.get("ServerSideEncryption") in ("AES256", "aws:kms"), key
    reason = client.get_object(Bucket=bucket, Key=f"{prefix}/rejected/new_hire/{bad[0].name}.reason.txt")
    assert reason["Body"].read().decode().startswith("reason: missing_trailer: the last line")


def demo_keys(demo: DemoPaths) -> list[str]:
    return [f"{s}/{p.name}" for s, p in demo.files.items()]
