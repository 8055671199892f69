"""ScenarioStore.v1 on SQLite through aiosqlite: transactions, SQL and files for the core.

WAL, busy_timeout, every write in BEGIN IMMEDIATE (a deferred transaction that reads
then writes can fail or lose the update under concurrency); the audit event is appended
and the head updated inside the same transaction as the change it records (store.core).
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
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bfg_tui.errors import Reason, StoreError

from .audit_chain import GENESIS
from .base import ActorContext, VerifyResult
from .core import STREAM_BATCH, AuditedStore, Row, Run, StoreInit, Tx, migrate, required_row
from .rows import Tally, column_batches
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .sqlite_errors import BUSY_TIMEOUT_MS, translate_error
from .sqlite_files import existing_store, how_to_create, make_private_dirs, read_only_medium, read_only_uri
from .sqlite_plans import header_plan
from .sqlite_sql import AUDIT_TABLE, SQL
from .state_plan import SQLITE_TABLES, run_async

__all__ = ["SQLiteStore", "StoreInit"]

INSERT_BATCH = 20000
_third = itemgetter(2)

Clock = Callable[[], str]


class SQLiteTx:
    """The core's `Tx` over the store's one aiosqlite connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Any = ()) -> Row | None:
        rows = cast(list[Row], await self._conn.execute_fetchall(sql, params))  # one trip to the driver's thread
        return rows[0] if rows else None

    async def all(self, sql: str, params: Any = ()) -> list[Row]:
        return cast(list[Row], await self._conn.execute_fetchall(sql, params))

    async def run(self, sql: str, params: Any = ()) -> int:
        return int((await self._conn.execute(sql, params)).rowcount)

    async def many(self, sql: str, rows: Iterable[Any]) -> None:
        await self._conn.executemany(sql, rows)

    async def stream(self, sql: str, params: Any = (), size: int = STREAM_BATCH) -> AsyncGenerator[list[Row], None]:
        cursor = await self._conn.execute(sql, params)
        try:
            while batch := await cursor.fetchmany(size):
                yield cast(list[Row], batch)
        finally:  # a reader that stops early ends the statement now, not when the cursor is collected
            await cursor.close()


class SQLiteStore(AuditedStore):
    sql = SQL
    tables = SQLITE_TABLES
    path: Path

    def __init__(self, conn: aiosqlite.Connection, path: Path, clock: Clock, read_only: bool) -> None:
        self._conn = conn
        self._tx = SQLiteTx(conn)
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
            raise StoreError(Reason.of("store.cannot_create", path=path, error=exc.strerror)) from None
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
            raise StoreError(Reason.of("store.cannot_create", path=path, error=exc.strerror)) from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{tmp}{suffix}")

    async def _prepare(self, init: StoreInit | None) -> None:
        conn = self._conn
        await conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.read_only:
            await conn.execute("pragma query_only = 1")
        version = await run_async(header_plan(self.path), self._tx)
        if version == 0 and init is None:
            # An empty SQLite database: not ours, and nothing (not even the WAL switch) may touch it.
            raise StoreError(Reason.of("store.no_schema", path=self.path))
        if self.read_only:
            if version < SCHEMA_VERSION:
                raise StoreError(Reason.of("store.read_only_upgrade", path=self.path))
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
            version = (await required_row(self._tx, "pragma user_version"))[0]
            fresh = version == 0
            await migrate(MIGRATIONS, version, SCHEMA_VERSION, self._run_script)
            await conn.execute(f"pragma application_id = {APPLICATION_ID}")
            await conn.execute(f"pragma user_version = {SCHEMA_VERSION}")
            if fresh:
                if init is None:
                    raise StoreError(Reason.of("store.nothing_to_seed", path=self.path))
                await self._seed(self._tx, init)
            elif version < 2:
                # Written before the trail could rebuild the state: the upgrade attests its tables.
                system = ActorContext("system", auth_mode="store-upgrade", self_asserted=False)
                await self._attest(self._tx, system, version)
            await conn.execute("commit")
        except BaseException:
            await conn.execute("rollback")
            raise

    async def _run_script(self, script: str) -> None:
        # executescript would COMMIT our transaction; run statement by statement instead.
        for statement in script.split(";"):
            if statement.strip():
                await self._conn.execute(statement)

    # ---------------------------------------------------------- the core's hooks

    @contextlib.asynccontextmanager
    async def _write_tx(self) -> AsyncIterator[Tx]:
        async with self._lock:
            conn = self._conn
            try:
                await conn.execute("begin immediate")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from None
            try:
                yield self._tx
                await conn.execute("commit")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("rollback")
                if isinstance(exc, sqlite3.Error):
                    raise translate_error(exc, self.path) from None
                raise

    @contextlib.asynccontextmanager
    async def _read_tx(self, *, snapshot: bool = False) -> AsyncIterator[Tx]:
        try:
            if not snapshot:
                yield self._tx
                return
            await self._conn.execute("begin")
            try:
                yield self._tx
            finally:
                await self._conn.execute("commit")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from None

    async def _now(self, tx: Tx) -> str:
        return self._clock()

    async def _insert_records(self, tx: Tx, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        tally = Tally()
        async for cols in column_batches(rows, INSERT_BATCH):
            start = tally.add(cols)
            # The parameter tuples are built by zip in C, not by a Python loop per row.
            params = zip(itertools.repeat(version), itertools.count(start), cols.kinds, cols.rids, cols.bodies)
            await self._conn.executemany("insert into scenario_records values (?, ?, ?, ?, ?)", params)
        return tally.count, tally.kinds

    async def _insert_event(self, tx: Tx, seq: int, digest: str, body: bytes, kind: str, actor: str,
                            subject: str, signature: str | None) -> None:
        # kind, actor and subject are generated from the body (schema.AUDIT_COLUMNS).
        await tx.run("insert into audit_events(seq, hash, body) values (?, ?, ?)", (seq, digest, body))
        if signature is not None:
            await tx.run("insert into audit_signatures(seq, signature) values (?, ?)", (seq, signature))

    async def _insert_head(self, tx: Tx) -> None:
        await tx.run("insert into audit_head(id, count, head, store_id) values (1, 0, ?, ?)",
                     (GENESIS, uuid.uuid4().hex))

    async def _column_fault(self, tx: Tx, count: int, head: str, differ: list[bool]) -> VerifyResult | None:
        row = await tx.one("select sql from sqlite_master where type = 'table' and name = 'audit_events'")
        if row is not None and " ".join(row[0].split("(", 1)[-1].split()) == AUDIT_TABLE:
            return None
        return VerifyResult(False, count, head, Reason.of("audit.table_altered"))

    async def _records(self, version: int, size: int) -> AsyncIterator[list[Row]]:
        async for batch in self._tx.stream("select kind, rid, body from scenario_records where version = ? "
                                           "order by ord", (version,), size):
            yield batch

    async def _record_runs(self, version: int, size: int) -> AsyncIterator[Run]:
        # One statement, so the read sees one state of the store, as a single SELECT does. The
        # kind comes back as its small-int position in the version's kinds (ints that small are
        # shared objects: no text decoded per record), the id as bytes.
        # A kind the version's counts do not name (a hand-edited file) comes back as its text.
        row = await self._tx.one("select kind_counts from scenarios where version = ?", (version,))
        try:
            counts = json.loads(row[0]) if row else {}
        except (TypeError, ValueError):
            counts = {}
        kinds = sorted(k for k in counts if isinstance(k, str)) if isinstance(counts, dict) else []
        code = ("case kind " + " ".join(f"when ? then {i}" for i in range(len(kinds))) + " else cast(kind as text) end"
                if kinds else "cast(kind as text)")

        def name(value: Any) -> str:
            return kinds[value] if isinstance(value, int) else str(value)

        async for batch in self._tx.stream(f"select cast(rid as blob), cast(body as blob), {code} from scenario_records"
                                           " where version = ? order by ord", (*kinds, version), size):
            codes = list(map(_third, batch))
            if codes.count(codes[0]) == len(codes):
                yield name(codes[0]), cast(list[tuple[bytes, bytes, Any]], batch)
                continue
            start = 0
            for i in range(1, len(codes)):
                if codes[i] != codes[i - 1]:
                    yield name(codes[start]), cast(list[tuple[bytes, bytes, Any]], batch[start:i])
                    start = i
            yield name(codes[start]), cast(list[tuple[bytes, bytes, Any]], batch[start:])

    async def store_id(self) -> str:
        """This store's id (a copy of the file shares it): what a probe target is compared with."""
        row = await self._tx.one("select store_id from audit_head where id = 1")
        return str(row[0]) if row else ""

    async def data_version(self) -> int:
        row = await required_row(self._tx, "pragma data_version")
        return int(row[0])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._conn.close()
