"""The Fellegi–Sunter match model: m/u per comparison level, prior, thresholds; a versioned JSON file."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matching.compare import LEVELS

DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "default.json"
FORMAT = 1

# Starting m-probabilities (P(level | match)) for EM, and the value kept for a level the training data
# never showed (e.g. DMV last-four levels when training on new hires). Each list sums to 1 over the
# non-null levels.
M_START: dict[str, dict[str, float]] = {
    "ssn": {"exact": 0.9, "one_substitution": 0.03, "transposition": 0.02, "last4_agree": 0.95,
            "last4_differ": 0.02, "other": 0.03},
    "first_name": {"exact": 0.82, "nickname": 0.05, "middle_as_first": 0.02, "swapped": 0.01, "jw_high": 0.03,
                   "initial": 0.03, "jw_mid": 0.02, "else": 0.02},
    "middle_name": {"exact": 0.75, "initial": 0.2, "else": 0.05},
    "last_name": {"exact": 0.85, "part": 0.03, "swapped": 0.01, "jw_high": 0.03, "prefix": 0.02,
                  "jw_mid": 0.02, "else": 0.04},
    "suffix": {"agree": 0.97, "disagree": 0.03},
    "dob": {"exact": 0.9, "day_month_swapped": 0.02, "off_by_one": 0.03, "one_field": 0.03, "else": 0.02},
    "address": {"street": 0.6, "zip": 0.1, "city_state": 0.05, "else": 0.25},
    "sex": {"agree": 0.97, "disagree": 0.03},
    "employer": {"known": 0.3, "else": 0.7},
}  # fmt: skip


@dataclass
class Thresholds:
    """Decision thresholds on the match weight (log2 Bayes factor incl. prior).

    `auto`: queue directly when the best candidate reaches it and leads the runner-up (another
    person) by at least `margin`; `review`: clerical review from here. Calibrated to `target_precision`.
    """

    auto: float = 20.0
    review: float = 5.0
    margin: float = 6.0
    target_precision: float = 0.999
    calibrated_on: dict[str, int] = field(default_factory=dict)
    persons: int = 0  # registry size (NCPs) calibrated against; 0: unknown, never scaled
    review_per_doubling: float = 0.0  # bits `review` rises per doubling of the registry beyond `persons`

    def at(self, n_persons: int | None) -> Thresholds:
        """These thresholds against a registry of `n_persons` NCPs.

        More NCPs mean more look-alikes for every incoming record, so the low review band fills with
        wrong candidates: `review` rises by `review_per_doubling` bits per doubling beyond the
        calibrated size (fitted by calibrating at two sizes, `with_review_scaling`), never past
        `auto`. A smaller registry keeps the calibrated thresholds (its band is only more precise).
        """
        if not n_persons or not self.persons or n_persons <= self.persons or not self.review_per_doubling:
            return self
        raised = self.review + self.review_per_doubling * math.log2(n_persons / self.persons)
        return replace(self, review=min(raised, self.auto))

    def with_review_scaling(self, larger: Thresholds) -> Thresholds:
        """These thresholds, with the review slope fitted from `larger` (calibrated on more NCPs)."""
        if not self.persons or larger.persons <= self.persons:
            raise ValueError("review scaling needs calibrations at two known sizes, the second larger")
        slope = (larger.review - self.review) / math.log2(larger.persons / self.persons)
        return replace(self, review_per_doubling=max(slope, 0.0))


@dataclass
class Model:
    version: str
    created: str
    match_rate: float  # P(an incoming record is a registry person); the pair prior is this / persons
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    tf_min: float = 5e-5  # floor on a name's registry frequency in term-frequency weights
    prior_persons: int = 0  # registry size the pair prior was fixed at (training); 0: the registry's own
    thresholds: dict[str, Thresholds] = field(default_factory=dict)  # per matching profile
    training: dict[str, Any] = field(default_factory=dict)

    def thresholds_for(self, profile: str, n_persons: int | None = None) -> Thresholds:
        """The profile's calibrated thresholds against a registry of `n_persons` NCPs (`Thresholds.at`);
        a profile never calibrated uses `new_hire`'s."""
        chosen = self.thresholds.get(profile) or self.thresholds.get("new_hire") or Thresholds()
        return chosen.at(n_persons)

    def weight(self, comparison: str, level: str) -> float:
        """log2(m/u) of a level; 0 for `null`."""
        if level == "null":
            return 0.0
        return math.log2(self.m[comparison][level] / self.u[comparison][level])

    def weights(self, comparison: str) -> list[float]:
        """Weights indexed by level code."""
        return [self.weight(comparison, level) for level in LEVELS[comparison]]

    def prior_weight(self, n_persons: int) -> float:
        """log2 prior odds that a record and one registry person match.

        Fixed at training (`prior_persons`): a smaller registry also means fewer of the incoming
        records are NCPs, so the chance that a record is one given NCP does not grow as the registry
        shrinks (and thresholds calibrated at one size hold at another). Without it, `n_persons`.
        """
        prior = self.match_rate / max(self.prior_persons or n_persons, 1)
        return math.log2(prior / (1.0 - prior))

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2, sort_keys=False)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, text: str) -> Model:
        data = json.loads(text)
        if data.pop("format", None) != FORMAT:
            raise ValueError("unsupported model file format")
        thresholds = {name: Thresholds(**given) for name, given in data.pop("thresholds").items()}
        model = cls(thresholds=thresholds, **data)
        for comparison, levels in LEVELS.items():
            missing = [lvl for lvl in levels[1:] if lvl not in model.m.get(comparison, {})]
            missing += [lvl for lvl in levels[1:] if lvl not in model.u.get(comparison, {})]
            if missing:
                raise ValueError(f"model lacks parameters for {comparison} levels {sorted(set(missing))}")
        return model


def version_stamp() -> tuple[str, str]:
    """A new model's (version, created): every model that decides differently gets a new version."""
    created = datetime.now(UTC)
    return f"fs-{created:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", created.isoformat(timespec="seconds")


def load_model(path: Path | None = None) -> Model:
    """The model at `path`, or the one that ships with the package (`matching/models/default.json`)."""
    return Model.from_json((path or DEFAULT_MODEL_PATH).read_text(encoding="utf-8"))
