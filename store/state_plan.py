"""State assembly from rows, written once for every backend and driver.

A plan is a generator that yields `(sql, params)` and receives the fetched rows. The
async stores drive it through their transaction (`run_async`); `bfg-tui status` drives
it with plain sqlite3 (`sqlite_plans.run_sync`) so the headless read never pays for
importing asyncio. The queries take no parameters, so they read the same on SQLite and
PostgreSQL: only the table names (a schema prefix) and the head row's key differ.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any, NamedTuple, Protocol

from bfg_tui.errors import Reason, StateMismatch, StoreError
from bfg_tui.models import Acceptance, ProbeResult, ScenarioInfo, SnapshotInfo, State

from .replay import state_digest

Query = tuple[str, tuple[Any, ...]]
Plan = Generator[Query, list[tuple[Any, ...]], Any]


class Tables(NamedTuple):
    """How a backend names the tables: `prefix` before each name, `head` selects the head row."""

    prefix: str = ""
    head: str = " where id = 1"


SQLITE_TABLES = Tables()


class Fetcher(Protocol):
    async def all(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...


def state_plan(check: bool = True, tables: Tables = SQLITE_TABLES) -> Plan:
    """The state the engine reads; with `check`, refused unless it is the trail's (digest in the head)."""
    p = tables.prefix
    meta: dict[str, str] = dict((yield (f"select key, value from {p}meta", ())))
    scenario_rows = yield (
        f"select version, saved_at, actor, records, kind_counts from {p}scenarios order by version desc limit 1", ()
    )
    if not scenario_rows:  # every store is seeded with one: an empty table is a hand edit
        raise StoreError(Reason.of("store.no_scenario_row"))
    v, saved_at, actor, records, kinds = scenario_rows[0]
    snap_rows = yield (f"select id, rows, digest, frozen_at, kind_counts from {p}snapshots order by id desc limit 1", ())
    snapshot = None
    if snap_rows:
        sid, rows, digest, at, skinds = snap_rows[0]
        snapshot = SnapshotInfo(sid, rows, digest, at, json.loads(skinds))
    acceptances = {
        r[0]: Acceptance(r[0], r[1], r[6], r[7], r[2], r[3], r[4], bool(r[5]), r[8])
        for r in (yield (
            f"select check_id, actor, note, value, snapshot_digest, countersign, at, event_seq, key from {p}acceptances",
            (),
        ))
    }
    # The roster's first event turns the store from demo to signed identity.
    roster_seq = (yield (f"select min(seq) from {p}audit_events where subject = 'roster'", ()))[0][0] or 0
    probes = {
        r[0]: ProbeResult(r[0], bool(r[1]), r[2], r[3], r[4], r[5], r[9], r[10], r[6], bool(r[7]), bool(r[8]), r[11])
        for r in (yield (
            "select check_id, passed, target_kind, endpoint, detail, run_id, snapshot_digest, tls, "
            f"credentials_external, at, event_seq, fingerprint from {p}probe_results", ()
        ))
    }
    count, head, digest = (yield (f"select count, head, state_digest from {p}audit_head{tables.head}", ()))[0]
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
        raise StateMismatch(Reason.of("store.state_mismatch"))
    return state


async def run_async(plan: Plan, tx: Fetcher) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(await tx.all(*query))
    except StopIteration as done:
        return done.value
