"""ScenarioStore.v1 on PostgreSQL through psycopg 3 (async): the shared store.

Owners on several hosts open the same `--db postgresql://…` and share one state. The
observable behaviour is the SQLite store's (store/sqlite.py), including the audit chain,
byte for byte; what differs is how PostgreSQL gets there:

* **Location.** `postgresql://user@host:port/dbname?sslmode=…[&schema=NAME]`; `schema`
  (default `bfg_console`) is ours and is removed before libpq sees the URL. Passwords
  come only from the environment (PGPASSWORD) or a pgpass file (PGPASSFILE,
  ~/.pgpass): a location that carries one (`user:pw@`, `?password=`, in `options=`…)
  is refused before anything connects, and no message ever quotes the location — only
  its allowlisted display form (secrets.redact_endpoint). Nothing about the location is
  stored.
* **Who is connected.** Each owner connects with a login of their own, mapped by the
  migrator to (tenant, actor) in `logins` (`bfg-tui store add-login`). Every policy
  keys on `session_user` through that mapping, so no setting the client can change
  moves a login into another tenant, and an event's actor must be the login's. The
  store acts as the mapped actor (`login_actor`); the service refuses any other `--as`.
* **Role hygiene.** Refused as a store login: superuser, BYPASSRLS, CREATEROLE, and any
  login that is (directly or indirectly) a member of a role that bypasses RLS, holds
  CREATEROLE, or owns the store's tables (the migration login: by membership, not name).
* **Schema.** Installed and upgraded only explicitly (`bfg-tui store install`, the
  migration login, `install_schema`), never on open: an open finds no store, or an old
  one, and says which command to run. A newer version is refused like SQLite does.
* **Writes.** One transaction each (store.core): lock the tenant's audit head row (`for update`,
  which serialises writers across processes so the chain stays linear), read the
  server's clock, check the idempotency key, apply, append the event (its seq and `at`
  are the server's: see postgres_schema), move the head, and `pg_notify('bfg_console',
  '')`. A `Refused` raised inside rolls the whole transaction back.
* **Poolers.** No session state is relied on between transactions (settings are
  `set local`, no prepared statements), so PgBouncer in transaction pooling mode works.
* **Live refresh.** `data_version()` is the tenant's event count, read through RLS.
  Notifications carry nothing (any login may LISTEN to any channel): one only marks the
  count for a re-read, at most once per DEBOUNCE_S. Where LISTEN does not deliver (a
  transaction pooler: checked once with a nonce), the count is polled instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, NamedTuple

import psycopg
from psycopg import errors as pg_errors

from bfg_tui.errors import Reason, StoreError
from bfg_tui.pg_roles import HYGIENE_SQL, hygiene_problem
from bfg_tui.runbook import APP_ROLE, MIGRATOR_ROLE

from .audit_chain import GENESIS, column_fault
from .base import ActorContext, VerifyResult
from .core import STREAM_BATCH, AuditedStore, Row, StoreInit, Tx, migrate, required_row
from .postgres_schema import (
    DEFAULT_SCHEMA,
    LOCK_CLASS,
    NOTIFY_CHANNEL,
    SCHEMA_VERSION,
    grants_sql,
    migration_sql,
    valid_schema,
)
from .postgres_sql import REPLAY_PARAMS, SERVER_NOW_SQL, pg_sql, tables
from .rows import Tally, column_batches

INSERT_BATCH = 20000
LOCK_TIMEOUT_MS = 5000  # how long a writer waits for another's transaction
CONNECT_TIMEOUT_S = 10
DEBOUNCE_S = 0.2  # at most one change-count read per interval, however many notifications
POLL_S = 0.5  # where LISTEN does not deliver (a transaction pooler): poll the count
LISTEN_CHECK_S = 1.0  # how long the nonce notification may take to prove LISTEN works

Clock = Callable[[], str]


# ---------------------------------------------------------------- location


class PgLocation(NamedTuple):
    conninfo: str  # what libpq gets: no password, no `schema`
    schema: str
    display: str  # allowlisted endpoint + schema: the only form ever shown


def parse_location(location: str) -> PgLocation:
    """Split a store location into libpq conninfo and our schema; refuse passwords."""
    from bfg_tui.targets import is_postgres, libpq_params, redact_endpoint, url_query_param

    text = (location or "").strip()
    if not is_postgres(text):
        raise StoreError(Reason.of("pgstore.not_postgres"))
    try:
        shown = redact_endpoint(text)
    except ValueError as exc:  # fixed reasons that never quote the input
        raise StoreError(Reason.of("pgstore.invalid_location", error=Reason.said(exc.args[0]))) from None
    if ":***@" in shown:
        raise StoreError(Reason.of("pgstore.password_in_location", where=shown))
    if "#" in text:
        raise StoreError(Reason.of("pgstore.fragment", where=shown))
    conninfo, named = url_query_param(text, "schema")
    schema = DEFAULT_SCHEMA if named is None else named
    if not valid_schema(schema):
        raise StoreError(Reason.of("pgstore.bad_schema", where=shown))
    try:
        params = libpq_params(conninfo)
    except ValueError:
        raise StoreError(Reason.of("pgstore.invalid_uri", where=shown)) from None
    if any(params.get(k) for k in ("password", "sslpassword")):
        raise StoreError(Reason.of("pgstore.password_param", where=shown))
    return PgLocation(conninfo, schema, f"{shown} (schema {schema})")


# ---------------------------------------------------------------- errors


def translate_error(exc: BaseException, where: str) -> StoreError:
    """A psycopg error as one line naming the store by its display form only."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    diag = getattr(exc, "diag", None)
    from bfg_tui.secrets import scrub

    primary = scrub((diag.message_primary if diag is not None else None) or str(exc))
    if sqlstate in ("55P03", "40P01") or isinstance(exc, pg_errors.LockNotAvailable):
        return StoreError(Reason.of("store.locked", path=where, seconds=f"{LOCK_TIMEOUT_MS / 1000:g}"))
    if sqlstate == "25006":
        return StoreError(Reason.of("store.read_only", path=where))
    if sqlstate == "42501":
        return StoreError(Reason.of("pgstore.permission_denied", where=where, error=primary))
    if sqlstate in ("42P01", "42703", "42883", "3F000"):
        return StoreError(Reason.of("store.unreadable", path=where, error=primary))
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(Reason.of("pgstore.unreachable", where=where, error=primary))
    return StoreError(Reason.of("store.database_error", path=where, error=primary))


# ---------------------------------------------------------------- helpers


async def _connect(loc: PgLocation, name: str = "bfg-tui store") -> psycopg.AsyncConnection:
    try:
        # No prepared statements: a transaction pooler may run the next one on another server.
        return await psycopg.AsyncConnection.connect(
            loc.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name=name,
            prepare_threshold=None,
        )
    except psycopg.Error as exc:
        raise translate_error(exc, loc.display) from None


async def fetch_one(conn: psycopg.AsyncConnection, sql: str, params: Any = None) -> Row:
    """A row the query always returns (an aggregate, a catalog probe)."""
    return await required_row(PgTx(conn), sql, params or ())


class PgTx:
    """The core's `Tx` over one psycopg connection, inside the store's transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Any = ()) -> Row | None:
        return await (await self._conn.execute(sql, params or None)).fetchone()

    async def all(self, sql: str, params: Any = ()) -> list[Row]:
        return await (await self._conn.execute(sql, params or None)).fetchall()

    async def run(self, sql: str, params: Any = ()) -> int:
        return (await self._conn.execute(sql, params or None)).rowcount

    async def many(self, sql: str, rows: Iterable[Any]) -> None:
        async with self._conn.cursor() as cur:
            await cur.executemany(sql, list(rows))

    async def stream(self, sql: str, params: Any = (), size: int = STREAM_BATCH) -> AsyncIterator[list[Row]]:
        # A server-side cursor, binary: bodies arrive as the stored bytes, a batch at a time.
        async with self._conn.cursor(name="bfg_stream", binary=True) as cur:
            await cur.execute(sql, params or None)
            while batch := await cur.fetchmany(size):
                yield batch


class PostgresStore(AuditedStore):
    path: str  # the location's allowlisted display form: never the location itself

    def __init__(self, conn: psycopg.AsyncConnection, loc: PgLocation, tenant: str, clock: Clock) -> None:
        self._conn = conn
        self._loc = loc
        self.path = loc.display
        self.schema = loc.schema
        self.tenant = tenant
        self.login_actor: str | None = None  # the actor the connected login is mapped to
        self.login = ""
        self._clock = clock
        self.sql = pg_sql(loc.schema)
        self.tables = tables(loc.schema)
        self.replay_params = REPLAY_PARAMS
        self.read_only = False
        self._lock = asyncio.Lock()
        self._s = loc.schema
        self._version = 0
        self._dirty = True  # the count must be (re-)read
        self._read_at = 0.0
        self.listen_mode = "starting"  # "listen" | "poll" once the nonce check is done
        self._listen_task: asyncio.Task[None] | None = None
        self._listen_ready: asyncio.Event | None = None
        self._listener: psycopg.AsyncConnection | None = None
        self._closed = False

    # ------------------------------------------------------------------ open

    @classmethod
    async def open(
        cls, location: str, init: StoreInit | None, clock: Clock, *, tenant: str,
    ) -> PostgresStore:
        """`tenant`: the catalog's, passed by the service (the store never reads the catalog)."""
        loc = parse_location(location)
        if not tenant or len(tenant) > 64 or not tenant.isprintable():
            raise StoreError(Reason.of("pgstore.invalid_tenant", where=loc.display))
        conn = await _connect(loc)
        store = cls(conn, loc, tenant, clock)
        try:
            await store._prepare(init)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await conn.close()
            if isinstance(exc, psycopg.Error):
                raise translate_error(exc, loc.display) from None
            raise
        return store

    async def _prepare(self, init: StoreInit | None) -> None:
        conn = self._conn
        row = await fetch_one(conn, HYGIENE_SQL)
        user = row[0]
        problem = hygiene_problem(row)
        if problem:
            raise StoreError(Reason.of("pgstore.login_refused", where=self.path, problem=Reason.said(problem)))
        self.read_only = bool(row[5])
        self._user = self.login = user
        version = await self._schema_version(conn)
        self._check_newer(version)
        if version == 0:
            raise StoreError(Reason.of("pgstore.not_installed", where=self.path, schema=self._s))
        if version < SCHEMA_VERSION:
            raise StoreError(Reason.of("pgstore.needs_upgrade", where=self.path, version=version, needs=SCHEMA_VERSION))
        owner = (await (await conn.execute(
            "select o.rolname::text from pg_class c join pg_roles o on o.oid = c.relowner "
            "where c.oid = to_regclass(%s) and pg_has_role(session_user, c.relowner, 'MEMBER')",
            (f"{self._s}.audit_events",),
        )).fetchone())
        if owner:
            raise StoreError(Reason.of("pgstore.owner_login", where=self.path, user=user, owner=owner[0]))
        mapped = await (await conn.execute(
            f"select tenant_id, actor from {self._s}.logins where login = session_user::text"
        )).fetchone()
        if mapped is None:
            raise StoreError(Reason.of("pgstore.login_unmapped", where=self.path, user=user))
        if mapped[0] != self.tenant:
            raise StoreError(Reason.of("pgstore.other_tenant", where=self.path, user=user, tenant=mapped[0],
                                       expected=self.tenant))
        self.login_actor = mapped[1]
        await self._ensure_seeded(init)

    async def _schema_version(self, conn: psycopg.AsyncConnection) -> int:
        exists = (await fetch_one(
            conn,
            "select to_regclass(%s) is not null", (f"{self._s}.schema_version",)
        ))[0]
        if not exists:
            return 0
        row = await (await conn.execute(f"select version from {self._s}.schema_version")).fetchone()
        return int(row[0]) if row else 0

    def _check_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(Reason.of("pgstore.newer", where=self.path, version=version, known=SCHEMA_VERSION))

    async def _migrate(self) -> None:
        conn, s = self._conn, self._s
        version = 0
        # A session-level lock taken before the transaction starts: a transaction that
        # began before another's DDL committed would keep seeing the schema as missing
        # (catalog lookups are cached until the next transaction or relation lock).
        lock = (LOCK_CLASS, f"schema:{s}")
        await conn.execute("select pg_advisory_lock(%s, hashtext(%s))", lock)
        try:
            async with conn.transaction():
                # Re-read under the lock: another process may have migrated meanwhile.
                version = await self._schema_version(conn)
                self._check_newer(version)
                if version == SCHEMA_VERSION:
                    return
                migrator, app = await fetch_one(
                    conn,
                    "select case when exists (select 1 from pg_roles where rolname = %(m)s) "
                    "then pg_has_role(current_user, %(m)s, 'MEMBER') else false end, "
                    "exists (select 1 from pg_roles where rolname = %(a)s)",
                    {"m": MIGRATOR_ROLE, "a": APP_ROLE},
                )
                if not migrator:
                    raise StoreError(Reason.of("pgstore.not_migrator", where=self.path, user=self._user,
                                               role=MIGRATOR_ROLE))
                # Objects owned by the migration role, as the runbook's are.
                await conn.execute(f"set local role {MIGRATOR_ROLE}")
                if version == 0:
                    await conn.execute(f"create schema if not exists {s}")
                steps = [migration_sql(step, s) for step in range(SCHEMA_VERSION)]
                await migrate(steps, version, SCHEMA_VERSION, conn.execute)
                if app:
                    await conn.execute(grants_sql(s, APP_ROLE))
                await conn.execute(
                    f"insert into {s}.schema_version(version) values (%s) on conflict (singleton) "
                    "do update set version = excluded.version, migrated_at = now()", (SCHEMA_VERSION,),
                )
        except pg_errors.InsufficientPrivilege:
            code = "pgstore.cannot_create" if version == 0 else "pgstore.cannot_upgrade"
            raise StoreError(Reason.of(code, where=self.path, user=self._user, version=version,
                                       needs=SCHEMA_VERSION)) from None
        except pg_errors.DuplicateTable:
            raise StoreError(Reason.of("pgstore.foreign_tables", where=self.path, schema=s)) from None
        finally:
            if not conn.closed:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute("select pg_advisory_unlock(%s, hashtext(%s))", lock)

    async def _ensure_seeded(self, init: StoreInit | None) -> None:
        s = self._s
        async with self._tx() as conn:
            head = await (await conn.execute(f"select state_digest from {s}.audit_head")).fetchone()
            if head is not None:
                if not head[0] and not self.read_only:
                    await self._upgrade_tenant(PgTx(conn))
                return
            if init is None:
                raise StoreError(Reason.of("pgstore.no_tenant", where=self.path, tenant=self.tenant))
            if self.read_only:
                raise StoreError(Reason.of("pgstore.read_only_no_tenant", where=self.path, tenant=self.tenant))
            # Concurrent first opens: one seeds, the others wait here and find it seeded.
            await conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))",
                               (LOCK_CLASS, f"seed:{s}/{self.tenant}"))
            if await (await conn.execute(f"select 1 from {s}.audit_head")).fetchone():
                return
            await self._seed(PgTx(conn), init)

    async def _upgrade_tenant(self, tx: Tx) -> None:
        """A tenant written before the trail could rebuild the state: the upgrade attests its tables.

        Only a tenant created by that older version qualifies (its store.create event has
        no kind counts); a digest cleared by hand on a newer tenant is left to fail the check.
        """
        await self._lock_head(tx)
        first = await tx.one(f"select body from {self._s}.audit_events where seq = 1")
        if first is None or "kind_counts" in json.loads(bytes(first[0])).get("data", {}):
            return
        # Attested by the login that opened it first: the database lets a login write only
        # in its own actor's name (only the genesis event is by `system`).
        opener = ActorContext(self.login_actor or "system", auth_mode="store-upgrade", self_asserted=False)
        await self._attest(tx, opener, 1)

    # ---------------------------------------------------------- the core's hooks

    @contextlib.asynccontextmanager
    async def _tx(self, *, snapshot: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
        """One transaction on the store connection; the tenant is the login's (RLS)."""
        async with self._lock:
            if self._closed:
                raise StoreError(Reason.of("pgstore.closed", where=self.path))
            if self._conn.closed:
                self._conn = await _connect(self._loc)
            conn = self._conn
            try:
                async with conn.transaction():
                    if snapshot:
                        # One consistent picture across several queries.
                        await conn.execute("set transaction isolation level repeatable read, read only")
                    # Transaction-local: through a pooler the next transaction may be elsewhere.
                    await conn.execute(f"set local lock_timeout = {int(LOCK_TIMEOUT_MS)}")
                    yield conn
            except psycopg.Error as exc:
                raise translate_error(exc, self.path) from None

    @contextlib.asynccontextmanager
    async def _write_tx(self) -> AsyncIterator[Tx]:
        async with self._tx() as conn:
            yield PgTx(conn)

    @contextlib.asynccontextmanager
    async def _read_tx(self, *, snapshot: bool = False) -> AsyncIterator[Tx]:
        async with self._tx(snapshot=snapshot) as conn:
            yield PgTx(conn)

    def _no_head(self) -> StoreError:
        return StoreError(Reason.of("pgstore.no_tenant", where=self.path, tenant=self.tenant))

    async def _now(self, tx: Tx) -> str:
        # The server's clock, read under the head lock: later than every earlier event.
        return str((await required_row(tx, SERVER_NOW_SQL))[0])

    async def _after_write(self, tx: Tx) -> None:
        # An empty payload: any login may LISTEN on any channel, so it must say nothing.
        await tx.run("select pg_notify(%s, '')", (NOTIFY_CHANNEL,))

    async def _insert_event(self, tx: Tx, seq: int, digest: str, body: bytes, kind: str, actor: str,
                            subject: str, signature: str | None) -> None:
        # The searchable columns are copies of the body's fields (verify checks them); the
        # trigger checks seq, prev and time against the server's.
        await tx.run(f"insert into {self._s}.audit_events(seq, hash, body, kind, actor, subject, signature) "
                     "values (%s, %s, %b, %s, %s, %s, %s)", (seq, digest, body, kind, actor, subject, signature))

    async def _insert_head(self, tx: Tx) -> None:
        await tx.run(f"insert into {self._s}.audit_head(count, head) values (0, %s)", (GENESIS,))

    async def _column_fault(self, tx: Tx, count: int, head: str, differ: list[bool]) -> VerifyResult | None:
        if not any(differ):
            return None
        seq = differ.index(True) + 1
        row = await required_row(tx, f"select kind, actor, subject, body from {self._s}.audit_events where seq = %s", (seq,))
        return column_fault(seq, (row[0], row[1], row[2]), bytes(row[3]), count, head)

    async def _insert_records(self, tx: Tx, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        # COPY FROM is refused for roles under RLS; unnest() inserts a batch in one statement.
        sql = (f"insert into {self._s}.scenario_records(version, ord, kind, rid, body) "
               "select %s, * from unnest(%b::int4[], %b::text[], %b::text[], %b::bytea[])")
        tally = Tally()
        async for cols in column_batches(rows, INSERT_BATCH):
            start = tally.add(cols)
            ords = list(range(start, start + len(cols.kinds)))
            await tx.run(sql, (version, ords, list(cols.kinds), list(cols.rids), cols.bodies))
        return tally.count, tally.kinds

    async def store_id(self) -> str:
        """No file to copy here: a probe target is compared by server, database and schema."""
        return ""

    def server_key(self) -> tuple[str, str, str]:
        """(host, port, database) of this store's server, for telling a probe target apart."""
        from bfg_tui.targets import server_key

        return server_key(self._loc.conninfo)

    async def data_version(self) -> int:
        """The tenant's event count, read through RLS; it moves with every commit by anyone.

        A notification (which says nothing) or, where LISTEN does not deliver, the poll
        interval marks the count for a re-read; reads are debounced to one per DEBOUNCE_S,
        so spoofed notifications cost at most one cheap query per interval.
        """
        if self._closed:
            return self._version
        if self._listen_task is None or (self._listen_task.done() and self.listen_mode != "poll"):
            # The count itself is the version, so nothing waits for the listener: until
            # its nonce arrives the count is polled, and once it listens it re-reads once.
            self._listen_ready = asyncio.Event()
            self._listen_task = asyncio.create_task(self._listen(), name="bfg-tui store listener")
        now = time.monotonic()
        due = self._dirty or (self.listen_mode != "listen" and now - self._read_at >= POLL_S)
        if due and now - self._read_at >= DEBOUNCE_S:
            self._dirty = False
            self._read_at = now
            try:
                self._version = (await self.audit_head())[0]
            except StoreError:
                self._dirty = True  # try again next time; the caller keeps its picture
        return self._version

    async def _listen(self) -> None:
        backoff = 0.2
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._loc.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                    application_name="bfg-tui listener", prepare_threshold=None,
                )
            except psycopg.Error:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._listener = conn
            try:
                await conn.execute(f"listen {NOTIFY_CHANNEL}")
                # Does LISTEN deliver here? Behind a transaction pooler it does not: send a
                # random nonce from the store's own connection and wait for it.
                nonce = "nonce-" + secrets.token_hex(8)
                async with self._lock:
                    await self._conn.execute("select pg_notify(%s, %s)", (NOTIFY_CHANNEL, nonce))
                delivered = False
                async for note in conn.notifies(timeout=LISTEN_CHECK_S):
                    if note.payload == nonce:
                        delivered = True
                        break
                self._dirty = True  # (re)connected: something may have changed unseen
                if not delivered:
                    self.listen_mode = "poll"
                    if self._listen_ready is not None:
                        self._listen_ready.set()
                    return  # data_version polls the count instead
                self.listen_mode = "listen"
                if self._listen_ready is not None:
                    self._listen_ready.set()
                backoff = 0.2
                async for _note in conn.notifies():
                    self._dirty = True  # which tenant committed is not said, nor needed
            except psycopg.Error:
                pass
            finally:
                self._listener = None
                with contextlib.suppress(Exception):
                    await conn.close()
            if not self._closed:
                await asyncio.sleep(backoff)

    async def _records(self, version: int, size: int) -> AsyncIterator[list[Row]]:
        # Keyset pages, each its own short transaction: a long read never holds the
        # connection, so the caller may use the store between batches.
        after = -1
        while True:
            async with self._tx() as conn:
                cur = conn.cursor(binary=True)
                await cur.execute(
                    f"select ord, kind, rid, body from {self._s}.scenario_records where version = %s and ord > %s "
                    "order by ord limit %s", (version, after, size),
                )
                rows = await cur.fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [(r[1], r[2], bytes(r[3])) for r in rows]
            if len(rows) < size:
                return

    async def close(self) -> None:
        self._closed = True
        task, self._listen_task = self._listen_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
        with contextlib.suppress(Exception):
            await self._conn.close()


async def install(location: str) -> tuple[int, int]:
    """Create or upgrade the shared store schema, explicitly, as the migration login.

    Returns (version before, version after). No tenant is seeded: an owner's own login,
    once mapped (`add_login`), seeds its tenant's store on first open. Run it directly
    against the server, not through a transaction pooler (it holds a session lock).
    """
    loc = parse_location(location)
    conn = await _connect(loc, "bfg-tui store install")
    store = PostgresStore(conn, loc, "-", lambda: "")
    try:
        user, read_only = await fetch_one(
            conn,
            "select session_user::text, pg_is_in_recovery() or current_setting('default_transaction_read_only') = 'on'"
        )
        store._user = user
        if read_only:
            raise StoreError(Reason.of("pgstore.read_only", where=loc.display))
        before = await store._schema_version(conn)
        store._check_newer(before)
        if before < SCHEMA_VERSION:
            await store._migrate()
        return before, await store._schema_version(conn)
    except psycopg.Error as exc:
        raise translate_error(exc, loc.display) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def install_schema(location: str) -> int:
    """`install`, returning only the version now installed."""
    return (await install(location))[1]
