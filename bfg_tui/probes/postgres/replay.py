"""The replay step: the snapshot's records COPYed in one transaction as the migration
role (idempotent per snapshot), then read back and checksummed as the app login, and the
tenant A/B matrix run against them."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ...runbook import MIGRATOR_ROLE, SCHEMA, SET_TENANT_SQL
from ..base import Log, ReplayOutcome, SnapshotSource
from . import copy_in, readback, rls
from .copy_in import partition_name
from .session import PROBE_TENANT, RUNBOOK_LOCK, Fail, PgSession, q, readers_turn


def snapshot_key(tenant: str, digest: str) -> str:
    """The snapshot's id in the target: the same snapshot of a tenant has one id whoever replays
    it, yet the id (and the partition named after it, which every login can see in the catalog)
    reveals neither the checksum nor the tenant."""
    return "snap-" + hashlib.sha256(f"bfg-snapshot-key/{tenant}/{digest}".encode()).hexdigest()[:24]


async def replay(s: PgSession, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
    try:
        return await _replay(s, log, source, replay_id)
    except Exception as exc:
        why = f"{s.phase}: {s.why(exc)}"
        log(f"dryrun.adapter_replay: {why}")
        return ReplayOutcome(0, "", detail=f"replay failed: {why}", passed=False)


async def _replay(s: PgSession, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
    tenant, snap = source.tenant_id, snapshot_key(source.tenant_id, source.digest)
    mig = await s.mig_conn(log)
    groups = {kind: b.id for b in s.catalog.batches for kind in b.kinds}
    s.phase = "replaying the snapshot as the migration login"
    t_all = time.perf_counter()
    written = 0
    async with mig.transaction():
        # One replay or runbook run at a time per database (the runbook takes the same lock):
        # attaching a partition locks the parent and, for its foreign key, the tenants table
        # every replay has written to, so two at once would deadlock on each other's locks.
        await mig.execute("select pg_advisory_xact_lock(%s, %s)", RUNBOOK_LOCK)
        await mig.execute(f"set local role {MIGRATOR_ROLE}")
        # The commit need not wait for its WAL flush: the replay is verified by the read-back
        # below and can simply be re-run. A crash loses this whole transaction or nothing
        # (snapshot row and records together), and any later synchronous commit (the
        # replay id in rollback_checkpoint) flushes it first.
        await mig.execute("set local synchronous_commit = off")
        await mig.execute(f"insert into {q('tenants')} (tenant_id, name) values (%s, %s) on conflict do nothing",
                          (tenant, s.catalog.tenant_name))
        # The snapshot row is the replay's key: a second transaction with the same snapshot
        # waits on it, then finds it and adds nothing.
        fresh = await (await mig.execute(
            f"insert into {q('scenario_snapshots')} (tenant_id, snapshot_id, checksum, digest, record_count, session)"
            " values (%s, %s, %s, %s, %s, %s) on conflict do nothing returning 1",
            (tenant, snap, "bfg-" + source.digest[:8], source.digest, source.rows, source.session))).fetchone()
        if fresh is None:
            digest, _count = await (await mig.execute(
                f"select digest, record_count from {q('scenario_snapshots')}"
                " where tenant_id = %s and snapshot_id = %s", (tenant, snap))).fetchone()
            if digest != source.digest:
                raise Fail(f"snapshot id {snap} holds other content (digest bfg-{digest[:8]})")
            present = await count_records(s, mig, tenant, snap)
            if present >= source.rows:
                log(f"replay {replay_id}: snapshot {snap} already holds {present} records; COPY skipped, "
                    "0 rows added")
            else:  # an interrupted earlier replay left part of it: fill the gap only
                written = await copy_in.copy_via_staging(s, mig, log, source, tenant, snap, groups)
        else:
            written = await write_new_snapshot(s, mig, log, source, tenant, snap, groups)
    s.timings["replay_write_s"] = time.perf_counter() - t_all
    return await verify_replay(s, log, source, replay_id, tenant, snap, written)


async def count_records(s: PgSession, conn: Any, tenant: str, snap: str) -> int:
    count: int = (await (await conn.execute(
        f"select count(*) from {q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
        (tenant, snap))).fetchone())[0]
    return count


async def write_new_snapshot(s: PgSession, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                              groups: dict[str, str]) -> int:
    """The snapshot row was just inserted: write its records, into a partition of their own
    when possible, otherwise through the parent (into an existing partition or the default)."""
    from psycopg import sql

    s.phase = "choosing where the snapshot's records go"
    part = partition_name(snap)
    partitioned, exists = await (await conn.execute(
        "select c.relkind = 'p', %s::text is not null and to_regclass(%s) is not null"
        " from pg_class c where c.oid = %s::regclass",
        (part, f"{SCHEMA}.{part}", q("scenario_records")))).fetchone()
    if part and partitioned and not exists:
        import psycopg

        try:
            async with conn.transaction():  # a savepoint: undone if the partition cannot be attached
                return await copy_in.copy_new_partition(s, conn, log, source, tenant, snap, groups, part)
        except psycopg.errors.CheckViolation as exc:
            if "default partition" not in (exc.diag.message_primary or ""):
                raise
            # Rows with this snapshot id were written row by row before (any tenant).
            log(f"the default partition already holds rows with snapshot id {snap}: writing through the parent")
    orphans = await count_records(s, conn, tenant, snap)
    if orphans:
        await conn.execute(f"delete from {q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
                           (tenant, snap))
        log(f"removed {orphans} orphan records of {snap} left without a snapshot row")
    if part and exists:  # a partition left by an earlier replay of this snapshot id
        empty = (await (await conn.execute(
            sql.SQL("select not exists (select 1 from {})").format(sql.Identifier(SCHEMA, part)))).fetchone())[0]
        if empty:  # drop its dead rows and index entries before loading it again
            await conn.execute(sql.SQL("truncate {}").format(sql.Identifier(SCHEMA, part)))
            log(f"partition {SCHEMA}.{part} was left empty by an earlier replay: truncated, loaded in place")
    return await copy_in.copy(s, conn, log, source, tenant, snap, groups, q("scenario_records"))


async def verify_replay(s: PgSession, log: Log, source: SnapshotSource, replay_id: str, tenant: str, snap: str,
                         written: int) -> ReplayOutcome:
    app = await s.app_conn()
    s.phase = "reading the snapshot back as the app login"
    t0 = time.perf_counter()
    order = [k for k in s.catalog.record_kinds if k in source.kind_counts]
    order += sorted(k for k in source.kind_counts if k not in order)
    rank = {kind: n for n, kind in enumerate(order)}
    # Canonical order is kind by kind (catalog order), then record_id (code points). Read
    # by seq, the canonical position (the key's order), every row must follow the one
    # before it in that order: this proves (kind, record_id) unique within the snapshot,
    # which the key no longer enforces. Only when it does not hold, the server counts.
    async with app.transaction(force_rollback=True):
        await readers_turn(app)
        await app.execute(SET_TENANT_SQL, (tenant,))
        hasher, in_order = await readback.read_back(s, app, tenant, snap, order, source)
        total = hasher.rows
        unordered = 0 if in_order else await readback.count_unordered(s, app, tenant, snap, rank)
        same_ids = 0
        if unordered:
            same_ids = (await (await app.execute(
                f"select coalesce(sum(n - 1), 0) from (select count(*) as n from {q('scenario_records')}"
                " where tenant_id = %s and snapshot_id = %s group by kind, record_id having count(*) > 1) d",
                (tenant, snap))).fetchone())[0]
        users_back = (await (await app.execute(
            f"select count(*) from {q('users')} where user_id = any(%s)",
            ([a.id for a in s.catalog.actors],))).fetchone())[0]
    digest = hasher.hexdigest()
    secs = time.perf_counter() - t0
    s.timings["readback_s"] = secs
    s.readback_digest, s.replay_rows = digest, hasher.rows
    duplicates = max(total - source.rows, int(same_ids), 0)
    order_note = ("(kind, record_id) unique and in canonical order" if not unordered else
                  f"{unordered} rows out of canonical (kind, record_id) order, {same_ids} repeat an id")
    log(f"read back {hasher.rows} records as the app login in canonical order ({secs:.2f} s): checksum "
        f"bfg-{digest[:8]} {'equal to' if digest == source.digest else 'DIFFERS from'} bfg-{source.digest[:8]}; "
        f"{total} rows stored for {snap} ({duplicates} duplicates); {order_note}")
    t0 = time.perf_counter()
    matrix = await rls.tenant_matrix(s, log, tenant, snap, hasher.rows)
    s.timings["matrix_s"] = time.perf_counter() - t0
    failed = [name for name, ok in matrix if not ok]
    verdict = (f"tenant A/B matrix {len(matrix) - len(failed)}/{len(matrix)} "
               "(select/insert/update/delete both ways; unset and empty tenant read nothing)")
    log(f"{verdict} in {s.timings['matrix_s'] * 1000:.0f} ms")
    for name, ok in matrix:
        log(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if s.switching_attack:
        log(f"  EXPECTED switching attack: the app login set the tenant to {PROBE_TENANT} mid-transaction and read "
            "its rows. The tenant setting is trusted from the application server only; it does not protect "
            "against a client holding the app password (runbook option tenant-logins: one login per tenant, "
            "policies on session_user)")
    else:
        log("  ok   switching attack: setting another tenant reads nothing (policies on session_user)")
    added = f"{written} rows added by COPY" if written else "0 rows added (replay id already present)"
    detail = f"{added}; {verdict}" if not failed else f"RLS matrix FAILED: {failed[0]}"
    if users_back < len(s.catalog.actors):
        detail += f"; only {users_back} of {len(s.catalog.actors)} actors in {SCHEMA}.users"
    return ReplayOutcome(rows_written=hasher.rows, readback_digest=digest, duplicate_rows=duplicates,
                         detail=detail, passed=not failed and users_back >= len(s.catalog.actors))
