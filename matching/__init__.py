"""csmatch matching: normalise -> block -> compare -> score (Fellegi–Sunter) -> decide -> explain.

Pure functions over polars frames; the CLI and the pipeline do the I/O.

    registry = prepare_registry(ncp, alias)          # once per registry snapshot (cache it)
    model = load_model()                             # the shipped, trained model
    matches = match_records(records, registry, model, "new_hire")
"""

from matching.decide import calibrate_thresholds
from matching.features import prepare_registry
from matching.match import calibrate, match_records, output_columns
from matching.metrics import evaluate, labelled, truth_from_labels
from matching.model import Model, Thresholds, load_model
from matching.profiles import PROFILES, Profile, get_profile
from matching.train import train

__all__ = [
    "PROFILES",
    "Model",
    "Profile",
    "Thresholds",
    "calibrate",
    "calibrate_thresholds",
    "evaluate",
    "get_profile",
    "labelled",
    "load_model",
    "match_records",
    "output_columns",
    "prepare_registry",
    "train",
    "truth_from_labels",
]
