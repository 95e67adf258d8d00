"""What a loader hands back: canonical records, quarantine, the count of detail lines, the header."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class ParsedChunk:
    """One streamed piece of a file; ``read = records.height + quarantine.height`` always."""

    records: pl.DataFrame  # conformed to the source's output schema (canonical + extras)
    quarantine: pl.DataFrame  # loaders.canonical.QUARANTINE
    read: int  # detail lines in this chunk (header and trailer excluded)
    header: dict[str, str]  # non-PII header fields, the same on every chunk of a file


@dataclass(frozen=True)
class ParsedFile:
    """A whole parsed file; ``read = records.height + quarantine.height`` always."""

    records: pl.DataFrame
    quarantine: pl.DataFrame
    read: int
    header: dict[str, str]
