"""Landing zone in a local folder: atomic writes (temp file + rename), files 0600 and folders 0700."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from loaders.landing_base import (
    CHUNK_BYTES,
    Landing,
    LandingFile,
    check_key,
    ensure_private_dir,
    is_incoming_name,
    write_atomically,
)


class LocalLanding(Landing):
    """A landing zone rooted at a local folder (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self.uri = str(self.root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def key_from_uri(self, uri: str) -> str:
        return super().key_from_uri(str(Path(uri.removeprefix("file://")).expanduser().absolute()))

    def list_incoming(self, source_prefix: str) -> list[LandingFile]:
        folder = self.path(source_prefix)
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            found = [
                _landing_file(f"{source_prefix}/{e.name}", e.stat(follow_symlinks=False))
                for e in entries
                if e.is_file(follow_symlinks=False) and is_incoming_name(e.name)
            ]
        return sorted(found, key=lambda f: (f.received_at, f.name))

    def stat(self, key: str) -> LandingFile:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no landing file {key!r}")
        return _landing_file(key, path.stat())

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self.path(key).open("rb") as f:
            yield from iter(lambda: f.read(CHUNK_BYTES), b"")

    @contextmanager
    def open_local(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no landing file {key!r}")
        yield path

    @contextmanager
    def open_local_dir(self, prefix: str) -> Iterator[Path]:
        path = self.path(prefix)
        if not path.is_dir():
            raise FileNotFoundError(f"no landing folder {prefix!r}")
        yield path

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def put_bytes(self, key: str, data: bytes) -> None:
        write_atomically(self.path(key), lambda out: out.write(data))

    def put_file(self, key: str, path: Path) -> None:
        with path.open("rb") as src:
            write_atomically(self.path(key), lambda out: shutil.copyfileobj(src, out, CHUNK_BYTES))

    def get_file(self, key: str, path: Path) -> None:
        with self.path(key).open("rb") as src:
            write_atomically(path, lambda out: shutil.copyfileobj(src, out, CHUNK_BYTES))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_prefix(self, prefix: str) -> int:
        folder = self.path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        return count

    def _move(self, src: str, dst: str) -> None:
        target = self.path(dst)
        ensure_private_dir(target.parent)
        os.replace(self.path(src), target)


def _landing_file(key: str, st: os.stat_result) -> LandingFile:
    return LandingFile(
        key=key,
        name=key.rsplit("/", 1)[-1],
        size=st.st_size,
        received_at=datetime.fromtimestamp(st.st_mtime, UTC),
    )
