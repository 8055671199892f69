"""Errors the user sees as one line. Nothing here imports UI or storage code."""

from __future__ import annotations


class BfgError(Exception):
    """An error with a one-line reason for the user; `exit_code` is what the CLI returns."""

    exit_code = 1

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CatalogError(BfgError):
    """The catalog asset is invalid (unknown id, duplicate, cycle...)."""


class Refused(BfgError):
    """An action was refused by RBAC or by a product rule; recorded as an audit event."""

    def __init__(self, reason: str, *, action: str = "", subject: str = "") -> None:
        super().__init__(reason)
        self.action = action
        self.subject = subject


class StoreError(BfgError):
    """The store cannot be opened or written (corrupt, locked, read-only, newer schema)."""


class InputError(BfgError):
    """A malformed input file or argument."""


class ProbeFailed(BfgError):
    """A probe ran and did not pass; its transcript is stored."""
