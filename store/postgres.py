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
* **Writes.** One transaction each: lock the tenant's audit head row (`for update`,
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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
from psycopg import errors as pg_errors

from bfg_tui.canonical import SnapshotHasher
from bfg_tui.errors import AlreadyDone, Refused, StateMismatch, StoreError
from bfg_tui.models import Acceptance, ProbeResult, ScenarioInfo, SnapshotInfo, State
from bfg_tui.pg_roles import HYGIENE_SQL, hygiene_problem
from bfg_tui.runbook import APP_ROLE, MIGRATOR_ROLE

from . import replay
from .audit_chain import (
    GENESIS,
    accept_data,
    column_fault,
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
from .postgres_schema import (
    DEFAULT_SCHEMA,
    LOCK_CLASS,
    NOTIFY_CHANNEL,
    SCHEMA_VERSION,
    grants_sql,
    migration_sql,
    valid_schema,
)

if TYPE_CHECKING:
    from .sqlite import StoreInit

INSERT_BATCH = 20000
READ_BATCH = 20000
LOCK_TIMEOUT_MS = 5000  # how long a writer waits for another's transaction
CONNECT_TIMEOUT_S = 10
DEBOUNCE_S = 0.2  # at most one change-count read per interval, however many notifications
POLL_S = 0.5  # where LISTEN does not deliver (a transaction pooler): poll the count
LISTEN_CHECK_S = 1.0  # how long the nonce notification may take to prove LISTEN works
# The server clock in the chain's format (UTC, microseconds): the event's `at`.
SERVER_NOW_SQL = """select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

Clock = Callable[[], str]
Apply = Callable[[psycopg.AsyncConnection, int, str], Awaitable[None]]  # (conn, seq, at)


# ---------------------------------------------------------------- location


class PgLocation(NamedTuple):
    conninfo: str  # what libpq gets: no password, no `schema`
    schema: str
    display: str  # allowlisted endpoint + schema: the only form ever shown


def parse_location(location: str) -> PgLocation:
    """Split a store location into libpq conninfo and our schema; refuse passwords."""
    from bfg_tui.secrets import redact_endpoint

    text = (location or "").strip()
    if not text.startswith(("postgresql://", "postgres://")):
        raise StoreError("a PostgreSQL store location must start with postgresql://")
    try:
        shown = redact_endpoint(text)
    except ValueError as exc:  # fixed reasons that never quote the input
        raise StoreError(f"invalid PostgreSQL store location: {exc}") from None
    if ":***@" in shown:
        raise StoreError(
            f"{shown}: the store location carries a password; passwords come only from the "
            "environment (PGPASSWORD) or a pgpass file (PGPASSFILE, ~/.pgpass), never from the location"
        )
    base, _, query = text.partition("?")
    if "#" in query or "#" in base:
        raise StoreError(f"{shown}: a fragment (#…) is not allowed in the store location")
    schema = DEFAULT_SCHEMA
    kept: list[str] = []
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if key == "schema":
            schema = value
        elif pair:
            kept.append(pair)
    if not valid_schema(schema):
        raise StoreError(f"{shown}: schema must match [a-z_][a-z0-9_]* (at most 63 characters)")
    conninfo = base + ("?" + "&".join(kept) if kept else "")
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        raise StoreError(f"{shown}: not a valid PostgreSQL connection URI") from None
    if any(params.get(k) for k in ("password", "sslpassword")):
        raise StoreError(f"{shown}: the store location carries a password; use PGPASSWORD or a pgpass file")
    return PgLocation(conninfo, schema, f"{shown} (schema {schema})")


# ---------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    from bfg_tui.secrets import scan

    line = " ".join(str(text).split())
    if scan(line):
        return "(message withheld: it looked like it held a secret)"
    return line[:300]


def translate_error(exc: BaseException, where: str) -> StoreError:
    """A psycopg error as one line naming the store by its display form only."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    diag = getattr(exc, "diag", None)
    primary = _one_line((diag.message_primary if diag is not None else None) or str(exc))
    if sqlstate in ("55P03", "40P01") or isinstance(exc, pg_errors.LockNotAvailable):
        return StoreError(
            f"{where}: database is locked by another process (waited {LOCK_TIMEOUT_MS / 1000:g} s); try again"
        )
    if sqlstate == "25006":
        return StoreError(f"{where}: database is read-only; nothing was changed")
    if sqlstate == "42501":
        return StoreError(f"{where}: permission denied ({primary}); nothing was changed")
    if sqlstate in ("42P01", "42703", "42883", "3F000"):
        return StoreError(f"{where}: not a readable bfg-tui store ({primary})")
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(f"{where}: cannot reach the database: {primary}")
    return StoreError(f"{where}: database error: {primary}")


# ---------------------------------------------------------------- helpers


async def _aiter_rows(rows: Any) -> AsyncIterator[tuple[str, str, str | bytes]]:
    if hasattr(rows, "__aiter__"):
        async for batch in rows:
            for row in batch:
                yield row
    else:
        for row in rows:
            yield row


async def _connect(loc: PgLocation, name: str = "bfg-tui store") -> psycopg.AsyncConnection:
    try:
        # No prepared statements: a transaction pooler may run the next one on another server.
        return await psycopg.AsyncConnection.connect(
            loc.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name=name,
            prepare_threshold=None,
        )
    except psycopg.Error as exc:
        raise translate_error(exc, loc.display) from None


def _columns_differ(d: str) -> str:
    """True where an event's kind, actor or subject column is not the copy of its body (`d`, jsonb)."""
    return (
        f"({d}->>'kind' is distinct from e.kind or {d}->>'actor' is distinct from e.actor or "
        f"(case {d}->>'kind' when 'check.accept' then {d}->'data'->>'check' "
        f"when 'check.revoke' then {d}->'data'->>'check' "
        f"when 'probe.run' then 'probe:' || ({d}->'data'->>'probe') "
        f"when 'packet.export' then 'packet:' || ({d}->'data'->>'packet') "
        f"else (case when jsonb_typeof({d}->'data'->'subject') = 'string' then {d}->'data'->>'subject' "
        f"else '' end) end) is distinct from e.subject)"
    )


def _default_tenant() -> str:
    from bfg_tui.catalog import default_catalog

    return default_catalog().tenant_id


class PostgresStore:
    contract = CONTRACT

    def __init__(self, conn: psycopg.AsyncConnection, loc: PgLocation, tenant: str, clock: Clock) -> None:
        self._conn = conn
        self._loc = loc
        self.path = loc.display  # what messages (and the service) call the store
        self.schema = loc.schema
        self.tenant = tenant
        self.login_actor: str | None = None  # the actor the connected login is mapped to
        self.login = ""
        self._clock = clock
        self._at = ""  # the server's time of the write in progress
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
        cls, location: str, init: StoreInit | None, clock: Clock, *, tenant: str | None = None,
    ) -> PostgresStore:
        loc = parse_location(location)
        tenant = tenant if tenant is not None else _default_tenant()
        if not tenant or len(tenant) > 64 or not tenant.isprintable():
            raise StoreError(f"{loc.display}: invalid tenant id")
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
        row = await (await conn.execute(HYGIENE_SQL)).fetchone()
        user = row[0]
        problem = hygiene_problem(row)
        if problem:
            raise StoreError(f"{self.path}: {problem}; the shared store runs only as an owner's own login "
                             "(a member of bfg_app, mapped with `bfg-tui store add-login`)")
        self.read_only = bool(row[5])
        self._user = self.login = user
        version = await self._schema_version(conn)
        self._check_newer(version)
        if version == 0:
            raise StoreError(f"{self.path}: no store here (schema {self._s} does not exist); install it with "
                             "`bfg-tui store install --db …` as the migration login")
        if version < SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema version {version} needs an upgrade to {SCHEMA_VERSION}; "
                             "run `bfg-tui store install --db …` as the migration login")
        owner = (await (await conn.execute(
            "select o.rolname::text from pg_class c join pg_roles o on o.oid = c.relowner "
            "where c.oid = to_regclass(%s) and pg_has_role(session_user, c.relowner, 'MEMBER')",
            (f"{self._s}.audit_events",),
        )).fetchone())
        if owner:
            raise StoreError(
                f"{self.path}: {user} is a member of {owner[0]}, which owns the store's tables (the migration "
                "login): it is for `bfg-tui store install` and `store add-login` only; use an owner's own login"
            )
        mapped = await (await conn.execute(
            f"select tenant_id, actor from {self._s}.logins where login = session_user::text"
        )).fetchone()
        if mapped is None:
            raise StoreError(f"{self.path}: login {user} is not mapped to an actor; the migrator maps it with "
                             f"`bfg-tui store add-login ACTOR {user}`")
        if mapped[0] != self.tenant:
            raise StoreError(f"{self.path}: login {user} belongs to tenant {mapped[0]}, not {self.tenant}")
        self.login_actor = mapped[1]
        await self._ensure_seeded(init)

    async def _schema_version(self, conn: psycopg.AsyncConnection) -> int:
        exists = (await (await conn.execute(
            "select to_regclass(%s) is not null", (f"{self._s}.schema_version",)
        )).fetchone())[0]
        if not exists:
            return 0
        row = await (await conn.execute(f"select version from {self._s}.schema_version")).fetchone()
        return int(row[0]) if row else 0

    def _check_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema version {version} is newer than this bfg-tui understands "
                f"({SCHEMA_VERSION}); upgrade bfg-tui"
            )

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
                migrator, app = await (await conn.execute(
                    "select case when exists (select 1 from pg_roles where rolname = %(m)s) "
                    "then pg_has_role(current_user, %(m)s, 'MEMBER') else false end, "
                    "exists (select 1 from pg_roles where rolname = %(a)s)",
                    {"m": MIGRATOR_ROLE, "a": APP_ROLE},
                )).fetchone()
                if not migrator:
                    raise StoreError(
                        f"{self.path}: {self._user} is not a member of {MIGRATOR_ROLE}; install or upgrade the "
                        "store with the migration login"
                    )
                # Objects owned by the migration role, as the runbook's are.
                await conn.execute(f"set local role {MIGRATOR_ROLE}")
                if version == 0:
                    await conn.execute(f"create schema if not exists {s}")
                for step in range(version, SCHEMA_VERSION):
                    await conn.execute(migration_sql(step, s))
                if app:
                    await conn.execute(grants_sql(s, APP_ROLE))
                await conn.execute(
                    f"insert into {s}.schema_version(version) values (%s) on conflict (singleton) "
                    "do update set version = excluded.version, migrated_at = now()", (SCHEMA_VERSION,),
                )
        except pg_errors.InsufficientPrivilege:
            what = "does not exist" if version == 0 else f"is at version {version} and needs {SCHEMA_VERSION}"
            raise StoreError(
                f"{self.path}: the shared store schema {what}, and {self._user} may not create or upgrade it; "
                "open the store once with the migration login (it owns the schema), then use the app login"
            ) from None
        except pg_errors.DuplicateTable:
            raise StoreError(f"{self.path}: schema {s} holds tables that are not a bfg-tui store") from None
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
                    await self._upgrade_tenant(conn)
                return
            if init is None:
                raise StoreError(f"{self.path}: no store here for tenant {self.tenant}")
            if self.read_only:
                raise StoreError(f"{self.path}: database is read-only and holds no store for tenant {self.tenant}")
            # Concurrent first opens: one seeds, the others wait here and find it seeded.
            await conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))",
                               (LOCK_CLASS, f"seed:{s}/{self.tenant}"))
            if await (await conn.execute(f"select 1 from {s}.audit_head")).fetchone():
                return
            await self._seed(conn, init)

    async def _seed(self, conn: psycopg.AsyncConnection, init: StoreInit) -> None:
        s = self._s
        self._at = (await (await conn.execute(SERVER_NOW_SQL)).fetchone())[0]
        meta = {
            "contract": CONTRACT,
            "target_adapter": init.target_adapter,
            "fallback_adapter": init.fallback_adapter,
            "last_change_seq": "0",
            "last_release_export_seq": "0",
            "connection_endpoint": "",
            "created_at": self._at,
        }
        async with conn.cursor() as cur:
            await cur.executemany(f"insert into {s}.meta(key, value) values (%s, %s)", list(meta.items()))
        await conn.execute(f"insert into {s}.audit_head(count, head) values (0, %s)", (GENESIS,))
        seed = init.seed()
        count, kinds = await self._insert_records(conn, 0, seed.rows)
        await conn.execute(
            f"insert into {s}.scenarios(version, saved_at, actor, source, records, kind_counts) "
            "values (0, null, null, %s, %s, %s)",
            (seed.source, count, json.dumps(kinds, sort_keys=True)),
        )
        data = create_data(CONTRACT, count, seed.source, kinds, init.target_adapter, init.fallback_adapter)
        await self._append(conn, 0, GENESIS, "store.create", init.system, data, meta["created_at"], change=False)
        await self._seal(conn)
        await self._notify(conn)

    async def _upgrade_tenant(self, conn: psycopg.AsyncConnection) -> None:
        """A tenant written before the trail could rebuild the state: the upgrade attests its tables.

        Only a tenant created by that older version qualifies (its store.create event has
        no kind counts); a digest cleared by hand on a newer tenant is left to fail the check.
        """
        s = self._s
        count, prev = await (await conn.execute(f"select count, head from {s}.audit_head for update")).fetchone()
        first = await (await conn.execute(f"select body from {s}.audit_events where seq = 1")).fetchone()
        if first is None or "kind_counts" in json.loads(bytes(first[0])).get("data", {}):
            return
        tables = await self._stored_tables(conn)
        # Attested by the login that opened it first: the database lets a login write only
        # in its own actor's name (only the genesis event is by `system`).
        opener = ActorContext(self.login_actor or "system", auth_mode="store-upgrade", self_asserted=False)
        self._at = (await (await conn.execute(SERVER_NOW_SQL)).fetchone())[0]
        await self._append(conn, int(count), str(prev), "store.upgrade", opener, upgrade_data(1, tables),
                           self._at, change=False)
        await self._seal(conn)
        await self._notify(conn)

    # ------------------------------------------------------------- internals

    @contextlib.asynccontextmanager
    async def _tx(self, *, snapshot: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
        """One transaction on the store connection; the tenant is the login's (RLS)."""
        async with self._lock:
            if self._closed:
                raise StoreError(f"{self.path}: the store is closed")
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

    async def _insert_records(self, conn: psycopg.AsyncConnection, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        # COPY FROM is refused for roles under RLS; unnest() inserts a batch in one statement.
        sql = (f"insert into {self._s}.scenario_records(version, ord, kind, rid, body) "
               "select %s, * from unnest(%b::int4[], %b::text[], %b::text[], %b::bytea[])")
        kinds: dict[str, int] = {}
        count = 0
        ords: list[int] = []
        ks: list[str] = []
        rids: list[str] = []
        bodies: list[bytes] = []
        async for kind, rid, body in _aiter_rows(rows):
            ords.append(count)
            ks.append(kind)
            rids.append(rid)
            bodies.append(body.encode("utf-8") if isinstance(body, str) else bytes(body))
            kinds[kind] = kinds.get(kind, 0) + 1
            count += 1
            if len(ords) >= INSERT_BATCH:
                await conn.execute(sql, (version, ords, ks, rids, bodies))
                ords, ks, rids, bodies = [], [], [], []
        if ords:
            await conn.execute(sql, (version, ords, ks, rids, bodies))
        return count, kinds

    async def _set_meta(self, conn: psycopg.AsyncConnection, key: str, value: str) -> None:
        await conn.execute(
            f"insert into {self._s}.meta(key, value) values (%s, %s) "
            "on conflict (tenant_id, key) do update set value = excluded.value", (key, value),
        )

    async def _append(
        self, conn: psycopg.AsyncConnection, count: int, prev: str, kind: str, ctx: ActorContext,
        data: dict[str, Any], at: str, *, change: bool,
    ) -> int:
        seq = count + 1  # the server's next; the trigger refuses any other
        body = event_body(seq=seq, prev=prev, at=at, kind=kind, ctx=ctx, data=data)
        digest = event_hash(body)
        signature = await event_signature(ctx, body)
        # The searchable columns are copies of the body's fields (verify checks them).
        await conn.execute(
            f"insert into {self._s}.audit_events(seq, hash, body, kind, actor, subject, signature) "
            "values (%s, %s, %b, %s, %s, %s, %s)",
            (seq, digest, body.encode("utf-8"), kind, ctx.actor_id, replay.subject_of(kind, data), signature),
        )
        await conn.execute(f"update {self._s}.audit_head set count = %s, head = %s", (seq, digest))
        if change:
            await self._set_meta(conn, "last_change_seq", str(seq))
        return seq

    async def _notify(self, conn: psycopg.AsyncConnection) -> None:
        # An empty payload: any login may LISTEN on any channel, so it must say nothing.
        await conn.execute("select pg_notify(%s, '')", (NOTIFY_CHANNEL,))

    async def _seal(self, conn: psycopg.AsyncConnection) -> None:
        """Record in the head the digest of the state as now stored (same transaction as the event)."""
        state = await self._read_state(conn, check=False)
        await conn.execute(f"update {self._s}.audit_head set state_digest = %s", (replay.state_digest(state),))

    async def _stored_tables(self, conn: psycopg.AsyncConnection) -> replay.Tables:
        rows = {}
        for table, columns in replay.STORED_COLUMNS.items():
            rows[table] = await (await conn.execute(f"select {columns} from {self._s}.{table}")).fetchall()
        return replay.tables_from_rows(rows)

    async def _write(
        self, kind: str, ctx: ActorContext, data: dict[str, Any], *,
        apply: Apply | None = None, idem: str | None = None, idem_args: dict[str, Any] | None = None,
    ) -> int:
        """One atomic change: lock the head, idempotency check, state check, apply, audit, seal, notify, commit."""
        if self.read_only:
            raise StoreError(f"{self.path}: database is read-only; nothing was changed")
        s = self._s
        async with self._tx() as conn:
            # The head row lock serialises every writer of this tenant, in every process.
            row = await (await conn.execute(f"select count, head from {s}.audit_head for update")).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no store here for tenant {self.tenant}")
            count, prev = int(row[0]), str(row[1])
            binding = idem_binding(kind, ctx.actor_id, idem_args or {}) if idem else None
            # The server's clock, read under the lock: later than every earlier event.
            self._at = (await (await conn.execute(SERVER_NOW_SQL)).fetchone())[0]
            if idem:
                done = await (await conn.execute(f"select event_seq, binding from {s}.idempotency where key = %s",
                                                 (idem,))).fetchone()
                if done:
                    if done[1] == binding:
                        raise AlreadyDone(idem, int(done[0]))
                    raise idem_refusal(idem, int(done[0]), kind, str(data.get("check", "")))
            # Never build on a state that is not the trail's: that would bless a forgery.
            await self._read_state(conn)
            at = self._at
            if apply is not None:
                await apply(conn, count + 1, at)
            seq = await self._append(conn, count, prev, kind, ctx, data, at, change=kind in CHANGE_KINDS)
            if idem:
                await conn.execute(f"insert into {s}.idempotency(key, event_seq, binding) values (%s, %s, %s)",
                                   (idem, seq, binding))
            await self._seal(conn)
            await self._notify(conn)
        return seq

    # ------------------------------------------------------------------ reads

    async def load_state(self) -> State:
        async with self._tx(snapshot=True) as conn:
            return await self._read_state(conn)

    async def _read_state(self, conn: psycopg.AsyncConnection, *, check: bool = True) -> State:
        """The state the engine reads; with `check`, refused unless it is the trail's (digest in the head)."""
        s = self._s
        meta = dict(await (await conn.execute(f"select key, value from {s}.meta")).fetchall())
        v, saved_at, actor, records, kinds = await (await conn.execute(
            f"select version, saved_at, actor, records, kind_counts from {s}.scenarios "
            "order by version desc limit 1"
        )).fetchone()
        snap = await (await conn.execute(
            f"select id, rows, digest, frozen_at, kind_counts from {s}.snapshots order by id desc limit 1"
        )).fetchone()
        acc_rows = await (await conn.execute(
            f"select check_id, actor, note, value, snapshot_digest, countersign, at, event_seq, key from {s}.acceptances"
        )).fetchall()
        # The roster's first event turns the store from demo to signed identity.
        roster_seq = (await (await conn.execute(
            f"select min(seq) from {s}.audit_events where subject = 'roster'"
        )).fetchone())[0] or 0
        probe_rows = await (await conn.execute(
            f"select check_id, passed, target_kind, endpoint, detail, run_id, snapshot_digest, tls, "
            f"credentials_external, at, event_seq, fingerprint from {s}.probe_results"
        )).fetchall()
        count, head, digest = await (await conn.execute(
            f"select count, head, state_digest from {s}.audit_head")).fetchone()
        snapshot = None
        if snap:
            snapshot = SnapshotInfo(snap[0], snap[1], snap[2], snap[3], json.loads(snap[4]))
        state = State(
            store_contract=meta.get("contract", ""),
            target_adapter=meta.get("target_adapter") or None,
            fallback_adapter=meta.get("fallback_adapter") or None,
            scenario=ScenarioInfo(v, saved_at, records, json.loads(kinds)),
            snapshot=snapshot,
            acceptances={r[0]: Acceptance(r[0], r[1], r[6], r[7], r[2], r[3], r[4], bool(r[5]), r[8])
                         for r in acc_rows},
            probes={r[0]: ProbeResult(r[0], bool(r[1]), r[2], r[3], r[4], r[5], r[9], r[10], r[6], bool(r[7]),
                                      bool(r[8]), r[11]) for r in probe_rows},
            connection_endpoint=meta.get("connection_endpoint") or None,
            last_change_seq=int(meta.get("last_change_seq", "0")),
            last_release_export_seq=int(meta.get("last_release_export_seq", "0")),
            audit_count=count,
            audit_head=head,
            last_save_actor=actor,
            identity="signed" if roster_seq else "demo",
            roster_seq=roster_seq,
        )
        if check and replay.state_digest(state) != digest:
            raise StateMismatch(replay.MISMATCH)
        return state

    async def store_id(self) -> str:
        """No file to copy here: a probe target is compared by server, database and schema."""
        return ""

    def server_key(self) -> tuple[str, str, str]:
        """(host, port, database) of this store's server, for telling a probe target apart."""
        from bfg_tui.probes.own_store import pg_server_key

        return pg_server_key(self._loc.conninfo)

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

    async def audit_head(self) -> tuple[int, str]:
        async with self._tx() as conn:
            row = await (await conn.execute(f"select count, head from {self._s}.audit_head")).fetchone()
        return int(row[0]), str(row[1])

    @staticmethod
    def _event(row: tuple[int, str, bytes, str | None]) -> AuditEvent:
        seq, digest, body, signature = row
        text = bytes(body).decode("utf-8")
        doc = json.loads(text)
        return AuditEvent(seq, doc["at"], doc["kind"], doc["actor"], doc["data"], doc["auth"], digest, doc["prev"],
                          signature, text)

    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[AuditEvent]:
        """Newest first; `text` filters on kind, actor or subject (substring, case-insensitive)."""
        s = self._s
        async with self._tx() as conn:
            if text:
                like = like_substring(text)
                rows = await (await conn.execute(
                    f"select seq, hash, body, signature from {s}.audit_events where kind ilike %s escape '\\' "
                    "or actor ilike %s escape '\\' or subject ilike %s escape '\\' order by seq desc limit %s offset %s",
                    (like, like, like, limit, offset),
                )).fetchall()
            else:
                rows = await (await conn.execute(
                    f"select seq, hash, body, signature from {s}.audit_events order by seq desc limit %s offset %s",
                    (limit, offset),
                )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_count(self, text: str = "") -> int:
        if not text:
            return (await self.audit_head())[0]
        like = like_substring(text)
        async with self._tx() as conn:
            row = await (await conn.execute(
                f"select count(*) from {self._s}.audit_events where kind ilike %s escape '\\' "
                "or actor ilike %s escape '\\' or subject ilike %s escape '\\'", (like, like, like),
            )).fetchone()
        return int(row[0])

    async def check_history(self, check_id: str, limit: int = 50) -> list[AuditEvent]:
        async with self._tx() as conn:
            rows = await (await conn.execute(
                f"select seq, hash, body, signature from {self._s}.audit_events where subject = %s order by seq desc limit %s",
                (check_id, limit),
            )).fetchall()
        return [self._event(r) for r in rows]

    async def audit_verify(self) -> VerifyResult:
        s = self._s
        async with self._tx(snapshot=True) as conn:
            count, head, sealed = await (await conn.execute(
                f"select count, head, state_digest from {s}.audit_head")).fetchone()
            bodies: list[bytes] = []
            hashes: list[str] = []
            differ: list[bool] = []
            async with conn.cursor(name="bfg_audit_verify", binary=True) as cur:
                await cur.execute(
                    f"select e.body, e.hash, {_columns_differ('j.d')} from {s}.audit_events e "
                    "cross join lateral (select convert_from(e.body, 'UTF8')::jsonb as d) j order by e.seq")
                while True:
                    batch = await cur.fetchmany(50000)
                    if not batch:
                        break
                    bodies.extend(bytes(b[0]) for b in batch)
                    hashes.extend(b[1] for b in batch)
                    differ.extend(b[2] for b in batch)
            stored: dict[int, tuple[str, bytes]] = {}
            joined = "".join(hashes).encode("ascii", "replace")
            result = verify_chain(bodies, count, head, stored.get, hashes=joined)
            if not result.ok and result.first_bad_seq:
                # Slow path, failures only: fetch the neighbours to name the fault precisely.
                rows = await (await conn.execute(
                    f"select seq, hash, body from {s}.audit_events where seq between %s and %s",
                    (result.first_bad_seq - 1, result.first_bad_seq),
                )).fetchall()
                stored.update({seq: (digest, bytes(body)) for seq, digest, body in rows})
                result = verify_chain(bodies, count, head, stored.get, hashes=joined)
            elif any(differ):
                seq = differ.index(True) + 1
                row = await (await conn.execute(
                    f"select kind, actor, subject, body from {s}.audit_events where seq = %s", (seq,))).fetchone()
                result = column_fault(seq, (row[0], row[1], row[2]), bytes(row[3]), count, head)
            else:
                result = await self._state_fault(conn, count, head, sealed)
        return result

    async def _state_fault(self, conn: psycopg.AsyncConnection, count: int, head: str, digest: str) -> VerifyResult:
        """Replay the trail and compare every state table with it, then the head's digest."""
        s = self._s
        kinds = list(replay.STATE_KINDS)
        rows = await (await conn.execute(
            f"select body from {s}.audit_events where kind = any(%s) or seq in (select max(seq) from "
            f"{s}.audit_events where kind = any(%s) group by subject) order by seq",
            (kinds, list(replay.ACCEPTANCE_KINDS)),
        )).fetchall()
        try:
            trail = replay.replay(bytes(r[0]) for r in rows)
        except replay.ReplayFault as fault:
            return VerifyResult(False, count, head, str(fault), fault.seq)
        return state_fault(trail, await self._stored_tables(conn), count, head, digest)

    async def signed_rows(self) -> AsyncIterator[list[tuple[int, bytes, str | None]]]:
        """(seq, body, signature) batches in seq order, for checking the signatures."""
        async with self._tx(snapshot=True) as conn, conn.cursor(name="bfg_signed_rows", binary=True) as cur:
            await cur.execute(f"select seq, body, signature from {self._s}.audit_events order by seq")
            while True:
                batch = await cur.fetchmany(50000)
                if not batch:
                    break
                yield [(seq, bytes(body), signature) for seq, body, signature in batch]

    async def roster_events(self) -> list[tuple[int, str, dict[str, Any]]]:
        async with self._tx() as conn:
            rows = await (await conn.execute(
                f"select seq, kind, body from {self._s}.audit_events where subject = 'roster' order by seq"
            )).fetchall()
        return [(seq, kind, json.loads(bytes(body))["data"]) for seq, kind, body in rows]

    async def _pages(self, version: int, size: int) -> AsyncIterator[list[tuple[str, str, bytes]]]:
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

    async def snapshot_batches(self, snapshot_id: int, size: int = 20000) -> AsyncIterator[list[tuple[str, str, bytes]]]:
        async with self._tx() as conn:
            row = await (await conn.execute(
                f"select scenario_version from {self._s}.snapshots where id = %s", (snapshot_id,)
            )).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: snapshot {snapshot_id} does not exist")
        async for batch in self._pages(row[0], size):
            yield batch

    async def scenario_rows(self, version: int | None = None) -> AsyncIterator[list[tuple[str, str, bytes]]]:
        """(kind, id, body) batches of a scenario version (the latest by default)."""
        if version is None:
            async with self._tx() as conn:
                version = (await (await conn.execute(f"select max(version) from {self._s}.scenarios")).fetchone())[0]
        async for batch in self._pages(version, READ_BATCH):
            yield batch

    async def probe_run(self, run_id: str) -> ProbeRunRecord | None:
        async with self._tx() as conn:
            row = await (await conn.execute(
                f"select run_id, probe, target_kind, endpoint, started_at, finished_at, steps, transcript, "
                f"snapshot_digest, facts from {self._s}.probe_runs where run_id = %s", (run_id,)
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
        async with self._tx() as conn:
            rows = await (await conn.execute(
                f"select run_id, probe, endpoint, passed, finished_at from {self._s}.probe_runs "
                "order by event_seq desc limit %s", (limit,)
            )).fetchall()
        return [(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    # ----------------------------------------------------------------- writes

    async def save_scenario(self, payload: ScenarioPayload, ctx: ActorContext, idem: str | None = None) -> int:
        result: dict[str, Any] = {}
        s = self._s

        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            version = (await (await conn.execute(f"select max(version) from {s}.scenarios")).fetchone())[0] + 1
            count, kinds = await self._insert_records(conn, version, payload.rows)
            await conn.execute(
                f"insert into {s}.scenarios(version, saved_at, actor, source, records, kind_counts) "
                "values (%s, %s, %s, %s, %s, %s)",
                (version, at, ctx.actor_id, payload.source, count, json.dumps(kinds, sort_keys=True)),
            )
            # Keep only the new version and the one the latest snapshot reads from.
            await conn.execute(
                f"delete from {s}.scenario_records where version <> %s and version not in "
                f"(select scenario_version from {s}.snapshots order by id desc limit 1)", (version,),
            )
            result.update(save_data(version, count, payload.source, kinds))

        return await self._write("scenario.save", ctx, result, apply=apply, idem=idem,
                                 idem_args={"source": payload.origin or payload.source})

    async def freeze_snapshot(self, ctx: ActorContext, session: str, tenant: str) -> SnapshotInfo:
        info: dict[str, Any] = {}
        data: dict[str, Any] = {}
        s = self._s

        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            version, saved_at, records, kinds = await (await conn.execute(
                f"select version, saved_at, records, kind_counts from {s}.scenarios order by version desc limit 1"
            )).fetchone()
            if saved_at is None:
                raise Refused("no scenario saved yet: run `bfg-tui scenario save` first", action="snapshot.freeze")
            if records == 0:
                raise Refused("the scenario holds no records: an empty snapshot cannot be frozen", action="snapshot.freeze")
            hasher = SnapshotHasher(session=session, tenant=tenant)
            # The stored canonical bytes, in canonical order: never a re-encoding.
            async with conn.cursor(name="bfg_freeze", binary=True) as cur:
                await cur.execute(f"select body from {s}.scenario_records where version = %s order by ord", (version,))
                while True:
                    batch = await cur.fetchmany(50000)
                    if not batch:
                        break
                    hasher.add_many(bytes(b[0]) for b in batch)
            digest = hasher.hexdigest()
            sid = (await (await conn.execute(f"select coalesce(max(id), 0) + 1 from {s}.snapshots")).fetchone())[0]
            await conn.execute(
                f"insert into {s}.snapshots(id, scenario_version, rows, digest, kind_counts, frozen_at, actor, event_seq) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (sid, version, hasher.rows, digest, kinds, at, ctx.actor_id, seq),
            )
            info.update(id=sid, rows=hasher.rows, digest=digest, at=at, kinds=json.loads(kinds))
            data.update(freeze_data(sid, hasher.rows, digest, version, json.loads(kinds)))

        await self._write("snapshot.freeze", ctx, data, apply=apply)
        return SnapshotInfo(info["id"], info["rows"], info["digest"], info["at"], info["kinds"])

    async def accept(
        self, check_id: str, ctx: ActorContext, *, note: str, value: str | None,
        snapshot_digest: str | None, countersign: bool, idem: str | None = None,
    ) -> int:
        data = accept_data(check_id, note, value, snapshot_digest, countersign)

        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            await conn.execute(
                f"insert into {self._s}.acceptances(check_id, actor, note, value, snapshot_digest, countersign, at, "
                "event_seq, key) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (tenant_id, check_id) do update "
                "set actor = excluded.actor, note = excluded.note, value = excluded.value, "
                "snapshot_digest = excluded.snapshot_digest, countersign = excluded.countersign, at = excluded.at, "
                "event_seq = excluded.event_seq, key = excluded.key",
                (check_id, ctx.actor_id, note, value, snapshot_digest, bool(countersign), at, seq, ctx.key or None),
            )

        return await self._write("check.accept", ctx, data, apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note, "value": value})

    async def revoke(self, check_id: str, ctx: ActorContext, *, note: str, idem: str | None = None) -> int:
        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            cur = await conn.execute(f"delete from {self._s}.acceptances where check_id = %s", (check_id,))
            if cur.rowcount == 0:
                raise Refused(f"{check_id} is not accepted; nothing to revoke", action="check.revoke", subject=check_id)

        return await self._write("check.revoke", ctx, revoke_data(check_id, note), apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note})

    async def record_probe(self, run: ProbeRunRecord, ctx: ActorContext) -> int:
        fingerprint = (run.facts or {}).get("fingerprint")
        data = probe_data(run)
        s = self._s

        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            await conn.execute(
                f"insert into {s}.probe_runs(run_id, probe, target_kind, endpoint, passed, started_at, finished_at, "
                "snapshot_digest, facts, steps, transcript, event_seq) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (run.run_id, run.probe, run.target_kind, run.endpoint, run.passed, run.started_at,
                 run.finished_at, run.snapshot_digest, probe_facts_json(run),
                 json.dumps([st._asdict() for st in run.steps]), probe_transcript_json(run), seq),
            )
            row = await (await conn.execute(
                f"select value from {s}.meta where key = 'connection_endpoint'")).fetchone()
            selected = (row[0] if row else "") or None
            holds = bool((await (await conn.execute(
                f"select count(*) from {s}.probe_results where passed and endpoint = %s", (selected or "",))).fetchone())[0])
            if not replaces_evidence(selected, holds, run.endpoint, run.passed):
                return
            async with conn.cursor() as cur:
                await cur.executemany(
                    f"insert into {s}.probe_results(check_id, passed, target_kind, endpoint, detail, run_id, "
                    "snapshot_digest, tls, credentials_external, at, event_seq, fingerprint) "
                    "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (tenant_id, check_id) do update "
                    "set passed = excluded.passed, target_kind = excluded.target_kind, endpoint = excluded.endpoint, "
                    "detail = excluded.detail, run_id = excluded.run_id, snapshot_digest = excluded.snapshot_digest, "
                    "tls = excluded.tls, credentials_external = excluded.credentials_external, at = excluded.at, "
                    "event_seq = excluded.event_seq, fingerprint = excluded.fingerprint",
                    [(st.check_id, st.passed, run.target_kind, run.endpoint, st.detail, run.run_id,
                      run.snapshot_digest, run.tls, run.credentials_external, run.finished_at, seq, fingerprint)
                     for st in run.steps],
                )
            if run.probe == "connection":
                await self._set_meta(conn, "connection_endpoint", run.endpoint)

        return await self._write("probe.run", ctx, data, apply=apply)

    async def record_export(self, packet: str, fmt: str, destination: str, digest: str, ctx: ActorContext) -> int:
        s = self._s

        async def apply(conn: psycopg.AsyncConnection, seq: int, at: str) -> None:
            eid = (await (await conn.execute(f"select coalesce(max(id), 0) + 1 from {s}.exports")).fetchone())[0]
            await conn.execute(
                f"insert into {s}.exports(id, packet, format, destination, digest, at, actor, event_seq) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (eid, packet, fmt, destination, digest, at, ctx.actor_id, seq),
            )
            if packet == "release":
                await self._set_meta(conn, "last_release_export_seq", str(seq))

        data = export_data(packet, fmt, destination, digest)
        return await self._write("packet.export", ctx, data, apply=apply)

    async def record_refusal(self, action: str, subject: str, reason: str, ctx: ActorContext) -> int:
        data = refusal_data(action, subject, reason)
        return await self._write("action.refused", ctx, data)

    async def record_event(self, kind: str, data: dict[str, Any], ctx: ActorContext) -> int:
        return await self._write(kind, ctx, data)

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
        user, read_only = await (await conn.execute(
            "select session_user::text, pg_is_in_recovery() or current_setting('default_transaction_read_only') = 'on'"
        )).fetchone()
        store._user = user
        if read_only:
            raise StoreError(f"{loc.display}: database is read-only")
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
