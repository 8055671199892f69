"""SQLite errors turned into one-line reasons (kept light: the sync read path uses it)."""

from __future__ import annotations

from pathlib import Path

from bfg_tui.errors import Reason, StoreError

BUSY_TIMEOUT_MS = 5000


def translate_error(exc: BaseException, path: Path) -> StoreError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreError(Reason.of("store.locked", path=path, seconds=BUSY_TIMEOUT_MS // 1000))
    if "readonly" in low or "read-only" in low:
        return StoreError(Reason.of("store.read_only", path=path))
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return StoreError(Reason.of("store.unreadable", path=path, error=text))
    if "unable to open" in low:
        return StoreError(Reason.of("store.cannot_open_file", path=path))
    return StoreError(Reason.of("store.database_error", path=path, error=text))
