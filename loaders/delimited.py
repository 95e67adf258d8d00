"""The delimited engine: a header line naming the columns (any order), then one record per physical line.

Quoting follows CSV: a field may be wrapped in the quote character, which doubles inside it; a quote
inside a field that does not start with one is a plain character (`LARRY "BUD"`, `O"NEIL`). A line that
is not a well-formed sequence of fields (a quoted field never closed, or text after its closing quote) is
quarantined as ``broken_quoting``; one with the wrong number of fields as ``column_count``. A quoted
field holding a line break is not supported: the record spans two physical lines, both quarantined (the
first's quote is never closed, the second has too few fields), so ``read`` still counts physical lines.
Lines that are not valid UTF-8 are quarantined as ``not_utf8``; a header that is not is a
``not_decodable`` file. Columns the spec does not declare are kept, as a JSON object, in
``unmapped_columns``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from loaders.errors import FileRejected
from loaders.lines import iter_line_chunks
from loaders.parsed import ParsedChunk
from loaders.spec import DelimitedLayout, SourceSpec
from loaders.validate import Check, Provenance, finish


def iter_delimited(
    spec: SourceSpec, path: Path, *, chunk_size: int, provenance: Provenance
) -> Iterator[ParsedChunk]:
    """Stream a delimited file; the header line is checked before the first chunk is yielded."""
    layout = spec.layout
    assert isinstance(layout, DelimitedLayout)
    columns: list[str] | None = None
    header: dict[str, str] = {}
    for chunk in iter_line_chunks(path, chunk_lines=chunk_size, encoding="utf-8", head_lines=1):
        lines = chunk.lines
        if columns is None:
            if lines["n_bad"][0]:
                raise FileRejected("not_decodable", "the header line is not valid UTF-8")
            columns = read_columns(layout, lines["line"][0])
            known = {f.name for f in layout.fields}
            unmapped = [c for c in columns if c not in known]
            header = {"columns": "|".join(columns), "unmapped_columns": "|".join(unmapped)}
            lines = lines.slice(1)
        records, quarantine = _parse_rows(spec, layout, lines, columns, provenance)
        yield ParsedChunk(records=records, quarantine=quarantine, read=lines.height, header=header)
    if columns is None:
        raise FileRejected("empty_file", "the file has no lines")


def _patterns(layout: DelimitedLayout) -> tuple[str, str]:
    """(whole-line pattern, one-field-with-leading-separator pattern)."""
    sep, quote = re.escape(layout.separator), re.escape(layout.quote_char)
    field = f"{quote}(?:[^{quote}]|{quote}{quote})*{quote}|(?:[^{sep}{quote}][^{sep}]*)?"
    return f"^(?:{field})(?:{sep}(?:{field}))*$", f"{sep}(?:{field})"


def _fields(layout: DelimitedLayout, line: pl.Expr) -> pl.Expr:
    """The line's fields as a list (leading separator kept on each; strip with `_unquote`)."""
    return (pl.lit(layout.separator) + line).str.extract_all(_patterns(layout)[1])


def _unquote(layout: DelimitedLayout, value: pl.Expr) -> pl.Expr:
    """Drop the leading separator, then the surrounding quotes, and undouble inner quotes."""
    quote = layout.quote_char
    value = value.str.slice(len(layout.separator))
    inner = value.str.slice(1, value.str.len_chars() - 2).str.replace_all(quote * 2, quote, literal=True)
    return pl.when(value.str.starts_with(quote)).then(inner).otherwise(value)


def read_columns(layout: DelimitedLayout, line: str) -> list[str]:
    """Column names from the header line (trimmed, lower case); rejects missing required or repeated ones."""
    line = line.removeprefix("\ufeff")
    head = pl.DataFrame({"line": [line]})
    if not head.select(pl.col("line").str.contains(_patterns(layout)[0])).item():
        raise FileRejected("missing_header", "the header line is not a well-formed list of column names")
    names = head.select(
        _fields(layout, pl.col("line")).list.eval(
            _unquote(layout, pl.element()).str.strip_chars().str.to_lowercase()
        )
    ).item()
    columns = [str(n) for n in names]
    if not {f.name for f in layout.fields} & set(columns):
        # A data row in the header's place: say so, and never echo its values (they are PII).
        raise FileRejected("missing_header", "the first line names none of the layout's columns")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise FileRejected("duplicate_columns", f"repeated columns: {', '.join(repeated)}")
    missing = [f.name for f in layout.fields if f.column_required and f.name not in columns]
    if missing:
        raise FileRejected("missing_columns", f"missing required columns: {', '.join(missing)}")
    return columns


def _parse_rows(
    spec: SourceSpec, layout: DelimitedLayout, lines: pl.DataFrame, columns: list[str], provenance: Provenance
) -> tuple[pl.DataFrame, pl.DataFrame]:
    whole_line = _patterns(layout)[0]
    values = lines.with_columns(_fields(layout, pl.col("line")).alias("_values"))
    field_at = {name: i for i, name in enumerate(columns)}

    def value(name: str) -> pl.Expr:
        if name not in field_at:
            return pl.lit(None, dtype=pl.String)
        return _unquote(layout, pl.col("_values").list.get(field_at[name], null_on_oob=True))

    known = {f.name for f in layout.fields}
    unmapped = [c for c in columns if c not in known]
    unmapped_json = (
        pl.struct([value(c).alias(c) for c in unmapped]).struct.json_encode()
        if unmapped
        else pl.lit(None, dtype=pl.String)
    )
    raw = values.with_columns(
        *[value(f.name).alias(f.name) for f in layout.fields],
        unmapped_json.alias("unmapped_columns"),
        pl.col("_values").list.len().alias("_n_fields"),
    )
    structural = [
        Check(pl.col("n_bad") > 0, "not_utf8", pl.format("{} invalid UTF-8 sequences", pl.col("n_bad"))),
        Check(
            ~pl.col("line").str.contains(whole_line),
            "broken_quoting",
            pl.lit(f"unbalanced or stray {layout.quote_char} quote"),
        ),
        Check(
            pl.col("_n_fields") != len(columns),
            "column_count",
            pl.format("{} fields, expected {}", pl.col("_n_fields"), pl.lit(len(columns))),
        ),
    ]
    return finish(raw, spec, provenance, structural, ready_columns={"unmapped_columns": pl.String()})
