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


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))
