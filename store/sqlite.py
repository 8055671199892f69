"""ScenarioStore.v1 on SQLite through aiosqlite.

WAL, busy_timeout, every write in BEGIN IMMEDIATE (a deferred transaction that reads
then writes can fail or lose the update under concurrency), the audit event appended
and the head updated inside the same transaction as the change it records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from bfg_tui.canonical import SnapshotHasher
from bfg_tui.errors import Refused, StoreError
from bfg_tui.models import (
    SnapshotInfo,
    State,
)

from .audit_chain import (
    GENESIS,
    accept_data,
    event_body,
    event_hash,
    export_data,
    freeze_data,
    probe_data,
    refusal_data,
    revoke_data,
    verify_chain,
)
from .base import (
    CHANGE_KINDS,
    CONTRACT,
    ActorContext,
    AuditEvent,
    ProbeRunRecord,
    ScenarioPayload,
    StepRecord,
    VerifyResult,
)
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .sqlite_errors import BUSY_TIMEOUT_MS, translate_error
from .sqlite_plans import header_plan, run_async, state_plan

INSERT_BATCH = 20000

Clock = Callable[[], str]
Apply = Callable[[aiosqlite.Connection, int], Awaitable[None]]


class StoreInit(NamedTuple):
    """What a brand-new store is seeded with (the seed is built only when needed)."""

    target_adapter: str
    fallback_adapter: str
    seed: Callable[[], ScenarioPayload]
    system: ActorContext


async def _aiter_rows(rows: Any) -> AsyncIterator[tuple[str, str, str]]:
    """Rows from a plain iterable, or from an async iterable of row batches."""
    if hasattr(rows, "__aiter__"):
        async for batch in rows:
            for row in batch:
                yield row
    else:
        for row in rows:
            yield row


def _read_only_file(path: Path) -> bool:
    # Honour the file's mode bits even for root, who may write anything: an owner who
    # made the store read-only means it.
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    return (mode & 0o222) == 0 or not os.access(path, os.W_OK)


class SQLiteStore:
    contract = CONTRACT

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock
        self.read_only = read_only
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ open

    @classmethod
    async def open(cls, path: Path, init: StoreInit | None, clock: Clock) -> SQLiteStore:
        path = Path(path)
        exists = path.exists() and path.stat().st_size > 0
        if not exists and init is None:
            raise StoreError(f"{path}: no store here")
        if path.exists() and path.is_dir():
            raise StoreError(f"{path}: is a directory, not a store file")
        read_only = exists and _read_only_file(path)
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create the store directory ({exc.strerror})") from None
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise translate_error(exc, path) from None
        store = cls(conn, path, clock, read_only)
        try:
            await store._prepare(init)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc, path) from None
            raise
        return store

    async def _prepare(self, init: StoreInit | None) -> None:
        conn = self._conn
        await conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.read_only:
            await conn.execute("pragma query_only = 1")
        version = await run_async(header_plan(self.path), conn)
        if self.read_only:
            if version < SCHEMA_VERSION:
                raise StoreError(f"{self.path}: database is read-only and needs a schema upgrade")
            return
        await conn.execute("pragma journal_mode = wal")
        await conn.execute("pragma synchronous = full")
        if version < SCHEMA_VERSION:
            await self._migrate(init)

    async def _migrate(self, init: StoreInit | None) -> None:
        conn = self._conn
        await conn.execute("begin immediate")
        try:
            # Re-read inside the lock: another process may have created it meanwhile.
            version = (await (await conn.execute("pragma user_version")).fetchone())[0]
            fresh = version == 0
            for step in range(version, SCHEMA_VERSION):
                await self._run_script(MIGRATIONS[step])
            await conn.execute(f"pragma application_id = {APPLICATION_ID}")
            await conn.execute(f"pragma user_version = {SCHEMA_VERSION}")
            if fresh:
                if init is None:
                    raise StoreError(f"{self.path}: empty store and nothing to seed it with")
                await self._seed(init)
            await conn.execute("commit")
        except BaseException:
            await conn.execute("rollback")
            raise

    async def _run_script(self, script: str) -> None:
        # executescript would COMMIT our transaction; run statement by statement instead.
        for statement in script.split(";"):
            if statement.strip():
                await self._conn.execute(statement)

    async def _seed(self, init: StoreInit) -> None:
        conn = self._conn
        meta = {
            "contract": CONTRACT,
            "target_adapter": init.target_adapter,
            "fallback_adapter": init.fallback_adapter,
            "last_change_seq": "0",
            "last_release_export_seq": "0",
            "connection_endpoint": "",
            "created_at": self._clock(),
        }
        await conn.executemany("insert into meta(key, value) values (?, ?)", meta.items())
        await conn.execute("insert into audit_head(id, count, head) values (1, 0, ?)", (GENESIS,))
        seed = init.seed()
        count, kinds = await self._insert_records(0, seed.rows)
        await conn.execute(
            "insert into scenarios(version, saved_at, actor, source, records, kind_counts) values (0, null, null, ?, ?, ?)",
            (seed.source, count, json.dumps(kinds, sort_keys=True)),
        )
        await self._append("store.create", init.system, {"contract": CONTRACT, "seed_records": count}, "", change=False)

    # ------------------------------------------------------------- internals

    async def _insert_records(self, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        kinds: dict[str, int] = {}
        count = 0
        batch: list[tuple[int, int, str, str, str]] = []
        async for kind, rid, body in _aiter_rows(rows):
            batch.append((version, count, kind, rid, body.encode("utf-8") if isinstance(body, str) else body))
            kinds[kind] = kinds.get(kind, 0) + 1
            count += 1
            if len(batch) >= INSERT_BATCH:
                await self._conn.executemany("insert into scenario_records values (?, ?, ?, ?, ?)", batch)
                batch = []
        if batch:
            await self._conn.executemany("insert into scenario_records values (?, ?, ?, ?, ?)", batch)
        return count, kinds

    async def _meta(self, key: str) -> str:
        row = await (await self._conn.execute("select value from meta where key = ?", (key,))).fetchone()
        return row[0] if row else ""

    async def _set_meta(self, key: str, value: str) -> None:
        await self._conn.execute(
            "insert into meta(key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
            (key, value),
        )

    async def _append(self, kind: str, ctx: ActorContext, data: dict[str, Any], subject: str, *, change: bool) -> int:
        count, prev = await (await self._conn.execute("select count, head from audit_head where id = 1")).fetchone()
        seq = count + 1
        body = event_body(seq=seq, prev=prev, at=self._clock(), kind=kind, ctx=ctx, data=data)
        digest = event_hash(body)
        await self._conn.execute(
            "insert into audit_events(seq, hash, body, kind, actor, subject) values (?, ?, ?, ?, ?, ?)",
            (seq, digest, body.encode("utf-8"), kind, ctx.actor_id, subject),
        )
        await self._conn.execute("update audit_head set count = ?, head = ? where id = 1", (seq, digest))
        if change:
            await self._set_meta("last_change_seq", str(seq))
        return seq

    async def _write(
        self, kind: str, ctx: ActorContext, data: dict[str, Any], *, subject: str = "",
        apply: Apply | None = None, idem: str | None = None,
    ) -> int:
        """One atomic change: BEGIN IMMEDIATE, idempotency check, apply, audit, commit."""
        if self.read_only:
            raise StoreError(f"{self.path}: database is read-only; nothing was changed")
        async with self._lock:
            conn = self._conn
            try:
                await conn.execute("begin immediate")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from None
            try:
                if idem:
                    row = await (await conn.execute("select event_seq from idempotency where key = ?", (idem,))).fetchone()
                    if row:
                        await conn.execute("rollback")
                        return int(row[0])
                count = (await (await conn.execute("select count from audit_head where id = 1")).fetchone())[0]
                seq = count + 1
                if apply is not None:
                    await apply(conn, seq)
                seq = await self._append(kind, ctx, data, subject, change=kind in CHANGE_KINDS)
                if idem:
                    await conn.execute("insert into idempotency(key, event_seq) values (?, ?)", (idem, seq))
                await conn.execute("commit")
                return seq
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("rollback")
                if isinstance(exc, sqlite3.Error):
                    raise translate_error(exc, self.path) from None
                raise

    # ------------------------------------------------------------------ reads

    async def load_state(self) -> State:
        try:
            return await self._load_state()
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from None

    async def _load_state(self) -> State:
        # One read transaction, so the state is a consistent picture.
        await self._conn.execute("begin")
        try:
            return await run_async(state_plan(), self._conn)
        finally:
            await self._conn.execute("commit")

    async def data_version(self) -> int:
        row = await (await self._conn.execute("pragma data_version")).fetchone()
        return int(row[0])

    async def audit_head(self) -> tuple[int, str]:
        row = await (await self._conn.execute("select count, head from audit_head where id = 1")).fetchone()
        return int(row[0]), str(row[1])

    @staticmethod
    def _event(row: tuple[int, str, str]) -> AuditEvent:
        seq, digest, body = row
        doc = json.loads(body)
        return AuditEvent(seq, doc["at"], doc["kind"], doc["actor"], doc["data"], doc["auth"], digest, doc["prev"])

    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[AuditEvent]:
        """Newest first; `text` filters on kind, actor or subject (substring)."""
        if text:
            like = f"%{text}%"
            rows = await (await self._conn.execute(
                "select seq, hash, body from audit_events where kind like ? or actor like ? or subject like ? "
                "order by seq desc limit ? offset ?", (like, like, like, limit, offset),
            )).fetchall()
        else:
            rows = await (await self._conn.execute(
                "select seq, hash, body from audit_events order by seq desc limit ? offset ?", (limit, offset)
            )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_count(self, text: str = "") -> int:
        if not text:
            return (await self.audit_head())[0]
        like = f"%{text}%"
        row = await (await self._conn.execute(
            "select count(*) from audit_events where kind like ? or actor like ? or subject like ?", (like, like, like)
        )).fetchone()
        return int(row[0])

    async def check_history(self, check_id: str, limit: int = 50) -> list[AuditEvent]:
        rows = await (await self._conn.execute(
            "select seq, hash, body from audit_events where subject = ? order by seq desc limit ?", (check_id, limit)
        )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_verify(self) -> VerifyResult:
        conn = self._conn
        try:
            await conn.execute("begin")
            try:
                count, head = await (await conn.execute("select count, head from audit_head where id = 1")).fetchone()
                # cast: a body rewritten as TEXT by a hand edit still compares as bytes.
                cursor = await conn.execute("select cast(body as blob) from audit_events order by seq")
                bodies: list[bytes] = []
                first = itemgetter(0)
                while True:
                    batch = await cursor.fetchmany(50000)
                    if not batch:
                        break
                    bodies.extend(map(first, batch))
                stored = {}
                result = verify_chain(bodies, count, head, stored.get)
                if not result.ok and result.first_bad_seq:
                    # Slow path, failures only: fetch the neighbours to name the fault precisely.
                    rows = await (await conn.execute(
                        "select seq, hash, cast(body as blob) from audit_events where seq between ? and ?",
                        (result.first_bad_seq - 1, result.first_bad_seq),
                    )).fetchall()
                    stored.update({seq: (digest, body) for seq, digest, body in rows})
                    result = verify_chain(bodies, count, head, stored.get)
            finally:
                await conn.execute("commit")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from None
        return result

    async def snapshot_batches(self, snapshot_id: int, size: int = 20000) -> AsyncIterator[list[tuple[str, str, str]]]:
        row = await (await self._conn.execute(
            "select scenario_version from snapshots where id = ?", (snapshot_id,)
        )).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: snapshot {snapshot_id} does not exist")
        cursor = await self._conn.execute(
            "select kind, rid, body from scenario_records where version = ? order by ord", (row[0],)
        )
        while True:
            batch = await cursor.fetchmany(size)
            if not batch:
                break
            yield batch

    async def scenario_rows(self, version: int | None = None) -> AsyncIterator[list[tuple[str, str, str]]]:
        """(kind, id, body) batches of a scenario version (the latest by default)."""
        if version is None:
            version = (await (await self._conn.execute("select max(version) from scenarios")).fetchone())[0]
        cursor = await self._conn.execute(
            "select kind, rid, body from scenario_records where version = ? order by ord", (version,)
        )
        while True:
            batch = await cursor.fetchmany(20000)
            if not batch:
                break
            yield [tuple(b) for b in batch]

    async def probe_run(self, run_id: str) -> ProbeRunRecord | None:
        row = await (await self._conn.execute(
            "select run_id, probe, target_kind, endpoint, started_at, finished_at, steps, transcript, "
            "snapshot_digest, facts from probe_runs where run_id = ?", (run_id,)
        )).fetchone()
        if row is None:
            return None
        facts = json.loads(row[9])
        return ProbeRunRecord(
            row[0], row[1], row[2], row[3], row[4], row[5],
            tuple(StepRecord(**s) for s in json.loads(row[6])), tuple(json.loads(row[7])),
            row[8], bool(facts.get("tls")), bool(facts.get("credentials_external")), facts,
        )

    async def latest_probe_runs(self, limit: int = 20) -> list[tuple[str, str, str, bool, str]]:
        rows = await (await self._conn.execute(
            "select run_id, probe, endpoint, passed, finished_at from probe_runs order by event_seq desc limit ?", (limit,)
        )).fetchall()
        return [(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    # ----------------------------------------------------------------- writes

    async def save_scenario(self, payload: ScenarioPayload, ctx: ActorContext, idem: str | None = None) -> int:
        result: dict[str, Any] = {}

        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            version = (await (await conn.execute("select max(version) from scenarios")).fetchone())[0] + 1
            count, kinds = await self._insert_records(version, payload.rows)
            at = self._clock()
            await conn.execute(
                "insert into scenarios(version, saved_at, actor, source, records, kind_counts) values (?, ?, ?, ?, ?, ?)",
                (version, at, ctx.actor_id, payload.source, count, json.dumps(kinds, sort_keys=True)),
            )
            # Keep only the new version and the one the latest snapshot reads from.
            await conn.execute(
                "delete from scenario_records where version <> ? and version not in "
                "(select scenario_version from snapshots order by id desc limit 1)", (version,),
            )
            result.update(version=version, records=count, source=payload.source)

        return await self._write("scenario.save", ctx, result, apply=apply, idem=idem)

    async def freeze_snapshot(self, ctx: ActorContext, session: str, tenant: str) -> SnapshotInfo:
        info: dict[str, Any] = {}
        data: dict[str, Any] = {}

        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            version, saved_at, records, kinds = await (await conn.execute(
                "select version, saved_at, records, kind_counts from scenarios order by version desc limit 1"
            )).fetchone()
            if saved_at is None:
                raise Refused("no scenario saved yet: run `bfg-tui scenario save` first", action="snapshot.freeze")
            if records == 0:
                raise Refused("the scenario holds no records: an empty snapshot cannot be frozen", action="snapshot.freeze")
            hasher = SnapshotHasher(session=session, tenant=tenant)
            cursor = await conn.execute("select body from scenario_records where version = ? order by ord", (version,))
            while True:
                batch = await cursor.fetchmany(50000)
                if not batch:
                    break
                hasher.add_many(b[0] for b in batch)
            digest = hasher.hexdigest()
            at = self._clock()
            cur = await conn.execute(
                "insert into snapshots(scenario_version, rows, digest, kind_counts, frozen_at, actor, event_seq) "
                "values (?, ?, ?, ?, ?, ?, ?)", (version, hasher.rows, digest, kinds, at, ctx.actor_id, seq),
            )
            info.update(id=cur.lastrowid, rows=hasher.rows, digest=digest, at=at, kinds=json.loads(kinds))
            data.update(freeze_data(cur.lastrowid, hasher.rows, digest, version))

        await self._write("snapshot.freeze", ctx, data, apply=apply)
        return SnapshotInfo(info["id"], info["rows"], info["digest"], info["at"], info["kinds"])

    async def accept(
        self, check_id: str, ctx: ActorContext, *, note: str, value: str | None,
        snapshot_digest: str | None, countersign: bool, idem: str | None = None,
    ) -> int:
        data = accept_data(check_id, note, value, snapshot_digest, countersign)

        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            await conn.execute(
                "insert or replace into acceptances(check_id, actor, note, value, snapshot_digest, countersign, at, event_seq) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                (check_id, ctx.actor_id, note, value, snapshot_digest, int(countersign), self._clock(), seq),
            )

        return await self._write("check.accept", ctx, data, subject=check_id, apply=apply, idem=idem)

    async def revoke(self, check_id: str, ctx: ActorContext, *, note: str, idem: str | None = None) -> int:
        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            cur = await conn.execute("delete from acceptances where check_id = ?", (check_id,))
            if cur.rowcount == 0:
                raise Refused(f"{check_id} is not accepted; nothing to revoke", action="check.revoke", subject=check_id)

        return await self._write("check.revoke", ctx, revoke_data(check_id, note), subject=check_id,
                                 apply=apply, idem=idem)

    async def record_probe(self, run: ProbeRunRecord, ctx: ActorContext) -> int:
        facts = dict(run.facts or {})
        facts.update(tls=run.tls, credentials_external=run.credentials_external)
        data = probe_data(run)

        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            await conn.execute(
                "insert into probe_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.run_id, run.probe, run.target_kind, run.endpoint, int(run.passed), run.started_at,
                 run.finished_at, run.snapshot_digest, json.dumps(facts, sort_keys=True),
                 json.dumps([s._asdict() for s in run.steps]), json.dumps(list(run.transcript)), seq),
            )
            await conn.executemany(
                "insert or replace into probe_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.check_id, int(s.passed), run.target_kind, run.endpoint, s.detail, run.run_id,
                  run.snapshot_digest, int(run.tls), int(run.credentials_external), run.finished_at, seq,
                  facts.get("fingerprint"))
                 for s in run.steps],
            )
            if run.probe == "connection":
                await self._set_meta("connection_endpoint", run.endpoint)

        return await self._write("probe.run", ctx, data, subject=f"probe:{run.probe}", apply=apply)

    async def record_export(self, packet: str, fmt: str, destination: str, digest: str, ctx: ActorContext) -> int:
        async def apply(conn: aiosqlite.Connection, seq: int) -> None:
            await conn.execute(
                "insert into exports(packet, format, destination, digest, at, actor, event_seq) values (?, ?, ?, ?, ?, ?, ?)",
                (packet, fmt, destination, digest, self._clock(), ctx.actor_id, seq),
            )
            if packet == "release":
                await self._set_meta("last_release_export_seq", str(seq))

        data = export_data(packet, fmt, destination, digest)
        return await self._write("packet.export", ctx, data, subject=f"packet:{packet}", apply=apply)

    async def record_refusal(self, action: str, subject: str, reason: str, ctx: ActorContext) -> int:
        data = refusal_data(action, subject, reason)
        return await self._write("action.refused", ctx, data, subject=subject)

    async def record_event(self, kind: str, data: dict[str, Any], ctx: ActorContext) -> int:
        return await self._write(kind, ctx, data, subject=str(data.get("subject", "")))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._conn.close()
