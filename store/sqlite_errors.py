"""SQLite errors turned into one-line reasons (kept light: the sync read path uses it)."""

from __future__ import annotations

from pathlib import Path

from bfg_tui.errors import StoreError

BUSY_TIMEOUT_MS = 5000


def translate_error(exc: BaseException, path: Path) -> StoreError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreError(f"{path}: database is locked by another process (waited {BUSY_TIMEOUT_MS // 1000} s); try again")
    if "readonly" in low or "read-only" in low:
        return StoreError(f"{path}: database is read-only; nothing was changed")
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return StoreError(f"{path}: not a readable bfg-tui store ({text})")
    if "unable to open" in low:
        return StoreError(f"{path}: cannot open the database file")
    return StoreError(f"{path}: database error: {text}")
