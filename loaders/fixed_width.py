"""The fixed-width engine: header, detail and trailer records as a `FixedWidthLayout` declares them.

Every line between the header (first line, after a UTF-8 BOM if any) and the trailer (last line that
is not blank: whitespace-only lines and a DOS end-of-file mark after it are not lines, see
``loaders.lines``) is a detail line and is either parsed or quarantined. Structural checks come first,
in this order: record type, line length in bytes, bytes outside printable ASCII (NUL, control,
0x80-0xFF: a fixed-width record must be ASCII; such a byte is usually also caught by the length check
when it came from a multi-byte encoding, but a single Latin-1 byte keeps the length right, so it is
checked on its own). A line passing the last two is well formed.

The trailer's count is the number of detail records: it must equal either the lines of the detail
record type (well formed or not) or every line between header and trailer (a blank or stray line
counted by the sender too). Its control total, if any, adds up the well-formed detail lines only: a
malformed line's positions cannot be trusted. When it disagrees although some detail lines were
malformed (each quarantined with its reason), the difference may be theirs: a warning (counts only),
not a rejection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import structlog

from loaders.errors import FileRejected
from loaders.lines import INLINE_BYTES, LineBytes, byte_strings, iter_line_chunks
from loaders.parsed import ParsedChunk
from loaders.spec import Field, FixedWidthLayout, SourceSpec
from loaders.validate import Check, Provenance, finish

log = structlog.get_logger(__name__)


def iter_fixed_width(
    spec: SourceSpec, path: Path, *, chunk_size: int, provenance: Provenance
) -> Iterator[ParsedChunk]:
    """Stream a fixed-width file: header checked before the first chunk, trailer before the last."""
    layout = spec.layout
    assert isinstance(layout, FixedWidthLayout)
    header: dict[str, str] | None = None
    tally = Tally()
    for chunk in iter_line_chunks(path, chunk_lines=chunk_size, encoding="ascii", head_lines=1, tail_lines=1):
        lines, is_last = chunk.lines, chunk.is_last
        lines = pl.concat([lines, _field_values(layout, lines, chunk.bytes)], how="horizontal")
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
        tally.add(layout, lines)
        if trailer_line is not None:
            check_trailer(layout, trailer_line, tally, source=spec.name)
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


@dataclass
class Tally:
    """What the trailer is checked against, added up over the detail lines chunk by chunk."""

    lines: int = 0  # every line between header and trailer
    typed: int = 0  # lines of the detail record type, well formed or not
    malformed: int = 0  # of those, lines of the wrong length or with bytes outside printable ASCII
    control_total: int = 0  # the trailer's control field summed over the well-formed detail lines

    def add(self, layout: FixedWidthLayout, lines: pl.DataFrame) -> None:
        """Count ``lines`` (detail lines with their field columns) in."""
        self.lines += lines.height
        if lines.height == 0:
            return
        typed = lines.select(_record_type(layout) == layout.detail_code).to_series()
        well_formed = typed & lines.select(_well_formed(layout)).to_series()
        self.typed += int(typed.sum())
        self.malformed += int((typed & ~well_formed).sum())
        sum_of = layout.trailer.sum_of
        if sum_of is not None:  # the field's column as _field_values made it; not a number counts 0
            amounts = lines.get_column(sum_of).filter(well_formed)
            self.control_total += int(amounts.str.strip_chars().cast(pl.Int64, strict=False).sum() or 0)


def check_trailer(layout: FixedWidthLayout, line: str, tally: Tally, *, source: str) -> None:
    """Reject the file unless the last line is a trailer whose count (and control total) agree."""
    spec = layout.trailer
    if not line.startswith(spec.code):
        raise FileRejected("missing_trailer", f"the last line is not a {spec.code} trailer record")
    declared = _trailer_number(line, spec.count_field.start, spec.count_field.length)
    if declared not in (tally.typed, tally.lines):
        found = f"the file has {tally.lines}"
        if tally.typed != tally.lines:
            found += f" lines between header and trailer, {tally.typed} of them {layout.detail_code} records"
        raise FileRejected("trailer_count_mismatch", f"trailer declares {declared} detail records, {found}")
    if spec.sum_field is not None:
        total = _trailer_number(line, spec.sum_field.start, spec.sum_field.length)
        if total == tally.control_total:
            return
        if not tally.malformed:
            raise FileRejected(
                spec.sum_mismatch_code,
                f"trailer {spec.sum_field.name} is {total}, "
                f"the {spec.sum_of} of the detail lines add up to {tally.control_total}",
            )
        # The malformed lines (quarantined, each with its reason) may explain the difference: counts only.
        log.warning(
            "control_total_unverified",
            source=source,
            check=spec.sum_mismatch_code,
            summed_lines=tally.typed - tally.malformed,
            malformed_lines=tally.malformed,
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


def _well_formed(layout: FixedWidthLayout) -> pl.Expr:
    """The line has the record length and only printable ASCII (its positions can be trusted)."""
    return (pl.col("n_bytes") == layout.record_length) & (pl.col("n_bad") == 0)


def _record_type(layout: FixedWidthLayout) -> pl.Expr:
    return pl.col("line").str.slice(0, layout.type_length)


def _structural_checks(layout: FixedWidthLayout) -> list[Check]:
    record_type = _record_type(layout)
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
        pl.lit(header[name] or None, dtype=dtype).alias(name) for name, dtype in copied.items()
    )
    trimmed = {f.name for f in layout.fields if _trimmed(f)}
    return finish(raw, spec, provenance, _structural_checks(layout), ready_columns=copied, trimmed=trimmed)


def _trimmed(field: Field) -> bool:
    """Whether `_field_values` hands the field over cleaned (a field deleting characters is not)."""
    return not field.remove_chars


_SEGMENT_BYTES = 96  # adjacent fields are copied together, in blocks small enough to reuse memory


def _field_values(layout: FixedWidthLayout, lines: pl.DataFrame, line_bytes: LineBytes) -> pl.DataFrame:
    """Each layout field of every line, one String column per field.

    A field deleting characters is its raw slice. Any other is handed over as `clean` would leave it:
    trimmed, upper-cased when the field says so, null when blank. Only lines of the record length are
    read (the structural checks quarantine the others, whatever their fields hold): adjacent fields
    are copied together into a block of bytes, which their strings are made from.
    """
    full = lines["n_bytes"].to_numpy() == layout.record_length
    pieces = list(line_bytes.matrices(full, layout.record_length))
    made = {
        string.name: string
        for segment in _segments([f for f in layout.fields if _trimmed(f)])
        for string in _segment_strings(segment, lines.height, pieces)
    }
    return lines.with_columns(
        made[f.name] if _trimmed(f) else _slice(f).alias(f.name) for f in layout.fields
    ).select(f.name for f in layout.fields)


def _segments(fields: list[Field]) -> list[list[Field]]:
    """Fields in byte order, grouped into runs spanning at most _SEGMENT_BYTES (a wider field alone)."""
    segments: list[list[Field]] = []
    for f in sorted(fields, key=_start):
        if segments and _start(f) + _length(f) - _start(segments[-1][0]) <= _SEGMENT_BYTES:
            segments[-1].append(f)
        else:
            segments.append([f])
    return segments


def _segment_strings(
    fields: list[Field], n: int, pieces: list[tuple[np.ndarray, np.ndarray]]
) -> list[pl.Series]:
    """The strings of fields next to each other, from one block of their bytes (spaces on lines not read).

    A field blank on every line is null throughout; values are trimmed only when some value of the
    field has a space at either end (in place when they fit a string view, else by polars).
    """
    first = _start(fields[0])
    block = np.full((n, _start(fields[-1]) + _length(fields[-1]) - first), _SPACE, np.uint8)
    for rows, matrix in pieces:
        block[_rows(rows)] = matrix[:, first : first + block.shape[1]]
    upper_block = all(f.upper for f in fields)
    if upper_block:
        _upper(block)
    strings = []
    for f in fields:
        at, width = _start(f) - first, _length(f)
        values = block[:, at : at + width]
        present = ~_all_spaces(values)
        if not present.any():
            strings.append(pl.repeat(None, n, dtype=pl.String, eager=True).alias(f.name))
            continue
        if f.upper and not upper_block:
            values = _upper(values.copy())
        lengths = np.full(n, width)
        ragged = np.flatnonzero(present & ((values[:, 0] == _SPACE) | (values[:, -1] == _SPACE)))
        if width <= INLINE_BYTES:
            if ragged.size:
                values = values.copy()
                values[ragged], lengths[ragged] = _trim(values[ragged])
            strings.append(byte_strings(f.name, values, lengths, present))
        elif ragged.size:  # the strings point into the block only until polars has trimmed them
            strings.append(byte_strings(f.name, values, lengths, present).str.strip_chars())
        else:  # kept as they are: their own bytes, not the block's
            strings.append(byte_strings(f.name, np.ascontiguousarray(values), lengths, present))
    return strings


def _rows(rows: np.ndarray) -> slice | np.ndarray:
    """Row indices as a slice when they are a run (assigning to a slice copies faster)."""
    return slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] + 1 == rows.size else rows


def _trim(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A byte matrix's rows without leading and trailing spaces: (bytes moved left, zero after, lengths)."""
    width = values.shape[1]
    filled = values != _SPACE
    first = filled.argmax(axis=1)
    lengths = np.where(filled.any(axis=1), width - filled[:, ::-1].argmax(axis=1) - first, 0)
    if first.any():
        values = np.take_along_axis(values, np.minimum(first[:, None] + np.arange(width), width - 1), axis=1)
    return np.where(np.arange(width) < lengths[:, None], values, 0).astype(np.uint8), lengths


def _upper(values: np.ndarray) -> np.ndarray:
    """ASCII bytes upper-cased, in place."""
    lower = np.subtract(values, ord("a"), dtype=np.uint8) < 26
    if lower.any():
        np.subtract(values, lower.view(np.uint8) << 5, out=values)
    return values


_SPACE = 0x20
_WORDS = ((8, "<u8"), (4, "<u4"), (2, "<u2"), (1, "<u1"))


def _all_spaces(value: np.ndarray) -> np.ndarray:
    """Per row of a byte matrix: every byte is a space (read a machine word at a time)."""
    width = value.shape[1]
    size, dtype = next((size, dtype) for size, dtype in _WORDS if size <= width)
    spaces = int.from_bytes(b" " * size, "little")
    blank = np.ones(value.shape[0], dtype=bool)
    for offset in sorted({*range(0, width - size, size), width - size}):
        blank &= value[:, offset : offset + size].view(dtype)[:, 0] == spaces
    return blank


def _start(field: Field) -> int:
    assert field.start is not None
    return field.start - 1


def _length(field: Field) -> int:
    assert field.length is not None
    return field.length
