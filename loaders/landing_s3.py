"""Landing zone under an S3 prefix through boto3: every put carries server-side encryption.

The endpoint comes from `CSMATCH_S3_ENDPOINT_URL` (or boto3's own `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`),
credentials and region from the standard AWS chain, so moto's server and real S3 run the same code.
SSE is `AES256` (SSE-S3) unless `CSMATCH_S3_KMS_KEY_ID` names a KMS key (`aws:kms`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from loaders.landing_base import (
    CHUNK_BYTES,
    Landing,
    LandingFile,
    check_key,
    ensure_private_dir,
    is_incoming_name,
    write_atomically,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, ObjectIdentifierTypeDef

ENDPOINT_ENV = "CSMATCH_S3_ENDPOINT_URL"
KMS_KEY_ENV = "CSMATCH_S3_KMS_KEY_ID"
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_DELETE_BATCH = 1000


def sse_args() -> dict[str, str]:
    """Server-side encryption parameters for every put and copy."""
    kms_key = os.environ.get(KMS_KEY_ENV)
    if kms_key:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    return {"ServerSideEncryption": "AES256"}


def make_s3_client() -> S3Client:
    """A boto3 S3 client for the configured endpoint (None: boto3's own resolution, i.e. real AWS)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=os.environ.get(ENDPOINT_ENV) or None,
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b/` → (`bucket`, `a/b`)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, prefix.strip("/")


@contextmanager
def _not_found_as_error(key: str) -> Iterator[None]:
    """Turn S3's 404 into FileNotFoundError, as the local backend raises."""
    try:
        yield
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in _NOT_FOUND:
            raise FileNotFoundError(f"no landing file {key!r}") from e
        raise


class S3Landing(Landing):
    """A landing zone rooted at `s3://bucket/prefix`."""

    def __init__(self, bucket: str, prefix: str = "", client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or make_s3_client()
        self.sse = sse_args()
        self.uri = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"

    def object_key(self, key: str) -> str:
        """The S3 object key of a landing key."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def list_incoming(self, source_prefix: str) -> list[LandingFile]:
        base = self.object_key(source_prefix) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base, Delimiter="/"
        )
        found = [
            _landing_file(f"{source_prefix}/{name}", obj["Size"], obj["LastModified"])
            for page in pages
            for obj in page.get("Contents", [])
            if (name := obj["Key"][len(base) :]) and is_incoming_name(name)
        ]
        return sorted(found, key=lambda f: (f.received_at, f.name))

    def stat(self, key: str) -> LandingFile:
        with _not_found_as_error(key):
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        return _landing_file(key, head["ContentLength"], head["LastModified"])

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with _not_found_as_error(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    @contextmanager
    def open_local(self, key: str) -> Iterator[Path]:
        with _private_temp_dir() as folder:
            path = folder / key.rsplit("/", 1)[-1]
            self._download(key, path)
            yield path

    @contextmanager
    def open_local_dir(self, prefix: str) -> Iterator[Path]:
        base = self.object_key(prefix) + "/"
        keys = [check_key(k[len(self.prefix) + 1 :] if self.prefix else k) for k in self._object_keys(base)]
        if not keys:
            raise FileNotFoundError(f"no landing folder {prefix!r}")
        with _private_temp_dir() as folder:
            for key in keys:
                path = folder / key[len(prefix) + 1 :]
                ensure_private_dir(path.parent)
                self._download(key, path)
            yield folder

    def read_bytes(self, key: str) -> bytes:
        with _not_found_as_error(key):
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data, **self._sse())

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self.object_key(key), ExtraArgs=self._sse())

    def get_file(self, key: str, path: Path) -> None:
        with _not_found_as_error(key):
            write_atomically(
                path, lambda out: self.client.download_fileobj(self.bucket, self.object_key(key), out)
            )

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise
        return True

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self._object_keys(self.object_key(prefix) + "/"))
        for start in range(0, len(keys), _DELETE_BATCH):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def _move(self, src: str, dst: str) -> None:
        """Copy (with SSE) then delete: S3 has no rename."""
        source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": self.object_key(src)}
        with _not_found_as_error(src):
            self.client.copy(source, self.bucket, self.object_key(dst), ExtraArgs=self._sse())
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(src))

    def _sse(self) -> dict[str, Any]:
        return dict(self.sse)

    def _download(self, key: str, path: Path) -> None:
        """Download to a new file created with mode 0600."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, _not_found_as_error(key):
            self.client.download_fileobj(self.bucket, self.object_key(key), out)

    def _object_keys(self, object_prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=object_prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield obj["Key"]


@contextmanager
def _private_temp_dir() -> Iterator[Path]:
    """A fresh 0700 temp folder, removed with its contents on exit."""
    folder = Path(tempfile.mkdtemp(prefix="csmatch-landing-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _landing_file(key: str, size: int, last_modified: datetime) -> LandingFile:
    return LandingFile(
        key=key, name=key.rsplit("/", 1)[-1], size=size, received_at=last_modified.astimezone(UTC)
    )
