"""Where the store lives: --db, then BFG_TUI_DB, then the platform's user data dir."""

from __future__ import annotations

import os
from pathlib import Path

APP = "bfg-tui"


def default_db() -> str:
    env = os.environ.get("BFG_TUI_DB")
    if env:
        return env
    # platformdirs is imported only when needed: it costs start-up time.
    from platformdirs import user_data_dir

    return str(Path(user_data_dir(APP, appauthor=False)) / "console.db")


def config_dir() -> Path:
    env = os.environ.get("BFG_TUI_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP, appauthor=False))


def export_dir() -> tuple[Path, str]:
    """Where the console's export dialog writes by default, and why (shown in the dialog).

    BFG_TUI_EXPORT_DIR, else the user's documents folder when it exists, else an `exports`
    folder in the user data dir (never the current directory).
    """
    env = os.environ.get("BFG_TUI_EXPORT_DIR")
    if env:
        return Path(env).expanduser(), "BFG_TUI_EXPORT_DIR"
    from platformdirs import user_data_dir, user_documents_dir

    documents = Path(user_documents_dir())
    if documents.is_dir():
        return documents, "documents"
    return Path(user_data_dir(APP, appauthor=False)) / "exports", "data"


def default_export_path(packet: str, fmt: str) -> Path:
    """Where the export dialog proposes to write `packet` in `fmt` (a file in `export_dir`)."""
    ext = {"text": "txt", "json": "json", "md": "md"}[fmt]
    if packet in ("release", "rollback") and fmt == "text":
        ext = "env"
    if packet == "runbook" and fmt == "text":
        ext = "sql"
    return export_dir()[0] / f"bfg-{packet.replace('_', '-')}.{ext}"

