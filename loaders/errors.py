"""Errors a loader raises for a whole file or extract; messages carry counts and codes, never PII."""

from __future__ import annotations


class FileRejected(Exception):
    """The whole file is refused (no record from it may be used); `code` is a short reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RegistryRejected(Exception):
    """The registry extract is refused as a whole; `code` is a short reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
