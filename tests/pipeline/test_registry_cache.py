"""The snapshot files a registry load caches for matching and queueing: what they hold equals the database."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pytest

from loaders.landing import work_key
from loaders.registry import read_extract
from pipeline import runner
from pipeline.demo_data import DemoPaths, make_demo
from pipeline.settings import Settings
from worklists.rules import CONTEXT_COLUMNS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(tmp_path_factory.mktemp("demo"), persons=1_500, records=10, seed=5)


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> runner.Workspace:
    monkeypatch.setattr(runner, "REGISTRY_CACHE", tmp_path / "cache")
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'csmatch.db'}", out=tmp_path / "var", log_level="WARNING"
    )
    return runner.Workspace.open(settings)


def _sorted(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {table: frame.sort(frame.columns) for table, frame in frames.items()}


def _from_db(ws: runner.Workspace, person_ids: pl.Series) -> dict[str, pl.DataFrame]:
    return ws.db.read_registry(
        tables=tuple(CONTEXT_COLUMNS), person_ids=person_ids.to_list(), columns=CONTEXT_COLUMNS
    )


def test_context_from_the_cached_files_equals_the_database_read(
    demo: DemoPaths, workspace: runner.Workspace
) -> None:
    snapshot = runner.load_registry(str(demo.registry), workspace.settings)["snapshot_id"]
    ncp = read_extract(demo.registry).ncp
    wanted = pl.concat([ncp.get_column("person_id").head(400), pl.Series(["no-such-ncp"])])

    cached = runner._registry_context(workspace, snapshot, wanted)

    assert set(cached) == set(CONTEXT_COLUMNS)
    assert all(cached[t].columns == list(c) for t, c in CONTEXT_COLUMNS.items())
    assert cached["ncp"].height == 400 and cached["ncp_case"].height > 0
    expected = _sorted(_from_db(workspace, wanted))
    for table, frame in _sorted(cached).items():
        assert frame.equals(expected[table]), table
    assert runner._registry_context(workspace, snapshot, wanted.head(0))["ncp_case"].is_empty()


def test_missing_context_files_are_rebuilt_from_the_current_snapshot_only(
    demo: DemoPaths, workspace: runner.Workspace
) -> None:
    snapshot = runner.load_registry(str(demo.registry), workspace.settings)["snapshot_id"]
    wanted = read_extract(demo.registry).ncp.get_column("person_id").sample(300, seed=1)
    assert workspace.landing.delete_prefix(work_key("registry")) > 0  # as if the work area had been lost

    rebuilt = _sorted(runner._registry_context(workspace, snapshot, wanted))

    expected = _sorted(_from_db(workspace, wanted))
    assert all(rebuilt[t].equals(expected[t]) for t in CONTEXT_COLUMNS)
    with pytest.raises(runner.NoRegistry, match="no longer current"):
        runner._registry_context(workspace, "20260101T000000-00000000", wanted)


def test_context_files_cached_by_a_release_that_read_other_columns_are_not_taken(
    demo: DemoPaths, workspace: runner.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = {
        table: tuple(c for c in columns if c != "address_line2") for table, columns in CONTEXT_COLUMNS.items()
    }
    with monkeypatch.context() as earlier_release:
        earlier_release.setattr(runner, "CONTEXT_COLUMNS", earlier)
        snapshot = runner.load_registry(str(demo.registry), workspace.settings)["snapshot_id"]
        earlier_key = runner._context_key(snapshot, "ncp")
    assert workspace.landing.exists(earlier_key) and earlier_key != runner._context_key(snapshot, "ncp")
    wanted = read_extract(demo.registry).ncp.get_column("person_id").head(50)

    context = runner._registry_context(workspace, snapshot, wanted)  # rebuilt from the current snapshot

    assert context["ncp"].columns == list(CONTEXT_COLUMNS["ncp"])
    assert _sorted(context)["ncp"].equals(_sorted(_from_db(workspace, wanted))["ncp"])


def test_the_cache_deletes_snapshot_files_unused_for_a_week_when_it_caches_new_ones(
    demo: DemoPaths, workspace: runner.Workspace
) -> None:
    cache = runner.REGISTRY_CACHE
    cache.mkdir(parents=True)
    days_unused = {
        "20250101T000000-0000000a": 30,
        "20250201T000000-0000000b": 8,
        "20250301T000000-0000000c": 6,
    }
    for snapshot, days in days_unused.items():
        for name in (
            f"{snapshot}.parquet",
            f"{snapshot}-ncp_case.parquet",  # an earlier release's name
            f"{snapshot}-ncp_case-0123abcd.parquet",
            f".{snapshot}.parquet.k3_x9q.tmp",
        ):
            (cache / name).write_bytes(b"cached")
            last_used = time.time() - days * 86_400
            os.utime(cache / name, (last_used, last_used))
    (cache / "notes.txt").write_text("not a snapshot file")
    os.utime(cache / "notes.txt", (0, 0))

    snapshot = runner.load_registry(str(demo.registry), workspace.settings)["snapshot_id"]
    runner._registry_context(workspace, snapshot, pl.Series(["P1"]))

    recent = "20250301T000000-0000000c"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [runner._context_key(snapshot, table).rpartition("/")[2] for table in CONTEXT_COLUMNS]
        + [f"{recent}.parquet", f"{recent}-ncp_case.parquet", f"{recent}-ncp_case-0123abcd.parquet"]
        + [f".{recent}.parquet.k3_x9q.tmp", "notes.txt"]
    )
    used = cache / runner._context_key(snapshot, "ncp").rpartition("/")[2]
    os.utime(used, (0, 0))
    runner._registry_context(workspace, snapshot, pl.Series(["P1"]))  # a use makes it recent again
    assert used.stat().st_mtime > time.time() - 60
