r"""Where a run's time goes, stage by stage: each stage of every chunk run alone, one after another.

    uv run python -m bench.bench_stages --persons 2000000 --records 1000000 [--source new_hire]

`csmatch run` overlaps its stages (the matcher warms up while the file parses; the next chunk is matched
while the database queues this one), so its profile cannot say what each costs. Here the same steps run
one at a time on a copy of the size's template database (`bench.bench_pipeline` loads it), and each
prints its wall and CPU seconds: parse and stage, matcher warm-up (reading the prepared registry and
building its blocking keys), match, work items (with the registry context of the matched NCPs), the run
outputs, and the database queue (the items of every chunk, held in memory, then queued as a run does).
The sum is more CPU than the real run uses (no stage shares a core) and less wall time than it takes.
"""

from __future__ import annotations

import argparse
import io
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import Any, TypeVar

import polars as pl
import pyarrow.parquet as pq

from bench import data
from bench.bench_pipeline import load_registry, pipeline_dir, template_db
from bench.common import emit, load_average
from pipeline import runner
from pipeline.settings import Settings
from worklists import RulesConfig

_T = TypeVar("_T")


class Stages:
    """Wall and CPU seconds per stage name, summed over calls."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def timed(self, name: str, step: Callable[[], _T]) -> _T:
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        self.wall[name] += time.perf_counter() - wall
        self.cpu[name] += time.process_time() - cpu
        return result

    def table(self, records: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "stage": list(self.wall),
                "wall_s": [round(self.wall[s], 2) for s in self.wall],
                "cpu_s": [round(self.cpu[s], 2) for s in self.wall],
                "cpu_us_per_record": [round(self.cpu[s] / records * 1e6, 1) for s in self.wall],
            }
        )


def measure(source: str, persons: int, records: int) -> None:
    where = data.ensure_inputs(source, persons, records)
    if not template_db(persons).exists():
        load_registry(persons)
    db = pipeline_dir(persons) / "stages.db"
    for path in db.parent.glob("stages.db*"):
        path.unlink()
    shutil.copyfile(template_db(persons), db)
    settings = Settings(db_url=f"sqlite:///{db}", out=pipeline_dir(persons))
    stages = Stages()
    received = date(2026, 1, 5)
    stage = stages.timed(
        "parse + stage",
        lambda: runner.stage_file(source, str(where.data), settings, received_date=received, force=True),
    )
    assert stage is not None
    ws = runner.Workspace.open(settings)
    snapshot = stage["snapshot_id"]
    sample = ws.get_frame(stage["chunks"][0]).head(runner.WARM_RECORDS)
    stages.timed("matcher warm-up", lambda: runner._warm_matcher(source, snapshot, sample, settings))
    run, config = runner.run_info(stage), RulesConfig.from_settings(settings)
    queued: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    outputs: dict[str, pq.ParquetWriter] = {}
    for key in stage["chunks"]:
        chunk = stages.timed("match", partial(runner._match_chunk, stage["run_id"], key, settings))
        matches, items = stages.timed(
            "work items", partial(runner.chunk_work_items, ws, snapshot, chunk, config, run)
        )
        stages.timed("run outputs", partial(_write, outputs, matches, chunk.scores))
        queued.append((matches, items))
    report = stages.timed("database queue", lambda: ws.db.queue_run_chunks(stage["run_id"], _drained(queued)))
    for writer in outputs.values():
        writer.close()
    print(f"\n== {source}: {records:,} records against {persons:,} NCPs, stage by stage "
          f"(load average {load_average()})")  # fmt: skip
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True):
        print(stages.table(records))
    emit(
        {
            "records": records,
            "wall_s": round(sum(stages.wall.values()), 2),
            "cpu_s_stages": round(sum(stages.cpu.values()), 2),
            "new_items": report.new_items,
            "matches_stored": report.matches_stored,
        }
    )


def _write(outputs: dict[str, pq.ParquetWriter], matches: pl.DataFrame, scores: pl.DataFrame) -> None:
    """The matches and scores outputs' row groups, written to memory (as `streamed_parquet` writes them)."""
    for name, frame in (("matches", matches), ("scores", scores)):
        table = frame.to_arrow()
        if name not in outputs:
            outputs[name] = pq.ParquetWriter(io.BytesIO(), table.schema)
        outputs[name].write_table(table)


def _drained(queued: list[_T]) -> Iterator[_T]:
    """The chunks in order, each let go once the queue has taken it."""
    while queued:
        yield queued.pop(0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", default="new_hire", choices=data.SOURCES)
    parser.add_argument("--persons", type=int, default=2_000_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    args: Any = parser.parse_args()
    measure(args.source, args.persons, args.records)


if __name__ == "__main__":
    main()
