"""The shared store live on PostgreSQL: several processes, live refresh, RLS, secrets.

Every store here runs as the app login (member of bfg_app: no owner, no superuser, no
BYPASSRLS) in a fresh schema installed by the migration login. The superuser login is
used only to read the server-side evidence (catalog, every row) and to show that it is
itself refused as a store login.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.errors import Refused, StoreError
from bfg_tui.runbook import lint_rls
from bfg_tui.secrets import redact_endpoint
from bfg_tui.service import Console, _store_init, open_store
from tests.conftest import ROOT
from tests.pg_server import PgServer
from tests.test_fresh_state import FRESH_DECISIONS, FRESH_GROUPS
from tests.test_store_contract import Backend, drop_schema, pg_backend, with_schema

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")

from bfg_tui.store.postgres import PostgresStore, install_schema  # noqa: E402  (needs psycopg)
from bfg_tui.store.postgres_schema import SCHEMA_VERSION, TENANT_TABLES, schema_sql  # noqa: E402

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
CATALOG = default_catalog()


@pytest.fixture
async def backend(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg_server, monkeypatch) as b:
        yield b


def cli(location: str, *args: str, actor: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "bfg_tui", "--db", location, *(["--as", actor] if actor else []), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def cli_start(location: str, *args: str, actor: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "bfg_tui", "--db", location, *(["--as", actor] if actor else []), *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, **(env or {})})


def _parse_at(at: str) -> datetime:
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def _wait_for_change(store: PostgresStore, before: int, limit: float) -> float | None:
    """Seconds until data_version moves (polling like the console does), or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if await store.data_version() != before:
            return time.monotonic() - t0
        await asyncio.sleep(0.005)
    return None


# --- live refresh ------------------------------------------------------------------------------


async def test_cli_acceptance_in_another_process_is_seen_within_1s(backend: Backend) -> None:
    console = await backend.console()
    try:
        before = await console.store.data_version()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bfg_tui", "--db", backend.location, "--as", OLENA, "accept", "transition.db_schema",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        waited = await _wait_for_change(console.store, before, 30)
        seen = datetime.now(UTC)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "transition.db_schema accepted by user_accountant_olena" in out.decode()
        assert waited is not None, "the other process's commit never reached data_version"
        event = (await console.store.audit_page(limit=1))[0]
        assert (event.kind, event.actor, event.data["check"]) == ("check.accept", OLENA, "transition.db_schema")
        lag = (seen - _parse_at(event.at)).total_seconds()  # `at` is taken just before the commit
        assert lag < 1.0, f"seen {lag:.3f} s after the other process wrote it"
        state = await console.state()
        assert state.acceptances["transition.db_schema"].actor_id == OLENA
    finally:
        await console.close()


async def test_two_consoles_see_each_others_acceptances_within_1s(backend: Backend) -> None:
    a, b = await backend.console(), await backend.console()
    try:
        for writer, reader, actor, check in (
            (a, b, OLENA, "transition.db_schema"),
            (b, a, MAREK, "transition.role_headers_mapped"),
            (a, b, OLENA, "transition.secrets_and_auth"),
        ):
            before = await reader.store.data_version()
            t0 = time.monotonic()
            await writer.accept(actor, check)
            waited = await _wait_for_change(reader.store, before, 5)
            assert waited is not None and time.monotonic() - t0 < 1.0
            assert check in (await reader.state()).acceptances
        # Refused actions are audited too, so the trail view refreshes for them as well.
        before = await b.store.data_version()
        with pytest.raises(Refused):
            await a.accept("driver_tarasenko", "transition.contracts_frozen")
        assert await _wait_for_change(b.store, before, 1.0) is not None
    finally:
        await a.close()
        await b.close()


async def test_listener_survives_a_dropped_connection(backend: Backend, pg_server: PgServer) -> None:
    a, b = await backend.console(), await backend.console()
    try:
        before = await a.store.data_version()
        listener = a.store._listener
        assert listener is not None
        with pg_server.connect("admin", autocommit=True) as admin:
            assert admin.execute("select pg_terminate_backend(%s)", (listener.info.backend_pid,)).fetchone()[0]
        # Reconnected: the gap counts as a change, and later commits are seen again.
        assert await _wait_for_change(a.store, before, 5) is not None
        await asyncio.sleep(0.3)
        before = await a.store.data_version()
        await b.accept(OLENA, "transition.db_schema")
        assert await _wait_for_change(a.store, before, 1.0) is not None
    finally:
        await a.close()
        await b.close()


# --- the CLI on the shared store -------------------------------------------------------------------


def test_cli_status_json_on_postgres_equals_the_fresh_figures(backend: Backend) -> None:
    missing = cli(backend.location, "status", "--json")  # a read verb never creates the store
    assert missing.returncode == 1 and "no store here" in missing.stderr, missing.stderr
    assert cli(backend.location, "init").returncode == 0
    result = cli(backend.location, "status", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {g: (v["ready"], v["total"]) for g, v in doc["groups"].items()} == FRESH_GROUPS
    assert doc["decisions"] == FRESH_DECISIONS
    assert doc["snapshot"]["checksum"] is None and doc["scenario"]["last_save"] is None
    assert doc["audit"]["count"] == 1
    again = cli(backend.location, "status", "--json")
    assert json.loads(again.stdout) == doc


def test_two_processes_writing_at_once_keep_one_chain(backend: Backend) -> None:
    assert cli(backend.location, "init").returncode == 0  # create the tenant's store
    rounds = 10
    worker = [sys.executable, "-m", "tests.workers.hammer", backend.location]
    procs = [
        subprocess.Popen([*worker, OLENA, "transition.db_schema", str(rounds)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([*worker, MAREK, "transition.role_headers_mapped", str(rounds)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    seqs = [int(line.split()[1]) for out, _ in outputs for line in out.splitlines() if line.startswith("ack ")]
    assert sorted(seqs) == list(range(2, 2 + 4 * rounds))
    verify = cli(backend.location, "audit", "verify")
    assert verify.returncode == 0 and f"audit trail ok: {1 + 4 * rounds} events" in verify.stdout


# --- secrets -----------------------------------------------------------------------------------------


def _every_row(pg: PgServer, schema: str) -> str:
    """Every row of every table of the schema, as text (bytea decoded), read by the superuser."""
    with pg.connect("admin") as conn:
        tables = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = %s", (schema,)).fetchall()]
        chunks = []
        for table in tables:
            for (row,) in conn.execute(f"select to_jsonb(t)::text from {schema}.{table} t"):
                chunks.append(row)
            for (body,) in conn.execute(
                    "select string_agg(convert_from(body, 'UTF8'), ' ') from " + f"{schema}.{table}"
            ) if table in ("audit_events", "scenario_records") else ():
                chunks.append(body or "")
        return "\n".join(chunks)


def test_a_canary_password_in_the_location_reaches_nothing(backend: Backend, pg_server: PgServer) -> None:
    canary = "Canary" + uuid.uuid4().hex[:16]
    clean = backend.location
    host_part = clean.split("://", 1)[1]
    user, _, rest = host_part.partition("@")
    locations = [
        f"postgresql://{user}:{canary}@{rest}",
        f"{clean}&password={canary}",
        f"{clean}&options=-c%20password%3D{canary}",
    ]
    assert cli(clean, "init").returncode == 0
    # All at once (each is a process start): every location with a password, two verbs...
    procs = [cli_start(location, *args, actor=OLENA) for location in locations
             for args in (("status", "--json"), ("accept", "transition.db_schema"))]
    # ...and a wrong password from the environment: refused by the server, never echoed.
    wrong = cli_start(clean, "status", env={"PGPASSWORD": canary, "PGPASSFILE": "/dev/null"})
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, err
        assert canary not in out + err
        assert "carries a password" in err and len(err.splitlines()) == 1
    out, err = wrong.communicate(timeout=60)
    assert wrong.returncode == 1 and canary not in out + err
    assert "password authentication failed" in err and "(schema " in err
    # Real work with the clean location: the canary is nowhere in the store.
    assert cli(clean, "accept", "transition.db_schema", actor=OLENA).returncode == 0
    assert cli(clean, "export", "release", actor=ANNA).returncode == 0
    dump = _every_row(pg_server, backend.schema)
    assert "transition.db_schema" in dump and "store.create" in dump  # the dump does see the rows
    assert canary not in dump
    data = os.environ.get("BFG_TUI_PG_DATA") or ""
    log = Path(data) / "server.log"
    if log.is_file():
        assert canary not in log.read_text(errors="replace")


async def test_in_process_open_refuses_a_password_without_quoting_it(backend: Backend) -> None:
    canary = "Canary" + uuid.uuid4().hex[:16]
    location = backend.location.replace("bfg_app_login@", f"bfg_app_login:{canary}@")
    with pytest.raises(StoreError) as caught:
        await open_store(location, CATALOG)
    assert canary not in str(caught.value) and "bfg_app_login:***@" in str(caught.value)


# --- RLS and the schema ----------------------------------------------------------------------------


def test_every_console_table_is_tenant_scoped_by_forced_rls(backend: Backend, pg_server: PgServer) -> None:
    assert cli(backend.location, "init").returncode == 0
    assert lint_rls(schema_sql(backend.schema)).ok
    with pg_server.connect("admin") as conn:
        rows = conn.execute(
            """
            select c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id'),
                   (select array_agg(p.cmd || ' ' || p.qual || ' ' || p.with_check) from pg_policies p
                     where p.schemaname = n.nspname and p.tablename = c.relname),
                   pg_get_userbyid(c.relowner),
                   has_table_privilege('bfg_app', c.oid, 'UPDATE'), has_table_privilege('bfg_app', c.oid, 'DELETE')
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = %s and c.relkind = 'r' order by c.relname
            """, (backend.schema,)).fetchall()
        version = conn.execute(f"select version from {backend.schema}.schema_version").fetchone()[0]
    by_name = {r[0]: r[1:] for r in rows}
    assert set(by_name) == {*TENANT_TABLES, "schema_version"}
    assert version == SCHEMA_VERSION
    for table in TENANT_TABLES:
        enabled, forced, has_tenant, policies, owner, _upd, _del = by_name[table]
        assert (enabled, forced, has_tenant, owner) == (True, True, True, "bfg_migrator"), table
        scoped = "(tenant_id = NULLIF(current_setting('bfg.tenant_id'::text, true), ''::text))"
        assert policies == [f"ALL {scoped} {scoped}"], table
    assert by_name["audit_events"][5:] == (False, False)  # append-only for the app
    assert by_name["schema_version"][2:] == (False, None, "bfg_migrator", False, False)  # no tenant rows there


async def test_tenants_sharing_a_schema_see_only_their_own_rows(backend: Backend, pg_server: PgServer) -> None:
    from bfg_tui.clock import utc_now

    bfg = await PostgresStore.open(backend.location, _store_init(CATALOG), utc_now, tenant="bfg")
    other = await PostgresStore.open(backend.location, _store_init(CATALOG), utc_now, tenant="tenant_b")
    try:
        a, b = Console(bfg, CATALOG), Console(other, CATALOG)
        await a.accept(OLENA, "transition.db_schema")
        await a.save_scenario(MAREK)
        assert "transition.db_schema" not in (await b.state()).acceptances
        assert (await b.state()).scenario.saved_at is None
        assert (await b.state()).audit_count == 1 and (await a.state()).audit_count == 3
        assert (await other.audit_verify()).ok and (await bfg.audit_verify()).ok
        # A notification for one tenant does not move the other's data_version.
        before = await other.data_version()
        await a.accept(OLENA, "transition.secrets_and_auth")
        await asyncio.sleep(0.3)
        assert await other.data_version() == before
    finally:
        await bfg.close()
        await other.close()
    s = backend.schema
    with pg_server.connect("app") as conn:  # the app login, outside the store
        counts = {}
        for tenant in (None, "", "bfg", "tenant_b"):
            with conn.transaction():
                if tenant is not None:
                    conn.execute("select set_config('bfg.tenant_id', %s, true)", (tenant,))
                counts[tenant] = conn.execute(f"select count(*) from {s}.audit_events").fetchone()[0]
        assert counts == {None: 0, "": 0, "bfg": 4, "tenant_b": 1}
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select set_config('bfg.tenant_id', 'bfg', true)")
            conn.execute(f"insert into {s}.meta(tenant_id, key, value) values ('tenant_b', 'x', 'y')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select set_config('bfg.tenant_id', 'bfg', true)")
            conn.execute(f"update {s}.audit_events set kind = 'x' where seq = 1")


def test_the_audit_trail_is_append_only_even_for_the_owner(backend: Backend, pg_server: PgServer) -> None:
    assert cli(backend.location, "init").returncode == 0
    with pg_server.connect("migration") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                              match="append-only"):
        conn.execute("set role bfg_migrator")
        conn.execute(f"delete from {backend.schema}.audit_events")


async def test_a_newer_schema_version_is_refused(backend: Backend, pg_server: PgServer) -> None:
    with pg_server.connect("migration", autocommit=True) as conn:
        conn.execute(f"update {backend.schema}.schema_version set version = 99")
    with pytest.raises(StoreError) as caught:
        await open_store(backend.location, CATALOG)
    shown = f"{redact_endpoint(pg_server.app_dsn)} (schema {backend.schema})"
    assert str(caught.value) == (
        f"{shown}: store schema version 99 is newer than this bfg-tui understands ({SCHEMA_VERSION}); upgrade bfg-tui"
    )


async def test_logins_that_cannot_or_must_not_run_the_store(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    missing = f"bfg_console_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(StoreError, match=r"schema does not exist, and bfg_app_login may not create"):
        await open_store(with_schema(pg_server.app_dsn, missing), CATALOG)
    with pytest.raises(StoreError, match=rf"no store here \(schema {missing} does not exist\)"):
        await open_store(with_schema(pg_server.migration_dsn, missing), CATALOG, create=False)
    with pytest.raises(StoreError, match="bfg_admin bypasses row-level security"):
        await open_store(with_schema(pg_server.admin_dsn, missing), CATALOG)
    with pytest.raises(StoreError, match="no store here for tenant bfg"):
        await _open_without_init(pg_server, missing)
    with pg_server.connect("admin") as conn:
        assert conn.execute("select count(*) from pg_namespace where nspname = %s", (missing,)).fetchone()[0] == 0


async def _open_without_init(pg: PgServer, missing: str) -> None:
    from bfg_tui.clock import utc_now

    location = with_schema(pg.migration_dsn, missing)
    try:
        await install_schema(location)
        await PostgresStore.open(location, None, utc_now)
    finally:
        drop_schema(pg, missing)


async def test_concurrent_first_opens_create_and_seed_once(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    schema = f"bfg_console_t{uuid.uuid4().hex[:12]}"
    location = with_schema(pg_server.migration_dsn, schema)
    try:
        opened = await asyncio.gather(*(open_store(location, CATALOG) for _ in range(5)), return_exceptions=True)
        stores = [s for s in opened if not isinstance(s, BaseException)]
        try:
            assert len(stores) == 5, [repr(e) for e in opened if isinstance(e, BaseException)]
            states = [await s.load_state() for s in stores]
            assert {(st.audit_count, st.audit_head) for st in states} == {(1, states[0].audit_head)}
            assert states[0].scenario.records > 0
            assert [e.kind for e in await stores[0].audit_page()] == ["store.create"]
            assert (await stores[0].audit_verify()).ok
        finally:
            for s in stores:
                await s.close()
        app = await open_store(with_schema(pg_server.app_dsn, schema), CATALOG)
        try:
            assert (await app.load_state()).audit_count == 1
        finally:
            await app.close()
    finally:
        drop_schema(pg_server, schema)


async def test_read_only_and_locked_are_one_line_store_errors(
    backend: Backend, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = await backend.console()
    await console.close()
    read_only = backend.location + "&options=-c%20default_transaction_read_only%3Don"
    ro = await Console.open(read_only, CATALOG)
    try:
        assert ro.store.read_only and (await ro.state()).audit_count == 1
        with pytest.raises(StoreError, match=r"\(schema .*\): database is read-only; nothing was changed"):
            await ro.accept(OLENA, "transition.db_schema")
        with pytest.raises(StoreError, match="read-only; an export must be audited"):
            await ro.export(ANNA, "release")
    finally:
        await ro.close()

    monkeypatch.setattr("bfg_tui.store.postgres.LOCK_TIMEOUT_MS", 300)
    console = await backend.console()
    try:
        with pg_server.connect("app") as holder:
            holder.execute("select set_config('bfg.tenant_id', 'bfg', true)")
            holder.execute(f"select * from {backend.schema}.audit_head for update")
            with pytest.raises(StoreError, match=r"database is locked by another process \(waited 0.3 s\)"):
                await console.accept(OLENA, "transition.db_schema")
        # The lock is gone: the same console writes again.
        assert (await console.accept(OLENA, "transition.db_schema")).seq == 2
    finally:
        await console.close()


async def test_the_textual_console_on_postgres_shows_other_consoles_acceptances_within_1s(backend: Backend) -> None:
    from bfg_tui.screens.widgets import RowTable

    from bfg_tui.app import BfgApp
    from tests.conftest import settle

    app = BfgApp(db=backend.location, actor=ANNA, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # the decision board with the six transition checks
        await settle(pilot)
        table = app.screen.query_one("#transition", RowTable)

        async def shows(check: str, actor: str, since: float) -> None:
            row = table.get_row_index(check)
            while f"accepted by {actor}" not in str(table.get_row_at(row)[3]):
                assert time.monotonic() - since < 1.0, f"the console did not show {check} within 1 s"
                await asyncio.sleep(0.02)

        # Another process (the CLI on another host, as far as the store can tell)...
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bfg_tui", "--db", backend.location, "--as", OLENA, "accept", "transition.db_schema",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        await shows("transition.db_schema", OLENA, time.monotonic())
        # ...and another console on its own connection.
        other = await backend.console()
        try:
            await other.accept(MAREK, "transition.role_headers_mapped")
            await shows("transition.role_headers_mapped", MAREK, time.monotonic())
        finally:
            await other.close()
        assert app.live_refreshes >= 2
