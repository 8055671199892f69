"""ScenarioStore.v1 on SQLite through aiosqlite.

WAL, busy_timeout, every write in BEGIN IMMEDIATE (a deferred transaction that reads
then writes can fail or lose the update under concurrency), the audit event appended
and the head updated inside the same transaction as the change it records.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from bfg_tui.canonical import SnapshotHasher
from bfg_tui.errors import AlreadyDone, Refused, StoreError
from bfg_tui.models import (
    SnapshotInfo,
    State,
)

from . import replay
from .audit_chain import (
    GENESIS,
    accept_data,
    create_data,
    event_body,
    event_hash,
    event_signature,
    export_data,
    freeze_data,
    idem_binding,
    idem_refusal,
    probe_data,
    probe_facts_json,
    probe_transcript_json,
    refusal_data,
    revoke_data,
    save_data,
    state_fault,
    upgrade_data,
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
    like_substring,
    replaces_evidence,
)
from .rows import Tally, column_batches
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .sqlite_errors import BUSY_TIMEOUT_MS, translate_error
from .sqlite_files import existing_store, how_to_create, make_private_dirs, read_only_medium, read_only_uri
from .sqlite_plans import header_plan, run_async, state_plan

INSERT_BATCH = 20000

# What `audit_events` must be: kind, actor and subject generated from the body. A table
# rebuilt with plain columns (writable_schema) could make them say anything.
AUDIT_TABLE = " ".join(MIGRATIONS[2].split("create table audit_events_v3", 1)[1].split(";")[0].split("(", 1)[1].split())
# The events a replay needs: every one that shapes a table, and of acceptances only the
# latest per check (the columns it selects on are verified first).
_KINDS = ", ".join(f"'{k}'" for k in replay.STATE_KINDS)
REPLAY_EVENTS = (
    f"select cast(body as blob) from audit_events where seq in (select seq from audit_events where kind in ({_KINDS}) "
    f"union all select max(seq) from audit_events where kind = 'check.accept' group by subject "
    f"union all select max(seq) from audit_events where kind = 'check.revoke' group by subject) order by seq"
)

Clock = Callable[[], str]
Apply = Callable[[aiosqlite.Connection, int, str], Awaitable[None]]  # (conn, seq, at)


class StoreInit(NamedTuple):
    """What a brand-new store is seeded with (the seed is built only when needed)."""

    target_adapter: str
    fallback_adapter: str
    seed: Callable[[], ScenarioPayload]
    system: ActorContext




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
    async def open(cls, path: Path, init: StoreInit | None, clock: Clock, *, adopt: bool = False) -> SQLiteStore:
        """Open the store at `path`; with `init`, create it first when nothing is there.

        Anything at `path` that is not a SQLite file (a device, FIFO, directory, an empty or a
        foreign file) is refused before SQLite touches it. A store on read-only media is
        opened read-only through a URI that needs no WAL side files. `adopt` (a probe target
        only) seeds an empty file or an empty SQLite database in place.
        """
        path = Path(path)
        if not existing_store(path, allow_empty=adopt and init is not None):
            if init is None:
                raise StoreError(how_to_create(path))
            await cls._create(path, init, clock)
        read_only = read_only_medium(path)
        try:
            if read_only:
                conn = await aiosqlite.connect(read_only_uri(path), isolation_level=None, uri=True)
            else:
                conn = await aiosqlite.connect(str(path), isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise translate_error(exc, path) from None
        store = cls(conn, path, clock, read_only)
        try:
            await store._prepare(init if adopt else None)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc, path) from None
            raise
        return store

    @classmethod
    async def _create(cls, path: Path, init: StoreInit, clock: Clock) -> None:
        """Make a new store atomically: seeded in a private temp file, then linked into place.

        The path never holds a half-made store, and a store another process linked there
        first is kept (theirs is opened).
        """
        make_private_dirs(path.parent)
        tmp = path.with_name(f".{path.name[:180]}.{secrets.token_hex(6)}.new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            os.close(os.open(tmp, flags, 0o600))
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the store ({exc.strerror})") from None
        try:
            conn = await aiosqlite.connect(str(tmp), isolation_level=None)
            try:
                await cls(conn, path, clock, False)._prepare(init)
            finally:
                await conn.close()
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # created meanwhile by another process: that one stands
            except OSError:  # no hard links here: rename, unless a store appeared meanwhile
                if not path.exists():
                    os.replace(tmp, path)
            with contextlib.suppress(OSError):
                dfd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except sqlite3.Error as exc:
            raise translate_error(exc, path) from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the store ({exc.strerror})") from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{tmp}{suffix}")

    async def _prepare(self, init: StoreInit | None) -> None:
        conn = self._conn
        await conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.read_only:
            await conn.execute("pragma query_only = 1")
        version = await run_async(header_plan(self.path), conn)
        if version == 0 and init is None:
            # An empty SQLite database: not ours, and nothing (not even the WAL switch) may touch it.
            raise StoreError(f"{self.path}: not a bfg-tui store (a SQLite file without its schema); "
                             "it was left untouched")
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
            elif version < 2:
                await self._upgrade_from(version)
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
        at = meta["created_at"]
        await conn.executemany("insert into meta(key, value) values (?, ?)", meta.items())
        await conn.execute("insert into audit_head(id, count, head, store_id) values (1, 0, ?, ?)",
                           (GENESIS, uuid.uuid4().hex))
        seed = init.seed()
        count, kinds = await self._insert_records(0, seed.rows)
        await conn.execute(
            "insert into scenarios(version, saved_at, actor, source, records, kind_counts) values (0, null, null, ?, ?, ?)",
            (seed.source, count, json.dumps(kinds, sort_keys=True)),
        )
        data = create_data(CONTRACT, count, seed.source, kinds, init.target_adapter, init.fallback_adapter)
        await self._append("store.create", init.system, data, at, change=False)
        await self._seal()

    async def _upgrade_from(self, version: int) -> None:
        """A store written before the trail could rebuild the state: the upgrade attests its tables."""
        tables = await self._stored_tables()
        system = ActorContext("system", auth_mode="store-upgrade", self_asserted=False)
        await self._append("store.upgrade", system, upgrade_data(version, tables), self._clock(), change=False)
        await self._seal()

    # ------------------------------------------------------------- internals

    async def _insert_records(self, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        tally = Tally()
        async for cols in column_batches(rows, INSERT_BATCH):
            start = tally.add(cols)
            # The parameter tuples are built by zip in C, not by a Python loop per row.
            params = zip(itertools.repeat(version), itertools.count(start), cols.kinds, cols.rids, cols.bodies)
            await self._conn.executemany("insert into scenario_records values (?, ?, ?, ?, ?)", params)
        return tally.count, tally.kinds

    async def _meta(self, key: str) -> str:
        row = await (await self._conn.execute("select value from meta where key = ?", (key,))).fetchone()
        return row[0] if row else ""

    async def _set_meta(self, key: str, value: str) -> None:
        await self._conn.execute(
            "insert into meta(key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
            (key, value),
        )

    async def _append(self, kind: str, ctx: ActorContext, data: dict[str, Any], at: str, *, change: bool) -> int:
        count, prev = await (await self._conn.execute("select count, head from audit_head where id = 1")).fetchone()
        seq = count + 1
        body = event_body(seq=seq, prev=prev, at=at, kind=kind, ctx=ctx, data=data)
        digest = event_hash(body)
        # kind, actor and subject are generated from the body (schema.AUDIT_COLUMNS).
        await self._conn.execute("insert into audit_events(seq, hash, body) values (?, ?, ?)",
                                 (seq, digest, body.encode("utf-8")))
        signature = await event_signature(ctx, body)
        if signature is not None:
            await self._conn.execute("insert into audit_signatures(seq, signature) values (?, ?)", (seq, signature))
        await self._conn.execute("update audit_head set count = ?, head = ? where id = 1", (seq, digest))
        if change:
            await self._set_meta("last_change_seq", str(seq))
        return seq

    async def _seal(self) -> None:
        """Record in the head the digest of the state as now stored (same transaction as the event)."""
        state = await run_async(state_plan(check=False), self._conn)
        await self._conn.execute("update audit_head set state_digest = ? where id = 1", (replay.state_digest(state),))

    async def _stored_tables(self) -> replay.Tables:
        rows = {}
        for table, columns in replay.STORED_COLUMNS.items():
            rows[table] = await self._conn.execute_fetchall(f"select {columns} from {table}")
        return replay.tables_from_rows(rows)

    async def _write(
        self, kind: str, ctx: ActorContext, data: dict[str, Any], *,
        apply: Apply | None = None, idem: str | None = None, idem_args: dict[str, Any] | None = None,
    ) -> int:
        """One atomic change: BEGIN IMMEDIATE, idempotency check, state check, apply, audit, seal, commit."""
        if self.read_only:
            raise StoreError(f"{self.path}: database is read-only; nothing was changed")
        async with self._lock:
            conn = self._conn
            try:
                await conn.execute("begin immediate")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from None
            try:
                binding = idem_binding(kind, ctx.actor_id, idem_args or {}) if idem else None
                if idem:
                    row = await (await conn.execute(
                        "select event_seq, binding from idempotency where key = ?", (idem,))).fetchone()
                    if row:
                        if row[1] == binding:
                            raise AlreadyDone(idem, int(row[0]))
                        raise idem_refusal(idem, int(row[0]), kind, str(data.get("check", "")))
                # Never build on a state that is not the trail's: that would bless a forgery.
                await run_async(state_plan(), conn)
                at = self._clock()
                count = (await (await conn.execute("select count from audit_head where id = 1")).fetchone())[0]
                seq = count + 1
                if apply is not None:
                    await apply(conn, seq, at)
                seq = await self._append(kind, ctx, data, at, change=kind in CHANGE_KINDS)
                if idem:
                    await conn.execute("insert into idempotency(key, event_seq, binding) values (?, ?, ?)",
                                       (idem, seq, binding))
                await self._seal()
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

    async def store_id(self) -> str:
        """This store's id (a copy of the file shares it): what a probe target is compared with."""
        row = await (await self._conn.execute("select store_id from audit_head where id = 1")).fetchone()
        return str(row[0]) if row else ""

    async def data_version(self) -> int:
        row = await (await self._conn.execute("pragma data_version")).fetchone()
        return int(row[0])

    async def audit_head(self) -> tuple[int, str]:
        row = await (await self._conn.execute("select count, head from audit_head where id = 1")).fetchone()
        return int(row[0]), str(row[1])

    @staticmethod
    def _event(row: tuple[int, str, Any, str | None]) -> AuditEvent:
        seq, digest, body, signature = row
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        doc = json.loads(text)
        return AuditEvent(seq, doc["at"], doc["kind"], doc["actor"], doc["data"], doc["auth"], digest, doc["prev"],
                          signature, text)

    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[AuditEvent]:
        """Newest first; `text` filters on kind, actor or subject (substring)."""
        if text:
            like = like_substring(text)
            rows = await (await self._conn.execute(
                "select seq, hash, body, signature from audit_events left join audit_signatures using (seq) "
                "where kind like ?1 escape '\\' or actor like ?1 escape '\\' or subject like ?1 escape '\\' "
                "order by seq desc limit ?2 offset ?3", (like, limit, offset),
            )).fetchall()
        else:
            rows = await (await self._conn.execute(
                "select seq, hash, body, signature from audit_events left join audit_signatures using (seq) "
                "order by seq desc limit ? offset ?", (limit, offset)
            )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_count(self, text: str = "") -> int:
        if not text:
            return (await self.audit_head())[0]
        like = like_substring(text)
        row = await (await self._conn.execute(
            "select count(*) from audit_events where kind like ?1 escape '\\' or actor like ?1 escape '\\' "
            "or subject like ?1 escape '\\'", (like,)
        )).fetchone()
        return int(row[0])

    async def check_history(self, check_id: str, limit: int = 50) -> list[AuditEvent]:
        rows = await (await self._conn.execute(
            "select seq, hash, body, signature from audit_events left join audit_signatures using (seq) where subject = ? "
            "order by seq desc limit ?", (check_id, limit)
        )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_verify(self) -> VerifyResult:
        conn = self._conn
        try:
            await conn.execute("begin")
            try:
                count, head, sealed = await (await conn.execute(
                    "select count, head, state_digest from audit_head where id = 1")).fetchone()
                # cast: a body rewritten as TEXT by a hand edit still compares as bytes.
                cursor = await conn.execute("select cast(body as blob), hash from audit_events order by seq")
                bodies: list[bytes] = []
                hashes: list[str] = []
                first, second = itemgetter(0), itemgetter(1)
                while True:
                    batch = await cursor.fetchmany(50000)
                    if not batch:
                        break
                    bodies.extend(map(first, batch))
                    hashes.extend(map(second, batch))
                stored = {}
                joined = "".join(h if isinstance(h, str) else "" for h in hashes).encode("ascii", "replace")
                result = verify_chain(bodies, count, head, stored.get, hashes=joined)
                if not result.ok and result.first_bad_seq:
                    # Slow path, failures only: fetch the neighbours to name the fault precisely.
                    rows = await (await conn.execute(
                        "select seq, hash, cast(body as blob) from audit_events where seq between ? and ?",
                        (result.first_bad_seq - 1, result.first_bad_seq),
                    )).fetchall()
                    stored.update({seq: (digest, body) for seq, digest, body in rows})
                    result = verify_chain(bodies, count, head, stored.get, hashes=joined)
                elif not await self._columns_generated():
                    result = VerifyResult(False, count, head, "the audit_events table was altered: its kind, actor "
                                          "and subject are no longer generated from the event bodies")
                else:
                    result = await self._state_fault(count, head, sealed)
            finally:
                await conn.execute("commit")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from None
        return result

    async def _columns_generated(self) -> bool:
        row = await (await self._conn.execute(
            "select sql from sqlite_master where type = 'table' and name = 'audit_events'")).fetchone()
        return row is not None and " ".join(row[0].split("(", 1)[-1].split()) == AUDIT_TABLE

    async def _state_fault(self, count: int, head: str, digest: str) -> VerifyResult:
        """Replay the trail and compare every state table with it, then the head's digest."""
        try:
            trail = replay.replay(map(itemgetter(0), await self._conn.execute_fetchall(REPLAY_EVENTS)))
        except replay.ReplayFault as fault:
            return VerifyResult(False, count, head, str(fault), fault.seq)
        return state_fault(trail, await self._stored_tables(), count, head, digest)

    async def signed_rows(self) -> AsyncIterator[list[tuple[int, bytes, str | None]]]:
        """(seq, body, signature) batches in seq order, for checking the signatures."""
        cursor = await self._conn.execute("select seq, cast(body as blob), signature from audit_events left join audit_signatures using (seq) "
            "order by seq")
        while True:
            batch = await cursor.fetchmany(50000)
            if not batch:
                break
            yield batch

    async def roster_events(self) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await (await self._conn.execute(
            "select seq, kind, body from audit_events where subject = 'roster' order by seq"
        )).fetchall()
        return [(seq, kind, json.loads(body)["data"]) for seq, kind, body in rows]

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

        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
            version = (await (await conn.execute("select max(version) from scenarios")).fetchone())[0] + 1
            count, kinds = await self._insert_records(version, payload.rows)
            await conn.execute(
                "insert into scenarios(version, saved_at, actor, source, records, kind_counts) values (?, ?, ?, ?, ?, ?)",
                (version, at, ctx.actor_id, payload.source, count, json.dumps(kinds, sort_keys=True)),
            )
            # Keep only the new version and the one the latest snapshot reads from.
            # By version through the primary key: `version <> ?` alone would scan every row.
            await conn.execute(
                "delete from scenario_records where version in (select version from scenarios "
                "where version <> ? and version not in "
                "(select scenario_version from snapshots order by id desc limit 1))", (version,),
            )
            result.update(save_data(version, count, payload.source, kinds))

        return await self._write("scenario.save", ctx, result, apply=apply, idem=idem,
                                 idem_args={"source": payload.origin or payload.source})

    async def freeze_snapshot(self, ctx: ActorContext, session: str, tenant: str) -> SnapshotInfo:
        info: dict[str, Any] = {}
        data: dict[str, Any] = {}

        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
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
            cur = await conn.execute(
                "insert into snapshots(scenario_version, rows, digest, kind_counts, frozen_at, actor, event_seq) "
                "values (?, ?, ?, ?, ?, ?, ?)", (version, hasher.rows, digest, kinds, at, ctx.actor_id, seq),
            )
            info.update(id=cur.lastrowid, rows=hasher.rows, digest=digest, at=at, kinds=json.loads(kinds))
            data.update(freeze_data(cur.lastrowid, hasher.rows, digest, version, json.loads(kinds)))

        await self._write("snapshot.freeze", ctx, data, apply=apply)
        return SnapshotInfo(info["id"], info["rows"], info["digest"], info["at"], info["kinds"])

    async def accept(
        self, check_id: str, ctx: ActorContext, *, note: str, value: str | None,
        snapshot_digest: str | None, countersign: bool, idem: str | None = None,
    ) -> int:
        data = accept_data(check_id, note, value, snapshot_digest, countersign)

        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
            await conn.execute(
                "insert or replace into acceptances(check_id, actor, note, value, snapshot_digest, countersign, at, "
                "event_seq, key) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (check_id, ctx.actor_id, note, value, snapshot_digest, int(countersign), at, seq, ctx.key or None),
            )

        return await self._write("check.accept", ctx, data, apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note, "value": value})

    async def revoke(self, check_id: str, ctx: ActorContext, *, note: str, idem: str | None = None) -> int:
        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
            cur = await conn.execute("delete from acceptances where check_id = ?", (check_id,))
            if cur.rowcount == 0:
                raise Refused(f"{check_id} is not accepted; nothing to revoke", action="check.revoke", subject=check_id)

        return await self._write("check.revoke", ctx, revoke_data(check_id, note), apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note})

    async def record_probe(self, run: ProbeRunRecord, ctx: ActorContext) -> int:
        facts = dict(run.facts or {})
        data = probe_data(run)

        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
            await conn.execute(
                "insert into probe_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.run_id, run.probe, run.target_kind, run.endpoint, int(run.passed), run.started_at,
                 run.finished_at, run.snapshot_digest, probe_facts_json(run),
                 json.dumps([s._asdict() for s in run.steps]), probe_transcript_json(run), seq),
            )
            row = await (await conn.execute("select value from meta where key = 'connection_endpoint'")).fetchone()
            selected = (row[0] if row else "") or None
            holds = bool((await (await conn.execute(
                "select count(*) from probe_results where passed = 1 and endpoint = ?", (selected or "",))).fetchone())[0])
            if not replaces_evidence(selected, holds, run.endpoint, run.passed):
                return
            await conn.executemany(
                "insert or replace into probe_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.check_id, int(s.passed), run.target_kind, run.endpoint, s.detail, run.run_id,
                  run.snapshot_digest, int(run.tls), int(run.credentials_external), run.finished_at, seq,
                  facts.get("fingerprint"))
                 for s in run.steps],
            )
            if run.probe == "connection":
                await self._set_meta("connection_endpoint", run.endpoint)

        return await self._write("probe.run", ctx, data, apply=apply)

    async def record_export(self, packet: str, fmt: str, destination: str, digest: str, ctx: ActorContext) -> int:
        async def apply(conn: aiosqlite.Connection, seq: int, at: str) -> None:
            await conn.execute(
                "insert into exports(packet, format, destination, digest, at, actor, event_seq) values (?, ?, ?, ?, ?, ?, ?)",
                (packet, fmt, destination, digest, at, ctx.actor_id, seq),
            )
            if packet == "release":
                await self._set_meta("last_release_export_seq", str(seq))

        data = export_data(packet, fmt, destination, digest)
        return await self._write("packet.export", ctx, data, apply=apply)

    async def record_refusal(self, action: str, subject: str, reason: str, ctx: ActorContext) -> int:
        data = refusal_data(action, subject, reason)
        return await self._write("action.refused", ctx, data)

    async def record_event(self, kind: str, data: dict[str, Any], ctx: ActorContext) -> int:
        return await self._write(kind, ctx, data)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._conn.close()
