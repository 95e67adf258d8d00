"""Quarterly wage file (QW records), ``shared/formats/quarterly_wage_qw.md``; names may be partial."""

from __future__ import annotations

from loaders.spec import SourceSpec, digits, integer, text
from loaders.specs.common import h4_layout

QUARTERLY_WAGE = SourceSpec(
    name="quarterly_wage",
    description="State workforce agency quarterly wage records, QW records (300 bytes)",
    landing_prefix="quarterly_wage/",
    matching_profile="quarterly_wage",
    work_rules=("locate_hit", "iwo_candidate"),
    layout=h4_layout(
        "QW",
        300,
        (
            digits("employer_fein", 74, 9),
            text("employer_sein", 83, 12),
            text("employer_name", 95, 45),
            text("employer_address_line1", 140, 40),
            text("employer_address_line2", 180, 40),
            text("employer_city", 220, 25),
            text("employer_state", 245, 2),
            digits("employer_zip", 247, 5),
            digits("employer_zip4", 252, 4),
            integer("wage_amount_cents", 256, 11),
            digits("wage_period", 267, 5, pattern=r"^\d{4}[1-4]$"),
        ),
    ),
)
