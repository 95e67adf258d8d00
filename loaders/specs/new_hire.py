"""New-hire file (W4 records), ``shared/formats/new_hire_w4.md``."""

from __future__ import annotations

from loaders.spec import SourceSpec, date, digits, text
from loaders.specs.common import NAME_REQUIRED, h4_layout

NEW_HIRE = SourceSpec(
    name="new_hire",
    description="State/national directory of new hires, W4 records (801 bytes)",
    landing_prefix="new_hire/",
    matching_profile="new_hire",
    work_rules=("locate_hit", "iwo_candidate"),
    # More candidates and work items per record than wage records: with matching overlapping the queue, 1M W4
    # records against 2M NCPs peaked at 3.6 GB in 250k-record chunks, 2.8 GB in 125k (docs/performance.md).
    chunk_records=125_000,
    layout=h4_layout(
        "W4",
        801,
        (
            text("address_line1", 74, 40),
            text("address_line2", 114, 40),
            text("address_line3", 154, 40),
            text("city", 194, 25),
            text("state", 219, 2),
            digits("zip", 221, 5),
            digits("zip4", 226, 4),
            text("foreign_country_code", 230, 2),
            text("foreign_country_name", 232, 25),
            text("foreign_postal_code", 257, 15),
            date("dob", 272),
            # Required, but a blank or impossible one is only nulled (flagged): the record still locates.
            date("hire_date", 280, required=True),
            text("state_of_hire", 288, 2),
            digits("employer_fein", 290, 9),
            text("employer_sein", 299, 12),
            text("employer_name", 311, 45),
            text("employer_address_line1", 356, 40),
            text("employer_address_line2", 396, 40),
            text("employer_address_line3", 436, 40),
            text("employer_city", 476, 25),
            text("employer_state", 501, 2),
            digits("employer_zip", 503, 5),
            digits("employer_zip4", 508, 4),
            text("employer_foreign_country_code", 512, 2),
            text("employer_foreign_country_name", 514, 25),
            text("employer_foreign_postal_code", 539, 15),
            text("iwo_address_line1", 554, 40),
            text("iwo_address_line2", 594, 40),
            text("iwo_address_line3", 634, 40),
            text("iwo_city", 674, 25),
            text("iwo_state", 699, 2),
            digits("iwo_zip", 701, 5),
            digits("iwo_zip4", 706, 4),
            text("iwo_foreign_country_code", 710, 2),
            text("iwo_foreign_country_name", 712, 25),
            text("iwo_foreign_postal_code", 737, 15),
        ),
    ),
    record_rules=(NAME_REQUIRED,),
)
