"""The shared store live on PostgreSQL: several processes, live refresh, RLS, secrets.

Every store here runs as an owner's own login (member of bfg_app: no owner, no
superuser, no BYPASSRLS), mapped to its actor in a fresh schema installed by the
migration login. The superuser login is used only to read the server-side evidence
(catalog, every row) and to show that it is itself refused as a store login.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.errors import Refused, StoreError
from bfg_tui.rls_lint import lint_rls
from bfg_tui.service import Console, _store_init, open_store
from bfg_tui.targets import redact_endpoint
from tests.helpers import ROOT, eventually
from tests.helpers.backends import Backend, cli, drop_schema, map_logins, pg_backend, with_schema
from tests.helpers.fresh import FRESH_DECISIONS, FRESH_GROUPS
from tests.helpers.pg_server import ACTOR_LOGINS, CREATEROLE_LOGIN, INDIRECT_LOGIN, OTHER_TENANT_LOGIN, PgServer

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")

from bfg_tui.store.postgres import PostgresStore, install_schema  # noqa: E402  (needs psycopg)
from bfg_tui.store.postgres_schema import SCHEMA_VERSION, TENANT_TABLES, schema_sql  # noqa: E402

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
CATALOG = default_catalog()


@pytest.fixture(params=["direct", "pgbouncer"])
async def backend(request: pytest.FixtureRequest, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch):
    """Direct to the server, and through PgBouncer in transaction pooling mode."""
    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg_server, monkeypatch, pooled=request.param == "pgbouncer") as b:
        yield b


@pytest.fixture
async def direct(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg_server, monkeypatch) as b:
        yield b


def cli_start(location: str, *args: str, actor: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "bfg_tui", "--db", location, *(["--as", actor] if actor else []), *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, **(env or {})})


async def _changed(store: PostgresStore, before: int) -> None:
    """Await data_version moving past `before`, polled as the console polls it."""
    async def moved() -> bool:
        return await store.data_version() != before

    await eventually(moved, "the other commit never reached data_version")


# --- live refresh ------------------------------------------------------------------------------


def test_the_poll_intervals_bound_how_soon_a_commit_shows() -> None:
    """The console reads data_version every POLL_SECONDS. Where LISTEN delivers, a notification
    marks the count for a re-read at the next poll (re-reads are debounced to DEBOUNCE_S, less
    than a poll apart): within 1 s. Behind a transaction pooler the store re-reads the count
    every POLL_S instead: within 2 s. The tests below await the commit being seen."""
    from bfg_tui.store import postgres

    from bfg_tui.app import POLL_SECONDS

    assert postgres.DEBOUNCE_S <= POLL_SECONDS <= 1.0
    assert POLL_SECONDS + postgres.POLL_S <= 2.0


async def test_cli_acceptance_in_another_process_is_seen(backend: Backend) -> None:
    console = await backend.console()
    try:
        before = await console.store.data_version()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bfg_tui", "--db", backend.at(OLENA), "--as", OLENA, "accept", "transition.db_schema",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "transition.db_schema accepted by user_accountant_olena" in out.decode()
        await _changed(console.store, before)
        event = (await console.store.audit_page(limit=1))[0]
        assert (event.kind, event.actor, event.data["check"]) == ("check.accept", OLENA, "transition.db_schema")
        state = await console.state()
        assert state.acceptances["transition.db_schema"].actor_id == OLENA
    finally:
        await console.close()


async def test_two_consoles_on_two_owners_logins_see_each_others_acceptances(backend: Backend) -> None:
    # Each console acts through its actor's own login and reads as Anna's.
    a, b = await backend.console(), await backend.console()
    try:
        for writer, reader, actor, check in (
            (a, b, OLENA, "transition.db_schema"),
            (b, a, MAREK, "transition.role_headers_mapped"),
            (a, b, OLENA, "transition.secrets_and_auth"),
        ):
            before = await reader.store.data_version()
            await writer.accept(actor, check)
            await _changed(reader.store, before)
            assert check in (await reader.state()).acceptances
        # Refused actions are audited too, so the trail view refreshes for them as well.
        before = await b.store.data_version()
        with pytest.raises(Refused):
            await a.accept("driver_tarasenko", "transition.contracts_frozen")
        await _changed(b.store, before)
    finally:
        await a.close()
        await b.close()


async def test_listener_survives_a_dropped_connection(direct: Backend, pg_server: PgServer) -> None:
    backend = direct
    a, b = await backend.console(), await backend.console()

    async def listening(old_pid: int | None = None) -> int:
        def connected() -> bool:  # the listener proves LISTEN delivers (a nonce) before it trusts it
            listener = a.store._listener
            return a.store.listen_mode == "listen" and listener is not None and listener.info.backend_pid != old_pid

        await eventually(connected, "the listener did not (re)connect")
        return a.store._listener.info.backend_pid

    try:
        before = await a.store.data_version()
        pid = await listening()
        with pg_server.connect("admin", autocommit=True) as admin:
            assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        # A commit while nobody listens: seen once the listener is back (it re-reads the count).
        await b.accept(OLENA, "transition.db_schema")
        await _changed(a.store, before)
        await listening(pid)
        before = await a.store.data_version()
        await b.accept(OLENA, "transition.secrets_and_auth")
        await _changed(a.store, before)
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
    worker = [sys.executable, "-m", "tests.helpers.workers.hammer"]
    procs = [
        subprocess.Popen([*worker, backend.at(OLENA), OLENA, "transition.db_schema", str(rounds)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([*worker, backend.at(MAREK), MAREK, "transition.role_headers_mapped", str(rounds)], cwd=ROOT,
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


def test_a_canary_password_in_the_location_reaches_nothing(direct: Backend, pg_server: PgServer) -> None:
    backend = direct
    canary = "Canary" + uuid.uuid4().hex[:16]
    clean = backend.at(OLENA)
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
    assert cli(backend.at(ANNA), "export", "release", actor=ANNA).returncode == 0
    dump = _every_row(pg_server, backend.schema)
    assert "transition.db_schema" in dump and "store.create" in dump  # the dump does see the rows
    assert canary not in dump
    assert canary.encode() not in pg_server.server_log()


async def test_in_process_open_refuses_a_password_without_quoting_it(direct: Backend) -> None:
    canary = "Canary" + uuid.uuid4().hex[:16]
    location = direct.location.replace("bfg_anna_login@", f"bfg_anna_login:{canary}@")
    with pytest.raises(StoreError) as caught:
        await open_store(location, CATALOG)
    assert canary not in str(caught.value) and "bfg_anna_login:***@" in str(caught.value)


# --- RLS and the schema ----------------------------------------------------------------------------


def test_every_console_table_is_tenant_scoped_by_forced_rls(direct: Backend, pg_server: PgServer) -> None:
    backend = direct
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
    assert set(by_name) == {*TENANT_TABLES, "schema_version", "logins"}
    assert version == SCHEMA_VERSION
    mapped = f"(SELECT l.tenant_id FROM {backend.schema}.logins l WHERE (l.login = (SESSION_USER)::text))"
    for table in TENANT_TABLES:
        enabled, forced, has_tenant, policies, owner, _upd, _del = by_name[table]
        assert (enabled, forced, has_tenant, owner) == (True, True, True, "bfg_migrator"), table
        # Keyed on who is connected, through the migrator's mapping; never on a setting.
        flat = "".join(policies[0].split())
        assert len(policies) == 1 and flat.startswith("ALL(tenant_id=") and flat.count(
            "tenant_id=" + "".join(mapped.split())) == 2, table  # using and with check
        assert "current_setting" not in policies[0], table
    assert "l.actor" in by_name["audit_events"][3][0]  # authorship: the login's own actor
    assert by_name["logins"][:2] == (True, True) and by_name["logins"][4:] == ("bfg_migrator", False, False)
    assert by_name["audit_events"][5:] == (False, False)  # append-only for the app
    assert by_name["schema_version"][2:] == (False, None, "bfg_migrator", False, False)  # no tenant rows there


async def test_tenants_sharing_a_schema_see_only_their_own_rows(direct: Backend, pg_server: PgServer) -> None:
    from bfg_tui.clock import utc_now

    backend = direct
    map_logins(pg_server, backend.schema, {ANNA: OTHER_TENANT_LOGIN}, tenant="tenant_b")
    other_location = with_schema(pg_server.login_dsn(OTHER_TENANT_LOGIN), backend.schema)
    bfg = await backend.console()
    other = await PostgresStore.open(other_location, _store_init(CATALOG), utc_now, tenant="tenant_b")
    try:
        a, b = bfg, Console(other, CATALOG)
        await a.accept(OLENA, "transition.db_schema")
        await a.save_scenario(MAREK)
        assert "transition.db_schema" not in (await b.state()).acceptances
        assert (await b.state()).scenario.saved_at is None
        assert (await b.state()).audit_count == 1 and (await a.state()).audit_count == 3
        assert (await other.audit_verify()).ok and (await bfg.store.audit_verify()).ok
        # Another tenant's commit wakes the listener but leaves this tenant's count alone.
        async def settled() -> bool:  # listening, and no notification waiting for a re-read
            await other.data_version()
            return other.listen_mode == "listen" and not other._dirty

        await eventually(settled, "the listener did not settle")
        before = await other.data_version()
        await a.accept(OLENA, "transition.secrets_and_auth")

        async def woken() -> bool:
            return other._dirty

        await eventually(woken, "the other tenant's commit did not wake the listener")
        await eventually(settled, "the woken listener did not re-read the count")
        assert await other.data_version() == before
    finally:
        await bfg.close()
        await other.close()
    with pytest.raises(StoreError, match="belongs to tenant tenant_b, not bfg"):
        await PostgresStore.open(other_location, _store_init(CATALOG), utc_now, tenant="bfg")


def test_the_trigger_refuses_audit_changes_but_the_owner_could_disable_it(direct: Backend, pg_server: PgServer) -> None:
    # The trigger stops mistakes, the owner's included; an owner set on it could still
    # disable it. The defence is the chain against a head kept outside the database.
    backend = direct
    assert cli(backend.location, "init").returncode == 0
    with pg_server.connect("migration") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                              match="append-only"):
        conn.execute("set role bfg_migrator")
        conn.execute(f"delete from {backend.schema}.audit_events")
    with pg_server.connect("migration") as conn:
        conn.execute("set role bfg_migrator")
        conn.execute(f"alter table {backend.schema}.audit_events disable trigger audit_events_append_only")
        assert conn.execute(f"delete from {backend.schema}.audit_events").rowcount == 1
        conn.rollback()


async def test_a_newer_schema_version_is_refused(direct: Backend, pg_server: PgServer) -> None:
    backend = direct
    with pg_server.connect("migration", autocommit=True) as conn:
        conn.execute(f"update {backend.schema}.schema_version set version = 99")
    with pytest.raises(StoreError) as caught:
        await open_store(backend.location, CATALOG)
    shown = f"{redact_endpoint(pg_server.actor_dsn(ANNA))} (schema {backend.schema})"
    assert str(caught.value) == (
        f"{shown}: store schema version 99 is newer than this bfg-tui understands ({SCHEMA_VERSION}); upgrade bfg-tui"
    )


async def test_logins_that_cannot_or_must_not_run_the_store(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    missing = f"bfg_console_missing_{uuid.uuid4().hex[:8]}"
    # No silent install: an open never creates the schema (the migration login may not even open).
    with pytest.raises(StoreError, match=rf"no store here \(schema {missing} does not exist\); install it with "
                                         r"`bfg-tui store install"):
        await open_store(with_schema(pg_server.actor_dsn(ANNA), missing), CATALOG)
    with pytest.raises(StoreError, match="bfg_migration_login is a member of bfg_migrator"):
        await open_store(with_schema(pg_server.migration_dsn, missing), CATALOG)
    with pytest.raises(StoreError, match="bfg_admin bypasses row-level security"):
        await open_store(with_schema(pg_server.admin_dsn, missing), CATALOG)
    with pg_server.connect("admin") as conn:
        assert conn.execute("select count(*) from pg_namespace where nspname = %s", (missing,)).fetchone()[0] == 0
    location = with_schema(pg_server.migration_dsn, missing)
    try:
        await install_schema(location)
        map_logins(pg_server, missing, {ANNA: ACTOR_LOGINS[ANNA]})
        refusals = {
            # The migration login, by membership of the owner (bfg_migrator bypasses RLS too).
            pg_server.migration_dsn: "bfg_migration_login is a member of bfg_migrator",
            pg_server.login_dsn(CREATEROLE_LOGIN): "bfg_createrole_login holds CREATEROLE",
            pg_server.login_dsn(INDIRECT_LOGIN): "bfg_indirect_login is a member of bfg_migrator",
            pg_server.app_dsn: "login bfg_app_login is not mapped to an actor",
        }
        for dsn, reason in refusals.items():
            with pytest.raises(StoreError, match=reason):
                await open_store(with_schema(dsn, missing), CATALOG)
        from bfg_tui.clock import utc_now

        with pytest.raises(StoreError, match="no store here for tenant bfg"):
            await PostgresStore.open(with_schema(pg_server.actor_dsn(ANNA), missing), None, utc_now,
                                     tenant=CATALOG.tenant_id)
    finally:
        drop_schema(pg_server, missing)


async def test_concurrent_first_opens_seed_once(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    schema = f"bfg_console_t{uuid.uuid4().hex[:12]}"
    await install_schema(with_schema(pg_server.migration_dsn, schema))
    map_logins(pg_server, schema, ACTOR_LOGINS)
    location = with_schema(pg_server.actor_dsn(ANNA), schema)
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
        olena = await open_store(with_schema(pg_server.actor_dsn(OLENA), schema), CATALOG)
        try:
            assert (await olena.load_state()).audit_count == 1
        finally:
            await olena.close()
    finally:
        drop_schema(pg_server, schema)


async def test_read_only_and_locked_are_one_line_store_errors(
    direct: Backend, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = direct
    console = await backend.console()
    await console.close()
    read_only = backend.location + "&options=-c%20default_transaction_read_only%3Don"
    ro = await Console.open(read_only, CATALOG)
    try:
        assert ro.store.read_only and (await ro.state()).audit_count == 1
        with pytest.raises(StoreError, match=r"\(schema .*\): database is read-only; nothing was changed"):
            await ro.accept(ANNA, "transition.contracts_frozen")
        with pytest.raises(StoreError, match="read-only; an export must be audited"):
            await ro.export(ANNA, "release")
    finally:
        await ro.close()

    monkeypatch.setattr("bfg_tui.store.postgres.LOCK_TIMEOUT_MS", 300)
    console = await backend.console()
    try:
        with pg_server.connect(ACTOR_LOGINS[ANNA]) as holder:  # another of the tenant's logins
            holder.execute(f"select * from {backend.schema}.audit_head for update")
            with pytest.raises(StoreError, match=r"database is locked by another process \(waited 0.3 s\)"):
                await console.accept(OLENA, "transition.db_schema")
        # The lock is gone: the same console writes again.
        assert (await console.accept(OLENA, "transition.db_schema")).seq == 2
    finally:
        await console.close()


async def test_the_textual_console_on_postgres_shows_other_consoles_acceptances(backend: Backend,
                                                                                         make_app) -> None:
    from bfg_tui.screens.widgets import RowTable

    from tests.helpers.console import settle, wait_until

    app = make_app(ANNA, store=backend.location)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # the decision board with the six transition checks
        await settle(pilot)
        table = app.screen.query_one("#transition", RowTable)

        async def shows(check: str, actor: str) -> None:
            row = table.get_row_index(check)
            await wait_until(pilot, lambda: f"accepted by {actor}" in str(table.get_row_at(row)[3]),
                             failure=f"the console never showed {check}")

        # Another process (the CLI on another host, as far as the store can tell)...
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bfg_tui", "--db", backend.at(OLENA), "--as", OLENA, "accept", "transition.db_schema",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        await shows("transition.db_schema", OLENA)
        # ...and another console on its own connection.
        other = await backend.console()
        try:
            await other.accept(MAREK, "transition.role_headers_mapped")
            await shows("transition.role_headers_mapped", MAREK)
        finally:
            await other.close()
        assert app.live_refreshes >= 2


def _rows_read(plan: dict, table: str) -> int:
    """Rows a plan node (and the nodes under it) read from `table`: returned or filtered out."""
    own = 0
    if plan.get("Relation Name") == table:
        own = sum(int(plan.get(k, 0)) for k in ("Actual Rows", "Rows Removed by Filter",
                                                 "Rows Removed by Index Recheck"))
    return own + sum(_rows_read(child, table) for child in plan.get("Plans", []))


async def test_a_save_prunes_old_versions_without_reading_the_kept_ones(direct: Backend) -> None:
    console = await direct.console()
    try:
        await console.save_scenario(MAREK, scale=300)  # version 1: 3000 records, kept by the snapshot
        await console.freeze(MAREK)
        await console.save_scenario(MAREK, scale=300)  # version 2: the latest, kept
        store = console.store
        async with store._tx() as conn, conn.transaction(force_rollback=True):
            # A third save would keep both: its prune reads nothing.
            cur = await conn.execute("explain (analyze, format json) " + store.sql.prune_records, (2,))
            kept = _rows_read((await cur.fetchone())[0][0]["Plan"], "scenario_records")
            await conn.execute(f"insert into {direct.schema}.scenarios(version, source, records, kind_counts) "
                               "values (3, 'test', 0, '{}')")
            # Version 2 pruned once version 3 is saved: only its rows are read.
            cur = await conn.execute("explain (analyze, format json) " + store.sql.prune_records, (3,))
            pruned = _rows_read((await cur.fetchone())[0][0]["Plan"], "scenario_records")
        assert (kept, pruned) == (0, 3011)
    finally:
        await console.close()
