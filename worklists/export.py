"""Worklist exports: one row per item, sorted by due date, SSNs masked, spreadsheet formulas neutralised.

`export_frame` is pure (items as `Database.list_items` returns them → the rows to write); `write_export`
writes them as CSV or XLSX.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import polars as pl
import xlsxwriter

ExportFormat = Literal["csv", "xlsx"]
PRIVATE_FILE = 0o600
# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = (
    "due_date", "item_id", "item_kind", "case_id", "person_id", "ssn", "caseworker_id", "office_id",
    "source", "new_information", "match_probability", "reasons", "family_violence", "sightings", "status",
    "assigned_to", "file_name", "record_number",
)  # fmt: skip


def mask_ssn(ssn: str | None) -> str:
    """`***-**-1234`; empty when there is no usable SSN."""
    digits = "".join(ch for ch in ssn or "" if ch.isdigit())
    return f"***-**-{digits[-4:]}" if len(digits) >= 4 else ""


def mask_ssn_expr(ssn: pl.Expr) -> pl.Expr:
    digits = ssn.str.replace_all(r"\D", "")
    return (
        pl.when(digits.str.len_chars() >= 4)
        .then(pl.lit("***-**-") + digits.str.slice(-4))
        .otherwise(pl.lit(""))
    )


def neutralise(cell: pl.Expr) -> pl.Expr:
    """Prefix `'` to text a spreadsheet would read as a formula (CSV/formula injection)."""
    trigger = pl.any_horizontal(cell.str.starts_with(t) for t in FORMULA_TRIGGERS).fill_null(False)
    return pl.when(trigger).then(pl.lit("'") + cell).otherwise(cell)


def export_frame(items: pl.DataFrame) -> pl.DataFrame:
    """The export's rows: readable new information (`WITHHELD (FV)` for protected addresses), masked SSNs."""
    rows = items.sort(pl.col("due_date"), pl.col("item_id"), nulls_last=True).select(
        pl.col("due_date").cast(pl.String),
        "item_id",
        "item_kind",
        "case_id",
        "person_id",
        mask_ssn_expr(pl.col("ssn")).alias("ssn"),
        "caseworker_id",
        "office_id",
        "source",
        pl.col("new_info").str.json_path_match("$.text").alias("new_information"),
        "match_probability",
        "reasons",
        pl.when(pl.col("family_violence")).then(pl.lit("Y")).otherwise(pl.lit("N")).alias("family_violence"),
        pl.col("evidence_count").alias("sightings"),
        "status",
        "assigned_to",
        "file_name",
        "record_number",
    )
    text = [name for name, dtype in rows.schema.items() if dtype == pl.String()]
    return rows.with_columns(neutralise(pl.col(name)).alias(name) for name in text)


def write_export(items: pl.DataFrame, path: Path, fmt: ExportFormat) -> int:
    """Write the export of `items` to `path` (parents created); the number of rows written."""
    rows = export_frame(items)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Case data (ids, addresses, employers): owner-only from the first byte written.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)
    if fmt == "csv":
        rows.write_csv(path)
    elif fmt == "xlsx":
        options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        with xlsxwriter.Workbook(str(path), options) as workbook:
            rows.write_excel(workbook, "worklist", autofit=True, float_precision=4, freeze_panes="A2")
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    path.chmod(PRIVATE_FILE)  # in case a writer replaced the file
    return rows.height
