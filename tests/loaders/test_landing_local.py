"""Local-folder backend: private permissions, atomic writes, received time from mtime."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest

from loaders.landing import LocalLanding, open_landing
from loaders.landing_base import write_atomically


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_written_files_are_0600_and_created_folders_0700(tmp_path: Path) -> None:
    landing = open_landing(str(tmp_path / "zone"))
    landing.put_bytes("new_hire/NH1.txt", b"x")
    src = tmp_path / "src.txt"
    src.write_bytes(b"y")
    src.chmod(0o644)
    landing.put_file("work/run-1/chunk.parquet", src)
    landing.archive("new_hire/NH1.txt")
    landing.put_bytes("dmv/D.txt", b"z")
    landing.reject("dmv/D.txt", "E_EMPTY")

    root = tmp_path / "zone"
    for rel in ("archive/new_hire/NH1.txt", "work/run-1/chunk.parquet", "rejected/dmv/D.txt.reason.txt"):
        assert _mode(root / rel) == 0o600, rel
    for rel in ("", "new_hire", "archive", "archive/new_hire", "work/run-1", "rejected/dmv"):
        assert _mode(root / rel) == 0o700, rel


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    dest = tmp_path / "new_hire" / "NH1.txt"
    write_atomically(dest, lambda out: out.write(b"old"))

    def broken_writer(out: BinaryIO) -> None:
        out.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(dest, broken_writer)
    assert dest.read_bytes() == b"old"
    assert os.listdir(dest.parent) == ["NH1.txt"]


def test_listing_orders_by_mtime_then_name_and_skips_symlinks(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    for name, day in (("A_newest.txt", 3), ("Z_oldest.txt", 1), ("M_mid.txt", 2), ("B_mid.txt", 2)):
        landing.put_bytes(f"dmv/{name}", b"x")
        stamp = datetime(2026, 1, day, 12, tzinfo=UTC).timestamp()
        os.utime(landing.path(f"dmv/{name}"), (stamp, stamp))
    (tmp_path / "dmv" / "link.txt").symlink_to(tmp_path / "dmv" / "A_newest.txt")
    listed = landing.list_incoming("dmv")
    assert [f.name for f in listed] == ["Z_oldest.txt", "B_mid.txt", "M_mid.txt", "A_newest.txt"]
    assert listed[0].received_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_open_local_is_the_file_itself_and_relative_roots_are_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    landing = open_landing("var/landing")
    assert landing.uri == str(tmp_path / "var" / "landing")
    landing.put_bytes("fidm/F1.txt", b"x")
    with landing.open_local("fidm/F1.txt") as path:
        assert path == tmp_path / "var" / "landing" / "fidm" / "F1.txt"
    assert landing.key_from_uri("var/landing/fidm/F1.txt") == "fidm/F1.txt"
    assert open_landing(f"file://{tmp_path}/var/landing").uri == landing.uri
