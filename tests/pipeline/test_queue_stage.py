"""The queue stage builds the next chunk's work items while the database takes this one's: still one
transaction, in order, and a failure on any chunk queues nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline import runner
from pipeline.database import Database
from pipeline.demo_data import DemoPaths, make_demo
from pipeline.settings import Settings


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


def test_a_failure_while_building_a_later_chunk_queues_nothing(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
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
    assert db.list_items().is_empty()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM run_match").scalar_one() == 0

    monkeypatch.setattr(runner, "build_work_items", built)  # the retry queues the run, once
    summary = runner.run_file("new_hire", str(demo.files["new_hire"]), settings)
    assert len(calls) == 3 and summary["read"] == 900
    assert db.list_items().height == sum(summary["queued"].values()) > 0
