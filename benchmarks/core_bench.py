"""Core benchmark rows (issue 2): status wall time, engine, freeze + checksum, audit verify."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cli(db: Path, *args: str, actor: str | None = None) -> None:
    argv = [sys.executable, "-m", "bfg_tui", "--db", str(db)]
    if actor:
        argv += ["--as", actor]
    subprocess.run([*argv, *args], check=True, capture_output=True, cwd=ROOT)


def status_wall(runs: int = 15) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        _cli(db, "scenario", "save", actor="user_dispatcher_marek")
        _cli(db, "snapshot", "freeze", actor="user_dispatcher_marek")
        exe = [str(Path(sys.executable).parent / "bfg-tui"), "--db", str(db), "status", "--json"]
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(exe, check=True, capture_output=True)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "min_ms": times[0]}


def engine_recompute(loops: int = 2000) -> dict[str, Any]:
    from bfg_tui.catalog import default_catalog
    from bfg_tui.engine import evaluate
    from bfg_tui.models import ScenarioInfo, State

    catalog = default_catalog()
    state = State("ScenarioStore.v1", "db-auth-session-adapter", "file-local",
                  ScenarioInfo(1, "2026-01-01", 131, {"tenants": 1, "users": 5, "orders": 12}))
    evaluate(catalog, state)
    t0 = time.perf_counter()
    for _ in range(loops):
        evaluate(catalog, state)
    per = (time.perf_counter() - t0) / loops * 1000
    return {"ms_per_recompute": per, "checks": len(catalog.checks), "nodes": len(catalog.order)}


async def _freeze(orders: int) -> dict[str, Any]:
    from bfg_tui.canonical import SnapshotHasher, record_json
    from bfg_tui.scenario import demo_records
    from bfg_tui.service import Console

    with tempfile.TemporaryDirectory() as tmp:
        console = await Console.open(str(Path(tmp) / "big.db"))
        try:
            t0 = time.perf_counter()
            await console.save_scenario("user_dispatcher_marek", scale=orders)
            save_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            out = await console.freeze("user_dispatcher_marek")
            freeze_s = time.perf_counter() - t0
            rows = out.data["rows"]
        finally:
            await console.close()
    bodies = [record_json(k, i, d, checked=False).encode() for k, i, d in demo_records(console.catalog, orders)]
    hasher = SnapshotHasher(session="grant-demo-local", tenant="bfg")
    t0 = time.perf_counter()
    for start in range(0, len(bodies), 50000):
        hasher.add_many(bodies[start:start + 50000])
    hasher.hexdigest()
    hash_s = time.perf_counter() - t0
    return {"records": rows, "save_s": save_s, "freeze_s": freeze_s,
            "checksum_records_per_s": rows / hash_s, "freeze_records_per_s": rows / freeze_s}


def freeze_and_checksum(orders: int) -> dict[str, Any]:
    return asyncio.run(_freeze(orders))


async def _verify(events: int) -> dict[str, Any]:
    import aiosqlite
    from bfg_tui.store.audit_chain import event_body, event_hash
    from bfg_tui.store.replay import state_digest
    from bfg_tui.store.sqlite_plans import read_state_sync

    from bfg_tui.service import Console, actor_context

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        console = await Console.open(str(path))
        count, head = await console.store.audit_head()
        await console.close()
        # Build a long, valid chain directly (the fixture, not the thing measured).
        ctx = actor_context("user_accountant_olena")
        rows = []
        prev = head
        for seq in range(count + 1, count + events + 1):
            body = event_body(seq=seq, prev=prev, at="2026-11-27T00:00:00.000000Z", kind="check.accept", ctx=ctx,
                              data={"check": "transition.db_schema", "note": f"n{seq}", "value": None,
                                    "snapshot_digest": None, "countersign": False})
            prev = event_hash(body)
            rows.append((seq, prev, body.encode(), "check.accept", ctx.actor_id, "transition.db_schema"))
        last = count + events
        async with aiosqlite.connect(path) as conn:
            await conn.executemany("insert into audit_events values (?, ?, ?, ?, ?, ?)", rows)
            await conn.execute("update audit_head set count = ?, head = ?", (last, prev))
            # The state those events leave (the tables are the trail's replay), and its digest.
            at = "2026-11-27T00:00:00.000000Z"
            await conn.execute("insert or replace into acceptances values (?, ?, ?, null, null, 0, ?, ?)",
                               ("transition.db_schema", ctx.actor_id, f"n{last}", at, last))
            await conn.execute("update meta set value = ? where key = 'last_change_seq'", (str(last),))
            await conn.commit()
        state = read_state_sync(path, check=False)
        async with aiosqlite.connect(path) as conn:
            await conn.execute("update audit_head set state_digest = ?", (state_digest(state),))
            await conn.commit()
        console = await Console.open(str(path))
        try:
            t0 = time.perf_counter()
            result = await console.store.audit_verify()
            took = time.perf_counter() - t0
        finally:
            await console.close()
    assert result.ok, result.reason
    return {"events": result.count, "seconds": took, "events_per_s": result.count / took}


def audit_verify(events: int = 100_000) -> dict[str, Any]:
    return asyncio.run(_verify(events))


if __name__ == "__main__":  # pragma: no cover
    os.chdir(ROOT)
    print(status_wall(), engine_recompute(), freeze_and_checksum(10_000), audit_verify(), sep="\n")
