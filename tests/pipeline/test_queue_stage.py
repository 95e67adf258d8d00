"""The queue stage builds the next chunk's work items while the database takes this one's, in order, one
transaction per chunk: a failure on a chunk keeps the chunks before it, and the retry queues the rest once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from loaders.sources import get_source
from pipeline import runner
from pipeline.database import Database
from pipeline.demo_data import DemoPaths, make_demo
from pipeline.settings import Settings
from tests.frames import max_record_number


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(tmp_path_factory.mktemp("demo"), persons=2_000, records=900, seed=23)


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        db_url=f"sqlite:///{tmp_path / 'csmatch.db'}",
        out=tmp_path / "var",
        chunk_size=300,
        log_level="WARNING",
    )


def test_one_ahead_keeps_order_and_raises_where_the_producer_failed() -> None:
    producers: set[str] = set()

    def chunks() -> Iterator[int]:
        for n in range(4):
            producers.add(threading.current_thread().name)
            if n == 2:
                raise ValueError("chunk 2 is broken")
            yield n

    consumed = []
    with pytest.raises(ValueError, match="chunk 2"):
        for n in runner._one_ahead(chunks()):
            consumed.append(n)
    assert consumed == [0, 1]
    assert producers and threading.current_thread().name not in producers
    assert list(runner._one_ahead(iter([]))) == []


def test_a_failure_on_a_later_chunk_keeps_the_earlier_ones_and_the_retry_completes_the_run(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undisturbed = _settings(tmp_path / "undisturbed")
    runner.load_registry(str(demo.registry), undisturbed)
    expected = runner.run_file("new_hire", str(demo.files["new_hire"]), undisturbed)
    expected_items = _queue(Database(undisturbed.db_url))

    settings = _settings(tmp_path / "failed")
    runner.load_registry(str(demo.registry), settings)
    built = runner.build_work_items
    calls: list[int] = []

    def failing_on_the_third(*args: Any, **kwargs: Any) -> pl.DataFrame:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("rules failed on chunk 3")
        return built(*args, **kwargs)

    monkeypatch.setattr(runner, "build_work_items", failing_on_the_third)
    with pytest.raises(RuntimeError, match="chunk 3"):
        runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    db = Database(settings.db_url)
    partial = _queue(db)
    assert 0 < partial.height < expected_items.height  # chunks 1 and 2 committed, 3 never started
    # records are lines 2-901 (line 1 is the header): chunks 1 and 2 are lines up to 601
    assert max_record_number(partial) <= 601 < max_record_number(expected_items)

    monkeypatch.setattr(runner, "build_work_items", built)  # the retry queues chunk 3 only
    summary = runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    assert len(calls) == 3 and summary["read"] == 900
    assert _queue(db).equals(expected_items)
    assert summary["queued"] == expected["queued"] and summary["queue"] == expected["queue"]
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM run_match").scalar_one()
    assert stored == expected["queue"]["matches_stored"] > 0


def _queue(db: Database) -> pl.DataFrame:
    """The queue's comparable columns (all but the creation time), by key."""
    return db.list_items().drop("created_at").sort("idempotency_key")


def test_run_file_matches_the_next_chunk_while_the_database_takes_this_one(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    runner.load_registry(str(demo.registry), settings)
    matched: list[tuple[str, int]] = []  # (thread name, chunks the database had taken by then)
    queued: list[str] = []  # thread names
    match_chunk, queue_chunks = runner._match_chunk, Database.queue_run_chunks

    def match_recorded(run_id: str, chunk: str, settings: Settings) -> runner.MatchedChunk:
        matched.append((threading.current_thread().name, len(queued)))
        return match_chunk(run_id, chunk, settings)

    def queue_recorded(db: Database, run_id: str, chunks: Iterator[Any]) -> Any:
        def recorded() -> Iterator[Any]:
            for chunk in chunks:
                queued.append(threading.current_thread().name)
                yield chunk

        return queue_chunks(db, run_id, recorded())

    monkeypatch.setattr(runner, "_match_chunk", match_recorded)
    monkeypatch.setattr(Database, "queue_run_chunks", queue_recorded)
    summary = runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    assert summary["read"] == 900 and len(matched) == len(queued) >= 3
    assert {name for name, _ in matched}.isdisjoint(queued)  # matching is off the database's thread
    assert matched[-1][1] >= 1  # the last chunk was matched after the database had taken the first


def test_a_failed_queue_waits_for_the_chunk_being_built_and_leaves_no_outputs(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    runner.load_registry(str(demo.registry), settings)
    built = runner.build_work_items
    finished: list[int] = []
    outputs_open: list[list[str]] = []

    def slow_second(*args: Any, **kwargs: Any) -> pl.DataFrame:
        items = built(*args, **kwargs)
        if len(finished) == 1:
            time.sleep(0.5)  # still building (and writing to the outputs) when the database fails
        finished.append(items.height)
        outputs_open.append(sorted(p.name.split(".")[1] for p in (settings.out / "runs").rglob(".*.tmp")))
        return items

    def failing_queue(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database failed on chunk 1")

    monkeypatch.setattr(runner, "build_work_items", slow_second)
    monkeypatch.setattr(Database, "_queue_items", failing_queue)
    with pytest.raises(RuntimeError, match="chunk 1"):
        runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    assert len(finished) == 2  # the second chunk was finished before the failure was raised
    assert outputs_open[-1] == ["matches", "scores"]  # ... and its outputs were still open to write to
    run_dirs = list((settings.out / "runs").iterdir())
    assert all(not list(d.iterdir()) for d in run_dirs)  # no outputs and no temp files left behind


def test_chunks_default_to_the_source_size_unless_the_operator_sets_one(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = get_source("new_hire")
    monkeypatch.setattr(runner, "get_source", lambda name: replace(spec, chunk_records=200))
    settings = _settings(tmp_path).model_copy(update={"chunk_size": None})
    runner.load_registry(str(demo.registry), settings)
    staged = runner.stage_file("new_hire", str(demo.files["new_hire"]), settings)
    assert staged is not None and len(staged["chunks"]) == 5
    assert spec.chunk_records == 125_000 and get_source("dmv").chunk_records == 250_000


def test_run_file_warms_the_matcher_on_the_first_records_while_the_file_parses(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    runner.load_registry(str(demo.registry), settings)
    warmed: list[tuple[str, str, list[int]]] = []
    warm = runner._warm_matcher

    def warm_recorded(source: str, snapshot_id: str, sample: pl.DataFrame, settings: Settings) -> None:
        warmed.append((threading.current_thread().name, snapshot_id, sample["record_number"].to_list()))
        warm(source, snapshot_id, sample, settings)

    monkeypatch.setattr(runner, "_warm_matcher", warm_recorded)
    monkeypatch.setattr(runner, "WARM_RECORDS", 50)
    summary = runner.run_file("new_hire", str(demo.files["new_hire"]), settings)

    ((thread, snapshot_id, numbers),) = warmed  # once, on the first chunk, off the parsing thread
    assert thread != threading.current_thread().name and snapshot_id == summary["snapshot_id"]
    assert len(numbers) == 50 and max(numbers) < 300
    assert summary["read"] == 900


def test_a_failed_warm_up_fails_the_run_before_anything_is_queued(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    runner.load_registry(str(demo.registry), settings)

    def broken(*_args: Any) -> None:
        raise RuntimeError("warm-up failed")

    monkeypatch.setattr(runner, "_warm_matcher", broken)
    with pytest.raises(RuntimeError, match="warm-up failed"):
        runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    assert Database(settings.db_url).list_items().is_empty()


def test_the_stages_by_key_queue_what_run_file_queues_without_reading_its_scores_back(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    get_frame = runner.Workspace.get_frame

    def recorded(ws: runner.Workspace, key: str) -> pl.DataFrame:
        read.append(key)
        return get_frame(ws, key)

    monkeypatch.setattr(runner.Workspace, "get_frame", recorded)
    in_one = _settings(tmp_path / "run_file")
    runner.load_registry(str(demo.registry), in_one)
    expected = runner.run_file("new_hire", str(demo.files["new_hire"]), in_one)
    assert not [key for key in read if "/scores-" in key]  # handed over in memory

    by_key = _settings(tmp_path / "stages")  # as the DAG's mapped tasks hand chunks over
    runner.load_registry(str(demo.registry), by_key)
    stage = runner.stage_file("new_hire", str(demo.files["new_hire"]), by_key)
    assert stage is not None
    keys = [runner.match_chunk(stage["run_id"], chunk, by_key) for chunk in stage["chunks"]]
    summary = runner.queue_run(stage["run_id"], keys, by_key)

    assert len([key for key in read if "/scores-" in key]) == len(keys) >= 3  # read back from the work area
    assert _queue(Database(by_key.db_url)).equals(_queue(Database(in_one.db_url)))
    assert summary["queued"] == expected["queued"] and summary["queue"] == expected["queue"]
