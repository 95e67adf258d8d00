"""Work rules on a hand-built registry: exactly the items the rules imply, with their contents."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from tests.worklists import scenario as s
from worklists import ITEM_SCHEMA, RulesConfig, build_work_items, iwo_due_date, keys
from worklists.rules import address_item_keys

NEW_HIRE_RULES = ("locate_hit", "iwo_candidate")


def _items(
    source: str,
    rules: tuple[str, ...],
    received: date,
    match_rows: list[tuple[int, str, str]],
    record_rows: list[dict[str, object]],
    config: RulesConfig | None = None,
    registry: dict[str, pl.DataFrame] | None = None,
    sha: str = "a" * 64,
) -> pl.DataFrame:
    info = s.run(source, rules, received, sha)
    found = s.matches(match_rows, source, info.file_name)
    records = s.records(record_rows, source, info.file_name, received)
    return build_work_items(found, records, registry or s.REGISTRY, config or RulesConfig(), info)


def _new_hire(sha: str = "a" * 64) -> pl.DataFrame:
    return _items(
        "new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS, sha=sha
    )


def _info(items: pl.DataFrame) -> list[dict[str, Any]]:
    return [json.loads(v) for v in items.get_column("new_info")]


def test_new_hire_items_are_exactly_what_the_rules_imply() -> None:
    items = _new_hire()
    assert items.schema == pl.Schema(ITEM_SCHEMA)
    got = sorted(items.select("item_kind", "person_id", "case_id", "record_number").rows())
    assert got == sorted([
        # P1: known address (12 MAIN STREET ~ 12 Main St.); new employer on open cases C1, C2 (C3 closed)
        ("locate_hit", "P1", "C1", 2), ("locate_hit", "P1", "C2", 2),
        ("iwo_candidate", "P1", "C1", 2), ("iwo_candidate", "P1", "C2", 2),
        # P2 (FV): new address + new employer + IWO on C4
        ("locate_hit", "P2", "C4", 3), ("locate_hit", "P2", "C4", 3), ("iwo_candidate", "P2", "C4", 3),
        # P3: IWO active at 111111111 and it is a current employer: only the new address
        ("locate_hit", "P3", "C5", 4),
        # P4: order NONE -> no IWO; address already on file -> employer locate only
        ("locate_hit", "P4", "C6", 5),
        # P5: review -> one match_review routed to its open case
        ("match_review", "P5", "C7", 6),
    ])  # fmt: skip


def test_items_carry_routing_provenance_and_match_evidence() -> None:
    items = _new_hire()
    iwo = items.filter((pl.col("item_kind") == "iwo_candidate") & (pl.col("case_id") == "C2")).row(
        0, named=True
    )
    assert (iwo["caseworker_id"], iwo["office_id"], iwo["source"]) == ("CW2", "OF1", "new_hire")
    assert (iwo["file_sha256"], iwo["file_name"], iwo["run_id"]) == (
        "a" * 64,
        "new_hire.txt",
        "new_hire-" + "a" * 16,
    )
    assert (iwo["match_probability"], iwo["decision"], iwo["model_version"]) == (
        0.9999,
        "auto",
        "test-model-1",
    )
    assert iwo["reasons"] == "ssn exact; last name exact"
    info = json.loads(iwo["new_info"])
    assert info["employer_fein"] == "222222222" and info["employer_name"] == "ACME CORP"
    assert (info["iwo_address_line1"], info["iwo_zip"]) == (
        "1 FACTORY RD",
        "62703",
    )  # employer address fallback
    assert info["hire_date"] == "2026-11-02"
    assert info["text"] == "EMPLOYER ACME CORP FEIN 222222222"


def test_family_violence_items_are_queued_with_the_address_withheld() -> None:
    fv = _new_hire().filter(pl.col("person_id") == "P2")
    assert fv.height == 3 and fv.get_column("family_violence").all()
    infos = _info(fv)
    address = [i for i in infos if i["type"] == "address"]
    assert address == [{"type": "address", "withheld": True, "text": "ADDRESS WITHHELD (FV)"}]
    assert all("ELM" not in v and "62705" not in v for v in fv.get_column("new_info"))
    assert not _new_hire().filter(pl.col("person_id") != "P2").get_column("family_violence").any()


def test_review_match_carries_candidate_and_evidence_only() -> None:
    review = _new_hire().filter(pl.col("person_id") == "P5")
    assert review.get_column("item_kind").to_list() == ["match_review"]
    info = _info(review)[0]
    assert info["candidate_person_id"] == "P5" and info["record"]["ssn_last4"] == "0005"
    assert info["record"]["last_name"] == "EAST" and info["record"]["employer_fein"] == "666666666"
    assert "100000005" not in review.get_column("new_info")[0]
    assert review.get_column("due_date").to_list() == [date(2026, 11, 30)]  # it can become an IWO


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 11, 25), date(2026, 11, 30)),  # Wed -> Thanksgiving Thu skipped -> Fri, Mon
        (date(2026, 11, 26), date(2026, 11, 30)),  # received on Thanksgiving -> Fri, Mon
        (date(2026, 11, 13), date(2026, 11, 17)),  # Fri -> Mon, Tue
        (date(2026, 11, 14), date(2026, 11, 17)),  # Sat -> Mon, Tue
        (date(2026, 11, 15), date(2026, 11, 17)),  # Sun -> Mon, Tue
        (date(2026, 11, 10), date(2026, 11, 13)),  # Tue -> Veterans Day Wed 11-11 skipped -> Thu, Fri
        (date(2026, 7, 2), date(2026, 7, 7)),  # Thu -> Fri 07-03 (July 4th observed) skipped -> Mon, Tue
        (date(2026, 12, 31), date(2027, 1, 5)),  # New Year's Day 2027 skipped -> Mon, Tue
    ],
)
def test_iwo_due_date_skips_weekends_and_federal_holidays(received: date, due: date) -> None:
    assert iwo_due_date(received) == due
    items = _items("new_hire", NEW_HIRE_RULES, received, [(2, "P1", "auto")], s.NEW_HIRE_RECORDS[:1])
    iwo = items.filter(pl.col("item_kind") == "iwo_candidate")
    assert iwo.height == 2 and set(iwo.get_column("due_date")) == {due}
    assert set(items.filter(pl.col("item_kind") == "locate_hit").get_column("due_date")) == {None}


def test_keys_ignore_run_and_file_but_not_the_fact() -> None:
    first = _new_hire()
    rerun = _new_hire(sha="b" * 64)
    assert first.get_column("idempotency_key").to_list() == rerun.get_column("idempotency_key").to_list()
    assert first.get_column("idempotency_key").str.len_chars().unique().to_list() == [32]
    keys = first.select("idempotency_key", "item_kind", "case_id", "new_info").unique("idempotency_key")
    assert keys.height == first.height  # each (kind, case, fact) distinct
    moved = [{**s.NEW_HIRE_RECORDS[0], "employer_fein": "222222223"}]
    other = _items("new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, [(2, "P1", "auto")], moved)
    assert not set(other.get_column("idempotency_key")) & set(first.get_column("idempotency_key"))


def test_wage_and_new_hire_reporting_the_same_employer_share_keys() -> None:
    new_hire = _new_hire().filter(pl.col("person_id") == "P1")
    wage = _items("quarterly_wage", NEW_HIRE_RULES, s.WAGE_RECEIVED, s.WAGE_MATCHES, s.WAGE_RECORDS)
    wage_p1 = wage.filter(pl.col("person_id") == "P1")
    assert wage_p1.height == 4
    assert set(wage_p1.get_column("idempotency_key")) == set(new_hire.get_column("idempotency_key"))
    assert set(wage_p1.get_column("due_date").drop_nulls()) == {date(2026, 11, 17)}  # received on a Saturday


def test_a_source_only_feeds_its_own_rules() -> None:
    locate_only = _items(
        "ui_claim", ("locate_hit",), s.NEW_HIRE_RECEIVED, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS
    )
    assert set(locate_only.get_column("item_kind")) == {"locate_hit", "match_review"}
    assert locate_only.filter(pl.col("item_kind") == "match_review").get_column("due_date").to_list() == [
        None
    ]
    with pytest.raises(ValueError, match="unknown work rules"):
        _items("new_hire", ("teleport",), s.NEW_HIRE_RECEIVED, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS)


def test_levy_thresholds_and_trust_accounts() -> None:
    rules = ("locate_hit", "levy_candidate")
    items = _items("fidm", rules, s.FIDM_RECEIVED, s.FIDM_MATCHES, s.FIDM_RECORDS)
    # P1 owes 1000 (C1) + 200 (C2) on open cases, 9000 on a closed one: one item per open case with arrears
    assert sorted(items.select("item_kind", "case_id", "record_number").rows()) == [
        ("levy_candidate", "C1", 2),
        ("levy_candidate", "C2", 2),
    ]  # never the trust account
    info = _info(items.filter(pl.col("case_id") == "C1"))[0]
    assert (info["account_number"], info["account_balance"], info["levy_address_line1"]) == (
        "ACCT-1",
        5000,
        "1 VAULT ST",
    )
    assert (info["arrears_balance"], info["ncp_arrears_balance"]) == (1000.0, 1200.0)

    def levied(**thresholds: float) -> int:
        config = RulesConfig(**thresholds)
        return _items("fidm", rules, s.FIDM_RECEIVED, s.FIDM_MATCHES, s.FIDM_RECORDS, config).height

    assert levied(levy_min_arrears=1199.99) == 2  # the NCP's arrears, not one case's, exceed it
    assert levied(levy_min_arrears=1200) == 0  # "exceed": equal is not enough
    assert levied(levy_min_balance=4999.99) == 2 and levied(levy_min_balance=5000) == 0
    unknown_trust = [{**s.FIDM_RECORDS[0], "trust_indicator": "6"}]
    assert _items("fidm", rules, s.FIDM_RECEIVED, [(2, "P1", "auto")], unknown_trust).height == 2
    closed = [{**s.FIDM_RECORDS[0], "update_indicator": "0"}]
    assert _items("fidm", rules, s.FIDM_RECEIVED, [(2, "P1", "auto")], closed).is_empty()


def test_license_suspension_threshold_in_months_of_support() -> None:
    rules = ("locate_hit", "license_suspension_candidate")
    items = _items("dmv", rules, s.DMV_RECEIVED, s.DMV_MATCHES, s.DMV_RECORDS)
    assert sorted(items.select("case_id", "record_number").rows()) == [("C1", 2), ("C2", 2)]
    strict = _items(
        "dmv", rules, s.DMV_RECEIVED, s.DMV_MATCHES, s.DMV_RECORDS, RulesConfig(suspension_arrears_months=4)
    )
    assert strict.select("case_id").to_series().to_list() == ["C2"]  # 1000 <= 4 x 300; C2: 200 > 0
    assert _info(items)[0]["license_number"] == "D100"


def test_locate_compares_normalised_addresses_and_current_employers() -> None:
    rows = [
        {"record_number": 2, "address_line1": "12 main street", "zip": "62701-0000"},  # the NCP address again
        {"record_number": 3, "address_line1": "12 MAIN ST APT 2", "zip": "62701"},  # a different line 1: new
        {"record_number": 4, "employer_fein": "555555555"},  # P1's employment there ended: new again
        {"record_number": 5, "address_line1": "7 PINE COURT", "zip": "62704"},  # P4's known address
        {"record_number": 6, "employer_fein": "000000000"},  # not a usable FEIN
        {"record_number": 7, "address_line1": "12 MAIN ST", "zip": "62702"},  # in another ZIP: new
        {"record_number": 8, "address_line1": "7 Pine Ct", "zip": "627040001"},  # P4's again, ZIP+4
    ]
    found = [(n, "P4" if n in (5, 8) else "P1", "auto") for n in range(2, 9)]
    items = _items("ui_claim", ("locate_hit",), s.NEW_HIRE_RECEIVED, found, rows)
    assert sorted(items.select("record_number", "case_id").rows()) == [
        (3, "C1"),
        (3, "C2"),
        (4, "C1"),
        (4, "C2"),
        (7, "C1"),
        (7, "C2"),
    ]


def test_an_address_is_both_lines_with_the_unit_designator_left_out() -> None:
    registry = {
        **s.REGISTRY,
        "ncp": s.NCP.with_columns(address_line2=pl.Series(["APT 5", None, None, None, None])),
    }
    rows = [
        {"record_number": 2, "address_line1": "12 MAIN ST", "address_line2": "Apartment 5", "zip": "62701"},
        {
            "record_number": 3,
            "address_line1": "12 Main Street #5",
            "zip": "62701",
        },  # the unit moved to line 1
        {"record_number": 4, "address_line1": "12 MAIN ST", "address_line2": "UNIT 5", "zip": "62701"},
        {
            "record_number": 5,
            "address_line1": "12 MAIN ST",
            "address_line2": "APT 9",
            "zip": "62701",
        },  # moved
        {"record_number": 6, "address_line1": "12 MAIN ST", "zip": "62701"},  # no unit: not the address held
        {"record_number": 7, "address_line1": "12 MAIN ST APT 9", "zip": "62701"},  # record 5's address again
        {"record_number": 8, "address_line1": "12 MAIN ST", "address_line2": "APT 5 C/O ANN", "zip": "62701"},
        {
            "record_number": 9,
            "address_line1": "c/o Ann Lee",
            "address_line2": "12 Main St Apt 5",
            "zip": "62701",
        },
        {"record_number": 10, "address_line1": "ATTN: ANN", "zip": "62701"},  # no address at all
    ]
    found = [(n, "P1", "auto") for n in range(2, 11)]
    items = _items("ui_claim", ("locate_hit",), s.NEW_HIRE_RECEIVED, found, rows, registry=registry)
    c1 = items.filter(pl.col("case_id") == "C1")
    assert c1.get_column("record_number").to_list() == [5, 6, 7]
    assert c1.get_column("idempotency_key").n_unique() == 2  # records 5 and 7: one item, two sightings
    assert [_info(c1)[0][k] for k in ("address_line1", "address_line2")] == ["12 MAIN ST", "APT 9"]


def test_an_address_without_line_2_or_unit_keeps_the_key_it_had() -> None:
    rows = [{"record_number": 4, "address_line1": "44 NEW ST", "zip": "62706"}]
    items = _items("ui_claim", ("locate_hit",), s.NEW_HIRE_RECEIVED, [(4, "P3", "auto")], rows)
    before = keys.idempotency_key(
        pl.lit("locate_hit"), pl.lit("P3"), pl.lit("C5"), pl.lit("ADDRESS|44 NEW ST|62706")
    )
    assert items.get_column("idempotency_key").to_list() == [pl.select(before).item()]


def test_stored_address_items_are_rekeyed_from_their_new_info_but_withheld_ones_are_not() -> None:
    rows = [
        {"record_number": 2, "address_line1": "12 MAIN ST", "address_line2": "APT 9", "zip": "62701"},
        {"record_number": 3, "address_line1": "9 ELM AVENUE", "address_line2": "UNIT 2", "zip": "62705"},
    ]
    items = _items(
        "ui_claim", ("locate_hit",), s.NEW_HIRE_RECEIVED, [(2, "P1", "auto"), (3, "P2", "auto")], rows
    )
    stored = items.with_row_index("item_id").with_columns(pl.col("item_id").cast(pl.Int64))
    rekeyed = address_item_keys(stored.select("item_id", "person_id", "case_id", "new_info"))
    expected = stored.filter(pl.col("person_id") == "P1").select("item_id", "idempotency_key")  # P2: FV
    assert expected.height == 2 and rekeyed.sort("item_id").equals(expected)


def test_no_matches_no_items() -> None:
    empty = _items("new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, [(7, "P4", "none")], s.NEW_HIRE_RECORDS)
    assert empty.is_empty() and empty.schema == pl.Schema(ITEM_SCHEMA)
