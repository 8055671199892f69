"""The shared store knows who is connected: one login per owner, enforced by the database.

Every check here runs as an owner's own login (a member of bfg_app), never as the owner
of the tables or a superuser; the superuser only reads evidence where a test says so.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.errors import Refused
from bfg_tui.service import Console, _store_init, open_store
from tests.helpers import ROOT
from tests.helpers.backends import Backend, map_logins, pg_backend, with_schema
from tests.helpers.pg_server import ACTOR_LOGINS, CREATEROLE_LOGIN, INDIRECT_LOGIN, OTHER_TENANT_LOGIN, PgServer

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")

from bfg_tui.store.audit_chain import GENESIS, event_body, event_hash  # noqa: E402
from bfg_tui.store.base import ActorContext, ProbeRunRecord, StepRecord  # noqa: E402
from bfg_tui.store.postgres import PostgresStore  # noqa: E402
from bfg_tui.store.postgres_schema import SCHEMA_VERSION, TENANT_TABLES  # noqa: E402

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
CATALOG = default_catalog()
SETTINGS = ("bfg.tenant_id", "app.tenant_id", "app.current_tenant", "request.jwt.claim.tenant_id")


@pytest.fixture
async def two_tenants(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Backend]:
    """Tenant bfg (every actor's login, with data) and tenant_b (bfg_other_login, with data)."""
    from bfg_tui.clock import utc_now

    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg_server, monkeypatch) as backend:
        map_logins(pg_server, backend.schema, {ANNA: OTHER_TENANT_LOGIN}, tenant="tenant_b")
        other = await PostgresStore.open(with_schema(pg_server.login_dsn(OTHER_TENANT_LOGIN), backend.schema),
                                         _store_init(CATALOG), utc_now, tenant="tenant_b")
        bfg = await backend.console()
        try:
            b = Console(other, CATALOG)
            await b.save_scenario(ANNA)
            await b.freeze(ANNA)
            await b.accept(ANNA, "transition.contracts_frozen", idem="k-1")
            await b.export(ANNA, "release")
            await other.record_probe(ProbeRunRecord(
                "run-tenant-b", "connection", "sqlite", "file:target.db", "2026-01-01T00:00:00.000000Z",
                "2026-01-01T00:00:01.000000Z", (StepRecord("connection.endpoint_reachability", True, "ok"),), ("ok",)),
                ActorContext(ANNA), selects_target=True)
            await bfg.accept(OLENA, "transition.db_schema")
        finally:
            await other.close()
            await bfg.close()
        yield backend


def _counts(conn: psycopg.Connection, schema: str, tenant: str) -> dict[str, int]:
    return {t: conn.execute(f"select count(*) from {schema}.{t} where tenant_id = %s", (tenant,)).fetchone()[0]
            for t in TENANT_TABLES}


def test_no_custom_setting_reaches_another_tenant(two_tenants: Backend, pg_server: PgServer) -> None:
    s = two_tenants.schema
    with pg_server.connect("admin") as admin:  # evidence only: tenant_b does hold rows in every table
        held = _counts(admin, s, "tenant_b")
    assert all(held.values()), held
    with pg_server.connect(ACTOR_LOGINS[OLENA]) as conn:
        for setting in SETTINGS:
            # Per session...
            conn.execute("select set_config(%s, 'tenant_b', false)", (setting,))
            conn.commit()
            assert _counts(conn, s, "tenant_b") == dict.fromkeys(TENANT_TABLES, 0), setting
            # ...and mid-transaction, after reading the own tenant.
            assert conn.execute(f"select count(*) from {s}.audit_events").fetchone()[0] == 2
            conn.execute("select set_config(%s, 'tenant_b', true)", (setting,))
            assert _counts(conn, s, "tenant_b") == dict.fromkeys(TENANT_TABLES, 0), setting
            assert conn.execute(f"select count(*) from {s}.logins").fetchone()[0] == 1  # its own mapping only
            for table in TENANT_TABLES:
                # Wherever the app may update or delete at all (audit_events: neither), it reaches no row of B.
                if conn.execute("select has_table_privilege(%s, 'UPDATE')", (f"{s}.{table}",)).fetchone()[0]:
                    assert conn.execute(f"update {s}.{table} set tenant_id = tenant_id where tenant_id = 'tenant_b'"
                                        ).rowcount == 0, table
                if conn.execute("select has_table_privilege(%s, 'DELETE')", (f"{s}.{table}",)).fetchone()[0]:
                    assert conn.execute(f"delete from {s}.{table} where tenant_id = 'tenant_b'").rowcount == 0, table
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(f"insert into {s}.meta(tenant_id, key, value) values ('tenant_b', 'x', 'y')")
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(f"update {s}.meta set tenant_id = 'tenant_b' where key = 'contract'")
            conn.rollback()
    with pg_server.connect("admin") as admin:
        assert _counts(admin, s, "tenant_b") == held  # nothing written
    with pg_server.connect("app") as conn:  # a login with no mapping sees nothing at all
        conn.execute("select set_config('bfg.tenant_id', 'bfg', false)")
        assert all(conn.execute(f"select count(*) from {s}.{t}").fetchone()[0] == 0 for t in TENANT_TABLES)


def _next_event(conn: psycopg.Connection, s: str, actor: str, kind: str = "check.accept") -> tuple[int, str, bytes]:
    """An event body exactly as the store builds it: the server's next seq and clock."""
    count, head = conn.execute(f"select count, head from {s}.audit_head for update").fetchone()
    at = conn.execute("""select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
                      ).fetchone()[0]
    body = event_body(seq=count + 1, prev=head, at=at, kind=kind, ctx=ActorContext(actor),
                      data={"check": "transition.db_schema", "note": "", "value": None, "snapshot_digest": None,
                            "countersign": False})
    return count + 1, at, body.encode()


def test_olenas_login_cannot_write_an_event_in_annas_name(two_tenants: Backend, pg_server: PgServer) -> None:
    s = two_tenants.schema
    with pg_server.connect(ACTOR_LOGINS[OLENA]) as conn:
        seq, _at, body = _next_event(conn, s, ANNA)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(f"insert into {s}.audit_events(seq, hash, body, kind, actor) values (%s, %s, %s, %s, %s)",
                         (seq, event_hash(body.decode()), body, "check.accept", OLENA))  # the column lies too
        conn.rollback()
        # Her own name goes in: the database and the body agree on who wrote it.
        seq, _at, body = _next_event(conn, s, OLENA)
        conn.execute(f"insert into {s}.audit_events(seq, hash, body, kind, actor) values (%s, %s, %s, %s, %s)",
                     (seq, "x", body, "x", "x"))
        assert conn.execute(f"select actor, kind, hash from {s}.audit_events where seq = %s", (seq,)).fetchone() == (
            OLENA, "check.accept", event_hash(body.decode()))
        conn.rollback()


async def test_the_console_acts_as_the_logins_actor(two_tenants: Backend) -> None:
    console = Console(await open_store(two_tenants.at(OLENA), CATALOG), CATALOG)
    try:
        assert console.login_actor == OLENA
        with pytest.raises(Refused, match=f"login bfg_olena_login acts as {OLENA}; --as {ANNA} refused"):
            await console.accept(ANNA, "transition.contracts_frozen")
        out = await console.accept(None, "transition.secrets_and_auth")  # no --as: the login's actor
        assert "accepted by user_accountant_olena" in out.message
        events = await console.store.audit_page(limit=2)
        assert [(e.kind, e.actor) for e in events] == [("check.accept", OLENA), ("action.refused", OLENA)]
        assert events[1].data["action"] == "check.accept" and ANNA in events[1].data["reason"]
        with pytest.raises(Refused, match="refused"):
            await console.switch_actor(OLENA, ANNA)
    finally:
        await console.close()
    cli = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", two_tenants.at(OLENA), "--as", ANNA, "accept",
                          "transition.contracts_frozen"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert cli.returncode == 1 and cli.stderr.startswith("bfg-tui: login bfg_olena_login acts as")


def test_client_supplied_seq_and_time_are_the_servers(two_tenants: Backend, pg_server: PgServer) -> None:
    s = two_tenants.schema
    with pg_server.connect(ACTOR_LOGINS[OLENA]) as conn:
        seq, at, body = _next_event(conn, s, OLENA)
        # Columns: whatever the client sends, the server assigns order and time.
        conn.execute(f"insert into {s}.audit_events(seq, hash, body, kind, actor, at) values "
                     "(999, 'x', %s, 'x', %s, '2001-01-01T00:00:00Z')", (body, OLENA))
        stored = conn.execute(f"select seq, to_char(at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
                              f"from {s}.audit_events order by seq desc limit 1").fetchone()
        assert stored == (seq, at)
        conn.rollback()
        # The body is hashed, so it cannot be overridden: one that disagrees is refused.
        for _what, bad in (
            ("backdated", body.replace(f'"at":"{at}"'.encode(), b'"at":"2001-01-01T00:00:00.000000Z"')),
            ("future", body.replace(f'"at":"{at}"'.encode(), b'"at":"2099-01-01T00:00:00.000000Z"')),
            ("seq", body.replace(f'"seq":{seq}}}'.encode(), f'"seq":{seq + 5}}}'.encode())),
            ("prev", body.replace(b'"prev":"', b'"prev":"0')),
        ):
            _next_event(conn, s, OLENA)
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(f"insert into {s}.audit_events(seq, hash, body, kind, actor) values (1, 'x', %s, 'x', %s)",
                             (bad, OLENA))
            conn.rollback()


async def test_a_listener_learns_nothing_about_which_tenant_committed(two_tenants: Backend, pg_server: PgServer) -> None:
    from bfg_tui.clock import utc_now

    listener = await psycopg.AsyncConnection.connect(pg_server.login_dsn("bfg_driver_login"), autocommit=True,
                                                     passfile=pg_server.passfile)
    other = await PostgresStore.open(with_schema(pg_server.login_dsn(OTHER_TENANT_LOGIN), two_tenants.schema),
                                     None, utc_now, tenant="tenant_b")
    bfg = await two_tenants.console()
    try:
        await listener.execute("listen bfg_console")
        await bfg.accept(OLENA, "transition.secrets_and_auth")
        await Console(other, CATALOG).accept(ANNA, "transition.migration_and_rollback")
        notes = []
        async for note in listener.notifies(timeout=5, stop_after=2):
            notes.append(note)
        assert len(notes) == 2
        assert {(n.channel, n.payload) for n in notes} == {("bfg_console", "")}  # nothing tenant-derived
        # The listener cannot tell which login is in which tenant: it sees its own mapping only.
        count = await (await listener.execute(f"select count(*) from {two_tenants.schema}.logins")).fetchone()
        assert count[0] == 1
    finally:
        await listener.close()
        await other.close()
        await bfg.close()


async def test_spoofed_notifications_cost_at_most_one_read_per_interval(
    two_tenants: Backend, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bfg_tui.store import postgres

    store = await open_store(two_tenants.at(ANNA), CATALOG)
    reads = 0
    real = store.audit_head
    now = [1000.0]  # a clock the test moves: 100 calls, 10 ms apart

    async def counted() -> tuple[int, str]:
        nonlocal reads
        reads += 1
        return await real()

    store.audit_head = counted  # type: ignore[method-assign]
    monkeypatch.setattr(postgres.time, "monotonic", lambda: now[0])
    try:
        await store.data_version()
        store.listen_mode = "listen"  # notifications, not polling, drive the reads
        reads = 0
        for _ in range(100):  # a flood: a notification before every call
            now[0] += 0.01
            store._dirty = True
            await store.data_version()
        per_interval = int(1.0 / postgres.DEBOUNCE_S)  # one read per interval, not one per notification
        assert per_interval - 1 <= reads <= per_interval
    finally:
        await store.close()


def test_store_verbs_install_map_and_list(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    schema = f"bfg_console_v{uuid.uuid4().hex[:10]}"
    mig = with_schema(pg_server.migration_dsn, schema)

    def run(*args: str, db: str = mig) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bfg_tui", "--db", db, *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)

    try:
        assert run("store", "install").stdout == f"store schema {schema} installed at version {SCHEMA_VERSION}\n"
        assert run("store", "install").stdout == f"store schema {schema} already at version {SCHEMA_VERSION}\n"
        out = run("store", "add-login", OLENA, "bfg_olena_login")
        assert out.returncode == 0 and out.stdout == f"login bfg_olena_login mapped to actor {OLENA} in tenant bfg\n"
        missing = run("store", "add-login", ANNA, "anna_new")
        assert missing.returncode == 0 and "a DBA runs:" in missing.stdout
        assert "create role anna_new login nosuperuser nobypassrls nocreatedb nocreaterole in role bfg_app;" in (
            missing.stdout)
        for bad, why in ((CREATEROLE_LOGIN, "holds CREATEROLE"), (INDIRECT_LOGIN, "member of bfg_migrator"),
                         ("bfg_migration_login", "member of bfg_migrator")):
            refused = run("store", "add-login", ANNA, bad)
            assert refused.returncode == 1 and why in refused.stderr and len(refused.stderr.splitlines()) == 1
        listed = run("store", "logins").stdout.splitlines()
        assert [[*line.split()[:3], line.split()[-1]] for line in listed] == [
            ["bfg_olena_login", "bfg", OLENA, "ok"], ["anna_new", "bfg", ANNA, "missing"]]
        olena = with_schema(pg_server.actor_dsn(OLENA), schema)
        assert run("store", "logins", db=olena).stdout.split()[:3] == ["bfg_olena_login", "bfg", OLENA]
        not_migrator = run("store", "add-login", ANNA, "x_login", db=olena)
        assert not_migrator.returncode == 1 and "needs the migration login" in not_migrator.stderr
        usage = run("store", "add-login", "nobody", "x_login")
        assert usage.returncode == 2 and "unknown actor" in usage.stderr
        assert run("init", db=olena).returncode == 0 and run("status", db=olena).returncode == 0
    finally:
        from tests.helpers.backends import drop_schema

        drop_schema(pg_server, schema)


def test_an_old_store_is_upgraded_only_by_store_install(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A version 1 store (tenant by setting) keeps its rows and chain through the upgrade."""
    from bfg_tui.store.postgres_schema import grants_sql, migration_sql

    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    schema = f"bfg_console_u{uuid.uuid4().hex[:10]}"
    at = "2026-01-01T00:00:00.000000Z"
    body = event_body(seq=1, prev=GENESIS, at=at, kind="store.create", ctx=ActorContext("system"),
                      data={"contract": "ScenarioStore.v1", "seed_records": 0})
    try:
        with pg_server.connect("migration") as conn:
            conn.execute("set role bfg_migrator")
            conn.execute(f"create schema {schema}")
            conn.execute(migration_sql(0, schema))
            conn.execute(grants_sql(schema, "bfg_app").replace(f"grant select on {schema}.logins to bfg_app;", "")
                         .replace(f"revoke all on function {schema}.login_tenant() from public;", "")
                         .replace(f"grant execute on function {schema}.login_tenant() to bfg_app;", ""))
            conn.execute(f"insert into {schema}.schema_version(version) values (1)")
            conn.execute(f"insert into {schema}.audit_events(tenant_id, seq, hash, body, kind, actor) "
                         "values ('bfg', 1, %s, %s, 'store.create', 'system')", (event_hash(body), body.encode()))
            conn.commit()
        olena = with_schema(pg_server.actor_dsn(OLENA), schema)
        refused = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", olena, "status"], capture_output=True,
                                 text=True, cwd=ROOT, timeout=60)
        assert refused.returncode == 1 and f"store schema version 1 needs an upgrade to {SCHEMA_VERSION}" in refused.stderr
        upgraded = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", with_schema(pg_server.migration_dsn, schema),
                                   "store", "install"], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert upgraded.stdout == f"store schema {schema} upgraded from 1 to version {SCHEMA_VERSION}\n", upgraded.stderr
        with pg_server.connect("admin") as conn:
            row = conn.execute(f"select seq, at = %s::timestamptz from {schema}.audit_events", (at,)).fetchone()
        assert row == (1, True)
    finally:
        from tests.helpers.backends import drop_schema

        drop_schema(pg_server, schema)
