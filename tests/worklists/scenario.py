"""A small hand-built registry and runs whose work items are known in advance (synthetic people)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from worklists import RunInfo

NCP = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P5"],
        "ssn": ["100000001", "100000002", "100000003", "100000004", "100000005"],
        "first_name": ["ANA", "BEN", "CARL", "DORA", "ED"],
        "last_name": ["O'BRIEN'); DROP TABLE X;--", "BOLT", "CRANE", "DUNE", "EAST"],
        "dob": [date(1980, 1, 1), date(1981, 2, 2), date(1982, 3, 3), date(1983, 4, 4), date(1984, 5, 5)],
        "address_line1": ["12 MAIN STREET", None, "1 OLD RD", None, None],
        "zip": ["62701", None, "62702", None, None],
    }
)
NCP_CASE = pl.DataFrame(
    {
        "case_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
        "person_id": ["P1", "P1", "P1", "P2", "P3", "P4", "P5"],
        "caseworker_id": ["CW1", "CW2", "CW1", "CW3", "CW1", "CW2", "CW4"],
        "office_id": ["OF1", "OF1", "OF1", "OF2", "OF1", "OF1", "OF2"],
        "case_status": ["OPEN", "OPEN", "CLOSED", "OPEN", "OPEN", "OPEN", "OPEN"],
        "order_status": ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "NONE", "ACTIVE"],
        "current_support_monthly": [300.0, 0.0, 500.0, 200.0, 100.0, 0.0, 150.0],
        "arrears_balance": [1000.0, 200.0, 9000.0, 0.0, 0.0, 0.0, 50.0],
        "family_violence": [None, None, None, "Y", None, None, None],
    }
)
KNOWN_EMPLOYER = pl.DataFrame(
    {
        "person_id": ["P3", "P1"],
        "fein": ["111111111", "555555555"],
        "employer_name": ["KNOWN CO", "OLD JOB INC"],
        "start_date": [date(2020, 1, 1), date(2015, 1, 1)],
        "end_date": [None, date(2019, 1, 1)],
        "iwo_active": ["Y", "N"],
    }
)
KNOWN_ADDRESS = pl.DataFrame(
    {
        "person_id": ["P4"],
        "address_line1": ["7 PINE CT"],
        "zip": ["62704"],
        "verified_date": [date(2025, 1, 1)],
    }
)
REGISTRY = {
    "ncp": NCP,
    "ncp_case": NCP_CASE,
    "known_employer": KNOWN_EMPLOYER,
    "known_address": KNOWN_ADDRESS,
}


def matches(rows: list[tuple[int, str, str]], source: str, file_name: str) -> pl.DataFrame:
    """(record_number, person_id, decision) → a match frame as the matcher emits it, with evidence."""
    frame = pl.DataFrame(rows, schema=["record_number", "person_id", "decision"], orient="row")
    return frame.with_columns(
        source=pl.lit(source),
        file_name=pl.lit(file_name),
        match_weight=pl.lit(18.5),
        match_probability=pl.lit(0.9999),
        runner_up_person_id=pl.lit(None, dtype=pl.String()),
        runner_up_weight=pl.lit(None, dtype=pl.Float64()),
        blocking_rules=pl.lit("ssn_exact"),
        reasons=pl.lit("ssn exact; last name exact"),
        model_version=pl.lit("test-model-1"),
        ssn_level=pl.lit("exact"),
        ssn_weight=pl.lit(12.0),
        last_name_level=pl.lit("exact"),
        last_name_weight=pl.lit(6.5),
    ).with_columns(pl.col("record_number").cast(pl.Int64))


def records(rows: list[dict[str, Any]], source: str, file_name: str, received: date) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        source=pl.lit(source), file_name=pl.lit(file_name), received_date=pl.lit(received),
        record_number=pl.col("record_number").cast(pl.Int64),
    )  # fmt: skip


def run(source: str, rules: tuple[str, ...], received: date, sha: str) -> RunInfo:
    return RunInfo(
        run_id=f"{source}-{sha[:16]}",
        source=source,
        file_sha256=sha,
        file_name=f"{source}.txt",
        received_date=received,
        model_version="test-model-1",
        rules=rules,
    )


NEW_HIRE_RECEIVED = date(2026, 11, 25)  # the Wednesday before Thanksgiving (2026-11-26)
NEW_HIRE_RECORDS = [
    # P1: known address (spelled differently), a new employer: locate + IWO on open cases C1 and C2.
    {"record_number": 2, "address_line1": "12 Main St.", "zip": "62701", "employer_fein": "222222222",
     "employer_name": "ACME CORP", "employer_address_line1": "1 FACTORY RD", "employer_city": "SPRINGFIELD",
     "employer_state": "IL", "employer_zip": "62703", "hire_date": date(2026, 11, 2)},
    # P2 (family violence): new address and employer; still queued, address withheld.
    {"record_number": 3, "address_line1": "9 ELM AVENUE", "city": "SPRINGFIELD", "state": "IL",
     "zip": "62705",
     "employer_fein": "333333333", "employer_name": "BETA LLC", "hire_date": date(2026, 11, 3)},
    # P3: IWO already active with this employer (and it is current): no IWO, no employer locate; new address.
    {"record_number": 4, "address_line1": "44 NEW ST", "zip": "62706", "employer_fein": "111111111",
     "employer_name": "KNOWN CO", "hire_date": date(2026, 11, 4)},
    # P4: no order (NONE): employer locate only; the address is already known.
    {"record_number": 5, "address_line1": "7 Pine Court", "zip": "62704", "employer_fein": "44-4444444",
     "employer_name": "GAMMA INC", "hire_date": date(2026, 11, 5)},
    # P5: a review match: one match_review item, nothing else.
    {"record_number": 6, "first_name": "ED", "last_name": "EAST", "ssn": "100000005",
     "address_line1": "3 SEA LN",
     "zip": "62707", "employer_fein": "666666666", "employer_name": "DELTA", "hire_date": date(2026, 11, 6)},
    # No candidate decided (decision none): nothing.
    {"record_number": 7, "address_line1": "5 NOWHERE RD", "zip": "62708", "employer_fein": "777777777"},
]  # fmt: skip
NEW_HIRE_MATCHES = [
    (2, "P1", "auto"), (3, "P2", "auto"), (4, "P3", "auto"), (5, "P4", "auto"), (6, "P5", "review"),
    (7, "P4", "none"),
]  # fmt: skip


def queue(
    db: Any,
    source: str,
    rules: tuple[str, ...],
    received: date,
    sha: str,
    match_rows: list[tuple[int, str, str]],
    record_rows: list[dict[str, Any]],
) -> Any:
    """Claim the file, start the run, build its work items and queue them, as the runner does."""
    from datetime import datetime

    from worklists import RulesConfig, build_work_items

    info = run(source, rules, received, sha)
    db.claim_file(source, info.file_name, sha, 1000, datetime(received.year, received.month, received.day, 6))
    db.start_run(info.run_id, source, sha, info.file_name, info.model_version, "snapshot")
    found = matches(match_rows, source, info.file_name)
    decided = found.filter(pl.col("decision") != "none")
    context = db.read_registry(
        tables=("ncp", "ncp_case", "known_employer", "known_address"),
        person_ids=decided.get_column("person_id").unique().to_list(),
    )
    items = build_work_items(
        decided, records(record_rows, source, info.file_name, received), context, RulesConfig(), info
    )
    return db.queue_run(info.run_id, decided, items)


WAGE_RECEIVED = date(2026, 11, 14)  # a Saturday
WAGE_RECORDS = [
    # P1 at the employer the new-hire file reported (same FEIN, another source): corroboration only.
    {"record_number": 2, "employer_fein": "222222222", "employer_name": "ACME CORPORATION",
     "wage_amount_cents": 1234500, "wage_period": "20263"},
    # P4 at a second new employer: a new locate hit (order NONE: no IWO).
    {"record_number": 3, "employer_fein": "888888888", "employer_name": "OMEGA", "wage_amount_cents": 99},
]  # fmt: skip
WAGE_MATCHES = [(2, "P1", "auto"), (3, "P4", "auto")]

FIDM_RECEIVED = date(2026, 10, 1)
_BANK = {
    "institution_tin": "990000001",
    "institution_name": "FIRST BANK",
    "institution_address_line1": "1 VAULT ST",
    "institution_city": "CHICAGO",
    "institution_state": "IL",
    "institution_zip": "606010000",
}
FIDM_RECORDS = [
    # P1: levy on C1 (arrears 1000 >= 500); C2 (arrears 200) and C3 (closed) do not qualify.
    {"record_number": 2, "account_number": "ACCT-1", "account_balance": 5000, "trust_indicator": "0",
     **_BANK},
    # P1: an IOLTA trust account: never levied.
    {"record_number": 3, "account_number": "ACCT-2", "account_balance": 9000, "trust_indicator": "2",
     **_BANK},
    # P1: balance under the minimum (100).
    {"record_number": 4, "account_number": "ACCT-3", "account_balance": 99, "trust_indicator": "0",
     **_BANK},
    # P2 (FV): arrears 0 -> no levy.
    {"record_number": 5, "account_number": "ACCT-4", "account_balance": 700, "trust_indicator": "0",
     **_BANK},
]  # fmt: skip
FIDM_MATCHES = [(2, "P1", "auto"), (3, "P1", "auto"), (4, "P1", "auto"), (5, "P2", "auto")]

DMV_RECEIVED = date(2026, 9, 1)
DMV_RECORDS = [
    # P1: C1 arrears 1000 > 3 x 300; C2 arrears 200 > 3 x 0: two suspension candidates.
    {"record_number": 2, "license_number": "D100", "license_state": "IL", "license_class": "D",
     "license_status": "VALID"},
    # P1 again, a licence already suspended: nothing to suspend.
    {"record_number": 3, "license_number": "D101", "license_state": "IL", "license_status": "SUSPENDED"},
    # P5 (C7: arrears 50 <= 3 x 150) and P4 (no arrears): none.
    {"record_number": 4, "license_number": "D102", "license_state": "IL", "license_status": "VALID"},
    {"record_number": 5, "license_number": "D103", "license_state": "IL", "license_status": "VALID"},
]  # fmt: skip
DMV_MATCHES = [(2, "P1", "auto"), (3, "P1", "auto"), (4, "P5", "auto"), (5, "P4", "auto")]
