"""The rollback checkpoint: the replay id recorded as the app login, and the drill that
undoes exactly this replay's records as the migration role, in a transaction that is
rolled back (the staging copy stays for review)."""

from __future__ import annotations

import time

from ...runbook import MIGRATOR_ROLE, SCHEMA, SET_TENANT_SQL
from ..base import Log, SnapshotSource, StepResult
from .replay import count_records, snapshot_key
from .session import PgSession, q


async def rollback_checkpoint(s: PgSession, log: Log, source: SnapshotSource, replay_id: str) -> StepResult:
    check = "dryrun.rollback_checkpoint"
    try:
        tenant, snap = source.tenant_id, snapshot_key(source.tenant_id, source.digest)
        app = await s.app_conn()
        s.phase = "recording the replay id as the app login"
        async with app.transaction():
            await app.execute(SET_TENANT_SQL, (tenant,))
            added = (await app.execute(
                f"insert into {q('scenario_replays')} (tenant_id, replay_id, snapshot_id, rows_written,"
                " readback_digest) values (%s, %s, %s, %s, %s) on conflict (tenant_id, replay_id) do update"
                # A replay recorded by an earlier bfg-tui, under the snapshot's earlier id.
                " set snapshot_id = excluded.snapshot_id, rows_written = excluded.rows_written,"
                " readback_digest = excluded.readback_digest"
                " where scenario_replays.snapshot_id <> excluded.snapshot_id",
                (tenant, replay_id, snap, s.replay_rows, s.readback_digest or None))).rowcount
            row = await (await app.execute(
                f"select snapshot_id, rows_written, readback_digest from {q('scenario_replays')}"
                " where tenant_id = %s and replay_id = %s", (tenant, replay_id))).fetchone()
        recorded = row is not None and row[0] == snap and row[2] == source.digest
        log(f"replay id {replay_id} {'recorded' if added else 'already recorded (re-run)'} in "
            f"{SCHEMA}.scenario_replays for {snap}; read back {'equal' if recorded else 'DIFFERENT'}")
        if not recorded:
            return StepResult(check, False, f"replay id {replay_id} not recorded with the snapshot checksum")
        # The drill: undo exactly this replay's rows as the role a rollback runs as, in a
        # transaction that is rolled back (the staging copy stays for review).
        mig = await s.mig_conn(log)
        s.phase = "rollback drill as the migration login"
        t0 = time.perf_counter()
        async with mig.transaction(force_rollback=True):
            await mig.execute(f"set local role {MIGRATOR_ROLE}")
            await mig.execute("set local lock_timeout = '10s'")
            removed = (await mig.execute(
                f"delete from {q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
                (tenant, snap))).rowcount
            left = await count_records(s, mig, tenant, snap)
        secs = time.perf_counter() - t0
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant,))
            kept = await count_records(s, app, tenant, snap)
        ok = removed == source.rows and left == 0 and kept == source.rows
        log(f"rollback drill ({secs:.2f} s): undoing replay {replay_id} removes exactly its {removed} records "
            f"({left} left); drill transaction rolled back, target keeps {kept}; the file-local store "
            "stays the system of record")
        log(f"target read-back checksum bfg-{s.readback_digest[:8]} = snapshot checksum "
            f"bfg-{source.digest[:8]}: {s.readback_digest == source.digest}")
        if not ok:
            return StepResult(check, False, f"rollback drill: undo removed {removed} of {source.rows} records")
        return StepResult(check, True, f"replay id {replay_id} recorded in the target; rollback drill undoes "
                                       f"exactly {removed} records; target read-back bfg-{source.digest[:8]} equal")
    except Exception as exc:
        return s.failed(check, log, exc)
