"""The landing zone: a local folder (default) or `s3://bucket/prefix`, behind one interface.

Layout under the root: one prefix per source (`new_hire/`, `quarterly_wage/`, `dmv/`, `fidm/`,
`registry/`), `archive/<source>/…` for processed files, `rejected/<source>/…` with `<name>.reason.txt`,
and `work/<run_id>/…`, a run's shared work area (chunks travel here, never on a worker's local disk).
"""

from __future__ import annotations

from pathlib import Path

from loaders.landing_base import (
    ARCHIVE,
    REASON_SUFFIX,
    REJECTED,
    SOURCE_PREFIXES,
    WORK,
    Fingerprint,
    Landing,
    LandingFile,
    work_key,
)
from loaders.landing_local import LocalLanding

__all__ = [
    "ARCHIVE",
    "REASON_SUFFIX",
    "REJECTED",
    "SOURCE_PREFIXES",
    "WORK",
    "Fingerprint",
    "Landing",
    "LandingFile",
    "LocalLanding",
    "open_landing",
    "open_landing_file",
    "split_uri",
    "work_key",
]


def open_landing(uri: str) -> Landing:
    """The landing zone at `uri`: `s3://bucket/prefix` or a local folder path (`file://` allowed)."""
    if uri.startswith("s3://"):
        from loaders.landing_s3 import S3Landing, parse_s3_uri  # boto3 only when S3 is used

        bucket, prefix = parse_s3_uri(uri)
        return S3Landing(bucket, prefix)
    return LocalLanding(Path(uri.removeprefix("file://")))


def split_uri(uri: str) -> tuple[str, str]:
    """(landing root, key) of a file URI or path.

    The root is what precedes the last source prefix folder (and an `archive/` or `rejected/` before it):
    `s3://b/p/new_hire/x.txt` → (`s3://b/p`, `new_hire/x.txt`); otherwise the file's own folder:
    `/data/x.txt` → (`/data`, `x.txt`).
    """
    if uri.startswith("s3://"):
        bucket, _, rest = uri.removeprefix("s3://").partition("/")
        anchor, parts = f"s3://{bucket}", [p for p in rest.split("/") if p]
    else:
        path = Path(uri.removeprefix("file://")).expanduser().absolute()
        anchor, parts = path.anchor, list(path.parts[1:])
    if not parts:
        raise ValueError(f"no file name in {uri!r}")
    cut = _root_depth(parts[:-1])
    root = "/".join([anchor, *parts[:cut]]) if anchor.startswith("s3://") else str(Path(anchor, *parts[:cut]))
    return root, "/".join(parts[cut:])


def _root_depth(folders: list[str]) -> int:
    """How many of a file's leading folders belong to the landing root."""
    for i in range(len(folders) - 1, -1, -1):
        if folders[i] in SOURCE_PREFIXES:
            return i - 1 if i > 0 and folders[i - 1] in (ARCHIVE, REJECTED) else i
    return len(folders)


def open_landing_file(uri: str) -> tuple[Landing, str]:
    """The landing zone holding the file at `uri`, and its key there (for `csmatch run SOURCE URI`)."""
    root, key = split_uri(uri)
    return open_landing(root), key
