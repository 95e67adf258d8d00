"""Work rules: a run's decided matches → work items, one row per (item, case). Pure polars, no I/O.

`auto` matches feed the rules the source names (`RunInfo.rules`); `review` matches only queue a
`match_review` item (a specialist confirms the match first). Every row is one sighting: two records in a
file reporting the same fact give two rows with the same idempotency key, which the queue collapses into
one item with two pieces of evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import polars as pl

from loaders.registry import REGISTRY_SCHEMAS
from matching.normalise import fein, street, zip5
from worklists.due import IWO_BUSINESS_DAYS, business_days_after
from worklists.keys import idempotency_key

RULES = ("locate_hit", "iwo_candidate", "levy_candidate", "license_suspension_candidate")
ITEM_KINDS = (*RULES, "match_review")
TRUST_ACCOUNTS = ("1", "2", "3", "4", "5")  # UTMA/UGMA, IOLTA, mortgage escrow, security deposit, other trust
NOT_SUSPENDABLE = ("SUSPENDED", "REVOKED", "CANCELLED")
WITHHELD = "WITHHELD (FV)"
# What an item's fact is about, before its normalised value (part of the idempotency key).
ADDRESS_FACT, EMPLOYER_FACT = "ADDRESS|", "EMPLOYER|"
# Unit designators as `street` leaves them (APARTMENT -> APT, SUITE -> STE, ROOM -> RM; `#` is punctuation).
_UNIT_DESIGNATOR = r"\b(?:APT|UNIT|STE|RM)\b"
# Whom mail goes through (`C/O …`, `ATTN: …`, `IN CARE OF …` to the end of its line), not where.
_CARE_OF = r"\b(?:C O|ATTN|ATTENTION|IN CARE OF|CARE OF)\b.*$"

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_kind": pl.String(),
    "idempotency_key": pl.String(),
    "case_id": pl.String(),
    "person_id": pl.String(),
    "caseworker_id": pl.String(),
    "office_id": pl.String(),
    "source": pl.String(),
    "new_info": pl.String(),
    "due_date": pl.Date(),
    "family_violence": pl.Boolean(),
    "match_weight": pl.Float64(),
    "match_probability": pl.Float64(),
    "decision": pl.String(),
    "reasons": pl.String(),
    "file_sha256": pl.String(),
    "file_name": pl.String(),
    "record_number": pl.Int64(),
    "run_id": pl.String(),
    "model_version": pl.String(),
}

# Record columns the rules read; a source that lacks one simply has it null.
RECORD_COLUMNS: dict[str, pl.DataType] = {
    "first_name": pl.String(), "middle_name": pl.String(), "last_name": pl.String(), "suffix": pl.String(),
    "dob": pl.Date(), "ssn": pl.String(), "ssn_last4": pl.String(),
    "address_line1": pl.String(), "address_line2": pl.String(), "city": pl.String(), "state": pl.String(),
    "zip": pl.String(),
    "employer_fein": pl.String(), "employer_name": pl.String(), "employer_address_line1": pl.String(),
    "employer_city": pl.String(), "employer_state": pl.String(), "employer_zip": pl.String(),
    "iwo_address_line1": pl.String(), "iwo_city": pl.String(), "iwo_state": pl.String(),
    "iwo_zip": pl.String(),
    "hire_date": pl.Date(), "wage_amount_cents": pl.Int64(), "wage_period": pl.String(),
    "account_number": pl.String(), "account_type": pl.String(), "account_balance": pl.Int64(),
    "trust_indicator": pl.String(), "update_indicator": pl.String(), "institution_tin": pl.String(),
    "institution_name": pl.String(), "institution_address_line1": pl.String(),
    "institution_city": pl.String(),
    "institution_state": pl.String(), "institution_zip": pl.String(),
    "license_number": pl.String(), "license_state": pl.String(), "license_class": pl.String(),
    "license_status": pl.String(),
}  # fmt: skip
MATCH_COLUMNS: dict[str, pl.DataType] = {
    "record_number": pl.Int64(), "person_id": pl.String(), "match_weight": pl.Float64(),
    "match_probability": pl.Float64(), "decision": pl.String(), "reasons": pl.String(),
    "runner_up_person_id": pl.String(), "model_version": pl.String(),
}  # fmt: skip
CASE_COLUMNS = REGISTRY_SCHEMAS["ncp_case"]
# The registry columns the rules read to tell new information from known.
KNOWN_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    table: {c: REGISTRY_SCHEMAS[table][c] for c in columns}
    for table, columns in (
        ("ncp", ("person_id", "address_line1", "address_line2", "zip")),
        ("known_address", ("person_id", "address_line1", "address_line2", "zip")),
        ("known_employer", ("person_id", "fein", "end_date", "iwo_active")),
    )
}

# What the rules read of the registry (`Database.read_registry(columns=...)`): the rest is never fetched.
CONTEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "ncp_case": tuple(CASE_COLUMNS),
    **{table: tuple(columns) for table, columns in KNOWN_COLUMNS.items()},
}


class _Thresholds(Protocol):
    levy_min_arrears: float
    levy_min_balance: float
    suspension_arrears_months: float


@dataclass(frozen=True)
class RulesConfig:
    """Thresholds in dollars (levy: arrears and balance must exceed them) and months of current support
    (licence suspension)."""

    levy_min_arrears: float = 500.0
    levy_min_balance: float = 100.0
    suspension_arrears_months: float = 3.0

    @classmethod
    def from_settings(cls, settings: _Thresholds) -> RulesConfig:
        return cls(settings.levy_min_arrears, settings.levy_min_balance, settings.suspension_arrears_months)


@dataclass(frozen=True)
class RunInfo:
    """The run the matches come from, and the rules its source feeds (`SourceSpec.work_rules`)."""

    run_id: str
    source: str
    file_sha256: str
    file_name: str
    received_date: date
    model_version: str
    rules: tuple[str, ...]


def conform(frame: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The given columns (missing ones null) cast to the schema; other columns kept."""
    if frame is None or not frame.columns:
        return pl.DataFrame(schema=schema)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in frame.columns]
    return frame.with_columns(missing).cast(pl.Schema(schema))


def iwo_due_date(received: date) -> date:
    """Received date + 2 business days (weekends and U.S. federal holidays skipped)."""
    expr = business_days_after(pl.lit(received), IWO_BUSINESS_DAYS, received.year, received.year)
    due: date = pl.select(expr).item()
    return due


def build_work_items(
    matches: pl.DataFrame,
    records: pl.DataFrame,
    context: dict[str, pl.DataFrame],
    config: RulesConfig,
    run: RunInfo,
) -> pl.DataFrame:
    """Work items (ITEM_SCHEMA), one row per (item, case) per sighting."""
    unknown = set(run.rules) - set(RULES)
    if unknown:
        raise ValueError(f"unknown work rules: {sorted(unknown)}")
    hits = _hits(matches, records)
    cases = _cases(context.get("ncp_case"))
    auto = hits.filter(pl.col("decision") == "auto")
    iwo_due = iwo_due_date(run.received_date)
    rules = {
        "locate_hit": lambda: _locate_hits(auto, cases, context),
        "iwo_candidate": lambda: _iwo_candidates(auto, cases, context, iwo_due),
        "levy_candidate": lambda: _levy_candidates(auto, cases, config),
        "license_suspension_candidate": lambda: _license_suspension_candidates(auto, cases, config),
    }
    review_due = iwo_due if "iwo_candidate" in run.rules else None
    parts = [rules[name]() for name in RULES if name in run.rules]
    parts.append(_match_reviews(hits.filter(pl.col("decision") == "review"), cases, review_due))
    return _finish(pl.concat(parts, how="diagonal_relaxed"), run)


# --- inputs ---------------------------------------------------------------------------------------------


def _hits(matches: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """auto/review matches with their record's columns and the normalised facts they report."""
    decided = conform(matches, MATCH_COLUMNS).filter(pl.col("decision").is_in(["auto", "review"]))
    records = conform(records, {"record_number": pl.Int64(), **RECORD_COLUMNS})
    record_part = records.select("record_number", *RECORD_COLUMNS)
    return (
        decided.select(*MATCH_COLUMNS)
        .join(record_part, on="record_number", how="left")
        .lazy()  # lazily: polars computes the street repeated inside `address_fact` once only there
        .with_columns(
            address_fact=address_fact(pl.col("address_line1"), pl.col("address_line2"), pl.col("zip")),
            employer_fact=fein(pl.col("employer_fein")),
        )
        .collect()
    )


def _cases(ncp_case: pl.DataFrame | None) -> pl.DataFrame:
    """Cases with `family_violence_person`: an FV flag on any of the NCP's cases protects them everywhere."""
    cases = conform(ncp_case, CASE_COLUMNS).select(*CASE_COLUMNS)
    return cases.with_columns(
        family_violence_person=(pl.col("family_violence") == "Y").fill_null(False).any().over("person_id"),
        is_open=pl.col("case_status") == "OPEN",
    )


def address_fact(line1: pl.Expr, line2: pl.Expr, zip_code: pl.Expr) -> pl.Expr:
    """`<line 1> <line 2>|<ZIP5>` in USPS style (as the matcher normalises streets) with the unit
    designators and any care-of part left out, so `APT 5`, `UNIT 5` and `#5` on either line are one address
    and `C/O …` adds nothing; null when line 1 or the ZIP is missing. An address without a line 2, a
    designator or a care-of part keeps the fact it always had (line 1 + ZIP5). Evaluate it lazily: line 1's
    street appears more than once, and only a lazy query computes it once."""
    streets = [street(line1), street(line2)]
    where = pl.concat_str([s.str.replace(_CARE_OF, "") for s in streets], separator=" ", ignore_nulls=True)
    kept = where.str.replace_all(_UNIT_DESIGNATOR, "").str.replace_all(" +", " ").str.strip_chars()
    usable = streets[0].is_not_null() & (kept != "")
    return pl.when(usable).then(pl.concat_str([kept, zip5(zip_code)], separator="|"))


def _known_addresses(context: dict[str, pl.DataFrame], reported: pl.DataFrame) -> pl.DataFrame:
    """The `address_fact`s the registry holds for the NCPs of `reported` (`person_id`, `zip`) in the ZIP
    codes they are reported in: only those can equal a reported fact (which ends in its ZIP5)."""
    frames = [conform(context.get(name), KNOWN_COLUMNS[name]) for name in ("ncp", "known_address")]
    known = pl.concat([f.select("person_id", "address_line1", "address_line2", "zip") for f in frames])
    zips = reported.select("person_id", zip5=zip5(pl.col("zip"))).unique()
    facts = address_fact(pl.col("address_line1"), pl.col("address_line2"), pl.col("zip"))
    return (
        known.lazy()
        .with_columns(zip5=zip5(pl.col("zip")))
        .join(zips.lazy(), on=["person_id", "zip5"], how="semi")
        .select("person_id", address_fact=facts)
        .unique()
        .collect()
    )


def _known_employers(context: dict[str, pl.DataFrame]) -> pl.DataFrame:
    known = conform(context.get("known_employer"), KNOWN_COLUMNS["known_employer"])
    return known.select("person_id", "end_date", "iwo_active", employer_fact=fein(pl.col("fein")))


# --- new information as JSON (with a readable `text` for worklists and exports) ----------------------------


def _joined(*parts: pl.Expr, separator: str = " ") -> pl.Expr:
    return pl.concat_str(list(parts), separator=separator, ignore_nulls=True)


def _info(kind: str, text: pl.Expr, **fields: pl.Expr) -> pl.Expr:
    """`new_info` JSON text: `{"type": kind, **fields, "text": text}`."""
    struct = pl.struct(
        pl.lit(kind).alias("type"), *(v.alias(k) for k, v in fields.items()), text.alias("text")
    )
    return struct.struct.json_encode()


def _address_info(prefix: str = "") -> dict[str, pl.Expr]:
    return {
        name: pl.col(f"{prefix}{name}") for name in ("address_line1", "address_line2", "city", "state", "zip")
    }


_WITHHELD_ADDRESS = json.dumps({"type": "address", "withheld": True, "text": f"ADDRESS {WITHHELD}"})


def _address_new_info() -> pl.Expr:
    address = _address_info()
    text = _joined(pl.lit("ADDRESS"), *address.values())
    full = _info("address", text, **address)
    return pl.when(pl.col("family_violence_person")).then(pl.lit(_WITHHELD_ADDRESS)).otherwise(full)


def protect_addresses(items: pl.DataFrame) -> pl.DataFrame:
    """Items as a specialist sees them: where `family_violence` is set, whether at queue time or by a later
    registry load, a locate hit's address and a review record's address are withheld, as the rules
    withhold them for an NCP protected when the item was queued."""
    protected = items.get_column("family_violence").fill_null(False)
    if not protected.any():
        return items
    rows = items.with_row_index("_row").filter(protected)  # the few protected rows only
    kind = pl.col("new_info").str.json_path_match("$.type")
    review_address = r'"address":"(?:[^"\\]|\\.)*"'  # new_info is compact JSON (`_info`)
    withheld = rows.select(
        "_row",
        pl.when(kind == "address")
        .then(pl.lit(_WITHHELD_ADDRESS))
        .when(kind == "match_review")
        .then(pl.col("new_info").str.replace(review_address, f'"address":"{WITHHELD}"'))
        .otherwise(pl.col("new_info"))
        .alias("new_info"),
    )
    return items.with_columns(items.get_column("new_info").scatter(withheld["_row"], withheld["new_info"]))


def _employer_new_info() -> pl.Expr:
    iwo_given = pl.col("iwo_address_line1").is_not_null()
    iwo_address = {
        "iwo_address_line1": pl.coalesce("iwo_address_line1", "employer_address_line1"),
        "iwo_city": pl.when(iwo_given).then(pl.col("iwo_city")).otherwise(pl.col("employer_city")),
        "iwo_state": pl.when(iwo_given).then(pl.col("iwo_state")).otherwise(pl.col("employer_state")),
        "iwo_zip": pl.when(iwo_given).then(pl.col("iwo_zip")).otherwise(pl.col("employer_zip")),
    }
    text = _joined(pl.lit("EMPLOYER"), pl.col("employer_name"), pl.lit("FEIN"), pl.col("employer_fact"))
    return _info(
        "employer",
        text,
        employer_fein=pl.col("employer_fact"),
        employer_name=pl.col("employer_name"),
        **iwo_address,
        hire_date=pl.col("hire_date"),
        wage_period=pl.col("wage_period"),
        wage_amount_cents=pl.col("wage_amount_cents"),
    )


# --- the rules -----------------------------------------------------------------------------------------


def _tagged(
    frame: pl.DataFrame, kind: str, fact: pl.Expr, new_info: pl.Expr, due: date | None
) -> pl.DataFrame:
    return frame.with_columns(
        item_kind=pl.lit(kind), fact=fact, new_info=new_info, due_date=pl.lit(due, dtype=pl.Date())
    )


def _locate_hits(auto: pl.DataFrame, cases: pl.DataFrame, context: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """An address (`address_fact`) or a current employer (FEIN) the registry does not hold: per open case."""
    open_cases = cases.filter(pl.col("is_open"))
    current_employers = _known_employers(context).filter(pl.col("end_date").is_null())
    reported = auto.filter(pl.col("address_fact").is_not_null())
    known_addresses = _known_addresses(context, reported)
    new_address = reported.join(known_addresses, on=["person_id", "address_fact"], how="anti")
    new_employer = auto.filter(pl.col("employer_fact").is_not_null()).join(
        current_employers.select("person_id", "employer_fact"), on=["person_id", "employer_fact"], how="anti"
    )
    return pl.concat(
        [
            _tagged(
                new_address.join(open_cases, on="person_id"),
                "locate_hit",
                pl.lit(ADDRESS_FACT) + pl.col("address_fact"),
                _address_new_info(),
                None,
            ),
            _tagged(
                new_employer.join(open_cases, on="person_id"),
                "locate_hit",
                pl.lit(EMPLOYER_FACT) + pl.col("employer_fact"),
                _employer_new_info(),
                None,
            ),
        ],
        how="diagonal_relaxed",
    )


def address_item_keys(items: pl.DataFrame) -> pl.DataFrame:
    """Queued locate-hit address items (`item_id`, `person_id`, `case_id`, `new_info`) → `item_id` and the
    `idempotency_key` their address has under `address_fact` (migration 007: facts used to be line 1 +
    ZIP5). Items whose address was withheld (family violence) hold no address to key and are left out."""
    parts = {name: pl.String() for name in ("type", "address_line1", "address_line2", "zip")}
    info = pl.col("new_info").str.json_decode(pl.Struct(parts))
    stored = items.select("item_id", "person_id", "case_id", info.alias("info")).unnest("info")
    address_lines = address_fact(pl.col("address_line1"), pl.col("address_line2"), pl.col("zip"))
    fact = pl.lit(ADDRESS_FACT) + address_lines
    key = idempotency_key(pl.lit("locate_hit"), pl.col("person_id"), pl.col("case_id"), fact)
    address = (pl.col("type") == "address") & fact.is_not_null()
    return stored.lazy().filter(address).select("item_id", idempotency_key=key).collect()


def _iwo_candidates(
    auto: pl.DataFrame, cases: pl.DataFrame, context: dict[str, pl.DataFrame], due: date
) -> pl.DataFrame:
    """An employer with no IWO in force, per open case with an active order and support or arrears due."""
    eligible = cases.filter(
        pl.col("is_open")
        & (pl.col("order_status") == "ACTIVE")
        & ((pl.col("current_support_monthly") > 0) | (pl.col("arrears_balance") > 0))
    )
    iwo_in_force = (
        _known_employers(context).filter(pl.col("iwo_active") == "Y").select("person_id", "employer_fact")
    )
    candidates = auto.filter(pl.col("employer_fact").is_not_null()).join(
        iwo_in_force, on=["person_id", "employer_fact"], how="anti"
    )
    return _tagged(
        candidates.join(eligible, on="person_id"),
        "iwo_candidate",
        pl.lit(EMPLOYER_FACT) + pl.col("employer_fact"),
        _employer_new_info(),
        due,
    )


def _levy_candidates(auto: pl.DataFrame, cases: pl.DataFrame, config: RulesConfig) -> pl.DataFrame:
    """An open non-trust account whose balance exceeds the minimum, of an NCP whose arrears (all open cases)
    exceed the minimum: one item per open case with arrears (design.md: "both exceed")."""
    accounts = auto.filter(
        pl.col("account_number").is_not_null()
        & (pl.col("account_balance") > config.levy_min_balance)
        & ~pl.col("trust_indicator").is_in(TRUST_ACCOUNTS).fill_null(False)
        & (pl.col("update_indicator") != "0").fill_null(True)
    )
    open_cases = cases.filter(pl.col("is_open")).with_columns(
        ncp_arrears=pl.col("arrears_balance").fill_null(0).sum().over("person_id")
    )
    eligible = open_cases.filter(
        (pl.col("ncp_arrears") > config.levy_min_arrears) & (pl.col("arrears_balance") > 0)
    )
    text = _joined(
        pl.lit("ACCOUNT"), pl.col("account_number"), pl.lit("AT"), pl.col("institution_name"),
        pl.lit("BALANCE $") + pl.col("account_balance").cast(pl.String),
    )  # fmt: skip
    new_info = _info(
        "account",
        text,
        institution_tin=pl.col("institution_tin"),
        institution_name=pl.col("institution_name"),
        levy_address_line1=pl.col("institution_address_line1"),
        levy_city=pl.col("institution_city"),
        levy_state=pl.col("institution_state"),
        levy_zip=pl.col("institution_zip"),
        account_number=pl.col("account_number"),
        account_type=pl.col("account_type"),
        account_balance=pl.col("account_balance"),
        trust_indicator=pl.col("trust_indicator"),
        arrears_balance=pl.col("arrears_balance"),
        ncp_arrears_balance=pl.col("ncp_arrears"),
    )
    fact = _joined(
        pl.lit("ACCOUNT"), pl.col("institution_tin").fill_null(""), pl.col("account_number"), separator="|"
    )
    return _tagged(accounts.join(eligible, on="person_id"), "levy_candidate", fact, new_info, None)


def _license_suspension_candidates(
    auto: pl.DataFrame, cases: pl.DataFrame, config: RulesConfig
) -> pl.DataFrame:
    """A licence still in force, for each open case whose arrears exceed N months of current support."""
    licences = auto.filter(
        pl.col("license_number").is_not_null()
        & ~pl.col("license_status").is_in(NOT_SUSPENDABLE).fill_null(False)
    )
    arrears = pl.col("arrears_balance")
    eligible = cases.filter(
        pl.col("is_open")
        & (arrears > 0)
        & (arrears > config.suspension_arrears_months * pl.col("current_support_monthly").fill_null(0.0))
    )
    text = _joined(
        pl.lit("LICENSE"), pl.col("license_state"), pl.col("license_number"), pl.lit("CLASS"),
        pl.col("license_class"), pl.col("license_status"),
    )  # fmt: skip
    new_info = _info(
        "license",
        text,
        license_number=pl.col("license_number"),
        license_state=pl.col("license_state"),
        license_class=pl.col("license_class"),
        license_status=pl.col("license_status"),
        arrears_balance=pl.col("arrears_balance"),
        current_support_monthly=pl.col("current_support_monthly"),
    )
    fact = _joined(
        pl.lit("LICENSE"), pl.col("license_state").fill_null(""), pl.col("license_number"), separator="|"
    )
    return _tagged(
        licences.join(eligible, on="person_id"), "license_suspension_candidate", fact, new_info, None
    )


def _match_reviews(review: pl.DataFrame, cases: pl.DataFrame, due: date | None) -> pl.DataFrame:
    """One item per review match, routed to the NCP's first open case (else first case, else nobody)."""
    primary = cases.sort(~pl.col("is_open"), "case_id").unique("person_id", keep="first", maintain_order=True)
    routed = review.join(primary, on="person_id", how="left").with_columns(
        pl.col("family_violence_person").fill_null(False)
    )
    last4 = pl.coalesce("ssn_last4", pl.col("ssn").str.slice(-4))
    address = (
        pl.when(pl.col("family_violence_person"))
        .then(pl.lit(WITHHELD))
        .otherwise(_joined(*_address_info().values()))
    )
    record = pl.struct(
        "first_name", "middle_name", "last_name", "suffix", "dob", last4.alias("ssn_last4"),
        address.alias("address"), pl.col("employer_fact").alias("employer_fein"), "employer_name",
        "account_number", "license_number",
    )  # fmt: skip
    text = _joined(pl.lit("CONFIRM MATCH TO NCP"), pl.col("person_id"))
    new_info = _info(
        "match_review", text, candidate_person_id=pl.col("person_id"),
        runner_up_person_id=pl.col("runner_up_person_id"), record=record,
    )  # fmt: skip
    fact = _joined(
        pl.lit("RECORD"), pl.col("first_name"), pl.col("last_name"), pl.col("dob").cast(pl.String),
        pl.col("address_fact"), pl.col("employer_fact"), pl.col("account_number"), pl.col("license_number"),
        separator="|",
    )  # fmt: skip
    return _tagged(routed, "match_review", fact, new_info, due)


def _finish(items: pl.DataFrame, run: RunInfo) -> pl.DataFrame:
    """The ITEM_SCHEMA columns, with idempotency keys and the run's provenance."""
    if items.is_empty():
        return pl.DataFrame(schema=ITEM_SCHEMA)
    review = pl.col("item_kind") == "match_review"
    fact = pl.when(review).then(pl.lit(run.source + "|") + pl.col("fact")).otherwise(pl.col("fact"))
    keyed = items.with_columns(
        idempotency_key=idempotency_key(pl.col("item_kind"), pl.col("person_id"), pl.col("case_id"), fact),
        family_violence=pl.col("family_violence_person").fill_null(False),
        model_version=pl.coalesce("model_version", pl.lit(run.model_version)),
        source=pl.lit(run.source),
        file_sha256=pl.lit(run.file_sha256),
        file_name=pl.lit(run.file_name),
        run_id=pl.lit(run.run_id),
    )
    return keyed.select(list(ITEM_SCHEMA)).cast(ITEM_SCHEMA)  # type: ignore[arg-type]
