"""Parse throughput of the fixed-width loaders: a 1M-line W4 file and a 2M-line QW file, streamed.

Run: ``uv run python bench/bench_loaders.py [--w4 1000000] [--qw 2000000] [--chunk-size 250000]``.
Files are generated in a temporary directory (synthetic data, a record in 500 quarantined). Prints
records/s, wall time and peak RSS (``resource.getrusage``: the maximum over the whole process, so the
generator's own footprint is included; it writes by blocks and stays small).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loaders import iter_parsed_chunks


def _fixed(code: str, length: int, fields: list[tuple[int, str]]) -> bytes:
    chars = list(code.ljust(length))
    for start, value in fields:
        chars[start - 1 : start - 1 + len(value)] = value
    return "".join(chars).encode("ascii")


def _ssn(i: int) -> str:
    """A 9-digit SSN, but one record in 500 has a malformed one (to be quarantined)."""
    return f"{100000000 + i * 7 % 899999999:09d}" if i % 500 else "12345678X"


def _w4(i: int) -> bytes:
    return _fixed(
        "W4",
        801,
        [
            (3, _ssn(i)),
            (12, "JOHN"),
            (44, f"PUBLIC{i % 1000}"),
            (74, "12 MAIN ST"),
            (194, "SPRINGFIELD"),
            (219, "IL"),
            (221, "62701"),
            (272, "19800115"),
            (280, "20260220"),
            (290, "361234567"),
            (311, "ACME WIDGETS INC"),
        ],
    )


def _qw(i: int) -> bytes:
    return _fixed(
        "QW",
        300,
        [
            (3, _ssn(i)),
            (12, "J"),
            (44, f"PUBLI{i % 1000}"),
            (74, "361234567"),
            (95, "ACME WIDGETS INC"),
            (256, f"{i % 10_000_000:011d}"),
            (267, "20261"),
        ],
    )


def write_file(path: Path, transmission: str, length: int, count: int, make) -> None:
    """Write header, ``count`` details (1,000 distinct lines repeated, written by blocks) and trailer."""
    header = ("H417" + " " * 9 + transmission + " 01" + "20260302" + "000001").ljust(length).encode()
    distinct = [make(i) for i in range(1000)]
    with path.open("wb") as fh:
        fh.write(header + b"\n")
        block = b"\n".join(distinct) + b"\n"
        full, rest = divmod(count, len(distinct))
        for _ in range(full):
            fh.write(block)
        fh.write(b"".join(line + b"\n" for line in distinct[:rest]))
        fh.write(("T4" + f"{count:011d}").ljust(length).encode() + b"\n")


def measure(source: str, path: Path, chunk_size: int) -> None:
    start = time.perf_counter()
    read = parsed = quarantined = chunks = 0
    for chunk in iter_parsed_chunks(source, path, chunk_size=chunk_size, received_date=date(2026, 3, 2)):
        read += chunk.read
        parsed += chunk.records.height
        quarantined += chunk.quarantine.height
        chunks += 1
    wall = time.perf_counter() - start
    assert read == parsed + quarantined
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mib = path.stat().st_size / 2**20
    print(
        f"{source:15s} {read:>10,d} records ({size_mib:,.0f} MiB, {chunks} chunks of {chunk_size:,d}): "
        f"{read / wall:>10,.0f} records/s, wall {wall:6.2f} s, peak RSS so far {peak_mib:,.0f} MiB "
        f"(parsed {parsed:,d}, quarantined {quarantined:,d})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--w4", type=int, default=1_000_000)
    parser.add_argument("--qw", type=int, default=2_000_000)
    parser.add_argument("--chunk-size", type=int, default=250_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        w4_path, qw_path = Path(tmp) / "w4.txt", Path(tmp) / "qw.txt"
        write_file(w4_path, "W4", 801, args.w4, _w4)
        write_file(qw_path, "QW", 300, args.qw, _qw)
        measure("new_hire", w4_path, args.chunk_size)
        measure("quarterly_wage", qw_path, args.chunk_size)


if __name__ == "__main__":
    main()
