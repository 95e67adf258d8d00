"""csmatch loaders: parse any registered source file into canonical person records and quarantine.

``parse_file`` reads a whole file; ``iter_parsed_chunks`` streams it with memory flat in file size.
Sources are declared in ``loaders.sources`` (``SOURCES``, ``get_source``); the registry extract is
read by ``loaders.registry.read_extract``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl

from loaders.canonical import QUARANTINE, empty_quarantine
from loaders.delimited import iter_delimited
from loaders.errors import FileRejected
from loaders.fixed_width import iter_fixed_width
from loaders.parsed import ParsedChunk, ParsedFile
from loaders.sources import SOURCES, get_source
from loaders.spec import FixedWidthLayout
from loaders.validate import Provenance

__all__ = [
    "SOURCES",
    "FileRejected",
    "ParsedChunk",
    "ParsedFile",
    "empty_quarantine",
    "get_source",
    "iter_parsed_chunks",
    "parse_file",
]

DEFAULT_CHUNK_SIZE = 250_000


def iter_parsed_chunks(
    source: str, path: Path, *, chunk_size: int, received_date: date, file_name: str | None = None
) -> Iterator[ParsedChunk]:
    """Stream ``path`` as parsed chunks of about ``chunk_size`` lines.

    The file is read in blocks, never whole. The header is checked before the first chunk is
    yielded, but the trailer (count, control total) only when the stream reaches the end: the
    iterator raises ``FileRejected`` then, after earlier chunks were handed out. Callers must
    therefore not commit anything (queue work, mark the file processed) before the iterator is
    exhausted; staging chunks to temporary storage is fine. An unknown source raises KeyError at once.
    """
    spec = get_source(source)
    provenance = Provenance(
        source=spec.name, file_name=file_name or Path(path).name, received_date=received_date
    )
    engine = iter_fixed_width if isinstance(spec.layout, FixedWidthLayout) else iter_delimited
    return engine(spec, Path(path), chunk_size=chunk_size, provenance=provenance)


def parse_file(
    source: str,
    path: Path,
    *,
    received_date: date,
    file_name: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ParsedFile:
    """Parse a whole file; raises ``FileRejected`` when the file as a whole is refused."""
    chunks = list(
        iter_parsed_chunks(
            source, path, chunk_size=chunk_size, received_date=received_date, file_name=file_name
        )
    )
    schema = get_source(source).output_schema
    return ParsedFile(
        records=pl.concat([pl.DataFrame(schema=schema), *(c.records for c in chunks)]),
        quarantine=pl.concat([pl.DataFrame(schema=QUARANTINE), *(c.quarantine for c in chunks)]),
        read=sum(c.read for c in chunks),
        header=chunks[0].header if chunks else {},
    )
