"""Decide: best candidate person per record, runner-up, the never-auto rules, auto | review | none."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from matching.compare import check_row_positions, gather, level_code
from matching.model import Thresholds
from matching.profiles import Profile

# Evidence strong enough to identify a person on its own (with the name agreeing).
_SSN_AGREES = [level_code("ssn", lvl) for lvl in ("exact", "one_substitution", "transposition")]


# Never-auto rules that are evidence of another person (the others only say the evidence is thin).
DIFFERENT_PERSON = ("ssn_differs", "first_name_differs", "dob_differs", "suffix_differs")


def _code(comparison: str, level: str) -> pl.Expr:
    return pl.col(f"{comparison}_code") == level_code(comparison, level)


def auto_blockers(profile: Profile | None = None) -> dict[str, pl.Expr]:
    """Why a candidate may never be `auto`, however high its weight (the costly false positives).

    - `ssn_differs`: a valid SSN (or last four) that is not the person's: a relative's, or a stranger's
      who shares the name and birth date.
    - `first_name_differs`: another first name (twins, siblings, a relative using the SSN).
    - `dob_differs`: another birth date (JR/SR, a parent, a relative using the SSN).
    - `suffix_differs`: JR vs SR (or II vs III).
    - `suffix_unconfirmed`: the record gives a suffix the candidate lacks and no birth date agrees: a son
      named after his NCP father (a JR on his father's SSN, or one a digit away) or the NCP himself, whose
      registry entry has no suffix; only the birth date tells them apart.
    - `first_name_unconfirmed`: unless the SSN agrees exactly, only an exactly agreeing first name rules
      out a twin or sibling (JOHN/JOAN, CHARLES/CARL, a brother named after the NCP's middle name);
      twins' SSNs are often one digit apart. With an exact SSN a merely similar first name (`jw_mid`:
      MARCO/MARCUS) still needs the birth date: a relative on the NCP's SSN.
    - `no_identifier`: neither an agreeing SSN nor an exact DOB (name and address alone are shared
      by relatives at the same address).
    - `dob_unconfirmed` (profiles with `auto_needs_dob`, FIDM): no exact DOB, so a same-named father
      or son using the SSN we asked about cannot be ruled out.
    """
    ssn_agrees = pl.col("ssn_code").is_in(_SSN_AGREES)
    needs_dob = profile is not None and profile.auto_needs_dob
    return {
        "ssn_differs": _code("ssn", "other") | _code("ssn", "last4_differ"),
        "first_name_differs": _code("first_name", "else"),
        "dob_differs": _code("dob", "else"),
        "suffix_differs": _code("suffix", "disagree"),
        "suffix_unconfirmed": pl.col("suffix_record_only") & ~_code("dob", "exact"),
        "first_name_unconfirmed": ~_code("first_name", "exact")
        & (~_code("ssn", "exact") | (_code("first_name", "jw_mid") & ~_code("dob", "exact"))),
        "no_identifier": ~ssn_agrees & ~_code("dob", "exact"),
        "dob_unconfirmed": pl.lit(needs_dob) & ~_code("dob", "exact"),
    }


def different_people() -> pl.Expr:
    """Evidence that a pair are two related but different people: another first name or birth date or
    generation suffix without an agreeing SSN, or both another first name and birth date. EM treats
    such pairs as non-matches, so relatives do not teach the model what a match looks like."""
    ssn_agrees = pl.col("ssn_code").is_in(_SSN_AGREES)
    first, dob = _code("first_name", "else"), _code("dob", "else")
    return ((first | dob | _code("suffix", "disagree")) & ~ssn_agrees) | (first & dob)


def best_candidates(
    scored: pl.DataFrame, registry: pl.DataFrame, profile: Profile | None = None
) -> pl.DataFrame:
    """One row per record: its best-scoring person (best identity of that person) and the runner-up.

    Adds `person_id`, `runner_up_person_id`, `runner_up_weight`, and `blocked_by` (`|`-joined
    never-auto rule names for this profile, empty when none applies). The best candidate is the pair
    of highest weight (ties: the lowest `identity_id`); the runner-up the best pair of another person.
    `registry` is the prepared registry (`identity_id` is the row position); rows come out by `rec_id`.
    """
    check_row_positions(registry["identity_id"], "registry identity_id")
    if not scored["rec_id"].is_sorted():
        scored = scored.sort("rec_id", maintain_order=True)
    identity = scored["identity_id"]
    per_record = _PerRecord(
        scored["rec_id"].to_numpy(), scored["match_weight"].to_numpy(), identity.to_numpy()
    )
    best_rows = per_record.leaders(np.ones(scored.height, dtype=bool))
    person = gather(registry["person_key"], identity).to_numpy()
    runner_up_rows = per_record.leaders(person != per_record.per_row(person[best_rows]))
    runner_up = pl.Series(np.maximum(runner_up_rows, 0), dtype=pl.UInt32)
    no_runner_up = np.flatnonzero(runner_up_rows < 0)
    best = scored[best_rows]
    blockers = auto_blockers(profile)
    return best.with_columns(
        gather(registry["person_id"], best["identity_id"]).alias("person_id"),
        runner_up_person_id=gather(registry["person_id"], identity.gather(runner_up)).scatter(
            no_runner_up, None
        ),
        runner_up_weight=scored["match_weight"].gather(runner_up).scatter(no_runner_up, None),
        blocked_by=pl.concat_str(
            [pl.when(expr).then(pl.lit(name)) for name, expr in blockers.items()],
            separator="|",
            ignore_nulls=True,
        ),
    )


class _PerRecord:
    """Scored pairs grouped by record (rows sorted by `rec_id`; weights finite): per-record leaders in
    a few vectorised passes instead of sorting every pair."""

    def __init__(self, rec_id: np.ndarray, weight: np.ndarray, identity: np.ndarray) -> None:
        self.starts = np.flatnonzero(np.r_[rec_id.size > 0, rec_id[1:] != rec_id[:-1]])
        self.sizes = np.diff(np.r_[self.starts, rec_id.size])
        self.weight, self.identity = weight, identity.astype(np.int64)

    def per_row(self, per_record: np.ndarray) -> np.ndarray:
        return np.repeat(per_record, self.sizes)

    def leaders(self, eligible: np.ndarray) -> np.ndarray:
        """Per record, the row of the highest weight among `eligible` rows, ties to the lowest
        identity_id (-1 where no row is eligible)."""
        top = self.per_row(np.maximum.reduceat(np.where(eligible, self.weight, -np.inf), self.starts))
        at_top = eligible & (self.weight == top)
        lowest = np.minimum.reduceat(np.where(at_top, self.identity, _NO_IDENTITY), self.starts)
        leader = np.full(self.starts.size, -1, dtype=np.int64)
        rows = np.flatnonzero(at_top & (self.identity == self.per_row(lowest)))
        leader[np.searchsorted(self.starts, rows, side="right") - 1] = rows
        return leader


_NO_IDENTITY = np.iinfo(np.int64).max


def decide(best: pl.DataFrame, thresholds: Thresholds) -> pl.DataFrame:
    """Add `decision`: `auto` (clears the auto threshold, leads the runner-up by the margin, nothing
    blocks it), `review` (clears the review threshold, or the valid SSN agrees exactly however much else
    differs: domain.md, "a matching SSN with a clearly different name and birth date … goes to review")
    or `none`."""
    leads = pl.col("runner_up_weight").is_null() | (
        pl.col("match_weight") - pl.col("runner_up_weight") >= thresholds.margin
    )
    auto = (pl.col("match_weight") >= thresholds.auto) & leads & (pl.col("blocked_by") == "")
    ssn_exact = _code("ssn", "exact") if "ssn_code" in best.columns else pl.lit(False)
    return best.with_columns(
        decision=pl.when(auto)
        .then(pl.lit("auto"))
        .when((pl.col("match_weight") >= thresholds.review) | ssn_exact)
        .then(pl.lit("review"))
        .otherwise(pl.lit("none"))
    )


def _lowest_threshold(weights: pl.Series, correct: pl.Series, target: float) -> tuple[float | None, int]:
    """Lowest weight whose at-or-above set has precision >= target even with a margin for chance
    (the false positives counted as their number plus two Poisson standard deviations), and the
    number of correct candidates at or above it."""
    frame = pl.DataFrame({"w": weights, "ok": correct}).sort("w", descending=True)
    frame = frame.with_columns(tp=pl.col("ok").cum_sum(), n=pl.int_range(1, pl.len() + 1))
    # Only cut between distinct weights.
    frame = frame.group_by("w", maintain_order=True).agg(pl.col("tp").last(), pl.col("n").last())
    # Chance: the false positives seen plus two Poisson standard deviations must fit the budget.
    wrong = pl.col("n") - pl.col("tp")
    valid = frame.filter(wrong + 2 * (wrong + 1).sqrt() <= (1 - target) * pl.col("n"))
    if valid.is_empty():
        return None, 0
    row = valid.row(valid.height - 1, named=True)
    return float(row["w"]), int(row["tp"])


def _local_floor(weights: pl.Series, correct: pl.Series, floor: float) -> float | None:
    """Going down the weights, the first weight where the last `window` candidates (1% of them, at
    least 20) are less than `floor` correct: review stops above it. None when that never happens."""
    window = max(20, weights.len() // 100)
    frame = pl.DataFrame({"w": weights, "ok": correct.cast(pl.Float64)}).sort("w", descending=True)
    local = frame.with_columns(share=pl.col("ok").rolling_mean(window, min_samples=window))
    below = local.filter(pl.col("share") < floor)
    return float(below["w"][0]) if below.height else None


def calibrate_thresholds(
    best: pl.DataFrame,
    truth_person: pl.Series,
    target_precision: float = 0.999,
    review_precision: float = 0.5,
    review_floor: float = 0.1,
    margins: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0),
) -> Thresholds:
    """Thresholds from labelled best candidates (`best_candidates` output, aligned with
    `truth_person`, the true person_id of each row or null when the record is nobody's).

    `auto`: for each runner-up margin, the lowest weight at which auto precision reaches the target;
    the margin giving the most correct autos wins. `auto` is never below the weight at which the
    model itself puts the match probability at the target (labelled data may be kinder than
    reality); with too few labels to show the target anywhere, it sits just above the best wrong
    candidate. `review`: the lowest weight at which the candidates from it up that are not taken
    automatically (nor blocked by evidence of another person, `DIFFERENT_PERSON`: mostly relatives)
    are still at least `review_precision` correct, and above the first weight where the candidates
    around it are less than `review_floor` correct (people work the review band).
    """
    correct = (best["person_id"] == truth_person).fill_null(False)
    labelled = best.with_columns(_ok=correct)
    unblocked = labelled.filter(pl.col("blocked_by") == "")
    gap = pl.col("match_weight") - pl.col("runner_up_weight")
    choice: tuple[int, float, float] | None = None
    for margin in margins:
        eligible = unblocked.filter(pl.col("runner_up_weight").is_null() | (gap >= margin))
        threshold, tp = _lowest_threshold(eligible["match_weight"], eligible["_ok"], target_precision)
        if threshold is not None and (choice is None or tp > choice[0]):
            choice = (tp, threshold, margin)
    if choice is None:
        # Too few labelled records to show the target: auto only above every wrong candidate seen.
        wrong = unblocked.filter(~pl.col("_ok"))["match_weight"].max()
        choice = (0, float(wrong) + 1e-6 if wrong is not None else -math.inf, max(margins))  # type: ignore[arg-type]
    _, empirical, margin = choice
    auto = max(empirical, math.log2(target_precision / (1.0 - target_precision)))
    provisional = Thresholds(auto=auto, review=auto, margin=margin, target_precision=target_precision)
    # Review weighs the candidates kept from auto only for want of evidence like unblocked ones.
    differs = "|".join(DIFFERENT_PERSON)
    reviewable = labelled.filter(~pl.col("blocked_by").str.contains(f"({differs})"))
    rest = decide(reviewable, provisional).filter(pl.col("decision") != "auto")
    review, _ = _lowest_threshold(rest["match_weight"], rest["_ok"], review_precision)
    stop = _local_floor(rest["match_weight"], rest["_ok"], review_floor)
    if review is not None and stop is not None:
        review = max(review, stop + 1e-6)
    return Thresholds(
        auto=auto,
        review=min(review if review is not None else auto, auto),
        margin=margin,
        target_precision=target_precision,
        calibrated_on={"records": best.height, "true_candidates": int(correct.sum())},
    )
