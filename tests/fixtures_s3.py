"""pytest plugin: moto's S3 server on loopback (a real HTTP endpoint, not a patched client) and landing zones.

- `moto_s3` (session): the server on 127.0.0.1 with a free port, and a bucket.
- `s3_env`: points boto3 and csmatch at it for one test (monkeypatched env: nothing leaks).
- `s3_landing_uri`: a fresh, empty `s3://bucket/<unique>/landing` root; `s3_client` for assertions.
- `landing_uri` / `landing`: parametrised over a local folder and S3, so one test runs on both backends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from loaders.landing import Landing, open_landing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_TEST_BUCKET = "csmatch-test-landing"
S3_TEST_REGION = "us-east-1"
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "CSMATCH_S3_KMS_KEY_ID",
)


@dataclass(frozen=True)
class MotoS3:
    """Where the test S3 server listens and the bucket it holds."""

    endpoint_url: str
    bucket: str

    def client(self) -> S3Client:
        """A boto3 S3 client for the server, independent of the environment."""
        import boto3

        return boto3.client("s3", **self._client_args())

    def kms_client(self) -> Any:
        """A boto3 KMS client on the same endpoint (moto serves every service there)."""
        import boto3

        return boto3.client("kms", **self._client_args())

    def _client_args(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": S3_TEST_REGION,
            "aws_access_key_id": _FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": _FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """moto's S3 server on loopback for the whole session, with one bucket."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = MotoS3(endpoint_url=f"http://{host}:{port}", bucket=S3_TEST_BUCKET)
        s3.client().create_bucket(Bucket=s3.bucket)
        yield s3
    finally:
        server.stop()


@pytest.fixture
def s3_env(
    moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> MotoS3:
    """Point boto3 and csmatch (`CSMATCH_S3_ENDPOINT_URL`) at the moto server for this test only."""
    from loaders.landing_s3 import ENDPOINT_ENV

    for name in _AWS_ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    no_config = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(no_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(no_config))
    monkeypatch.setenv("AWS_DEFAULT_REGION", S3_TEST_REGION)
    for name, value in _FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(ENDPOINT_ENV, moto_s3.endpoint_url)
    return moto_s3


@pytest.fixture
def s3_client(s3_env: MotoS3) -> S3Client:
    return s3_env.client()


@pytest.fixture
def s3_landing_uri(s3_env: MotoS3) -> str:
    """A fresh, empty landing root on the moto server: `s3://<bucket>/<unique>/landing`."""
    return f"s3://{s3_env.bucket}/t-{uuid.uuid4().hex[:12]}/landing"


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def landing_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty landing root: a local folder, then an S3 prefix on the moto server."""
    if request.param == "s3":
        return str(request.getfixturevalue("s3_landing_uri"))
    return str(tmp_path / "landing")


@pytest.fixture
def landing(landing_uri: str) -> Landing:
    return open_landing(landing_uri)
