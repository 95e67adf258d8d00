"""The landing zone's interface, run on both backends (a local folder and moto's S3 server)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loaders.landing import REASON_SUFFIX, Landing, open_landing, work_key
from loaders.landing_base import CHUNK_BYTES

MIB = 1024 * 1024


def _put_tree(landing: Landing, keys: list[str]) -> None:
    for key in keys:
        landing.put_bytes(key, f"content of {key}\n".encode())


def test_put_read_exists_roundtrip(landing: Landing) -> None:
    assert not landing.exists("new_hire/NH1.txt")
    landing.put_bytes("new_hire/NH1.txt", b"HDR\nW4 record\n")
    assert landing.exists("new_hire/NH1.txt")
    assert landing.read_bytes("new_hire/NH1.txt") == b"HDR\nW4 record\n"
    landing.put_bytes("new_hire/NH1.txt", b"replaced")
    assert landing.read_bytes("new_hire/NH1.txt") == b"replaced"


def test_missing_file_raises_file_not_found(landing: Landing) -> None:
    for action in (
        landing.read_bytes,
        landing.stat,
        landing.fingerprint,
        landing.archive,
        lambda key: landing.reject(key, "E_HEADER"),
    ):
        with pytest.raises(FileNotFoundError):
            action("dmv/absent.txt")
    with pytest.raises(FileNotFoundError), landing.open_local("dmv/absent.txt"):
        pass


@pytest.mark.parametrize(
    "bad_key", ["../escape.txt", "/etc/passwd", "new_hire//x", "new_hire/./x", "", "a\\b"]
)
def test_unsafe_keys_are_refused(landing: Landing, bad_key: str) -> None:
    with pytest.raises(ValueError, match="not a landing key"):
        landing.put_bytes(bad_key, b"x")


def test_list_incoming_only_direct_files_of_the_source(landing: Landing) -> None:
    _put_tree(
        landing,
        [
            "new_hire/NH_b.txt",
            "new_hire/NH_a.txt",
            "new_hire/nested/NH_deep.txt",
            "new_hire/.NH_c.txt.x1y2.tmp",
            "new_hire/NH_d.txt.part",
            "archive/new_hire/NH_old.txt",
            "rejected/new_hire/NH_bad.txt",
            "rejected/new_hire/NH_bad.txt" + REASON_SUFFIX,
            work_key("run-1", "chunk-0001.parquet"),
            "dmv/DMV1.txt",
        ],
    )
    listed = landing.list_incoming("new_hire")
    assert sorted(f.key for f in listed) == ["new_hire/NH_a.txt", "new_hire/NH_b.txt"]
    assert listed == sorted(listed, key=lambda f: (f.received_at, f.name))
    assert {f.name: f.size for f in listed} == {"NH_a.txt": 29, "NH_b.txt": 29}
    assert [f.key for f in landing.list_incoming("dmv")] == ["dmv/DMV1.txt"]
    assert landing.list_incoming("fidm") == []


def test_stat_gives_size_and_received_time_in_utc(landing: Landing) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    landing.put_bytes("fidm/FIDM_Q1.txt", b"x" * 1234)
    info = landing.stat("fidm/FIDM_Q1.txt")
    assert (info.key, info.name, info.size) == ("fidm/FIDM_Q1.txt", "FIDM_Q1.txt", 1234)
    assert info.received_at.utcoffset() == timedelta(0)
    assert before <= info.received_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert landing.list_incoming("fidm") == [info]


def test_fingerprint_of_a_multi_megabyte_file_streams_and_matches_hashlib(
    landing: Landing, tmp_path: Path
) -> None:
    data = os.urandom(9 * MIB + 321)  # above boto3's multipart threshold, not chunk aligned
    src = tmp_path / "QW_2026Q1.txt"
    src.write_bytes(data)
    landing.put_file("quarterly_wage/QW_2026Q1.txt", src)

    sha, size = landing.fingerprint("quarterly_wage/QW_2026Q1.txt")
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    chunks = list(landing.iter_chunks("quarterly_wage/QW_2026Q1.txt"))
    assert len(chunks) >= 10
    assert max(len(c) for c in chunks) <= CHUNK_BYTES


def test_put_file_get_file_roundtrip_private_and_atomic(landing: Landing, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"\x00\x01binary\xff" * 1000)
    landing.put_file(work_key("run-7", "chunk-0001.parquet"), src)
    dest = tmp_path / "out" / "deeper" / "chunk.parquet"
    landing.get_file(work_key("run-7", "chunk-0001.parquet"), dest)
    assert dest.read_bytes() == src.read_bytes()
    assert dest.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in dest.parent.iterdir()) == ["chunk.parquet"]  # no temp file left


def test_open_local_gives_a_readable_path(landing: Landing) -> None:
    landing.put_bytes("dmv/DMV_20260105.txt", b"H\nD1\nD2\nT\n")
    with landing.open_local("dmv/DMV_20260105.txt") as path:
        assert path.name == "DMV_20260105.txt"
        assert path.read_bytes() == b"H\nD1\nD2\nT\n"
    assert landing.exists("dmv/DMV_20260105.txt")


def test_open_local_dir_mirrors_the_prefix(landing: Landing) -> None:
    _put_tree(landing, ["registry/ncp.csv", "registry/alias.csv", "registry/2026-01-05/ncp_case.csv"])
    with landing.open_local_dir("registry") as folder:
        found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        assert found == ["2026-01-05/ncp_case.csv", "alias.csv", "ncp.csv"]
        assert (folder / "ncp.csv").read_bytes() == b"content of registry/ncp.csv\n"
    with pytest.raises(FileNotFoundError), landing.open_local_dir("registry/none"):
        pass


def test_archive_moves_and_keeps_repeated_names_apart(landing: Landing) -> None:
    landing.put_bytes("new_hire/NH1.txt", b"first")
    assert landing.archive("new_hire/NH1.txt") == "archive/new_hire/NH1.txt"
    assert not landing.exists("new_hire/NH1.txt")
    assert landing.read_bytes("archive/new_hire/NH1.txt") == b"first"

    landing.put_bytes("new_hire/NH1.txt", b"second, same name")
    assert landing.archive("new_hire/NH1.txt") == "archive/new_hire/NH1.2.txt"
    assert landing.read_bytes("archive/new_hire/NH1.txt") == b"first"
    assert landing.read_bytes("archive/new_hire/NH1.2.txt") == b"second, same name"
    assert landing.archive("archive/new_hire/NH1.txt") == "archive/new_hire/NH1.txt"  # already there
    assert landing.list_incoming("new_hire") == []


def test_reject_moves_with_a_reason_file(landing: Landing) -> None:
    landing.put_bytes("fidm/FIDM_bad.txt", b"no trailer")
    moved = landing.reject("fidm/FIDM_bad.txt", "E_TRAILER_MISSING: the file has no trailer record")
    assert moved == "rejected/fidm/FIDM_bad.txt"
    assert not landing.exists("fidm/FIDM_bad.txt")
    assert landing.read_bytes(moved) == b"no trailer"
    note = landing.read_bytes(moved + REASON_SUFFIX).decode()
    assert "reason: E_TRAILER_MISSING: the file has no trailer record\n" in note
    assert "file: fidm/FIDM_bad.txt\n" in note
    assert "rejected_at: " in note
    assert landing.list_incoming("fidm") == []

    landing.put_bytes("fidm/FIDM_bad.txt", b"again")
    assert landing.reject("fidm/FIDM_bad.txt", "E_EMPTY") == "rejected/fidm/FIDM_bad.2.txt"
    assert b"E_EMPTY" in landing.read_bytes("rejected/fidm/FIDM_bad.2.txt" + REASON_SUFFIX)


def test_delete_prefix_clears_a_run_work_area_only(landing: Landing) -> None:
    _put_tree(
        landing,
        [work_key("run-1", "chunk-0001.parquet"), work_key("run-1", "out", "m.parquet"), "work/run-10/x"],
    )
    assert landing.delete_prefix(work_key("run-1")) == 2
    assert not landing.exists(work_key("run-1", "chunk-0001.parquet"))
    assert landing.exists("work/run-10/x")
    assert landing.delete_prefix(work_key("run-1")) == 0


def test_uri_for_and_key_from_uri_are_inverse(landing: Landing, landing_uri: str) -> None:
    uri = landing.uri_for("new_hire/NH1.txt")
    assert landing.key_from_uri(uri) == "new_hire/NH1.txt"
    landing.put_bytes("new_hire/NH1.txt", b"x")
    reopened = open_landing(landing_uri.rstrip("/") + "/")
    assert reopened.uri == landing.uri
    assert reopened.read_bytes(reopened.key_from_uri(uri)) == b"x"
    with pytest.raises(ValueError, match="not under the landing root"):
        landing.key_from_uri(landing.uri + "-other/new_hire/NH1.txt")
