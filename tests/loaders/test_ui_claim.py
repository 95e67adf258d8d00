"""The UI-claim source, added by declaration only, parses like any other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from loaders import parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons
from tests.loaders.writers import h4, t4, ui, write_lines


def test_ui_claim_file(tmp_path: Path) -> None:
    details = [ui(), ui(claim_date="20260231"), ui(weekly_benefit_amount_cents="00004500X"), ui()[:200]]
    path = write_lines(tmp_path / "ui.txt", [h4("UI", 250), *details, t4(4, 250)])
    parsed = parse_file("ui-claim", path, received_date=RECEIVED)
    assert_reconciled(parsed)
    assert reasons(parsed) == {3: "claim_date_invalid", 5: "line_length"}
    first, second = parsed.records.to_dicts()
    assert first["claim_date"] == date(2026, 3, 1) and first["weekly_benefit_amount_cents"] == 45000
    assert (first["ssn"], first["last_name"], first["zip"], first["claim_id"]) == (
        "123456789",
        "PUBLIC",
        "62701",
        "UI0000000042",
    )
    assert second["weekly_benefit_amount_cents"] is None
    assert second["data_issues"] == ["weekly_benefit_amount_cents_invalid"]
