"""Where the store lives: --db, then BFG_TUI_DB, then the platform's user data dir."""

from __future__ import annotations

import os
import re
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


_KEYWORD = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=")


def is_libpq_keyvalue(location: str) -> bool:
    """`host=… dbname=… password=…`: a libpq connection string, never a file name."""
    return bool(_KEYWORD.match(location)) and not location.startswith(("/", "./", "../", "~"))


KEYVALUE_REFUSED = ("--db looks like a libpq key=value connection string; give the store as a postgresql:// URL "
                    "(passwords come only from PGPASSWORD or a pgpass file), or a file path such as ./name")
