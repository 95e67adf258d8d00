"""The synthetic data generator: reproducible, realistic, its files follow shared/formats byte for byte."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline.demo_data import (
    HARD_NEGATIVE_KINDS,
    PROFILES,
    SOURCES,
    RegistryFrames,
    generate_records,
    generate_registry,
    iter_records,
    make_demo,
    write_dmv,
    write_fidm,
    write_new_hire,
    write_quarterly_wage,
    write_registry,
)

RECEIVED = date(2026, 1, 5)
SPEC_COLUMNS = {
    "ncp": ["person_id", "ssn", "first_name", "middle_name", "last_name", "suffix", "dob", "sex",
            "address_line1", "address_line2", "city", "state", "zip"],
    "alias": ["person_id", "first_name", "middle_name", "last_name", "suffix", "ssn"],
    "ncp_case": ["case_id", "person_id", "caseworker_id", "office_id", "case_status", "order_status",
                 "current_support_monthly", "arrears_balance", "family_violence"],
    "known_employer": ["person_id", "fein", "employer_name", "start_date", "end_date", "iwo_active"],
    "known_address": ["person_id", "address_line1", "address_line2", "city", "state", "zip", "verified_date"],
}  # fmt: skip
DATE_COLUMNS = {"dob", "start_date", "end_date", "verified_date"}
MONEY_COLUMNS = {"current_support_monthly", "arrears_balance"}


@pytest.fixture(scope="module")
def registry() -> RegistryFrames:
    return generate_registry(20_000, seed=11)


@pytest.fixture(scope="module")
def samples(registry: RegistryFrames) -> dict[str, object]:
    return {
        s: generate_records(s, registry, 5_000, 3, received_date=RECEIVED, match_rate=0.5) for s in SOURCES
    }


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]  # files end with a line end


def _ssa_valid(ssn: pl.Expr) -> pl.Expr:
    area, group, serial = ssn.str.slice(0, 3), ssn.str.slice(3, 2), ssn.str.slice(5, 4)
    return (
        ssn.str.contains(r"^\d{9}$")
        & ~area.is_in(["000", "666"])
        & (area < "900")
        & (group != "00")
        & (serial != "0000")
    )


def test_registry_is_reproducible_and_seed_dependent() -> None:
    a, b, c = generate_registry(800, seed=5), generate_registry(800, seed=5), generate_registry(800, seed=6)
    for name, frame in a.frames().items():
        assert frame.equals(b.frames()[name]), name
    assert not a.ncp.equals(c.ncp)


def test_registry_columns_and_types_follow_the_extract_spec(registry: RegistryFrames) -> None:
    for name, frame in registry.frames().items():
        assert frame.columns == SPEC_COLUMNS[name], name
        for column, dtype in frame.schema.items():
            expected = (
                pl.Date if column in DATE_COLUMNS else pl.Float64 if column in MONEY_COLUMNS else pl.String
            )
            assert dtype == expected, (name, column)
    assert registry.ncp.height == 20_000
    assert registry.ncp["person_id"].n_unique() == 20_000


def test_registry_people_look_real(registry: RegistryFrames) -> None:
    ncp = registry.ncp
    ssns = ncp["ssn"].drop_nulls()
    assert 0 < ncp["ssn"].null_count() < 600 and 0 < ncp["dob"].null_count() < 600
    assert ssns.to_frame().select(_ssa_valid(pl.col("ssn")).all()).item()
    assert (
        pl.concat([ssns, registry.alias["ssn"].drop_nulls()]).n_unique()
        == ssns.len() + registry.alias["ssn"].drop_nulls().len()
    )
    top = ncp["last_name"].value_counts(sort=True).head(3)["last_name"].to_list()
    assert "SMITH" in top
    assert ncp["last_name"].n_unique() > 5_000  # long tail
    assert ncp["last_name"].str.contains("-").sum() > 100
    assert ncp["middle_name"].str.len_chars().eq(1).sum() > 1_000
    dob = ncp.select(
        pl.col("dob").min().alias("first"), pl.col("dob").dt.year().is_between(1955, 2004).mean()
    )
    assert dob["first"].item() >= date(1920, 1, 1) and dob["dob"].item() > 0.99
    assert set(ncp["sex"].drop_nulls().unique()) == {"M", "F"}
    assert set(ncp["suffix"].drop_nulls().unique()) >= {"JR", "SR", "III"}


def test_registry_holds_twins_and_jr_sr_pairs(registry: RegistryFrames) -> None:
    ncp = registry.ncp.drop_nulls(["dob", "address_line1"])
    key = ["last_name", "dob", "address_line1"]
    twins = ncp.join(ncp, on=key, suffix="_b").filter(pl.col("first_name") != pl.col("first_name_b"))
    assert twins.height >= 2 * 80
    same = ["first_name", "middle_name", "last_name", "address_line1"]
    pairs = ncp.join(ncp, on=same, suffix="_b", nulls_equal=True).filter(
        (pl.col("suffix") == "JR") & (pl.col("suffix_b") == "SR")
    )
    years = (pl.col("dob") - pl.col("dob_b")).dt.total_days() / 365.25
    assert pairs.height >= 85  # 100 pairs, a few lost a DOB or address
    assert pairs.select(years.is_between(19.9, 35.1).all()).item()


def test_registry_cases_employers_addresses(registry: RegistryFrames) -> None:
    cases = registry.ncp_case
    per_person = cases.group_by("person_id").len()["len"]
    assert per_person.min() == 1 and per_person.max() == 3
    assert per_person.len() == registry.ncp.height
    assert cases["case_id"].n_unique() == cases.height
    assert 0.3 < (cases["arrears_balance"] == 0).mean() < 0.6  # type: ignore[operator]
    assert cases["arrears_balance"].max() > 50 * cases["arrears_balance"].median()  # type: ignore[operator]
    assert set(cases["case_status"].unique()) == {"OPEN", "CLOSED"}
    assert set(cases["order_status"].unique()) == {"ACTIVE", "NONE", "SUSPENDED"}
    assert set(cases["family_violence"].drop_nulls().unique()) == {"Y"}
    employers = registry.known_employer
    assert set(employers["iwo_active"].unique()) == {"Y", "N"}
    assert employers["fein"].str.contains(r"^\d{9}$").all()
    assert (
        employers.filter(pl.col("end_date").is_not_null())
        .select((pl.col("end_date") >= pl.col("start_date")).all())
        .item()
    )
    assert registry.alias.filter(pl.col("ssn").is_null())["last_name"].null_count() == 0
    assert registry.known_address["person_id"].is_in(registry.ncp["person_id"].implode()).all()


def test_registry_writes_csv_and_parquet(tmp_path: Path) -> None:
    frames = generate_registry(300, seed=2)
    write_registry(frames, tmp_path / "csv")
    write_registry(frames, tmp_path / "pq", fmt="parquet")
    for name, frame in frames.frames().items():
        header = (tmp_path / "csv" / f"{name}.csv").read_text().splitlines()[0]
        assert header.split(",") == SPEC_COLUMNS[name]
        assert pl.read_parquet(tmp_path / "pq" / f"{name}.parquet").equals(frame)
    back = pl.read_csv(tmp_path / "csv" / "ncp.csv", infer_schema=False)
    assert back["dob"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert back["ssn"].drop_nulls().str.len_chars().eq(9).all()  # leading zeros kept


@pytest.mark.parametrize("source", SOURCES)
def test_records_are_reproducible_counted_and_numbered(registry: RegistryFrames, source: str) -> None:
    a = generate_records(source, registry, 700, 9, received_date=RECEIVED)
    b = generate_records(source, registry, 700, 9, received_date=RECEIVED)
    c = generate_records(source, registry, 700, 10, received_date=RECEIVED)
    assert a.rows.equals(b.rows) and a.truth.equals(b.truth)
    assert not a.rows.equals(c.rows)
    assert a.rows.height == a.truth.height == 700
    assert a.truth["record_number"].to_list() == list(range(2, 702))
    true_share = a.truth["person_id"].is_not_null().mean()
    assert true_share == pytest.approx(PROFILES[source].match_rate, abs=0.01)
    assert (
        a.truth.filter(pl.col("hard_negative").is_not_null())["person_id"].null_count()
        == a.truth["hard_negative"].drop_nulls().len()
    )


@pytest.mark.parametrize("source", SOURCES)
def test_every_fault_and_hard_negative_appears_in_5k(samples: dict[str, object], source: str) -> None:
    truth = samples[source].truth  # type: ignore[attr-defined]
    ncp_codes = set(truth.filter(pl.col("person_id").is_not_null()).explode("faults")["faults"].drop_nulls())
    wanted = {code for code, p in PROFILES[source].faults.items() if p > 0}
    assert wanted <= ncp_codes, wanted - ncp_codes
    extra = {
        "new_hire": {"employer_known", "employer_known_iwo"},
        "quarterly_wage": {"employer_known", "employer_known_iwo"},
        "dmv": set(),
        "fidm": {"second_owner", "owner_name_free_form", "passback_wrong", "passback_blank"},
    }[source]
    assert extra <= ncp_codes
    kinds = set(truth["hard_negative"].drop_nulls())
    assert kinds == set(PROFILES[source].hard_negatives)
    assert truth["person_id"].null_count() > 0


def test_all_hard_negative_kinds_are_used_by_some_source() -> None:
    assert set().union(*(p.hard_negatives for p in PROFILES.values())) == set(HARD_NEGATIVE_KINDS)


def _joined(records: object, registry: RegistryFrames) -> pl.DataFrame:
    rows, truth = records.rows, records.truth  # type: ignore[attr-defined]
    return pl.concat([rows, truth], how="horizontal").join(
        registry.ncp.rename(lambda c: f"reg_{c}"), left_on="person_id", right_on="reg_person_id", how="left"
    )


def _has(code: str) -> pl.Expr:
    return pl.col("faults").list.contains(code)


def test_faults_do_what_they_say(samples: dict[str, object], registry: RegistryFrames) -> None:
    nh = _joined(samples["new_hire"], registry).filter(pl.col("reg_ssn").is_not_null())
    no_ssn_fault = ~pl.col("faults").list.eval(pl.element().str.starts_with("ssn_")).list.any()
    assert (
        nh.filter(pl.col("person_id").is_not_null() & no_ssn_fault)
        .select((pl.col("ssn") == pl.col("reg_ssn")).all())
        .item()
    )
    diff = pl.sum_horizontal(
        pl.col("ssn").str.slice(i, 1) != pl.col("reg_ssn").str.slice(i, 1) for i in range(9)
    )
    typo = nh.filter(_has("ssn_typo") & ~_has("ssn_alias"))
    assert typo.height > 0 and typo.select((diff == 1).all()).item()
    swapped = nh.filter(_has("ssn_transposed") & ~_has("ssn_alias"))
    assert swapped.select((diff == 2).all()).item()
    assert nh.filter(_has("ssn_itin"))["ssn"].str.starts_with("9").all()
    assert set(nh.filter(_has("ssn_dummy"))["ssn"]) == {"123456789"}
    assert nh.filter(_has("ssn_missing"))["ssn"].null_count() == nh.filter(_has("ssn_missing")).height
    dm = nh.filter(_has("dob_day_month_swap") & pl.col("reg_dob").is_not_null())
    assert dm.select(
        (
            (pl.col("dob").dt.day() == pl.col("reg_dob").dt.month()) & (pl.col("dob") != pl.col("reg_dob"))
        ).all()
    ).item()
    plain = nh.filter(pl.col("faults").list.len() == 0)
    assert plain.select((pl.col("first_name") == pl.col("reg_first_name")).all()).item()
    assert (
        nh.filter(_has("suffix_in_last") & ~_has("name_swap"))["last_name"]
        .str.contains(r" (JR|SR|II|III|IV)$")
        .all()
    )
    nick = nh.filter(_has("nickname") & ~_has("alias_name"))
    assert nick.select((pl.col("first_name") != pl.col("reg_first_name")).all()).item()


def test_hard_negatives_resemble_an_ncp(samples: dict[str, object], registry: RegistryFrames) -> None:
    rows = pl.concat([samples["dmv"].rows, samples["dmv"].truth], how="horizontal")  # type: ignore[attr-defined]
    ncp = registry.ncp.select("last_name", "first_name", "dob", "ssn", "address_line1", "person_id")
    twins = rows.filter(pl.col("hard_negative") == "twin").join(ncp, on=["last_name", "dob", "address_line1"])
    assert (
        twins.filter(pl.col("first_name") != pl.col("first_name_right")).select("record_number").n_unique()
        > 0
    )
    jr = rows.filter(pl.col("hard_negative") == "jr_sr").join(
        ncp, on=["first_name", "last_name", "address_line1"]
    )
    gap = (pl.col("dob") - pl.col("dob_right")).dt.total_days().abs() / 365.25
    assert jr.filter(gap.is_between(19.9, 35.1)).select("record_number").n_unique() > 50
    ssns = samples["new_hire"].rows.hstack(samples["new_hire"].truth)  # type: ignore[attr-defined]
    shared = ssns.filter(pl.col("hard_negative") == "relatives_ssn")["ssn"]
    assert shared.is_in(registry.ncp["ssn"].drop_nulls().implode()).all()
    fidm = samples["fidm"].rows.hstack(samples["fidm"].truth)  # type: ignore[attr-defined]
    assert (
        fidm["ssn"]
        .is_in(pl.concat([registry.ncp["ssn"], registry.alias["ssn"]]).drop_nulls().implode())
        .all()
    )


def test_new_hire_file_layout(tmp_path: Path, samples: dict[str, object]) -> None:
    batch = samples["new_hire"]
    path = tmp_path / "nh.txt"
    assert write_new_hire(batch.rows, path, created=RECEIVED, batch_number=42) == 5_000  # type: ignore[attr-defined]
    lines = _lines(path)
    assert len(lines) == 5_002 and {len(line) for line in lines} == {801}
    header, trailer, details = lines[0], lines[-1], lines[1:-1]
    assert header[:4] == b"H417" and header[13:15] == b"W4" and header[16:18] == b"01"
    assert header[18:26] == b"20260105" and header[26:32] == b"000042"
    assert trailer[:2] == b"T4" and int(trailer[2:13]) == 5_000 and trailer[13:].strip() == b""
    assert all(line[:2] == b"W4" and line[751:].strip() == b"" for line in details)
    assert all(line.isascii() and line == line.upper() for line in details)
    hire = {line[279:287] for line in details}
    assert all(h.isdigit() and b"20251201" <= h <= b"20260105" for h in hire)
    # truth record_number = physical line: the SSN and last name on that line are the row's
    rows = batch.rows.with_columns(batch.truth["record_number"])  # type: ignore[attr-defined]
    for rec in rows.sample(200, seed=1).iter_rows(named=True):
        line = lines[rec["record_number"] - 1]
        assert line[2:11].decode().strip() == (rec["ssn"] or "")
        assert line[43:73].decode().rstrip() == (rec["last_name"] or "")[:30]
        assert line[271:279].decode().strip() == (rec["dob"].strftime("%Y%m%d") if rec["dob"] else "")


def test_quarterly_wage_file_layout_and_chunks(tmp_path: Path, registry: RegistryFrames) -> None:
    chunks = list(
        iter_records("quarterly_wage", registry, 2_500, 4, received_date=RECEIVED, chunk_size=1_000)
    )
    assert [c.truth["record_number"][0] for c in chunks] == [2, 1_002, 2_002]
    path = tmp_path / "qw.txt"
    count = write_quarterly_wage((c.rows for c in chunks), path, created=RECEIVED, eol="\r\n", chunk_size=700)
    assert count == 2_500
    lines = path.read_bytes().split(b"\r\n")[:-1]
    assert len(lines) == 2_502 and {len(line) for line in lines} == {300}
    assert lines[0][:2] == b"H4" and lines[0][13:15] == b"QW"
    assert lines[-1][:2] == b"T4" and int(lines[-1][2:13]) == 2_500
    details = lines[1:-1]
    assert all(d[:2] == b"QW" and d[255:266].isdigit() and d[266:271] == b"20254" for d in details)
    first = chunks[1].rows.row(0, named=True)
    assert lines[1_001][2:11].decode().strip() == (first["ssn"] or "")
    assert int(lines[1_001][255:266]) == first["wage_cents"]


def test_fidm_file_layout_and_balance_sum(tmp_path: Path, samples: dict[str, object]) -> None:
    rows = samples["fidm"].rows  # type: ignore[attr-defined]
    path = tmp_path / "fidm.txt"
    write_fidm(rows, path, match_period="20254", final_eol=False)
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 5_002 and {len(line) for line in lines} == {500}
    a, t, bs = lines[0], lines[-1], lines[1:-1]
    assert a[:6] == b"A20254" and a[370:371] == b"M"
    assert all(b[:1] == b"B" and b[1:7] == b"202601" for b in bs)
    balances = [int(b[350:357]) for b in bs]
    assert t[:1] == b"T" and int(t[1:9]) == 5_000 and int(t[9:24]) == sum(balances) > 0
    assert {b[358:359] for b in bs} >= {b"0", b"1", b"5"}
    assert {b[46:47] for b in bs} == {b"0", b"1", b"2"}
    truth = samples["fidm"].truth  # type: ignore[attr-defined]
    passback = {b[326:349].decode().strip() for i, b in enumerate(bs) if truth["person_id"][i] is not None}
    assert len(passback & set(truth["person_id"].drop_nulls())) > 1_000


def test_dmv_file(tmp_path: Path, samples: dict[str, object]) -> None:
    rows = samples["dmv"].rows  # type: ignore[attr-defined]
    write_dmv(rows, tmp_path / "dmv.psv")
    write_dmv(rows, tmp_path / "dmv_us.psv", us_dates=True)
    lines = (tmp_path / "dmv.psv").read_text().splitlines()
    assert len(lines) == 5_001
    header = lines[0].split("|")
    assert "license_number" in header and "ssn" in header and "dob" in header
    assert all(len(line.split("|")) == len(header) for line in lines[1:])
    ssn = pl.Series([line.split("|")[header.index("ssn")] for line in lines[1:]])
    assert ssn.str.starts_with("last4:").sum() > 300 and (ssn == "").sum() > 2_500
    us = (tmp_path / "dmv_us.psv").read_text().splitlines()[1].split("|")[header.index("issue_date")]
    assert len(us) == 10 and us[2] == "/" and us[5] == "/"


def test_make_demo_writes_registry_files_and_truth(tmp_path: Path) -> None:
    paths = make_demo(tmp_path, persons=1_000, records=300, seed=4, sources=SOURCES, received_date=RECEIVED)
    assert {p.name for p in paths.registry.iterdir()} == {f"{n}.csv" for n in SPEC_COLUMNS}
    for source in SOURCES:
        data, truth_path = paths.files[source], paths.truth[source]
        assert data.parent == tmp_path / "landing" / source and data.exists()
        truth = pl.read_parquet(truth_path)
        assert truth.columns == ["file_name", "record_number", "person_id", "faults", "hard_negative"]
        assert set(truth["file_name"]) == {data.name} and truth.height == 300
        assert len(data.read_bytes().splitlines()) == 300 + (1 if source == "dmv" else 2)


def test_generation_speed_200k_persons_100k_records() -> None:
    start = time.perf_counter()
    registry = generate_registry(200_000, seed=1)
    middle = time.perf_counter()
    batch = generate_records("new_hire", registry, 100_000, 2, received_date=RECEIVED)
    end = time.perf_counter()
    assert batch.rows.height == 100_000
    print(f"\n200k persons: {middle - start:.2f}s; 100k new hires: {end - middle:.2f}s")
