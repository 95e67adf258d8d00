"""S3 backend on moto's loopback server: encryption on every put, object layout, private temp files."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loaders.landing import open_landing, work_key
from loaders.landing_s3 import ENDPOINT_ENV, KMS_KEY_ENV, S3Landing, parse_s3_uri
from tests.fixtures_s3 import MotoS3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.s3


def _exercise_every_write(landing: S3Landing, tmp_path: Path) -> None:
    """put_bytes, put_file (single and multipart), archive and reject (with its reason file)."""
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"small")
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    landing.put_bytes("new_hire/NH1.txt", b"x")
    landing.put_file("quarterly_wage/QW1.txt", small)
    landing.put_file(work_key("run-1", "chunk-0001.parquet"), big)
    landing.put_bytes("dmv/D1.txt", b"y")
    landing.archive("new_hire/NH1.txt")
    landing.reject("dmv/D1.txt", "E_HEADER_MISSING")


def _objects(client: S3Client, landing: S3Landing) -> list[str]:
    listed = client.list_objects_v2(Bucket=landing.bucket, Prefix=landing.prefix + "/")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def test_every_object_written_carries_sse_s3(
    s3_landing_uri: str, s3_client: S3Client, tmp_path: Path
) -> None:
    landing = open_landing(s3_landing_uri)
    assert isinstance(landing, S3Landing)
    _exercise_every_write(landing, tmp_path)
    keys = _objects(s3_client, landing)
    assert [k.removeprefix(landing.prefix + "/") for k in keys] == [
        "archive/new_hire/NH1.txt",
        "quarterly_wage/QW1.txt",
        "rejected/dmv/D1.txt",
        "rejected/dmv/D1.txt.reason.txt",
        "work/run-1/chunk-0001.parquet",
    ]
    for key in keys:
        head = s3_client.head_object(Bucket=landing.bucket, Key=key)
        assert head.get("ServerSideEncryption") == "AES256", key


def test_kms_key_from_env_is_used_on_every_write(
    s3_env: MotoS3, s3_landing_uri: str, s3_client: S3Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = s3_env.kms_client().create_key(Description="csmatch landing test")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv(KMS_KEY_ENV, key_id)
    landing = open_landing(s3_landing_uri)
    assert isinstance(landing, S3Landing)
    _exercise_every_write(landing, tmp_path)
    keys = _objects(s3_client, landing)
    assert len(keys) == 5
    for key in keys:
        head = s3_client.head_object(Bucket=landing.bucket, Key=key)
        assert head.get("ServerSideEncryption") == "aws:kms", key
        assert head.get("SSEKMSKeyId", "").endswith(key_id), key


def test_endpoint_comes_from_the_environment(s3_env: MotoS3, s3_landing_uri: str) -> None:
    assert os.environ[ENDPOINT_ENV].startswith("http://127.0.0.1:")
    landing = open_landing(s3_landing_uri)
    assert isinstance(landing, S3Landing)
    assert landing.client.meta.endpoint_url == s3_env.endpoint_url


def test_keys_live_under_the_prefix(s3_landing_uri: str, s3_client: S3Client) -> None:
    landing = open_landing(s3_landing_uri + "/")
    assert isinstance(landing, S3Landing)
    assert landing.uri == s3_landing_uri
    landing.put_bytes("fidm/F1.txt", b"x")
    bucket, prefix = parse_s3_uri(s3_landing_uri)
    body = s3_client.get_object(Bucket=bucket, Key=f"{prefix}/fidm/F1.txt")["Body"].read()
    assert body == b"x"
    assert landing.uri_for("fidm/F1.txt") == f"{s3_landing_uri}/fidm/F1.txt"


def test_listing_ignores_folder_markers(s3_landing_uri: str, s3_client: S3Client) -> None:
    landing = open_landing(s3_landing_uri)
    assert isinstance(landing, S3Landing)
    s3_client.put_object(Bucket=landing.bucket, Key=landing.object_key("dmv") + "/", Body=b"")
    landing.put_bytes("dmv/D1.txt", b"x")
    assert [f.key for f in landing.list_incoming("dmv")] == ["dmv/D1.txt"]


def test_open_local_downloads_to_a_private_temp_file_removed_afterwards(s3_landing_uri: str) -> None:
    landing = open_landing(s3_landing_uri)
    landing.put_bytes("new_hire/NH1.txt", b"HDR\nW4\n")
    with landing.open_local("new_hire/NH1.txt") as path:
        assert path.read_bytes() == b"HDR\nW4\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.exists()
    assert not path.parent.exists()
    with landing.open_local_dir("new_hire") as folder:
        assert stat.S_IMODE((folder / "NH1.txt").stat().st_mode) == 0o600
    assert not folder.exists()


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bkt") == ("bkt", "")
    assert parse_s3_uri("s3://bkt/a/b/") == ("bkt", "a/b")
    with pytest.raises(ValueError):
        parse_s3_uri("s3:///x")
    with pytest.raises(ValueError):
        parse_s3_uri("/local/path")


def test_a_bucket_root_landing_has_no_prefix(s3_env: MotoS3, s3_client: S3Client) -> None:
    landing = open_landing(f"s3://{s3_env.bucket}")
    assert isinstance(landing, S3Landing)
    assert landing.uri == f"s3://{s3_env.bucket}"
    key = work_key("root-test", "x.bin")
    landing.put_bytes(key, b"x")
    assert s3_client.get_object(Bucket=s3_env.bucket, Key=key)["Body"].read() == b"x"
    assert landing.delete_prefix(work_key("root-test")) == 1
