"""Run one source file end to end: claim → parse → match (in chunks) → queue → run outputs.

The three stages (`stage_file`, `match_chunk`, `queue_run`) are what the Airflow DAGs map over; `run_file`
chains them in one process for the CLI. Stages hand each other data through the landing zone's work area
(`work/<run_id>/…`), never a worker's local disk, so any worker on any machine can take any stage.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import structlog

import loaders
import matching
from loaders.errors import FileRejected
from loaders.landing import Landing, LandingFile, open_landing, open_landing_file, work_key
from loaders.landing_base import ensure_private_dir
from loaders.registry import read_extract
from loaders.sources import SOURCES, get_source
from pipeline.database import SNAPSHOT_ID, Database, Snapshot
from pipeline.faults import arm_queue_fault, fault_point
from pipeline.log import get_logger
from pipeline.outputs import streamed_parquet, write_run_outputs
from pipeline.report import write_run_report
from pipeline.settings import Settings
from worklists import RulesConfig, RunInfo, build_work_items
from worklists.rules import CONTEXT_COLUMNS

log = get_logger(__name__)

_T = TypeVar("_T")
THRESHOLDS = ("auto", "review", "margin")  # what a run records of its profile's decision thresholds
WARM_RECORDS = 2_000  # records of the first chunk that `run_file` warms the matcher on
REGISTRY_CACHE = Path(tempfile.gettempdir()) / "csmatch-registry-cache"
REGISTRY_CACHE_DAYS = 7  # a snapshot file the machine's registry cache has not used for this long is deleted
_SNAPSHOT_FILE = rf"{SNAPSHOT_ID}(-[a-z_]+(-[0-9a-f]{{8}})?)?\.parquet"
# A cached snapshot file, or the temp file of a download into the cache that a killed process left behind
# (`atomic_file`'s `.<name>.<random>.tmp`).
_CACHED_SNAPSHOT_FILE = re.compile(rf"{_SNAPSHOT_FILE}|\.{_SNAPSHOT_FILE}\.\w+\.tmp")


class NoRegistry(RuntimeError):
    """No registry snapshot has been loaded yet: matching would have nothing to match against."""


class AlreadyProcessed(RuntimeError):
    """The file (by sha256) was processed before; it is skipped, not reprocessed."""


class NoSuchFile(FileNotFoundError):
    """The file to run is not there (nothing was claimed or recorded), or the run to report on."""


@dataclass(frozen=True)
class Workspace:
    """The settings with the database and landing zone they point at."""

    settings: Settings
    db: Database
    landing: Landing

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        db = Database(settings.db_url)
        db.create_schema()
        return cls(settings, db, open_landing(settings.landing_uri))

    def work_key(self, run_id: str, name: str) -> str:
        return work_key(run_id, name)

    def put_frame(self, key: str, frame: pl.DataFrame) -> str:
        """Work-area parquet, LZ4: files the next stage reads back, where zstd's smaller files cost more
        CPU than they save (1.5x the bytes; about 2 s of CPU less per 1M W4 records)."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="lz4")
        self.landing.put_bytes(key, buffer.getvalue())
        return key

    def get_frame(self, key: str) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO(self.landing.read_bytes(key)))

    def put_json(self, key: str, value: dict[str, Any]) -> None:
        self.landing.put_bytes(key, json.dumps(value, default=str, indent=2).encode())

    def get_json(self, key: str) -> dict[str, Any]:
        return json.loads(self.landing.read_bytes(key))


def run_id_for(source: str, sha256: str) -> str:
    """Deterministic per file, so a retried or re-run stage lands on the same run."""
    return f"{source}-{sha256[:16]}"


# --- registry ---------------------------------------------------------------------------------------------


def load_registry(directory: str, settings: Settings) -> dict[str, Any]:
    """Load a registry extract (local folder or s3:// prefix), replace the snapshot, cache it for matching."""
    ws = Workspace.open(settings)
    with _local_extract_dir(directory) as local_dir:
        extract = read_extract(local_dir)
    report = ws.db.replace_registry(extract)
    prepared = matching.prepare_registry(extract.ncp, extract.alias, extract.known_employer)
    ws.put_frame(_registry_key(report.snapshot_id), prepared)
    for table, columns in CONTEXT_COLUMNS.items():
        ws.put_frame(_context_key(report.snapshot_id, table), getattr(extract, table).select(columns))
    return report.as_dict()


@contextmanager
def _local_extract_dir(directory: str) -> Iterator[Path]:
    """A registry extract folder as a local path (an s3:// prefix is downloaded to a private temp folder)."""
    if not directory.startswith("s3://"):
        yield Path(directory)
        return
    bucket, _, prefix = directory.removeprefix("s3://").partition("/")
    with open_landing(f"s3://{bucket}").open_local_dir(prefix.strip("/")) as local:
        yield local


def _current_snapshot(ws: Workspace) -> Snapshot:
    snapshot = ws.db.current_snapshot()
    if snapshot is None:
        raise NoRegistry("no registry snapshot loaded: run `csmatch registry load DIR` first")
    return snapshot


def _registry_key(snapshot_id: str) -> str:
    return work_key("registry", f"{snapshot_id}.parquet")


def _context_key(snapshot_id: str, table: str) -> str:
    """Named after the columns the rules read as well: a release that reads another column does not take
    the file an earlier one cached (it rebuilds it from the database)."""
    columns = hashlib.sha256(",".join(CONTEXT_COLUMNS[table]).encode()).hexdigest()[:8]
    return work_key("registry", f"{snapshot_id}-{table}-{columns}.parquet")


# The last snapshot's prepared registry, kept in the process: a worker matching many chunks of a big file
# reads the (multi-GB at state scale) parquet once, not once per chunk.
_IN_PROCESS: dict[str, pl.DataFrame] = {}


def _prepared_registry(ws: Workspace, snapshot_id: str) -> pl.DataFrame:
    """The normalised registry of a snapshot: in process, else the local cache, else the landing zone, else
    rebuilt from the DB."""
    if snapshot_id not in _IN_PROCESS:
        _IN_PROCESS.clear()
        # One chunk per column, once: the matcher gathers rows by position, and from a column read in
        # parquet row groups it would otherwise rechunk it again on every gather of every chunk.
        _IN_PROCESS[snapshot_id] = _read_prepared_registry(ws, snapshot_id).rechunk()
    return _IN_PROCESS[snapshot_id]


def _read_prepared_registry(ws: Workspace, snapshot_id: str) -> pl.DataFrame:
    def from_db() -> pl.DataFrame:
        frames = ws.db.read_registry(tables=("ncp", "alias", "known_employer"))
        return matching.prepare_registry(frames["ncp"], frames["alias"], frames["known_employer"])

    return pl.read_parquet(_snapshot_file(ws, snapshot_id, _registry_key(snapshot_id), from_db))


def _registry_context(ws: Workspace, snapshot_id: str, person_ids: pl.Series) -> dict[str, pl.DataFrame]:
    """The registry rows the work rules read (`CONTEXT_COLUMNS`) of these NCPs, from the snapshot's context
    files (cached at registry load; rebuilt from the DB when missing), filtered as they are scanned."""
    wanted = person_ids.unique().implode()
    context = {}
    for table, columns in CONTEXT_COLUMNS.items():

        def from_db(table: str = table) -> pl.DataFrame:
            return ws.db.read_registry(tables=(table,), columns=CONTEXT_COLUMNS)[table]

        path = _snapshot_file(ws, snapshot_id, _context_key(snapshot_id, table), from_db)
        context[table] = (
            pl.scan_parquet(path).select(columns).filter(pl.col("person_id").is_in(wanted)).collect()
        )
    return context


def _snapshot_file(ws: Workspace, snapshot_id: str, key: str, from_db: Callable[[], pl.DataFrame]) -> Path:
    """The local copy of a snapshot's cache file: the local cache, else the landing zone's work area, else
    built from the DB (only while that snapshot is still the current one) and published there first."""
    local = REGISTRY_CACHE / key.rpartition("/")[2]
    if local.exists():
        local.touch()  # its mtime is when it was last used (`_prune_registry_cache`)
        return local
    if not ws.landing.exists(key):
        if _current_snapshot(ws).snapshot_id != snapshot_id:
            raise NoRegistry(f"snapshot {snapshot_id} is no longer current and its cached files are gone")
        ws.put_frame(key, from_db())
    local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    ws.landing.get_file(key, local)
    _prune_registry_cache()
    return local


def _prune_registry_cache() -> None:
    """Delete the cached snapshot files not used for `REGISTRY_CACHE_DAYS`: each nightly registry refresh
    would otherwise leave its files (hundreds of MB at state scale) in every worker's temp folder for good.
    By last use, not by snapshot: processes of other databases (tests, a demo) share the folder."""
    stale = time.time() - REGISTRY_CACHE_DAYS * 86_400
    removed = 0
    for path in REGISTRY_CACHE.iterdir():
        if not _CACHED_SNAPSHOT_FILE.fullmatch(path.name):
            continue
        with suppress(FileNotFoundError):  # another process on this machine may have pruned it first
            if path.stat().st_mtime < stale:
                path.unlink()
                removed += 1
    if removed:
        log.info("registry_cache_pruned", files=removed, days=REGISTRY_CACHE_DAYS)


# --- the three stages -------------------------------------------------------------------------------------


def list_incoming(source: str, settings: Settings) -> list[str]:
    """URIs of the files waiting under the source's prefix of the landing zone."""
    landing = open_landing(settings.landing_uri)
    return [landing.uri_for(f.key) for f in _incoming(landing, source)]


def _incoming(landing: Landing, source: str) -> list[LandingFile]:
    """The files waiting under the source's prefix (a landing key has no trailing slash)."""
    return landing.list_incoming(get_source(source).landing_prefix.rstrip("/"))


def stage_file(
    source: str,
    uri: str,
    settings: Settings,
    *,
    received_date: date | None = None,
    force: bool = False,
    first_chunk: Callable[[str, pl.DataFrame], None] | None = None,
) -> dict[str, Any] | None:
    """Claim the file, parse it into record chunks in the work area; None when it was processed before.

    `first_chunk` is called with the registry snapshot's id and the first chunk's records as soon as they
    are parsed (`run_file` warms the matcher on them while the rest of the file parses). Raises
    FileRejected (after recording it in the manifest) when the file as a whole is unusable.
    """
    ws = Workspace.open(settings)
    spec = get_source(source)
    snapshot = _current_snapshot(ws)
    origin, key = open_landing_file(uri)
    try:
        incoming = origin.stat(key)
    except FileNotFoundError:
        raise NoSuchFile(f"no such file: {uri}") from None
    sha256, size = origin.fingerprint(key)
    claim = ws.db.claim_file(spec.name, incoming.name, sha256, size, incoming.received_at)
    if claim is None:  # seen before: rejected stays rejected, processed is skipped, a crashed run resumes
        entry = ws.db.manifest_entry(sha256)
        if entry is not None and entry.status == "rejected":
            raise FileRejected(entry.reason or "rejected", "this file was rejected before")
        if entry is not None and entry.status == "processed" and not force:
            return None
    run_id = run_id_for(spec.name, sha256)
    received = received_date or incoming.received_at.date()
    started = time.perf_counter()
    chunks: list[str] = []
    quarantine: list[pl.DataFrame] = []
    read = 0
    try:
        with origin.open_local(key) as path:
            parsed = loaders.iter_parsed_chunks(
                spec.name,
                path,
                chunk_size=settings.chunk_size or spec.chunk_records,
                received_date=received,
                file_name=incoming.name,
            )
            for number, chunk in enumerate(parsed, start=1):
                if number == 1 and first_chunk is not None:
                    first_chunk(snapshot.snapshot_id, chunk.records)
                read += chunk.read
                quarantine.append(chunk.quarantine)
                chunks.append(
                    ws.put_frame(ws.work_key(run_id, f"records-{number:04d}.parquet"), chunk.records)
                )
                fault_point("during_parse")
    except FileRejected as rejected:
        ws.db.mark_file(sha256, "rejected", rejected.code)
        log.warning("file_rejected", source=spec.name, sha256=sha256[:12], reason=rejected.code)
        raise
    quarantined = pl.concat(quarantine) if quarantine else loaders.empty_quarantine()
    ws.put_frame(ws.work_key(run_id, "quarantine.parquet"), quarantined)
    model = matching.load_model(settings.model_path)
    stage = {
        "run_id": run_id,
        "source": spec.name,
        "file_name": incoming.name,
        "file_uri": uri,
        "sha256": sha256,
        "size": size,
        "received_date": received.isoformat(),
        "snapshot_id": snapshot.snapshot_id,
        "model_version": model.version,
        "thresholds": {
            k: v
            for k, v in asdict(model.thresholds_for(spec.matching_profile, snapshot.rows["ncp"])).items()
            if k in THRESHOLDS
        },
        "chunks": chunks,
        "read": read,
        "quarantined": quarantined.height,
        "parsed": read - quarantined.height,
        "parse_seconds": round(time.perf_counter() - started, 3),
    }
    ws.put_json(ws.work_key(run_id, "stage.json"), stage)
    ws.db.start_run(run_id, spec.name, sha256, incoming.name, model.version, snapshot.snapshot_id)
    log.info("file_staged", run_id=run_id, read=read, quarantined=quarantined.height, chunks=len(chunks))
    return stage


@dataclass(frozen=True)
class MatchedChunk:
    """A matched chunk as `run_file` hands it to the queue: its scores' key in the work area, with the
    scores and the chunk's records still in memory (not read back from where they were just written)."""

    scores_key: str
    scores: pl.DataFrame
    records: pl.DataFrame


def match_chunk(run_id: str, chunk_key: str, settings: Settings) -> str:
    """Match one record chunk against the run's registry snapshot; returns the scores chunk's key."""
    return _match_chunk(run_id, chunk_key, settings).scores_key


def _match_chunk(run_id: str, chunk_key: str, settings: Settings) -> MatchedChunk:
    started = time.perf_counter()
    ws = Workspace.open(settings)
    stage = ws.get_json(ws.work_key(run_id, "stage.json"))
    records = ws.get_frame(chunk_key)
    scores = _match_records(ws, stage["source"], stage["snapshot_id"], records, settings)
    key = _scores_key(chunk_key)
    ws.put_frame(key, scores)
    ws.put_json(_timing_key(key), {"match_seconds": round(time.perf_counter() - started, 3)})
    fault_point("during_match")
    log.info("chunk_matched", run_id=run_id, records=records.height, candidates=scores.height)
    return MatchedChunk(key, scores, records)


def _match_records(
    ws: Workspace, source: str, snapshot_id: str, records: pl.DataFrame, settings: Settings
) -> pl.DataFrame:
    """The source's records scored against the snapshot's prepared registry with the configured model."""
    profile = get_source(source).matching_profile
    model = matching.load_model(settings.model_path)
    return matching.match_records(records, _prepared_registry(ws, snapshot_id), model, profile)


def queue_run(run_id: str, scored_chunks: Iterable[str | MatchedChunk], settings: Settings) -> dict[str, Any]:
    """Turn the run's matches into work items and queue them, one transaction per chunk; write the outputs.

    Chunk by chunk, so memory and the database journal stay flat in the file's size: each scores chunk's
    matches become work items (with the registry context of that chunk's matched NCPs) and are queued in
    that chunk's transaction; the next chunk's items are built in a background thread while the database
    takes this one's. `scored_chunks` (the scores chunks' keys, or `MatchedChunk`s that still hold them)
    is read in that thread as the queue goes, so a lazy one matches each chunk there too (`run_file`);
    `timings.queue_seconds` then includes that matching. A run killed part way resumes after its last
    committed chunk. The matches and scores outputs are written chunk by chunk in this thread (the matcher
    is the longer of the two), and put in place once every chunk is queued.
    """
    started = time.perf_counter()
    ws = Workspace.open(settings)
    stage = ws.get_json(ws.work_key(run_id, "stage.json"))
    run = run_info(stage)
    config = RulesConfig.from_settings(settings)
    counts = {"matched_auto": 0, "matched_review": 0, "candidates_scored": 0}
    iwo_due: list[pl.DataFrame] = []
    scored: list[str] = []
    run_dir = settings.out / "runs" / run_id

    def work_items() -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
        for chunk in scored_chunks:
            if isinstance(chunk, str):
                chunk = MatchedChunk(chunk, ws.get_frame(chunk), ws.get_frame(_records_key(chunk)))
            scored.append(chunk.scores_key)
            scores = chunk.scores
            matches, items = chunk_work_items(ws, stage["snapshot_id"], chunk, config, run)
            iwo = items.filter(pl.col("item_kind") == "iwo_candidate")
            # Hashed keys, not the strings: a string slice would keep the chunk's whole string buffers alive.
            iwo_due.append(iwo.select(key=pl.col("idempotency_key").hash(), due_date=pl.col("due_date")))
            decisions = matches.get_column("decision")
            counts["matched_auto"] += int((decisions == "auto").sum())
            counts["matched_review"] += int((decisions == "review").sum())
            counts["candidates_scored"] += scores.height
            yield matches, items, scores

    def written(
        to_matches: Callable[[pl.DataFrame], None], to_scores: Callable[[pl.DataFrame], None]
    ) -> Generator[tuple[pl.DataFrame, pl.DataFrame], None, None]:
        # In this thread, while the background one builds the next chunk: the matcher is the longer thread.
        with closing(_one_ahead(work_items())) as chunks:
            for matches, items, scores in chunks:
                to_matches(matches)
                to_scores(scores)
                yield matches, items

    arm_queue_fault(ws.db)
    with (
        streamed_parquet(run_dir / "matches.parquet") as to_matches,
        streamed_parquet(run_dir / "scores.parquet") as to_scores,
        closing(written(to_matches, to_scores)) as chunks,  # closed first: stops the background thread
    ):
        queued = ws.db.queue_run_chunks(run_id, chunks)
    fault_point("after_queue")
    summary = _summary(stage, counts, queued.as_dict())
    summary["iwo_due_dates"] = _iwo_due_dates(pl.concat(iwo_due))
    summary["timings"] = {
        "parse_seconds": stage["parse_seconds"],
        "match_seconds": round(sum(ws.get_json(_timing_key(k))["match_seconds"] for k in scored), 3),
        "queue_seconds": round(time.perf_counter() - started, 3),
    }
    summary["queued_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_run_outputs(
        run_dir,
        {"quarantine.parquet": ws.get_frame(ws.work_key(run_id, "quarantine.parquet")).write_parquet},
        summary,
    )
    ws.db.finish_run(run_id, summary)
    ws.db.mark_file(stage["sha256"], "processed")
    log.info("run_queued", run_id=run_id, run_dir=str(run_dir), **{k: summary[k] for k in COUNT_KEYS})
    return summary


def run_info(stage: dict[str, Any]) -> RunInfo:
    """The staged run as the work rules see it (its source's rules, file and model)."""
    spec = get_source(stage["source"])
    return RunInfo(
        run_id=stage["run_id"],
        source=spec.name,
        file_sha256=stage["sha256"],
        file_name=stage["file_name"],
        received_date=date.fromisoformat(stage["received_date"]),
        model_version=stage["model_version"],
        rules=tuple(spec.work_rules),
    )


def chunk_work_items(
    ws: Workspace, snapshot_id: str, chunk: MatchedChunk, config: RulesConfig, run: RunInfo
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A matched chunk's decided (`auto`/`review`) matches, and their work items built with the registry
    context of the NCPs matched."""
    matches = chunk.scores.filter(pl.col("decision").is_in(["auto", "review"]))
    records = chunk.records.join(matches.select("record_number"), on="record_number", how="semi")
    context = _registry_context(ws, snapshot_id, matches.get_column("person_id"))
    return matches, build_work_items(matches, records, context, config, run)


def _one_ahead(chunks: Iterator[_T]) -> Generator[_T, None, None]:
    """`chunks`, produced one ahead in a background thread (polars and the database drivers release the
    GIL, so producing the next overlaps consuming this one); the producer's exceptions are raised here."""
    done = object()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csmatch-prefetch") as pool:
        pending = pool.submit(next, chunks, done)
        while (chunk := pending.result()) is not done:
            pending = pool.submit(next, chunks, done)
            yield chunk  # type: ignore[misc]


def _scores_key(records_key: str) -> str:
    return records_key.replace("/records-", "/scores-")


def _records_key(scores_key: str) -> str:
    return scores_key.replace("/scores-", "/records-")


def _timing_key(scores_key: str) -> str:
    return scores_key.removesuffix(".parquet") + ".timing.json"


def _iwo_due_dates(iwo: pl.DataFrame) -> dict[str, int]:
    """How many distinct IWO candidates of the run fall due on each date (the 2-business-day rule)."""
    counts = iwo.unique("key").group_by("due_date").len().sort("due_date")
    return {str(day): int(n) for day, n in counts.iter_rows()}


COUNT_KEYS = ("read", "parsed", "quarantined", "matched_auto", "matched_review", "unmatched")


def _summary(stage: dict[str, Any], counts: dict[str, int], queued: dict[str, Any]) -> dict[str, Any]:
    auto, review = counts["matched_auto"], counts["matched_review"]
    summary: dict[str, Any] = {
        "run_id": stage["run_id"],
        "status": "processed",
        "source": stage["source"],
        "file_name": stage["file_name"],
        "sha256": stage["sha256"],
        "received_date": stage["received_date"],
        "snapshot_id": stage["snapshot_id"],
        "model_version": stage["model_version"],
        "thresholds": stage["thresholds"],
        "read": stage["read"],
        "parsed": stage["parsed"],
        "quarantined": stage["quarantined"],
        "matched_auto": auto,
        "matched_review": review,
        "unmatched": stage["parsed"] - auto - review,
        "candidates_scored": counts["candidates_scored"],
        "queued": queued.pop("by_kind"),
        "queue": {k: v for k, v in queued.items() if k != "run_id"},
    }
    return summary


def run_file(
    source: str,
    uri: str,
    settings: Settings,
    *,
    received_date: date | None = None,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """All three stages in this process, then the HTML report; AlreadyProcessed for a file seen before.

    Each chunk is matched in `queue_run`'s background thread, just before its work items are built there:
    on two cores the matcher's CPU work overlaps the database's writes of the chunk before. Before that,
    while the file parses, the matcher is warmed on the first chunk's first records (`_warm_matcher`).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csmatch-warm") as pool:
        warming: list[Future[None]] = []

        def warm(snapshot_id: str, records: pl.DataFrame) -> None:
            sample = records.head(WARM_RECORDS)
            warming.append(pool.submit(_warm_matcher, source, snapshot_id, sample, settings))

        stage = stage_file(source, uri, settings, received_date=received_date, force=force, first_chunk=warm)
        for future in warming:
            future.result()
    if stage is None:
        raise AlreadyProcessed("this file was processed before (same sha256); use --force to re-run it")
    summary = queue_run(stage["run_id"], _matched(stage, settings, progress), settings)
    write_run_report(settings.out / "runs" / stage["run_id"])
    return summary


def report_run(run_id: str, settings: Settings) -> Path:
    """Write (or rewrite) a run's HTML report; a run whose folder lost its summary.json gets it back from
    the database (where `queue_run` recorded it) first. NoSuchFile when neither knows the run."""
    run_dir = settings.out / "runs" / run_id
    if not (run_dir / "summary.json").is_file():
        run = Workspace.open(settings).db.get_run(run_id)
        if run is None or run["summary"] is None:
            raise NoSuchFile(f"no finished run {run_id} in {settings.out / 'runs'} or the database")
        write_run_outputs(run_dir, {}, run["summary"])
    return write_run_report(run_dir)


def _warm_matcher(source: str, snapshot_id: str, sample: pl.DataFrame, settings: Settings) -> None:
    """Match a sample of the file and throw the result away: the prepared registry is read and the
    blocking keys the file's records use are built (once per process, seconds at state scale) on the
    second core while the main thread parses, instead of before the first chunk's match."""
    with structlog.contextvars.bound_contextvars(warm_up=True):  # its log lines are not the run's counts
        _match_records(Workspace.open(settings), source, snapshot_id, sample, settings)


def _matched(
    stage: dict[str, Any], settings: Settings, progress: Callable[[str, int, int], None] | None
) -> Iterator[MatchedChunk]:
    """The staged run's chunks matched in order; the prepared registry is freed after
    the last one, before the queue's working set grows further (the next file reads it back from the
    cache)."""
    total = len(stage["chunks"])
    for done, chunk in enumerate(stage["chunks"], start=1):
        yield _match_chunk(stage["run_id"], chunk, settings)
        if progress:
            progress("match", done, total)
    _IN_PROCESS.clear()


def reject_file(uri: str, rejected: FileRejected) -> None:
    """Move a rejected landing-zone file to rejected/ with its reason (`<code>: <message>`)."""
    origin, key = open_landing_file(uri)
    origin.reject(key, f"{rejected.code}: {rejected.message}")


def archive_file(uri: str) -> None:
    """Move a processed landing-zone file to archive/."""
    origin, key = open_landing_file(uri)
    origin.archive(key)


def ingest(settings: Settings) -> list[dict[str, Any]]:
    """Process every new file in the landing zone, source by source; archive or reject each."""
    landing = open_landing(settings.landing_uri)
    results: list[dict[str, Any]] = []
    for name in SOURCES:
        for incoming in _incoming(landing, name):
            uri = landing.uri_for(incoming.key)
            outcome: dict[str, Any] = {"source": name, "file_name": incoming.name}
            try:
                outcome |= run_file(name, uri, settings)
            except FileRejected as rejected:
                reject_file(uri, rejected)
                outcome |= {"status": "rejected", "reason": rejected.code}
            except AlreadyProcessed:
                landing.archive(incoming.key)
                outcome |= {"status": "skipped"}
            else:
                landing.archive(incoming.key)
            results.append(outcome)
    return results


def train_model(settings: Settings, source: str = "new_hire") -> dict[str, Any]:
    """Retrain m/u by EM on the latest processed run of `source`, write the model under `<out>/models/`.

    The new model is not promoted: thresholds are carried over from the model in use, and a person
    switches runs to it (CSMATCH_MODEL_PATH) after checking its evaluation.
    """
    ws = Workspace.open(settings)
    spec = get_source(source)
    snapshot = _current_snapshot(ws)
    run_dirs = sorted(
        (settings.out / "runs").glob(f"{spec.name}-*/summary.json"), key=lambda p: p.stat().st_mtime
    )
    if not run_dirs:
        raise FileNotFoundError(f"no processed {spec.name} run to train on under {settings.out / 'runs'}")
    stage = ws.get_json(ws.work_key(json.loads(run_dirs[-1].read_text())["run_id"], "stage.json"))
    records = pl.concat([ws.get_frame(k) for k in stage["chunks"]], how="diagonal_relaxed")
    current = matching.load_model(settings.model_path)
    model = matching.train(
        records,
        _prepared_registry(ws, snapshot.snapshot_id),
        spec.matching_profile,
        thresholds=current.thresholds,
    )
    target = settings.out / "models" / f"{model.version}.json"
    ensure_private_dir(target.parent)
    model.save(target)
    log.info("model_trained", version=model.version, run_id=stage["run_id"], records=records.height)
    return {
        "version": model.version,
        "path": str(target),
        "trained_on_run": stage["run_id"],
        **model.training,
    }
