"""Core benchmark rows: status wall time, engine, scenario save, freeze + checksum, audit verify.

Whole-process figures (status, save) run paired with their floor, A B A B …: `status --json`
against `python -c "import sqlite3"` (an interpreter start plus the one module a status read
cannot do without), the 1M-record save against Python's sqlite3 writing as many rows of the
same sizes into the same table shape in one transaction (benchmarks/floors.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import floors
from benchmarks.rows import Row, Verdict, paired, wall_ms

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
        floor = [sys.executable, "-c", "import sqlite3"]
        out = paired(lambda: wall_ms(exe), lambda: wall_ms(floor), runs, warmup=2)
    times = sorted(out["all"])
    return {**out, "p95": times[int(0.95 * (len(times) - 1))]}


def save_wall(orders: int = 100_000, runs: int = 3) -> dict[str, Any]:
    """`scenario save --scale N` as a whole process, paired with the sqlite3 floor."""
    with tempfile.TemporaryDirectory() as tmp:
        db, floor_db = Path(tmp) / "save.db", Path(tmp) / "floor.db"
        exe = [str(Path(sys.executable).parent / "bfg-tui"), "--db", str(db), "--as", "user_dispatcher_marek",
               "scenario", "save", "--scale", str(orders)]
        _cli(db, "init")  # the store exists: the figure is the save, not the store's creation
        wall_ms(exe)
        shape = floors.row_shape(db)  # the same count and average sizes, measured on what was saved
        floor = [sys.executable, "-m", "benchmarks.floors", "sqlite-rows", str(floor_db), *map(str, shape)]

        def save() -> float:
            # A fresh store each run: a save into a store holding 1M rows also deletes them.
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            _cli(db, "init")
            return wall_ms(exe, cwd=ROOT)

        out = paired(save, lambda: wall_ms(floor, cwd=ROOT), runs, warmup=0)
    return {**out, "records": shape[0], "body_bytes": shape[3]}


def engine_recompute(loops: int = 2000) -> dict[str, Any]:
    from bfg_tui.assess import assess as evaluate  # what the console recomputes: the figures and the recommendation
    from bfg_tui.catalog import default_catalog
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


def runbook_lint(runs: int = 20) -> dict[str, Any]:
    """The RLS lint every dry-run runs before its runbook, cold (its cache cleared each run)."""
    from bfg_tui.rls_lint import lint_rls
    from bfg_tui.runbook import runbook_sql

    sql = runbook_sql()
    times = []
    for _ in range(runs):
        lint_rls.cache_clear()
        t0 = time.perf_counter()
        lint_rls(sql)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": times[len(times) // 2], "max_ms": times[-1], "runs": runs}


async def _freeze(orders: int) -> dict[str, Any]:
    from bfg_tui.canonical import SnapshotHasher
    from bfg_tui.scenario_rows import demo_rows
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
    # The generator's own canonical bytes: what the save stored, without encoding each record again.
    bodies = [b if isinstance(b, bytes) else b.encode() for _k, _i, b in demo_rows(console.catalog, orders)]
    hasher = SnapshotHasher(session="grant-demo-local", tenant="bfg")
    t0 = time.perf_counter()
    for start in range(0, len(bodies), 50000):
        hasher.add_many(bodies[start:start + 50000])
    hasher.hexdigest()
    hash_s = time.perf_counter() - t0
    # The floor: SHA-256 over the same bytes in one C call (what no checksum can beat).
    whole = b",".join(bodies)
    t0 = time.perf_counter()
    hashlib.sha256(whole).hexdigest()
    sha_s = time.perf_counter() - t0
    return {"records": rows, "save_s": save_s, "freeze_s": freeze_s,
            "checksum_records_per_s": rows / hash_s, "freeze_records_per_s": rows / freeze_s,
            "sha256_records_per_s": rows / sha_s}


def freeze_and_checksum(orders: int) -> dict[str, Any]:
    return asyncio.run(_freeze(orders))


async def _verify(events: int) -> dict[str, Any]:
    from benchmarks.trail import long_trail
    from bfg_tui.service import Console

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        await long_trail(path, events, "user_accountant_olena", "transition.db_schema")
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


def rows(quick: bool) -> list[Row]:
    out = [
        Row("status --json (demo store), whole process", status_wall, "≤ 2× floor",
            lambda r: Verdict(f"median {r['median']:.0f} ms, p95 {r['p95']:.0f} ms, min {r['min']:.0f} ms "
                              f"({r['runs']} runs)",
                              f"python -c 'import sqlite3' median {r['floor_median']:.0f} ms; ratio {r['ratio']:.2f}×",
                              r["ratio"] <= 2.0)),
        Row("engine recompute (full catalog)", engine_recompute, "≤ 1 ms",
            lambda r: Verdict(f"{r['ms_per_recompute']:.3f} ms ({r['checks']} checks, {r['nodes']} nodes)", "—",
                              r["ms_per_recompute"] <= 1)),
        Row("freeze + checksum, 100k records", lambda: freeze_and_checksum(10_000), "checksum ≥ 1M rec/s",
            _freeze_verdict(None)),
        Row("runbook RLS lint, cold", runbook_lint, "≤ 50 ms",
            lambda r: Verdict(f"median {r['median_ms']:.2f} ms, max {r['max_ms']:.2f} ms ({r['runs']} runs)", "—",
                              r["median_ms"] <= 50)),
    ]
    if not quick:
        out += [
            Row("scenario save --scale 100000 (1M records), whole process", save_wall, "≤ 1.5× floor",
                lambda r: Verdict(f"median {r['median'] / 1000:.2f} s, min {r['min'] / 1000:.2f} s "
                                  f"({r['records']} records, {r['runs']} runs)",
                                  f"sqlite3, {r['records']} rows of {r['body_bytes']} B, one transaction: median "
                                  f"{r['floor_median'] / 1000:.2f} s; ratio {r['ratio']:.2f}×",
                                  r["ratio"] <= 1.5)),
            Row("freeze + checksum, 1M records", lambda: freeze_and_checksum(100_000),
                "freeze ≤ 4 s; checksum ≥ 1M rec/s", _freeze_verdict(4.0)),
        ]
    out.append(Row("audit verify, 100k events", audit_verify, "≥ 300k events/s",
                   lambda r: Verdict(f"{r['events_per_s'] / 1000:.0f}k events/s ({r['seconds'] * 1000:.0f} ms)", "—",
                                     r["events_per_s"] >= 300_000)))
    return out


def _freeze_verdict(limit_s: float | None) -> Any:
    def verdict(r: dict[str, Any]) -> Verdict:
        ok = r["checksum_records_per_s"] >= 1_000_000 and (limit_s is None or r["freeze_s"] <= limit_s)
        return Verdict(f"{r['records']} rec: save {r['save_s']:.2f} s, freeze {r['freeze_s']:.2f} s, "
                       f"checksum {r['checksum_records_per_s'] / 1e6:.2f}M rec/s",
                       f"one sha256 call over the same bytes: {r['sha256_records_per_s'] / 1e6:.2f}M rec/s", ok)

    return verdict


if __name__ == "__main__":  # pragma: no cover
    os.chdir(ROOT)
    print(status_wall(), engine_recompute(), freeze_and_checksum(10_000), audit_verify(), sep="\n")
