"""Is a probe's target the console's own store? Then the probe is refused before it runs.

A dry-run writes its replay (a scenario, a snapshot, system events) into its target; aimed
at the console's own store it would pass and leave that in the very trail it reports on.
The same store is recognised however the target is spelled:

* SQLite: the same file (device and inode: through a symlink, `..`, a hard link or another
  spelling), or a file carrying the same store id (a copy of the store);
* PostgreSQL: the same server, database and schema (the dry-run writes the runbook's
  schema, so a console store kept in that schema is refused).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Reason
from ..targets import server_key

if TYPE_CHECKING:
    from bfg_tui.store.base import ScenarioStore


async def own_store_reason(store: ScenarioStore, target: str, kind: str) -> Reason | None:
    """Why `target` is the console's own store, or None."""
    path = store.path
    if kind == "sqlite" and isinstance(path, Path):
        return _sqlite_reason(await store.store_id(), path, Path(target).expanduser())
    server = store.server_key()
    if kind == "postgresql" and server is not None:
        from ..runbook import SCHEMA

        if store.schema == SCHEMA and server == server_key(target):
            return Reason.of("probe.own_store_pg", schema=SCHEMA)
    return None


def _sqlite_reason(ours: str, own: Path, target: Path) -> Reason | None:
    try:
        if os.path.samefile(own, target):
            return Reason.of("probe.own_store_file")
    except OSError:
        return None  # no such target file yet: it cannot be ours
    if ours and read_store_id(target) == ours:
        return Reason.of("probe.own_store_copy", store_id=ours)
    return None


def read_store_id(path: Path) -> str | None:
    """The store id of a bfg-tui SQLite file, read-only and creating nothing; None if it has none."""
    from bfg_tui.store.schema import APPLICATION_ID

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError, OSError):
        return None
    try:
        if conn.execute("pragma application_id").fetchone()[0] != APPLICATION_ID:
            return None
        row = conn.execute("select store_id from audit_head where id = 1").fetchone()
        return str(row[0]) if row and row[0] else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()

