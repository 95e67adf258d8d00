"""The fixed-width engine: header, detail and trailer records as a `FixedWidthLayout` declares them.

Every line between the header (first line) and the trailer (last non-blank line) is a detail line
and is either parsed or quarantined. Structural checks come first, in this order: record type,
line length in bytes, bytes outside printable ASCII (NUL, control, 0x80-0xFF: a fixed-width record
must be ASCII; such a byte is usually also caught by the length check when it came from a multi-byte
encoding, but a single Latin-1 byte keeps the length right, so it is checked on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from loaders.errors import FileRejected
from loaders.lines import iter_line_chunks
from loaders.parsed import ParsedChunk
from loaders.spec import Field, FixedWidthLayout, SourceSpec
from loaders.validate import Check, Provenance, finish


def iter_fixed_width(
    spec: SourceSpec, path: Path, *, chunk_size: int, provenance: Provenance
) -> Iterator[ParsedChunk]:
    """Stream a fixed-width file: header checked before the first chunk, trailer before the last."""
    layout = spec.layout
    assert isinstance(layout, FixedWidthLayout)
    header: dict[str, str] | None = None
    details = control_total = 0
    for lines, is_last in iter_line_chunks(path, chunk_lines=chunk_size, encoding="ascii"):
        if header is None:
            header = read_header(layout, lines["line"][0])
            lines = lines.slice(1)
        trailer_line = None
        if is_last:
            if lines.height == 0:
                raise FileRejected(
                    "missing_trailer", f"the file has no {layout.trailer.code} trailer after its header"
                )
            trailer_line = lines["line"][-1]
            lines = lines.slice(0, lines.height - 1)
        details += lines.height
        control_total += _control_total(layout, lines)
        if trailer_line is not None:
            check_trailer(layout, trailer_line, details=details, control_total=control_total)
        records, quarantine = _parse_details(spec, layout, lines, header, provenance)
        yield ParsedChunk(records=records, quarantine=quarantine, read=lines.height, header=header)
    if header is None:
        raise FileRejected("empty_file", "the file has no lines")


def read_header(layout: FixedWidthLayout, line: str) -> dict[str, str]:
    """The header's fields as trimmed strings; rejects a missing header or a wrong transmission type."""
    spec = layout.header
    if not line.startswith(spec.code):
        raise FileRejected("missing_header", f"the first line is not a {spec.code} header record")
    header = {
        f.name: line[f.start - 1 : f.start - 1 + f.length].strip()
        for f in spec.fields
        if f.start and f.length
    }
    for name, expected in spec.expect:
        if header[name] != expected:
            raise FileRejected("wrong_file_type", f"header {name} is {header[name]!r}, expected {expected!r}")
    return header


def check_trailer(layout: FixedWidthLayout, line: str, *, details: int, control_total: int) -> None:
    """Reject the file unless the last line is a trailer whose count (and control total) agree."""
    spec = layout.trailer
    if not line.startswith(spec.code):
        raise FileRejected("missing_trailer", f"the last line is not a {spec.code} trailer record")
    declared = _trailer_number(line, spec.count_field.start, spec.count_field.length)
    if declared != details:
        raise FileRejected(
            "trailer_count_mismatch", f"trailer declares {declared} detail records, the file has {details}"
        )
    if spec.sum_field is not None:
        total = _trailer_number(line, spec.sum_field.start, spec.sum_field.length)
        if total != control_total:
            raise FileRejected(
                spec.sum_mismatch_code,
                f"trailer {spec.sum_field.name} is {total}, "
                f"the {spec.sum_of} of the detail lines add up to {control_total}",
            )


def _trailer_number(line: str, start: int | None, length: int | None) -> int:
    assert start is not None and length is not None
    text = line[start - 1 : start - 1 + length].strip()
    if not text.isdigit() or not text.isascii():
        raise FileRejected(
            "trailer_invalid", f"trailer positions {start}-{start + length - 1} are not a number"
        )
    return int(text)


def _slice(field: Field) -> pl.Expr:
    assert field.start is not None and field.length is not None
    return pl.col("line").str.slice(field.start - 1, field.length)


def _control_total(layout: FixedWidthLayout, lines: pl.DataFrame) -> int:
    """Sum of the trailer's control field over every detail line of the right type (unreadable = 0)."""
    sum_of = layout.trailer.sum_of
    if sum_of is None or lines.height == 0:
        return 0
    is_detail = pl.col("line").str.starts_with(layout.detail_code)
    field = next(f for f in layout.fields if f.name == sum_of)
    amount = _slice(field).str.strip_chars().cast(pl.Int64, strict=False)
    return int(lines.select(amount.filter(is_detail).fill_null(0).sum()).item())


def _structural_checks(layout: FixedWidthLayout) -> list[Check]:
    record_type = pl.col("line").str.slice(0, layout.type_length)
    return [
        Check(
            record_type != layout.detail_code,
            "record_type",
            pl.format("record type '{}', expected '{}'", record_type, pl.lit(layout.detail_code)),
        ),
        Check(
            pl.col("n_bytes") != layout.record_length,
            "line_length",
            pl.format("line is {} bytes, expected {}", pl.col("n_bytes"), pl.lit(layout.record_length)),
        ),
        Check(
            pl.col("n_bad") > 0,
            "non_ascii",
            pl.format(
                "{} bytes outside printable ASCII, first at byte {}", pl.col("n_bad"), pl.col("first_bad")
            ),
        ),
    ]


def _parse_details(
    spec: SourceSpec,
    layout: FixedWidthLayout,
    lines: pl.DataFrame,
    header: dict[str, str],
    provenance: Provenance,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    copied = {f.name: f.dtype for f in layout.header.fields if f.name in layout.header.copy_to_records}
    raw = lines.with_columns(
        *[_slice(f).alias(f.name) for f in layout.fields],
        *[pl.lit(header[name] or None, dtype=dtype).alias(name) for name, dtype in copied.items()],
    )
    return finish(raw, spec, provenance, _structural_checks(layout), ready_columns=copied)
