"""Read plans on SQLite: the header check, and the sync driver of the shared state plan.

`bfg-tui status` drives the plans with plain sqlite3, so the headless read never pays
for importing asyncio; the async store drives the same plans through its transaction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bfg_tui.errors import Reason, StoreError
from bfg_tui.models import State

from .schema import APPLICATION_ID, SCHEMA_VERSION
from .sqlite_errors import BUSY_TIMEOUT_MS, translate_error
from .state_plan import Plan, state_plan


def header_plan(path: Path) -> Plan:
    """Is this our store, at a schema we understand? Returns the schema version."""
    app_id = (yield ("pragma application_id", ()))[0][0]
    version = (yield ("pragma user_version", ()))[0][0]
    tables = (yield ("select count(*) from sqlite_master", ()))[0][0]
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
        raise StoreError(Reason.of("store.foreign_sqlite", path=path))
    if version > SCHEMA_VERSION:
        raise StoreError(Reason.of("pgstore.newer", where=path, version=version, known=SCHEMA_VERSION))
    if version >= 1 and not (yield ("select count(*) from audit_head where id = 1", ()))[0][0]:
        # Every store has its head from the moment it is made: a missing one is a hand edit.
        raise StoreError(Reason.of("store.head_missing", path=path))
    return version


def run_sync(plan: Plan, conn: sqlite3.Connection) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(conn.execute(*query).fetchall())
    except StopIteration as done:
        return done.value


def read_state_sync(path: Path, *, check: bool = True) -> State | None:
    """The state of an existing store without asyncio; None if there is no store yet."""
    from .sqlite_files import existing_store, read_only_medium, read_only_uri

    if not existing_store(path):  # refuses a device, an empty or a foreign file untouched
        return None
    try:
        if read_only_medium(path):
            conn = sqlite3.connect(read_only_uri(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   uri=True)
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate_error(exc, path) from None
    try:
        conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("pragma query_only = 1")
        if run_sync(header_plan(path), conn) < SCHEMA_VERSION:
            return None  # needs a migration (or is not ours): the full store says which
        conn.execute("begin")
        try:
            state: State = run_sync(state_plan(check), conn)
            return state
        finally:
            conn.execute("commit")
    except sqlite3.Error as exc:
        raise translate_error(exc, path) from None
    finally:
        conn.close()
