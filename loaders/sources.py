"""The source registry: every source csmatch can load, by name (a new source: one spec module + one line)."""

from __future__ import annotations

from loaders.spec import SourceSpec
from loaders.specs.dmv import DMV
from loaders.specs.fidm import FIDM
from loaders.specs.new_hire import NEW_HIRE
from loaders.specs.quarterly_wage import QUARTERLY_WAGE
from loaders.specs.ui_claim import UI_CLAIM

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in (NEW_HIRE, QUARTERLY_WAGE, DMV, FIDM, UI_CLAIM)}


def get_source(name: str) -> SourceSpec:
    """The spec for ``name``, spelled ``new_hire`` or ``new-hire``; KeyError lists the known names."""
    key = name.strip().lower().replace("-", "_")
    if key not in SOURCES:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(s.cli_name for s in SOURCES.values())}")
    return SOURCES[key]
