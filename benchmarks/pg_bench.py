"""PostgreSQL benchmark rows: COPY replay at 100k and 1M records, RLS verification,
the connection wizard, each against its floor measured in the same run. Everything runs for real through `Console` against the test server
(`scripts/pg-test-server start`): a temp SQLite store, `scenario save --scale`, freeze,
then the probes. Without a server the rows report why.

The replayed snapshot is removed from the target (as the admin login), its partition
included, before and after each replay row, so the COPY really runs as a first replay of
the snapshot and the shared test database stays small.

Floors: the COPY rate against a binary COPY of the same rows (same columns, sizes and
order) into a plain table without key, RLS or partition, by the same login on the same
server; the read-back against a plain `COPY … TO STDOUT (FORMAT binary)` of the bodies
in seq order as bfg_migrator (BYPASSRLS), without hashing them. A replay row's figure is
the median of three replays, each after a checkpoint, after a warm-up one (see `_replay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import socket
import statistics
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.rows import Row, Skip, Verdict
from bfg_tui.probes.postgres_target import snapshot_key  # the replay's (opaque) snapshot id

MAREK = "user_dispatcher_marek"
ENV_FILE = "/tmp/bfg-pg/env"
KEYS = ("BFG_TUI_PG_ADMIN_DSN", "BFG_TUI_PG_MIGRATION_DSN", "BFG_TUI_PG_APP_DSN", "PGPASSFILE",
        "BFG_TUI_PG_HOST", "BFG_TUI_PG_PORT")
COPY_BUDGET = 400_000  # rows/s
READBACK_BUDGET_S = 2.0
REPLAY_WARMUP, REPLAY_RUNS = 1, 3
NOT_STARTED = ""  # why the runner could not start a server, when it tried
_COPY_RE = re.compile(r"COPY wrote (\d+) rows in ([\d.]+) s")
# The new partition's pieces, when the replay made one: the COPY itself, the key, RLS and the attach.
_SPLIT_RE = re.compile(r"COPY ([\d.]+) s, key ([\d.]+) s, RLS \+ attach ([\d.]+) s")
_READ_RE = re.compile(r"read back (\d+) records as the app login in canonical order \(([\d.]+) s\)")

def server() -> dict[str, str]:
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
        why = NOT_STARTED or "scripts/pg-test-server start"
        raise Skip(f"no PostgreSQL test server ({', '.join(missing)} unset; {why})")
    host, port = values.get("BFG_TUI_PG_HOST", "127.0.0.1"), int(values.get("BFG_TUI_PG_PORT", "5432"))
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        raise Skip(f"no PostgreSQL test server at {host}:{port} ({exc.strerror})") from None
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


def _checkpoint(srv: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(srv["BFG_TUI_PG_ADMIN_DSN"], passfile=srv["PGPASSFILE"], autocommit=True) as conn:
        conn.execute("checkpoint")


def _forget(srv: dict[str, str], digest: str) -> None:
    """Remove the snapshot, its records and its partition: the replay measured is a first one."""
    import psycopg

    from bfg_tui.probes.postgres_target import partition_name

    snap, s = snapshot_key("bfg", digest), "bfg_flowcontrol"
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
    """The median of REPLAY_RUNS dry-runs, each after a checkpoint, after REPLAY_WARMUP.

    The test server is new each `make bench`: its first loads create and zero-fill their WAL
    segment files, where a server that has run before recycles the files of earlier
    checkpoints. The warm-up and a checkpoint before each measured run (untimed) put it in
    that steady state, each run starting from the same clean buffers; a single replay on the
    fresh server moved by a fifth from run to run."""
    srv = server()
    with _pg_env(srv), tempfile.TemporaryDirectory() as tmp:
        console, digest = await _store(tmp, scale)
        try:
            runs = []
            for n in range(REPLAY_WARMUP + REPLAY_RUNS):
                if n:
                    _checkpoint(srv)
                runs.append(await _dry_run(srv, console, digest))
            runs = runs[REPLAY_WARMUP:]
            runs.sort(key=lambda r: r["rows_per_s"])
            out = {**runs[len(runs) // 2], "range": (runs[0]["rows_per_s"], runs[-1]["rows_per_s"]),
                   "runs": len(runs)}
            state = await console.state()
            snapshot_rows = [row async for batch in console.store.snapshot_batches(state.snapshot.id) for row in batch]
            _checkpoint(srv)  # the floor starts from the same state as each measured run
            out.update(_floors(srv, snapshot_key("bfg", digest), snapshot_rows))
        finally:
            _forget(srv, digest)
            await console.close()
    return out


async def replay_store(db: Path) -> dict[str, Any]:
    """The dry-run's replay of an existing store's latest snapshot (for the scale curve), with
    the disk its partition takes on the server; no floors."""
    from bfg_tui.service import Console

    srv = server()
    with _pg_env(srv):
        console = await Console.open(str(db))
        try:
            state = await console.state()
            digest = state.snapshot.digest
            out = await _dry_run(srv, console, digest, measure_disk=True)
        finally:
            _forget(srv, digest)
            await console.close()
    return out


async def _dry_run(srv: dict[str, str], console: Any, digest: str, measure_disk: bool = False) -> dict[str, Any]:
    """connection + dry-run probes against the test server; the COPY and read-back figures."""
    target = srv["BFG_TUI_PG_APP_DSN"]
    _forget(srv, digest)
    conn = await console.probe(MAREK, "connection", target)
    if not conn.passed:
        raise RuntimeError(next(s.detail for s in conn.steps if not s.passed))
    t0 = time.perf_counter()
    dry = await console.probe(MAREK, "dry_run", target)
    dry_s = time.perf_counter() - t0
    if not dry.passed:
        raise RuntimeError(next(s.detail for s in dry.steps if not s.passed))
    text = "\n".join(dry.transcript)
    copy, read = _COPY_RE.search(text), _READ_RE.search(text)
    if copy is None or read is None:
        raise RuntimeError("the dry-run transcript has no COPY or read-back timing")
    rows, copy_s = int(copy.group(1)), float(copy.group(2))
    out = {"rows": rows, "copy_s": copy_s, "rows_per_s": rows / copy_s, "readback_s": float(read.group(2)),
           "dry_run_s": dry_s}
    split = _SPLIT_RE.search(text)
    if split is not None:
        out["split"] = tuple(map(float, split.groups()))
    if measure_disk:
        out["pg_bytes"] = _partition_bytes(srv, digest)
    return out


def _partition_bytes(srv: dict[str, str], digest: str) -> int:
    import psycopg

    from bfg_tui.probes.postgres_target import partition_name

    with psycopg.connect(srv["BFG_TUI_PG_ADMIN_DSN"], passfile=srv["PGPASSFILE"]) as conn:
        name = f"bfg_flowcontrol.{partition_name(snapshot_key('bfg', digest))}"
        found = conn.execute("select pg_total_relation_size(to_regclass(%s))", (name,)).fetchone()[0]
    return int(found or 0)


def _floors(srv: dict[str, str], snap: str, rows: list[tuple[str, str, bytes]]) -> dict[str, float]:
    """The same rows COPYed in binary, already encoded, into a plain table (no key, RLS or
    partition) by the migration login; then the replayed bodies COPYed out in binary."""
    import psycopg

    from bfg_tui.probes.postgres_target import partition_name

    head = struct.pack("!h", 5) + struct.pack("!i", 4)
    payload = b"".join(
        head + struct.pack("!i", seq) + _field(b"ops") + _field(kind.encode()) + _field(rid.encode()) + _field(body)
        for seq, (kind, rid, body) in enumerate(rows))
    table = "bfg_flowcontrol.bench_copy_floor"
    with psycopg.connect(srv["BFG_TUI_PG_MIGRATION_DSN"], passfile=srv["PGPASSFILE"], autocommit=True) as conn:
        conn.execute(f"drop table if exists {table}")
        conn.execute(f"create table {table} (seq int4, batch_group text, kind text, record_id text, body bytea)")
        try:
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor().copy(
                    f"copy {table} (seq, batch_group, kind, record_id, body) from stdin (format binary)") as copy:
                copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
                view = memoryview(payload)
                for start in range(0, len(view), 1 << 20):
                    copy.write(view[start:start + (1 << 20)])
                copy.write(b"\xff\xff")
            copy_s = time.perf_counter() - t0
        finally:
            conn.execute(f"drop table if exists {table}")
        conn.execute("set role bfg_migrator")  # BYPASSRLS: the partition's forced RLS would hide every row
        t0 = time.perf_counter()
        read = 0
        with conn.cursor().copy(f"copy (select body from bfg_flowcontrol.{partition_name(snap)} order by seq) "
                                "to stdout (format binary)") as copy:
            for data in copy:
                read += len(data)
        read_s = time.perf_counter() - t0
    return {"floor_rows_per_s": len(rows) / copy_s, "floor_read_s": read_s}


def _field(value: bytes) -> bytes:
    return struct.pack("!i", len(value)) + value


def _replay_verdict(r: dict[str, Any], judged: bool = True) -> Verdict:
    pieces = ("COPY {:.2f} s, key {:.2f} s, RLS + attach {:.2f} s; ".format(*r["split"]) if "split" in r else "")
    spread = (f"median of {r['runs']} after a warm-up, each after a checkpoint, "
              f"{r['range'][0] / 1000:.0f}–{r['range'][1] / 1000:.0f}k; "
              if "range" in r else "")
    return Verdict(f"{r['rows_per_s'] / 1000:.0f}k rows/s ({spread}COPY + key + attach, {r['rows']} rows in "
                   f"{r['copy_s']:.2f} s: {pieces}{r['rows_per_s'] / r['floor_rows_per_s']:.2f} of the floor); dry-run 5/5 {r['dry_run_s']:.1f} s",
                   f"binary COPY of the same rows, pre-encoded, into a plain table: "
                   f"{r['floor_rows_per_s'] / 1000:.0f}k rows/s", r["rows_per_s"] >= COPY_BUDGET if judged else None)


def _readback_verdict(r: dict[str, Any]) -> Verdict:
    return Verdict(f"{r['readback_s']:.2f} s for {r['rows']} records (app login, RLS, checksum and order check)",
                   f"COPY TO STDOUT (binary) of the bodies, no RLS, no hashing: {r['floor_read_s']:.2f} s",
                   r["readback_s"] <= READBACK_BUDGET_S)


async def _rls() -> dict[str, Any]:
    """connection.rbac_session (role checks, forced-RLS catalog check, tenant-scoped session)
    and the dry-run's tenant A/B matrix (15 checks), each timed on its own."""
    from bfg_tui import rbac
    from bfg_tui.probes.postgres_target import PostgresTarget

    srv = server()
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
                    matrix = await tgt.tenant_matrix(lambda _l: None, catalog.tenant_id, snapshot_key("bfg", digest), rows)
                    matrix_ms.append((time.perf_counter() - t0) * 1000)
                    assert all(ok for _n, ok in matrix), matrix
            finally:
                await tgt.close()
        finally:
            await console.close()
    return {"rbac_ms": statistics.median(rbac_ms), "matrix_ms": statistics.median(matrix_ms), "checks": len(matrix)}


async def _wizard(runs: int = 5) -> dict[str, Any]:
    srv = server()
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
    # 10_001 orders, not 10_000: another snapshot than tests/pg/test_pg_probes.py's, so a
    # benchmark and a test run at the same time never remove each other's rows.
    small: dict[str, Any] = {}
    big: dict[str, Any] = {}

    def replay(orders: int, keep: dict[str, Any]) -> dict[str, Any]:
        keep.update(asyncio.run(_replay(orders)))
        return keep

    out = [
        # The budget is set at 1M records: at 100k the work every replay does once (the partition's
        # DDL, the attach) weighs ten times more per record. Reported, judged at 1M.
        Row("PG replay (COPY) 100k records", lambda: replay(10_001, small),
            f"— (≥ {COPY_BUDGET // 1000}k rows/s is set at 1M)", lambda r: _replay_verdict(r, judged=False)),
    ]
    if not quick:
        out += [
            Row("PG replay (COPY) 1M records", lambda: replay(100_000, big), f"≥ {COPY_BUDGET // 1000}k rows/s",
                _replay_verdict),
            # The read-back of the same replay (the dry-run measures both; reported on its own).
            Row("PG app-role read-back + checksum, 1M records", lambda: big or replay(100_000, big),
                f"≤ {READBACK_BUDGET_S:.0f} s", _readback_verdict),
        ]
    out.append(Row("PG RLS verification", lambda: asyncio.run(_rls()), "≤ 500 ms",
                   lambda r: Verdict(f"rbac_session {r['rbac_ms']:.0f} ms + A/B matrix {r['matrix_ms']:.0f} ms "
                                     f"({r['checks']} checks), medians of 5", "—",
                                     r["rbac_ms"] + r["matrix_ms"] <= 500)))
    out.append(Row("PG connection wizard (4 checks)", lambda: asyncio.run(_wizard()), "≤ 2 s",
                   lambda r: Verdict(f"median {r['median_ms']:.0f} ms, min {r['min_ms']:.0f} ms (TCP, libpq, TLS "
                                     "fingerprint, RLS session, write probe)", "—", r["median_ms"] <= 2000)))
    return out
