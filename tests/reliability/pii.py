"""Find the SSNs, names and dates of birth of known people in any text (logs, reports, messages)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

NAME_COLUMNS = ("first_name", "middle_name", "last_name")


@dataclass(frozen=True)
class PiiScanner:
    """A regular expression per kind: SSN (raw, dashed), name (upper case, whole word), DOB (two forms)."""

    patterns: dict[str, re.Pattern[str]]

    @classmethod
    def of(cls, people: Iterable[pl.DataFrame]) -> PiiScanner:
        """Scanner for every person in the frames (any of `ssn`, the name columns, `dob` they have)."""
        ssns: set[str] = set()
        names: set[str] = set()
        dobs: set[str] = set()
        for frame in people:
            if "ssn" in frame.columns:
                ssn = frame.get_column("ssn").cast(pl.String).drop_nulls()
                ssns |= set(ssn.filter(ssn.str.contains(r"^\d{9}$")).to_list())
            for column in NAME_COLUMNS:
                if column in frame.columns:
                    names |= _name_tokens(frame.get_column(column))
            if "dob" in frame.columns:
                dobs |= set(frame.get_column("dob").drop_nulls().cast(pl.Date).cast(pl.String).to_list())
        return cls(
            {
                "ssn": _alternation(s for ssn in ssns for s in (ssn, f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}")),
                "name": _alternation(names, letters=True),
                "dob": _alternation(f for d in dobs for f in (d, d.replace("-", ""))),
            }
        )

    def hits(self, text: str) -> list[tuple[str, str]]:
        """(kind, value) for every match in `text`."""
        return [(kind, m.group(0)) for kind, pattern in self.patterns.items() for m in pattern.finditer(text)]


def _name_tokens(names: pl.Series) -> set[str]:
    """Whole names of 3+ letters and each word of 4+ letters (short words collide with ordinary text)."""
    whole = {n for n in names.drop_nulls().to_list() if len(n) >= 3}
    words = {w for n in whole for w in re.split(r"[^A-Z]+", n) if len(w) >= 4}
    return whole | words


def _alternation(values: Iterable[str], *, letters: bool = False) -> re.Pattern[str]:
    """Longest first; bounded so a value inside a longer word or number does not count."""
    ordered = sorted(set(values), key=len, reverse=True) or ["(?!)"]
    edge = "A-Za-z" if letters else "0-9"
    return re.compile(f"(?<![{edge}])(?:{'|'.join(map(re.escape, ordered))})(?![{edge}])")
