"""Read plans: the store's queries written once, run by a sync or an async driver.

A plan is a generator that yields `(sql, params)` and receives the fetched rows. The
async store drives it through aiosqlite; `bfg-tui status` drives it with plain sqlite3
so the headless read never pays for importing asyncio (about 85 ms on a 2-core box).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Generator
from pathlib import Path
from typing import Any

from bfg_tui.errors import StateMismatch, StoreError
from bfg_tui.models import Acceptance, ProbeResult, ScenarioInfo, SnapshotInfo, State

from .replay import MISMATCH, state_digest
from .schema import APPLICATION_ID, SCHEMA_VERSION
from .sqlite_errors import BUSY_TIMEOUT_MS, translate_error

Query = tuple[str, tuple[Any, ...]]
Plan = Generator[Query, list[tuple[Any, ...]], Any]


def header_plan(path: Path) -> Plan:
    """Is this our store, at a schema we understand? Returns the schema version."""
    app_id = (yield ("pragma application_id", ()))[0][0]
    version = (yield ("pragma user_version", ()))[0][0]
    tables = (yield ("select count(*) from sqlite_master", ()))[0][0]
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
        raise StoreError(f"{path}: this SQLite file is not a bfg-tui store")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: store schema version {version} is newer than this bfg-tui understands "
            f"({SCHEMA_VERSION}); upgrade bfg-tui"
        )
    if version >= 1 and not (yield ("select count(*) from audit_head where id = 1", ()))[0][0]:
        # Every store has its head from the moment it is made: a missing one is a hand edit.
        raise StoreError(f"{path}: the audit head is missing (the store was edited outside bfg-tui); "
                         "nothing in it can be trusted: restore it from a backup")
    return version


def state_plan(check: bool = True) -> Plan:
    """The state the engine reads; with `check`, refused unless it is the trail's (digest in the head)."""
    meta = dict((yield ("select key, value from meta", ())))
    scenario_rows = yield (
        "select version, saved_at, actor, records, kind_counts from scenarios order by version desc limit 1", ()
    )
    if not scenario_rows:  # every store is seeded with one: an empty table is a hand edit
        raise StoreError("the store holds no scenario row (it was edited outside bfg-tui); "
                         "run `bfg-tui audit verify`, or restore the store from a backup")
    v, saved_at, actor, records, kinds = scenario_rows[0]
    snap_rows = yield ("select id, rows, digest, frozen_at, kind_counts from snapshots order by id desc limit 1", ())
    snapshot = None
    if snap_rows:
        sid, rows, digest, at, skinds = snap_rows[0]
        snapshot = SnapshotInfo(sid, rows, digest, at, json.loads(skinds))
    acceptances = {
        r[0]: Acceptance(r[0], r[1], r[6], r[7], r[2], r[3], r[4], bool(r[5]), r[8])
        for r in (yield (
            "select check_id, actor, note, value, snapshot_digest, countersign, at, event_seq, key from acceptances", ()
        ))
    }
    # The roster's first event turns the store from demo to signed identity.
    roster_seq = (yield ("select min(seq) from audit_events where subject = 'roster'", ()))[0][0] or 0
    probes = {
        r[0]: ProbeResult(r[0], bool(r[1]), r[2], r[3], r[4], r[5], r[9], r[10], r[6], bool(r[7]), bool(r[8]), r[11])
        for r in (yield (
            "select check_id, passed, target_kind, endpoint, detail, run_id, snapshot_digest, tls, "
            "credentials_external, at, event_seq, fingerprint from probe_results", ()
        ))
    }
    count, head, digest = (yield ("select count, head, state_digest from audit_head where id = 1", ()))[0]
    state = State(
        store_contract=meta.get("contract", ""),
        target_adapter=meta.get("target_adapter") or None,
        fallback_adapter=meta.get("fallback_adapter") or None,
        scenario=ScenarioInfo(v, saved_at, records, json.loads(kinds)),
        snapshot=snapshot,
        acceptances=acceptances,
        probes=probes,
        connection_endpoint=meta.get("connection_endpoint") or None,
        last_change_seq=int(meta.get("last_change_seq", "0")),
        last_release_export_seq=int(meta.get("last_release_export_seq", "0")),
        audit_count=count,
        audit_head=head,
        last_save_actor=actor,
        identity="signed" if roster_seq else "demo",
        roster_seq=roster_seq,
    )
    if check and state_digest(state) != digest:
        raise StateMismatch(MISMATCH)
    return state


def run_sync(plan: Plan, conn: sqlite3.Connection) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(conn.execute(*query).fetchall())
    except StopIteration as done:
        return done.value


async def run_async(plan: Plan, conn: Any) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(list(await conn.execute_fetchall(*query)))
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
            return run_sync(state_plan(check), conn)
        finally:
            conn.execute("commit")
    except sqlite3.Error as exc:
        raise translate_error(exc, path) from None
    finally:
        conn.close()
