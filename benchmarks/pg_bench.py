"""PostgreSQL benchmark rows (issue 4): COPY replay at 100k and 1M records, RLS verification,
the connection wizard. Everything runs for real through `Console` against the test server
(`scripts/pg-test-server start`): a temp SQLite store, `scenario save --scale`, freeze,
then the probes. Without a server the rows report why.

The replayed snapshot is removed from the target (as the admin login), its partition
included, before and after each replay row, so the COPY really runs as a first replay of
the snapshot and the shared test database stays small. The replay rows print the
1-minute load average taken just before the dry-run: on a shared 2-core machine the
rate depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MAREK = "user_dispatcher_marek"
ENV_FILE = "/tmp/bfg-pg/env"
KEYS = ("BFG_TUI_PG_ADMIN_DSN", "BFG_TUI_PG_MIGRATION_DSN", "BFG_TUI_PG_APP_DSN", "PGPASSFILE",
        "BFG_TUI_PG_HOST", "BFG_TUI_PG_PORT")
COPY_BUDGET = 150_000  # rows/s
_COPY_RE = re.compile(r"COPY wrote (\d+) rows in ([\d.]+) s")
_READ_RE = re.compile(r"read back (\d+) records as the app login in canonical order \(([\d.]+) s\)")

Row = tuple[str, Callable[[], dict[str, Any]], str, Callable[[dict[str, Any]], tuple[str, bool]]]


def _server() -> dict[str, str]:
    values: dict[str, str] = {}
    path = Path(os.environ.get("BFG_TUI_PG_ENV", ENV_FILE))
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip().removeprefix("export ")
            key, sep, raw = line.partition("=")
            if sep and not key.startswith("#"):
                parts = shlex.split(raw)
                values[key.strip()] = parts[0] if parts else ""
    values.update({k: os.environ[k] for k in KEYS if os.environ.get(k)})
    missing = [k for k in KEYS[:4] if not values.get(k)]
    if missing:
        raise RuntimeError(f"no PostgreSQL test server ({', '.join(missing)} unset; scripts/pg-test-server start)")
    host, port = values.get("BFG_TUI_PG_HOST", "127.0.0.1"), int(values.get("BFG_TUI_PG_PORT", "5432"))
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        raise RuntimeError(f"no PostgreSQL test server at {host}:{port} ({exc.strerror})") from None
    return values


@contextlib.contextmanager
def _pg_env(srv: dict[str, str]) -> Iterator[None]:
    """libpq finds the passwords in the pgpass file; the probes find the migration login."""
    saved = {k: os.environ.get(k) for k in ("PGPASSFILE", "BFG_TUI_MIGRATION_DSN", "PGPASSWORD")}
    os.environ["PGPASSFILE"] = srv["PGPASSFILE"]
    os.environ["BFG_TUI_MIGRATION_DSN"] = srv["BFG_TUI_PG_MIGRATION_DSN"]
    os.environ.pop("PGPASSWORD", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _forget(srv: dict[str, str], digest: str) -> None:
    """Remove the snapshot, its records and its partition: the replay measured is a first one."""
    import psycopg

    from bfg_tui.probes.postgres_target import partition_name

    snap, s = "snap-" + digest[:24], "bfg_flowcontrol"
    with psycopg.connect(srv["BFG_TUI_PG_ADMIN_DSN"], passfile=srv["PGPASSFILE"]) as conn:
        if conn.execute("select to_regclass('bfg_flowcontrol.scenario_records')").fetchone()[0] is None:
            return
        conn.execute(f"delete from {s}.scenario_replays where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {s}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {s}.scenario_snapshots where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"drop table if exists {s}.{partition_name(snap)}")


async def _store(tmp: str, scale: int | None) -> tuple[Any, str]:
    from bfg_tui.service import Console

    console = await Console.open(str(Path(tmp) / "bench.db"))
    await console.save_scenario(MAREK, scale=scale)
    out = await console.freeze(MAREK)
    return console, out.data["digest"]


async def _replay(scale: int) -> dict[str, Any]:
    srv = _server()
    with _pg_env(srv), tempfile.TemporaryDirectory() as tmp:
        console, digest = await _store(tmp, scale)
        target = srv["BFG_TUI_PG_APP_DSN"]
        try:
            _forget(srv, digest)
            conn = await console.probe(MAREK, "connection", target)
            if not conn.passed:
                raise RuntimeError(next(s.detail for s in conn.steps if not s.passed))
            load = _load()  # before the dry-run: the machine's load, not ours
            t0 = time.perf_counter()
            dry = await console.probe(MAREK, "dry_run", target)
            dry_s = time.perf_counter() - t0
            if not dry.passed:
                raise RuntimeError(next(s.detail for s in dry.steps if not s.passed))
        finally:
            _forget(srv, digest)
            await console.close()
    text = "\n".join(dry.transcript)
    copy, read = _COPY_RE.search(text), _READ_RE.search(text)
    if copy is None or read is None:
        raise RuntimeError("the dry-run transcript has no COPY or read-back timing")
    rows, copy_s = int(copy.group(1)), float(copy.group(2))
    return {"rows": rows, "copy_s": copy_s, "rows_per_s": rows / copy_s, "readback_s": float(read.group(2)),
            "dry_run_s": dry_s, "load": load}


def _load() -> float:
    """The 1-minute load average: on a shared 2-core machine the COPY rate depends on it."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _replay_fmt(r: dict[str, Any]) -> tuple[str, bool]:
    return (f"{r['rows_per_s'] / 1000:.0f}k rows/s (COPY {r['rows']} rows {r['copy_s']:.2f} s, load "
            f"{r['load']:.1f}); app read-back + checksum {r['readback_s']:.2f} s; dry-run 5/5 {r['dry_run_s']:.1f} s",
            r["rows_per_s"] >= COPY_BUDGET)


async def _rls() -> dict[str, Any]:
    """connection.rbac_session (role checks, forced-RLS catalog check, tenant-scoped session)
    and the dry-run's tenant A/B matrix (15 checks), each timed on its own."""
    from bfg_tui import rbac
    from bfg_tui.probes.postgres_target import PostgresTarget

    srv = _server()
    with _pg_env(srv), tempfile.TemporaryDirectory() as tmp:
        console, digest = await _store(tmp, None)
        target = srv["BFG_TUI_PG_APP_DSN"]
        try:
            assert (await console.probe(MAREK, "connection", target)).passed
            dry = await console.probe(MAREK, "dry_run", target)
            if not dry.passed:
                raise RuntimeError(next(s.detail for s in dry.steps if not s.passed))
            catalog = console.catalog
            rows = (await console.state()).snapshot.rows
            tgt = PostgresTarget(target, catalog)
            rbac_ms, matrix_ms = [], []
            try:
                assert (await tgt.reach(lambda _l: None)).passed
                claims = rbac.claims(catalog, catalog.actors[0])
                for _ in range(5):
                    t0 = time.perf_counter()
                    step = await tgt.rbac_session(lambda _l: None, catalog.tenant_id, claims)
                    rbac_ms.append((time.perf_counter() - t0) * 1000)
                    assert step.passed, step.detail
                    t0 = time.perf_counter()
                    matrix = await tgt._tenant_matrix(lambda _l: None, catalog.tenant_id, "snap-" + digest[:24], rows)
                    matrix_ms.append((time.perf_counter() - t0) * 1000)
                    assert all(ok for _n, ok in matrix), matrix
            finally:
                await tgt.close()
        finally:
            await console.close()
    return {"rbac_ms": statistics.median(rbac_ms), "matrix_ms": statistics.median(matrix_ms), "checks": len(matrix)}


async def _wizard(runs: int = 5) -> dict[str, Any]:
    srv = _server()
    with _pg_env(srv), tempfile.TemporaryDirectory() as tmp:
        console, _digest = await _store(tmp, None)
        times = []
        try:
            for _ in range(runs):
                t0 = time.perf_counter()
                run = await console.probe(MAREK, "connection", srv["BFG_TUI_PG_APP_DSN"])
                times.append((time.perf_counter() - t0) * 1000)
                if not run.passed:
                    raise RuntimeError(next(s.detail for s in run.steps if not s.passed))
        finally:
            await console.close()
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def rows(quick: bool) -> list[Row]:
    out: list[Row] = [
        # 10_001 orders, not 10_000: another snapshot than tests/test_pg_probes.py's, so a
        # benchmark and a test run at the same time never remove each other's rows.
        ("PG replay (COPY) 100k records", lambda: asyncio.run(_replay(10_001)), "≥ 150k rows/s", _replay_fmt),
    ]
    if not quick:
        out.append(("PG replay (COPY) 1M records", lambda: asyncio.run(_replay(100_000)), "≥ 150k rows/s",
                    _replay_fmt))
    out.append(("PG RLS verification", lambda: asyncio.run(_rls()), "≤ 500 ms",
                lambda r: (f"rbac_session {r['rbac_ms']:.0f} ms + A/B matrix {r['matrix_ms']:.0f} ms "
                           f"({r['checks']} checks), medians of 5", r["rbac_ms"] + r["matrix_ms"] <= 500)))
    out.append(("PG connection wizard (4 checks)", lambda: asyncio.run(_wizard()), "≤ 2 s",
                lambda r: (f"median {r['median_ms']:.0f} ms, min {r['min_ms']:.0f} ms (TCP, libpq, TLS "
                           "fingerprint, RLS session, write probe)", r["median_ms"] <= 2000)))
    return out
