"""Splitting a file URI into its landing root and key (for `csmatch run SOURCE URI`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.landing import open_landing_file, split_uri, work_key
from loaders.landing_base import numbered_key, settled_key


@pytest.mark.parametrize(
    ("uri", "root", "key"),
    [
        ("s3://bkt/prefix/new_hire/NH1.txt", "s3://bkt/prefix", "new_hire/NH1.txt"),
        ("s3://bkt/a/b/quarterly_wage/QW.txt", "s3://bkt/a/b", "quarterly_wage/QW.txt"),
        ("s3://bkt/new_hire/NH1.txt", "s3://bkt", "new_hire/NH1.txt"),
        ("s3://bkt/p/archive/dmv/D.txt", "s3://bkt/p", "archive/dmv/D.txt"),
        ("s3://bkt/p/fidm/old/F.txt", "s3://bkt/p", "fidm/old/F.txt"),
        ("s3://bkt/drop/F.txt", "s3://bkt/drop", "F.txt"),
        ("s3://bkt/F.txt", "s3://bkt", "F.txt"),
        ("/data/landing/dmv/D.txt", "/data/landing", "dmv/D.txt"),
        ("/data/landing/rejected/fidm/F.txt", "/data/landing", "rejected/fidm/F.txt"),
        ("/tmp/x.txt", "/tmp", "x.txt"),
        ("file:///data/landing/registry/ncp.csv", "/data/landing", "registry/ncp.csv"),
    ],
)
def test_split_uri(uri: str, root: str, key: str) -> None:
    assert split_uri(uri) == (root, key)


def test_split_relative_path_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert split_uri("var/landing/new_hire/NH1.txt") == (str(tmp_path / "var/landing"), "new_hire/NH1.txt")


def test_split_uri_without_a_file_is_refused() -> None:
    with pytest.raises(ValueError, match="no file name"):
        split_uri("s3://bkt")


def test_open_landing_file_reads_the_named_file(tmp_path: Path) -> None:
    target = tmp_path / "zone" / "new_hire" / "NH1.txt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"HDR\n")
    landing, key = open_landing_file(str(target))
    assert (landing.uri, key) == (str(tmp_path / "zone"), "new_hire/NH1.txt")
    assert landing.read_bytes(key) == b"HDR\n"


def test_key_helpers() -> None:
    assert work_key("run-9", "chunks", "0001.parquet") == "work/run-9/chunks/0001.parquet"
    assert settled_key("archive", "rejected/dmv/D.txt") == "archive/dmv/D.txt"
    assert settled_key("rejected", "new_hire/NH.txt") == "rejected/new_hire/NH.txt"
    assert numbered_key("archive/new_hire/NH.txt", 3) == "archive/new_hire/NH.3.txt"
    assert numbered_key("archive/new_hire/NOEXT", 2) == "archive/new_hire/NOEXT.2"
    with pytest.raises(ValueError):
        work_key("../run")
