"""match_records: normalise -> block -> compare -> score -> decide -> explain, over whole frames."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import structlog

from matching.block import candidate_pairs
from matching.compare import LEVELS, comparison_codes, gather
from matching.decide import best_candidates, calibrate_thresholds, decide
from matching.explain import explain
from matching.features import record_features
from matching.model import Model, Thresholds
from matching.profiles import Profile, get_profile
from matching.score import score

log = structlog.get_logger(__name__)

PAIR_CAP = 50
PROVENANCE = ("source", "file_name", "record_number")


def output_columns() -> list[str]:
    """Columns of the match frame, in order (architecture.md, "Matching")."""
    per_field = [f"{c}_{kind}" for c in LEVELS for kind in ("level", "weight")]
    return [
        *PROVENANCE, "person_id", "match_weight", "match_probability", "decision", "runner_up_person_id",
        "runner_up_weight", "blocking_rules", "reasons", "model_version", *per_field,
    ]  # fmt: skip


def registry_persons(prepared_registry: pl.DataFrame) -> int:
    """The number of NCPs in a prepared registry (identities are NCPs and their aliases)."""
    return prepared_registry["person_key"].n_unique()


def score_candidates(
    features: pl.DataFrame, registry: pl.DataFrame, model: Model, profile: Profile, cap: int = PAIR_CAP
) -> pl.DataFrame:
    """All scored candidate pairs of the record features (one row per record x identity)."""
    pairs, stats = candidate_pairs(features, registry, profile, cap=cap)
    log.info(
        "blocking",
        profile=profile.name,
        records=features.height,
        pairs=stats.pairs,
        records_with_pairs=stats.records_with_pairs,
        dropped_by_cap=stats.dropped_by_cap,
        records_capped=stats.records_capped,
    )
    codes = comparison_codes(pairs, features, registry, profile)
    return score(codes, model, n_persons=registry_persons(registry))


def match_records(
    records: pl.DataFrame, prepared_registry: pl.DataFrame, model: Model, profile: str | Profile
) -> pl.DataFrame:
    """The best candidate per input record (records without any candidate pair are absent).

    `records` is a canonical frame (`loaders.canonical`), `prepared_registry` the output of
    `prepare_registry`, `profile` a profile or its name. See `output_columns` for the columns.
    """
    chosen = get_profile(profile)
    features = record_features(records, chosen)
    scored = score_candidates(features, prepared_registry, model, chosen)
    thresholds = model.thresholds_for(chosen.name, registry_persons(prepared_registry))
    decided = decide(best_candidates(scored, prepared_registry, chosen), thresholds)
    explained = explain(decided, features, prepared_registry)
    # One row per matched record, by rec_id (best_candidates' order); rec_id is the records' row.
    out = explained.with_columns(
        gather(records[c], explained["rec_id"]).alias(c)
        if c in records.columns
        else pl.lit(None, dtype=pl.String).alias(c)
        for c in PROVENANCE
    )
    log.info(
        "matched",
        profile=chosen.name,
        records=records.height,
        auto=int((out["decision"] == "auto").sum()),
        review=int((out["decision"] == "review").sum()),
        model_version=model.version,
    )
    return out.with_columns(model_version=pl.lit(model.version)).select(output_columns())


def calibrate(
    records: pl.DataFrame,
    truth: pl.DataFrame,
    prepared_registry: pl.DataFrame,
    model: Model,
    profile: str | Profile,
    target_precision: float = 0.999,
) -> Thresholds:
    """Decision thresholds for `model` from labelled records (`truth`: `record_number`, `person_id`)."""
    chosen = get_profile(profile)
    best = best_candidates(
        score_candidates(record_features(records, chosen), prepared_registry, model, chosen),
        prepared_registry,
        chosen,
    )
    numbers = records.select("record_number").with_columns(rec_id=pl.int_range(pl.len(), dtype=pl.UInt32))
    labels = best.join(numbers, on="rec_id", how="left").join(
        truth.select("record_number", true_person="person_id"), on="record_number", how="left"
    )
    thresholds = calibrate_thresholds(labels, labels["true_person"], target_precision)
    return replace(thresholds, persons=registry_persons(prepared_registry))
