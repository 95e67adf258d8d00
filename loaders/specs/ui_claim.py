"""Unemployment-insurance claims (UI records), ``docs/formats/ui_claim.md``.

Added purely declaratively: no parsing code of its own. UI benefits are an income source the agency
intercepts through the state workforce agency, not through an IWO sent to an employer FEIN, so a UI
match feeds ``locate_hit`` only (the claimant's address is the new information).
"""

from __future__ import annotations

from loaders.spec import SourceSpec, date, digits, integer, text
from loaders.specs.common import NAME_REQUIRED, h4_layout

UI_CLAIM = SourceSpec(
    name="ui_claim",
    description="State workforce agency unemployment-insurance claims, UI records (250 bytes)",
    landing_prefix="ui_claim/",
    matching_profile="ui_claim",
    work_rules=("locate_hit",),
    layout=h4_layout(
        "UI",
        250,
        (
            text("address_line1", 74, 40),
            text("address_line2", 114, 40),
            text("city", 154, 25),
            text("state", 179, 2),
            digits("zip", 181, 5),
            digits("zip4", 186, 4),
            date("dob", 190),
            date("claim_date", 198, required=True, on_invalid="quarantine"),
            integer("weekly_benefit_amount_cents", 206, 9),
            text("claim_state", 215, 2),
            text("claim_id", 217, 12),
        ),
    ),
    record_rules=(NAME_REQUIRED,),
)
