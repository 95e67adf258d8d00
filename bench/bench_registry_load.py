"""Registry load at scale: `Database.replace_registry` (a first and a replacing load), `read_registry`.

    uv run python bench/bench_registry_load.py --ncps 2000000 --db sqlite:///var/bench/registry.db
    uv run python bench/bench_registry_load.py --ncps 2000000 --db postgresql://postgres@127.0.0.1:5432/bench

Synthetic registry: every NCP has one case and one alias in three, one known employer in two. The second load
changes 1% of the NCPs, drops 0.5% and adds 0.5%, so the diff is exercised at full size.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import polars as pl
import psycopg
from psycopg import sql

from pipeline.database import Database


def registry(n: int, seed: int = 0) -> dict[str, pl.DataFrame]:
    """A synthetic extract of n NCPs (vectorised: no Python loop over rows)."""
    i = pl.int_range(0, n, eager=True)
    ncp = pl.DataFrame({"i": i}).select(
        person_id=pl.format("M{}", pl.col("i") + seed),
        ssn=(pl.col("i") + 100_000_000 + seed).cast(pl.String),
        first_name=pl.format("FIRST{}", pl.col("i") % 5000),
        middle_name=pl.lit(None, dtype=pl.String()),
        last_name=pl.format("LAST{}", pl.col("i") % 80_000),
        suffix=pl.lit(None, dtype=pl.String()),
        dob=pl.lit(date(1960, 1, 1)) + pl.duration(days=pl.col("i") % 15_000),
        sex=pl.when(pl.col("i") % 2 == 0).then(pl.lit("M")).otherwise(pl.lit("F")),
        address_line1=pl.format("{} MAIN ST", pl.col("i") % 9999),
        address_line2=pl.lit(None, dtype=pl.String()),
        city=pl.lit("SPRINGFIELD"),
        state=pl.lit("IL"),
        zip=pl.format("6{}", (pl.col("i") % 10_000).cast(pl.String).str.zfill(4)),
    )
    person = ncp.get_column("person_id")
    k = pl.col("k")
    cases = (
        pl.DataFrame({"person_id": person})
        .with_row_index("k")
        .select(
            case_id=pl.format("C{}", k),
            person_id="person_id",
            caseworker_id=pl.format("CW{}", k % 400),
            office_id=pl.format("OF{}", k % 40),
            case_status=pl.lit("OPEN"),
            order_status=pl.lit("ACTIVE"),
            current_support_monthly=(k % 900).cast(pl.Float64),
            arrears_balance=(k % 20_000) * 1.5,
            family_violence=pl.when(k % 100 == 0).then(pl.lit("Y")),
        )
    )
    alias = ncp.gather_every(3).select("person_id", first_name=pl.lit("ALIAS"), last_name="last_name")
    employer = ncp.gather_every(2).select(
        "person_id", fein=pl.col("ssn").str.slice(0, 9), employer_name=pl.lit("ACME"), iwo_active=pl.lit("N")
    )
    return {"ncp": ncp, "alias": alias, "ncp_case": cases, "known_employer": employer}


def changed(extract: dict[str, pl.DataFrame], n: int) -> dict[str, pl.DataFrame]:
    """1% of the NCPs changed (new address), 0.5% removed, 0.5% new ones added."""
    ncp = extract["ncp"].with_row_index("k")
    kept = ncp.filter(pl.col("k") >= n // 200).with_columns(
        address_line1=pl.when(pl.col("k") % 100 == 1)
        .then(pl.lit("1 NEW RD"))
        .otherwise(pl.col("address_line1"))
    )
    added = registry(n // 200, seed=n)["ncp"]
    kept_ids = kept.select("person_id")
    return {
        "ncp": pl.concat([kept.drop("k"), added]),
        "alias": extract["alias"].join(kept_ids, on="person_id", how="semi"),
        "ncp_case": extract["ncp_case"].join(kept_ids, on="person_id", how="semi"),
        "known_employer": extract["known_employer"].join(kept_ids, on="person_id", how="semi"),
    }


def fresh_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ncps", type=int, default=2_000_000)
    parser.add_argument("--db", default="sqlite:///var/bench/registry.db")
    args = parser.parse_args()
    if args.db.startswith("postgres"):
        fresh_postgres_database(args.db)
    elif args.db.startswith("sqlite:///"):
        from pathlib import Path

        Path(args.db.removeprefix("sqlite:///")).unlink(missing_ok=True)
    started = time.perf_counter()
    first = registry(args.ncps)
    second = changed(first, args.ncps)
    print(f"generated {args.ncps:,} NCPs in {time.perf_counter() - started:.1f} s")
    db = Database(args.db)
    db.create_schema()
    for label, extract in (("first load", first), ("replacing load", second)):
        started = time.perf_counter()
        report = db.replace_registry(extract)
        rows = ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
        print(f"{label}: {time.perf_counter() - started:.1f} s ({rows}; added {report.ncp_added:,}, "
              f"removed {report.ncp_removed:,}, changed {report.ncp_changed:,})")  # fmt: skip
    started = time.perf_counter()
    frames = db.read_registry(tables=("ncp", "alias"))
    print(f"read_registry ncp+alias: {time.perf_counter() - started:.1f} s ({frames['ncp'].height:,} NCPs)")
    some = second["ncp"].get_column("person_id").sample(50_000, seed=1).to_list()
    started = time.perf_counter()
    context = db.read_registry(tables=("ncp", "ncp_case", "known_employer", "known_address"), person_ids=some)
    print(f"read_registry context for 50,000 NCPs: {time.perf_counter() - started:.1f} s "
          f"({context['ncp_case'].height:,} cases)")  # fmt: skip
    db.dispose()


if __name__ == "__main__":
    main()
