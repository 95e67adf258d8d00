"""Train the Fellegi–Sunter model: u from random pairs, m (and the match rate) by EM on blocked pairs.

EM runs over the distinct comparison-level patterns and their counts, never over the pairs.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from matching.block import candidate_pairs
from matching.compare import LEVELS, comparison_codes, level_code
from matching.decide import different_people
from matching.features import record_features
from matching.model import M_START, Model, Thresholds, version_stamp
from matching.profiles import Profile, get_profile
from matching.score import score

CODE_COLUMNS = [f"{c}_code" for c in LEVELS]
PSEUDO_COUNT = 10.0  # Dirichlet weight of M_START in each m update (keeps unseen levels at their start)


def estimate_u(
    features: pl.DataFrame, registry: pl.DataFrame, profile: Profile, n_pairs: int, seed: int
) -> dict[str, dict[str, float]]:
    """P(level | non-match) from uniformly random record x identity pairs (almost all non-matches).

    One pseudo-count per level keeps rare levels (a swapped SSN pair…) from a zero u.
    """
    rng = np.random.default_rng(seed)
    n_records = int(features["rec_id"].max() or 0) + 1  # type: ignore[arg-type]
    pairs = pl.DataFrame(
        {
            "rec_id": rng.integers(0, n_records, n_pairs).astype(np.uint32),
            "identity_id": rng.integers(0, registry.height, n_pairs).astype(np.uint32),
        }
    )
    codes = comparison_codes(pairs, features, registry, profile).filter(~_probable_match())
    return {c: _level_shares(codes, c, pseudo=1.0) for c in LEVELS}


def _probable_match() -> pl.Expr:
    """Random pairs that are almost surely the same person (agreeing SSN and name, or full name and DOB).

    With a small registry a uniform sample holds true matches at a rate close to u(SSN exact), so they
    are left out of the u estimate.
    """
    ssn = pl.col("ssn_code").is_in(
        [level_code("ssn", lvl) for lvl in ("exact", "one_substitution", "transposition")]
    )
    first = pl.col("first_name_code") == level_code("first_name", "exact")
    last = pl.col("last_name_code") == level_code("last_name", "exact")
    dob = pl.col("dob_code") == level_code("dob", "exact")
    return (ssn & (first | last)) | (first & last & dob)


def _level_shares(codes: pl.DataFrame, comparison: str, pseudo: float) -> dict[str, float]:
    """Share of each non-null level among the rows where the comparison is not null."""
    counts = codes.group_by(f"{comparison}_code").len().rows()
    by_code = {int(code): n for code, n in counts}
    levels = LEVELS[comparison][1:]
    total = sum(by_code.get(i, 0) for i in range(1, len(levels) + 1)) + pseudo * len(levels)
    return {lvl: (by_code.get(i, 0) + pseudo) / total for i, lvl in enumerate(levels, start=1)}


def pattern_counts(codes: pl.DataFrame) -> pl.DataFrame:
    """Distinct comparison-level patterns, how many pairs show each, and whether the pattern says the
    pair are different people (`decide.different_people`)."""
    return codes.group_by(CODE_COLUMNS).len("count").with_columns(different=different_people())


def run_em(
    patterns: pl.DataFrame, u: dict[str, dict[str, float]], iterations: int = 100, tolerance: float = 1e-6
) -> tuple[dict[str, dict[str, float]], float, int]:
    """EM for m and the share of matches λ among the pairs, u held fixed. Returns (m, λ, iterations).

    Patterns flagged `different` are held at posterior 0 (known non-matches).
    """
    counts = patterns["count"].to_numpy().astype(np.float64)
    possible = ~patterns["different"].to_numpy()
    code_arrays = {c: patterns[f"{c}_code"].to_numpy().astype(np.int64) for c in LEVELS}
    m = {c: [0.0, *(M_START[c][lvl] for lvl in LEVELS[c][1:])] for c in LEVELS}
    log_u = {c: np.log([1.0, *(u[c][lvl] for lvl in LEVELS[c][1:])]) for c in LEVELS}
    lam, done = 0.5, 0
    for done in range(1, iterations + 1):  # noqa: B007 (the last value is returned)
        log_m_total = sum(
            np.log(np.where(code_arrays[c] == 0, 1.0, np.asarray(m[c])[code_arrays[c]])) for c in LEVELS
        )
        log_u_total = sum(log_u[c][code_arrays[c]] for c in LEVELS)
        log_odds = math.log(lam) - math.log(1 - lam) + log_m_total - log_u_total
        posterior = possible / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        weighted = posterior * counts
        new_m: dict[str, list[float]] = {}
        for c in LEVELS:
            per_level = np.bincount(code_arrays[c], weights=weighted, minlength=len(LEVELS[c]))[1:]
            start = np.array([M_START[c][lvl] for lvl in LEVELS[c][1:]])
            smoothed = (per_level + PSEUDO_COUNT * start / start.sum()) / (per_level.sum() + PSEUDO_COUNT)
            new_m[c] = [0.0, *smoothed.tolist()]
        new_lam = float(weighted.sum() / counts.sum())
        change = max(
            abs(new_lam - lam),
            *(max(abs(a - b) for a, b in zip(new_m[c], m[c], strict=True)) for c in LEVELS),
        )
        m, lam = new_m, min(max(new_lam, 1e-9), 1 - 1e-9)
        if change < tolerance:
            break
    return {c: dict(zip(LEVELS[c][1:], m[c][1:], strict=True)) for c in LEVELS}, lam, done


def train(
    records: pl.DataFrame,
    prepared_registry: pl.DataFrame,
    profile: str | Profile = "new_hire",
    *,
    u_pairs: int = 2_000_000,
    seed: int = 0,
    thresholds: dict[str, Thresholds] | None = None,
) -> Model:
    """A model trained on one batch of canonical records against a prepared registry, unsupervised.

    `thresholds` are carried over as given (calibrate them with labelled data: `calibrate_thresholds`).
    The training summary holds counts only.
    """
    chosen = get_profile(profile)
    features = record_features(records, chosen)
    u = estimate_u(features, prepared_registry, chosen, u_pairs, seed)
    pairs, stats = candidate_pairs(features, prepared_registry, chosen)
    codes = comparison_codes(pairs, features, prepared_registry, chosen)
    version, created = version_stamp()
    model = Model(
        version=version,
        created=created,
        match_rate=0.5,
        m={c: {lvl: M_START[c][lvl] for lvl in LEVELS[c][1:]} for c in LEVELS},
        u=u,
        prior_persons=prepared_registry["person_key"].n_unique(),
        thresholds=dict(thresholds or {}),
    )
    # Pass 1 on all pairs; pass 2 only on each person's best identity, so that a record using an alias
    # SSN does not teach "SSN differs" through the same person's primary identity.
    n_records = records.height
    iterations = _fit(model, codes, n_records)
    codes = _best_identity(codes, model, prepared_registry)
    iterations += _fit(model, codes, n_records)
    patterns = codes.select(CODE_COLUMNS).n_unique()
    model.training = {
        "profile": chosen.name,
        "records": n_records,
        "registry_identities": prepared_registry.height,
        "registry_persons": prepared_registry["person_key"].n_unique(),
        "blocked_pairs": pairs.height,
        "dropped_by_cap": stats.dropped_by_cap,
        "random_pairs": u_pairs,
        "patterns": patterns,
        "em_iterations": iterations,
    }
    return model


def _fit(model: Model, codes: pl.DataFrame, n_records: int) -> int:
    """Fit m and the match rate on these pairs by EM (u fixed); returns the EM iterations."""
    model.m, lam, iterations = run_em(pattern_counts(codes), model.u)
    model.match_rate = min(lam * codes.height / max(n_records, 1), 0.999)
    return iterations


def _best_identity(codes: pl.DataFrame, model: Model, registry: pl.DataFrame) -> pl.DataFrame:
    """Per record and person, the pair of the person's best-scoring identity."""
    scored = score(codes, model, n_persons=registry["person_key"].n_unique())
    return (
        scored.join(registry.select("identity_id", "person_key"), on="identity_id", how="left")
        .sort("match_weight", descending=True)
        .unique(subset=["rec_id", "person_key"], keep="first")
        .select(codes.columns)
    )
