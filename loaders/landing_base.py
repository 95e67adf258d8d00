"""The landing-zone interface shared by the local-folder and S3 backends, and its key rules.

A key is a POSIX-style path relative to the landing root (`new_hire/NH20260105.txt`). Incoming files sit
directly under a source prefix; processed files move to `archive/<key>`, rejected ones to `rejected/<key>`
beside `<key>.reason.txt`; a run's shared work area is `work/<run_id>/…`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

import structlog

SOURCE_PREFIXES = ("new_hire", "quarterly_wage", "dmv", "fidm", "registry")
ARCHIVE = "archive"
REJECTED = "rejected"
WORK = "work"
REASON_SUFFIX = ".reason.txt"
CHUNK_BYTES = 1024 * 1024

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LandingFile:
    """A file waiting in the landing zone: its key, base name, size in bytes and received time (UTC)."""

    key: str
    name: str
    size: int
    received_at: datetime


class Fingerprint(NamedTuple):
    sha256: str
    size: int


def check_key(key: str) -> str:
    """The key itself when it is a clean relative POSIX path; ValueError otherwise (no `..`, no `/x`)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a landing key: {key!r}")
    return key


def is_incoming_name(name: str) -> bool:
    """False for hidden files and files still being written (`.x`, `*.tmp`, `*.part`)."""
    return not name.startswith(".") and not name.endswith((".tmp", ".part", REASON_SUFFIX))


def work_key(run_id: str, *parts: str) -> str:
    """Key of an object in a run's shared work area: `work/<run_id>/<parts…>`."""
    return check_key("/".join((WORK, run_id, *parts)))


def settled_key(area: str, key: str) -> str:
    """Where `key` goes in `area` (archive/rejected); a key already archived or rejected keeps its path."""
    parts = check_key(key).split("/")
    if parts[0] in (ARCHIVE, REJECTED) and len(parts) > 1:
        parts = parts[1:]
    return "/".join((area, *parts))


def numbered_key(key: str, n: int) -> str:
    """`archive/new_hire/x.txt`, n=2 → `archive/new_hire/x.2.txt` (a free name for a repeated file name)."""
    path = PurePosixPath(key)
    return str(path.with_name(f"{path.stem}.{n}{path.suffix}"))


def sha256_of(chunks: Iterator[bytes]) -> Fingerprint:
    """Streaming sha256 and byte count."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return Fingerprint(digest.hexdigest(), size)


def ensure_private_dir(path: Path) -> None:
    """Create `path` and any missing parents with mode 0700."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)


@contextmanager
def atomic_file(dest: Path) -> Iterator[BinaryIO]:
    """A 0600 temp file in `dest`'s folder, renamed into place when the block ends cleanly (else removed)."""
    ensure_private_dir(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(dest: Path, writer: Callable[[BinaryIO], object]) -> None:
    """Write `dest` through a 0600 temp file in the same folder, then rename it into place."""
    with atomic_file(dest) as out:
        writer(out)


def now_utc() -> datetime:
    return datetime.now(UTC)


class Landing(ABC):
    """A landing zone: a local folder or an S3 prefix, addressed by keys relative to its root `uri`."""

    uri: str

    @abstractmethod
    def list_incoming(self, source_prefix: str) -> list[LandingFile]:
        """Files directly under `source_prefix`, oldest first (received time, then name)."""

    @abstractmethod
    def stat(self, key: str) -> LandingFile:
        """Size and received time of one file (FileNotFoundError when absent)."""

    @abstractmethod
    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """The file's bytes, streamed in chunks."""

    @abstractmethod
    def open_local(self, key: str) -> AbstractContextManager[Path]:
        """A local path to read the file from; S3 downloads to a private temp file removed on exit."""

    @abstractmethod
    def open_local_dir(self, prefix: str) -> AbstractContextManager[Path]:
        """A local folder holding every file under `prefix` (S3: a private temp copy removed on exit)."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def get_file(self, key: str, path: Path) -> None:
        """Copy the file to local `path` (atomically, mode 0600)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every file under `prefix` (e.g. a finished run's work area); returns how many."""

    @abstractmethod
    def _move(self, src: str, dst: str) -> None: ...

    def fingerprint(self, key: str) -> Fingerprint:
        """sha256 (hex) and size of the file, streamed: memory stays flat in file size."""
        return sha256_of(self.iter_chunks(key))

    def archive(self, key: str) -> str:
        """Move a processed file to `archive/<key>`; returns the new key."""
        target = settled_key(ARCHIVE, key)
        if target == key:
            return key
        dst = self._free_key(target)
        self._move(key, dst)
        log.info("landing_archived", key=key, to=dst)
        return dst

    def reject(self, key: str, reason: str) -> str:
        """Move a rejected file to `rejected/<key>` with `<key>.reason.txt` beside it; returns the new key."""
        dst = self._free_key(settled_key(REJECTED, key))
        self._move(key, dst)
        note = f"reason: {reason}\nrejected_at: {now_utc().isoformat()}\nfile: {key}\n"
        self.put_bytes(dst + REASON_SUFFIX, note.encode())
        log.info("landing_rejected", key=key, to=dst)
        return dst

    def uri_for(self, key: str) -> str:
        return f"{self.uri}/{check_key(key)}"

    def key_from_uri(self, uri: str) -> str:
        """Inverse of `uri_for`: the key of a URI under this landing root (ValueError otherwise)."""
        root = self.uri + "/"
        if not uri.startswith(root):
            raise ValueError(f"{uri!r} is not under the landing root {self.uri!r}")
        return check_key(uri[len(root) :])

    def _free_key(self, key: str) -> str:
        """`key` itself, or `x.2.txt`, `x.3.txt`, … when a file of that name was archived before."""
        candidate, n = key, 1
        while self.exists(candidate) or self.exists(candidate + REASON_SUFFIX):
            n += 1
            candidate = numbered_key(key, n)
        return candidate
