"""The hardened runbook against a real PostgreSQL server (scripts/pg-test-server).

The runbook is applied by the migration login; every verification then connects as
the app login (member of bfg_app: not an owner, not a superuser, no BYPASSRLS). The
migration login is used only to seed rows (it bypasses RLS, as a replay COPY must), to
COPY, and to show that the audit trigger stops even the owner.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bfg_tui.canonical import SnapshotHasher, canonical_json, record_json
from bfg_tui.rls_lint import lint_rls
from bfg_tui.runbook import SET_TENANT_SQL, runbook_sql
from tests.helpers.pg_server import PgServer, require_server

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")
from psycopg import errors  # noqa: E402

S = "bfg_flowcontrol"
TENANT_TABLES = (
    "tenants",
    "users",
    "permissions",
    "scenario_snapshots",
    "scenario_records",
    "scenario_replays",
    "audit_events",
)
APP_WRITABLE = ("users", "permissions", "scenario_snapshots", "scenario_records", "scenario_replays")
RUN = uuid.uuid4().hex[:10]
A = f"tenant_a_{RUN}"
B = f"tenant_b_{RUN}"


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> PgServer:
    return require_server()


def _catalog_fingerprint(conn) -> list[tuple]:
    """Tables, columns, constraints, indexes, policies, triggers and grants of the schema."""
    return conn.execute(
        f"""
        select 'rel', c.relname, c.relkind::text, c.relrowsecurity::text || c.relforcerowsecurity::text,
               pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '')
          from pg_class c where c.relnamespace = '{S}'::regnamespace
        union all
        select 'col', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), '', ''
          from pg_attribute a join pg_class c on c.oid = a.attrelid
         where c.relnamespace = '{S}'::regnamespace and a.attnum > 0 and not a.attisdropped
        union all
        select 'con', conrelid::regclass::text, conname, pg_get_constraintdef(oid), '', ''
          from pg_constraint where connamespace = '{S}'::regnamespace
        union all
        select 'pol', tablename, policyname, cmd || coalesce(qual, '') || coalesce(with_check, ''),
               array_to_string(roles, ','), permissive
          from pg_policies where schemaname = '{S}'
        union all
        select 'trg', tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), '', ''
          from pg_trigger where tgrelid in (select oid from pg_class where relnamespace = '{S}'::regnamespace)
        union all
        select 'nsp', nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, ''), '', ''
          from pg_namespace where nspname = '{S}'
        order by 1, 2, 3, 4
        """
    ).fetchall()


@pytest.fixture(scope="module")
def applied(pg: PgServer) -> PgServer:
    """Apply the runbook twice, each time in one transaction, as the migration login."""
    fingerprints = []
    for _ in range(2):
        with pg.connect("migration") as conn:
            conn.execute(runbook_sql())  # whole script, one transaction, committed on exit
        with pg.connect("app", autocommit=True) as conn:
            fingerprints.append(_catalog_fingerprint(conn))
    assert fingerprints[0] == fingerprints[1], "second run of the runbook changed the catalog"
    assert fingerprints[0], "the runbook created nothing visible in the catalog"
    return pg


@pytest.fixture(scope="module")
def seeded(applied: PgServer) -> PgServer:
    """Tenants A and B with rows in every tenant table (seeded by the migration role)."""
    with applied.connect("migration") as conn:
        conn.execute("set local role bfg_migrator")
        for t, users in ((A, ("u_anna", "u_shared")), (B, ("u_boris", "u_secret_b", "u_shared"))):
            conn.execute(f"insert into {S}.tenants (tenant_id, name) values (%s, %s)", (t, f"Tenant {t}"))
            for u in users:
                conn.execute(
                    f"insert into {S}.users (tenant_id, user_id, role_key, display_name) values (%s, %s, %s, %s)",
                    (t, u, "dispatcher", u.title()),
                )
            conn.execute(
                f"insert into {S}.permissions (tenant_id, role_key, permission) values (%s, 'dispatcher', 'scenario.read')",
                (t,),
            )
            snaps = ("snap-1",) if t == A else ("snap-1", "snap-b-only")
            for snap in snaps:
                conn.execute(
                    f"insert into {S}.scenario_snapshots (tenant_id, snapshot_id, checksum, digest, record_count)"
                    " values (%s, %s, 'bfg-00000000', %s, 2)",
                    (t, snap, "0" * 64),
                )
            records = [("snap-1", 0, "ord-0001"), ("snap-1", 1, "ord-0002" if t == A else "ord-secret-b")]
            if t == B:
                records.append(("snap-b-only", 0, "ord-secret-b"))
            for snap, seq, rid in records:
                conn.execute(
                    f"insert into {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
                    " values (%s, %s, %s, 'operations', 'orders', %s, %s)",
                    (t, snap, seq, rid, record_json("orders", rid, {"tenant": t})),
                )
            conn.execute(
                f"insert into {S}.scenario_replays (tenant_id, replay_id, snapshot_id, rows_written)"
                " values (%s, 'replay-1', 'snap-1', 2)",
                (t,),
            )
            conn.execute(
                f"insert into {S}.audit_events (tenant_id, event_id, actor_id, source, action)"
                " values (%s, 'evt-1', %s, 'test', 'seed')",
                (t, users[0]),
            )
    return applied


@pytest.fixture()
def app(seeded: PgServer) -> Iterator:
    """A fresh autocommit connection as the app login (each test opens its transactions)."""
    with seeded.connect("app", autocommit=True) as conn:
        yield conn


@contextmanager
def tenant_tx(conn, tenant: str | None, *, commit: bool = False):
    """One transaction with the tenant set transaction-locally (None: not set at all)."""
    with conn.transaction(force_rollback=not commit):
        if tenant is not None:
            conn.execute(SET_TENANT_SQL, (tenant,))
        yield conn


def _new_row(table: str, tenant: str, n: int) -> dict[str, object]:
    actor = "u_anna" if tenant == A else "u_boris"
    return {
        "tenants": {"tenant_id": tenant, "name": f"new {n}"},
        "users": {"tenant_id": tenant, "user_id": f"u_new_{n}", "role_key": "driver", "display_name": "New"},
        "permissions": {"tenant_id": tenant, "role_key": "driver", "permission": f"p.new.{n}"},
        "scenario_snapshots": {
            "tenant_id": tenant,
            "snapshot_id": f"snap-new-{n}",
            "checksum": "bfg-00000000",
            "digest": "0" * 64,
            "record_count": 0,
        },
        "scenario_records": {
            "tenant_id": tenant,
            "snapshot_id": "snap-1",
            "seq": 100 + n,
            "batch_group": "operations",
            "kind": "orders",
            "record_id": f"ord-new-{n}",
            "body": "{}",
        },
        "scenario_replays": {
            "tenant_id": tenant,
            "replay_id": f"replay-new-{n}",
            "snapshot_id": "snap-1",
            "rows_written": 0,
        },
        "audit_events": {"tenant_id": tenant, "actor_id": actor, "source": "test", "action": "new"},
    }[table]


def _insert(conn, table: str, row: dict[str, object], suffix: str = "") -> int:
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    cur = conn.execute(f"insert into {S}.{table} ({cols}) values ({marks}) {suffix}", tuple(row.values()))
    return cur.rowcount


def _tenants_visible(conn, table: str) -> set[str]:
    return {r[0] for r in conn.execute(f"select distinct tenant_id from {S}.{table}")}


# --- catalog ----------------------------------------------------------------------------


def test_catalog_rls_enabled_and_forced_on_every_tenant_table(app):
    rows = app.execute(
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)
          from pg_class c
         where c.relnamespace = %s::regnamespace and c.relkind in ('r', 'p')
           and exists (select 1 from pg_attribute a
                        where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        """,
        (S,),
    ).fetchall()
    found = {r[0]: r[1:] for r in rows}
    assert set(TENANT_TABLES) <= set(found)
    for name, (enabled, forced, _owner) in found.items():  # records partitions included
        assert enabled and forced, f"{name}: RLS not enabled and forced"
    lint_tables = {t.split(".")[-1] for t in lint_rls(runbook_sql()).tables}
    assert lint_tables == set(TENANT_TABLES)
    for name in TENANT_TABLES:
        enabled, forced, owner = found[name]
        assert enabled, f"{name}: RLS not enabled"
        assert forced, f"{name}: RLS not forced"
        assert owner == "bfg_migrator", f"{name}: owned by {owner}"
    policies = app.execute(
        "select tablename, cmd, qual, with_check, permissive from pg_policies where schemaname = %s", (S,)
    ).fetchall()
    for name in TENANT_TABLES:
        mine = [p for p in policies if p[0] == name]
        assert mine, f"{name}: no policy"
        for _, cmd, qual, with_check, permissive in mine:
            assert cmd == "ALL" and permissive == "PERMISSIVE"
            assert qual and with_check, f"{name}: policy lacks using or with check"
            for expr in (qual, with_check):
                assert "nullif(current_setting('bfg.tenant_id'" in expr.lower()


def test_app_login_is_not_owner_superuser_or_bypass(app):
    user, sup, bypass, migrator, owns = app.execute(
        """
        select current_user, r.rolsuper, r.rolbypassrls,
               pg_has_role(current_user, 'bfg_migrator', 'member'),
               (select count(*) from pg_class c
                 where c.relnamespace = %s::regnamespace and pg_has_role(current_user, c.relowner, 'usage'))
          from pg_roles r where r.rolname = current_user
        """,
        (S,),
    ).fetchone()
    assert user == "bfg_app_login"
    assert not sup and not bypass and not migrator
    assert owns == 0
    assert app.execute("select pg_has_role(current_user, 'bfg_app', 'member')").fetchone()[0]
    app_sup, app_bypass = app.execute(
        "select rolsuper, rolbypassrls from pg_roles where rolname = 'bfg_app'"
    ).fetchone()
    assert not app_sup and not app_bypass


def test_app_grants_are_minimal(app):
    def can(table: str, priv: str) -> bool:
        return app.execute("select has_table_privilege(%s, %s)", (f"{S}.{table}", priv)).fetchone()[0]

    assert can("tenants", "select")
    for priv in ("insert", "update", "delete", "truncate"):
        assert not can("tenants", priv), f"tenants: {priv}"
    for table in APP_WRITABLE:
        for priv in ("select", "insert", "update", "delete"):
            assert can(table, priv), f"{table}: {priv}"
    assert can("audit_events", "select") and can("audit_events", "insert")
    for priv in ("update", "delete"):
        assert not can("audit_events", priv), f"audit_events: {priv}"
    for table in TENANT_TABLES:
        for priv in ("truncate", "references", "trigger"):
            assert not can(table, priv), f"{table}: {priv}"
    assert not app.execute("select has_schema_privilege(%s, 'create')", (S,)).fetchone()[0]


# --- tenant A/B matrix --------------------------------------------------------------------


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_select_sees_only_own_tenant(app, table):
    for tenant in (A, B):
        with tenant_tx(app, tenant):
            assert _tenants_visible(app, table) == {tenant}
    with tenant_tx(app, A):
        probe = app.execute(f"select count(*) from {S}.{table} where tenant_id = %s", (B,)).fetchone()[0]
        assert probe == 0


@pytest.mark.parametrize("table", [t for t in TENANT_TABLES if t != "tenants"])
def test_insert_for_other_tenant_fails_with_check(app, table):
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), tenant_tx(app, A):
        _insert(app, table, _new_row(table, B, 1))
    with tenant_tx(app, A):  # the same row for its own tenant is fine
        assert _insert(app, table, _new_row(table, A, 1)) == 1


def test_app_cannot_insert_tenants_at_all(app):
    with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, A):
        _insert(app, "tenants", _new_row("tenants", A, 2))


@pytest.mark.parametrize("table", APP_WRITABLE)
def test_update_and_delete_of_other_tenant_affect_nothing(app, table):
    with tenant_tx(app, B):
        before = app.execute(f"select count(*) from {S}.{table}").fetchone()[0]
    assert before > 0
    with tenant_tx(app, A, commit=True):
        cur = app.execute(f"update {S}.{table} set tenant_id = tenant_id where tenant_id = %s", (B,))
        assert cur.rowcount == 0
        cur = app.execute(f"delete from {S}.{table} where tenant_id = %s", (B,))
        assert cur.rowcount == 0
    with tenant_tx(app, B):
        assert app.execute(f"select count(*) from {S}.{table}").fetchone()[0] == before


@pytest.mark.parametrize("table", APP_WRITABLE)
def test_own_row_cannot_be_moved_to_other_tenant(app, table):
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), tenant_tx(app, A):
        app.execute(f"update {S}.{table} set tenant_id = %s where tenant_id = %s", (B, A))


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_unset_and_empty_tenant_read_nothing(seeded, table):
    with seeded.connect("app", autocommit=True) as conn:
        with tenant_tx(conn, None):  # never set in this session: current_setting is NULL
            assert conn.execute(f"select count(*) from {S}.{table}").fetchone()[0] == 0
        with tenant_tx(conn, ""):
            assert conn.execute(f"select count(*) from {S}.{table}").fetchone()[0] == 0
        with tenant_tx(conn, A):
            assert conn.execute(f"select count(*) from {S}.{table}").fetchone()[0] > 0
        with tenant_tx(conn, None):  # after a transaction-local set the session value is ''
            assert conn.execute("select current_setting('bfg.tenant_id', true)").fetchone()[0] == ""
            assert conn.execute(f"select count(*) from {S}.{table}").fetchone()[0] == 0


@pytest.mark.parametrize("table", [t for t in APP_WRITABLE if t != "scenario_snapshots"] + ["audit_events"])
def test_unset_tenant_cannot_write(app, table):
    for tenant in (None, ""):
        with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, tenant):
            _insert(app, table, _new_row(table, A, 3))


# --- keys and foreign keys ---------------------------------------------------------------------


def test_no_cross_tenant_id_probe_through_duplicate_keys(app):
    with tenant_tx(app, A):
        # u_secret_b, snap-b-only and B's record key (snap-b-only, seq 0) exist only in
        # tenant B: for A they are free ids.
        row = {"tenant_id": A, "user_id": "u_secret_b", "role_key": "driver", "display_name": "Probe"}
        assert _insert(app, "users", row) == 1
        rec = dict(_new_row("scenario_records", A, 4), snapshot_id="snap-b-only", seq=0, record_id="ord-secret-b")
        assert _insert(app, "scenario_records", rec) == 1
        snap = dict(_new_row("scenario_snapshots", A, 4), snapshot_id="snap-b-only")
        assert _insert(app, "scenario_snapshots", snap) == 1
    with pytest.raises(errors.UniqueViolation), tenant_tx(app, A):  # keys still work within a tenant
        _insert(app, "users", {"tenant_id": A, "user_id": "u_anna", "role_key": "x", "display_name": "Dup"})
    with pytest.raises(errors.UniqueViolation), tenant_tx(app, A):  # one row per snapshot position
        _insert(app, "scenario_records", dict(_new_row("scenario_records", A, 8), seq=0))


def test_every_primary_key_leads_with_tenant_id(app):
    keys = dict(app.execute(
        """
        select c.conrelid::regclass::text,
               array_agg(a.attname::text order by k.ord)
          from pg_constraint c
          cross join lateral unnest(c.conkey) with ordinality as k(attnum, ord)
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
         where c.connamespace = %s::regnamespace and c.contype = 'p'
         group by 1
        """,
        (S,),
    ).fetchall())
    assert set(TENANT_TABLES) <= {name.split(".")[-1] for name in keys}  # and the records partitions
    for name, columns in keys.items():
        assert columns[0] == "tenant_id", f"{name}: key {columns}"
    # A snapshot's records are keyed by their canonical position.
    assert keys[f"{S}.scenario_records"] == ["tenant_id", "snapshot_id", "seq"]


def test_record_partitions_are_locked_down_like_their_parent(app):
    """scenario_records is partitioned by snapshot_id (a replay attaches each new snapshot as a
    partition). Every partition has RLS enabled and forced with the parent's policy, and the
    app has no privilege on any: it reaches records only through the parent."""
    parent_policy = app.execute(
        "select qual, with_check from pg_policies where schemaname = %s and tablename = 'scenario_records'", (S,)
    ).fetchall()
    rows = app.execute(
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity,
               has_table_privilege(c.oid, 'select, insert, update, delete, truncate, references, trigger'),
               (select array_agg(array[p.qual, p.with_check]) from pg_policies p
                 where p.schemaname = %s and p.tablename = c.relname and p.cmd = 'ALL')
          from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = %s::regclass
        """,
        (S, f"{S}.scenario_records"),
    ).fetchall()
    assert "scenario_records_default" in {r[0] for r in rows}
    for name, enabled, forced, granted, policies in rows:
        assert enabled and forced, f"{name}: RLS not enabled and forced"
        assert not granted, f"{name}: the app has a privilege on a partition"
        assert policies == [list(parent_policy[0])], f"{name}: policy differs from the parent's"


def test_no_cross_tenant_foreign_key(app):
    messages = []
    for actor in ("u_secret_b", f"u_nobody_{RUN}"):  # B's user, and an id that exists nowhere
        with pytest.raises(errors.ForeignKeyViolation) as exc, tenant_tx(app, A):
            _insert(app, "audit_events", {"tenant_id": A, "actor_id": actor, "source": "t", "action": "x"})
        messages.append(str(exc.value).replace(actor, "<id>"))
    assert messages[0] == messages[1], "the error must not reveal whether the id exists in another tenant"
    with pytest.raises(errors.ForeignKeyViolation), tenant_tx(app, A):
        _insert(app, "scenario_replays", dict(_new_row("scenario_replays", A, 5), snapshot_id="snap-b-only"))


# --- audit is append-only -------------------------------------------------------------------------


def test_audit_rows_cannot_be_updated_or_deleted_by_app(app):
    with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, A):
        app.execute(f"update {S}.audit_events set action = 'forged' where tenant_id = %s", (A,))
    with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, A):
        app.execute(f"delete from {S}.audit_events where tenant_id = %s", (A,))
    with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, A):
        app.execute(f"truncate {S}.audit_events")
    with tenant_tx(app, A, commit=True):  # appending is allowed
        assert _insert(app, "audit_events", _new_row("audit_events", A, 6)) == 1
    with tenant_tx(app, A):
        actions = {r[0] for r in app.execute(f"select action from {S}.audit_events")}
    assert "forged" not in actions and "seed" in actions


def test_audit_trigger_stops_even_the_owner(seeded):
    """Not a tenant verification: proves the trigger catches an owner's mistake."""
    statements = (
        f"update {S}.audit_events set action = 'forged' where tenant_id = '{A}'",
        f"delete from {S}.audit_events where tenant_id = '{A}'",
        f"truncate {S}.audit_events",
    )
    with seeded.connect("migration", autocommit=True) as conn:
        for sql in statements:
            with pytest.raises(errors.InsufficientPrivilege, match="append-only"), conn.transaction():
                conn.execute("set local role bfg_migrator")
                conn.execute(sql)


# --- no way around RLS for the app ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        f"alter table {S}.scenario_records disable row level security",
        f"alter table {S}.scenario_records no force row level security",
        f"drop policy bfg_tenant_isolation on {S}.scenario_records",
        f"create policy leak on {S}.scenario_records using (true) with check (true)",
        f"alter policy bfg_tenant_isolation on {S}.scenario_records using (true)",
        f"alter table {S}.audit_events disable trigger audit_events_append_only",
        "set role bfg_migrator",
        "set session authorization bfg_migration_login",
    ],
)
def test_app_cannot_bypass_rls(app, sql):
    with pytest.raises(errors.InsufficientPrivilege), tenant_tx(app, A):
        app.execute(sql)


def test_row_security_off_is_refused(app):
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), tenant_tx(app, A):
        app.execute("set local row_security = off")
        app.execute(f"select count(*) from {S}.scenario_records")


def test_grant_by_non_owner_grants_nothing(app):
    # GRANT by a non-owner without grant option is a warning in PostgreSQL, not an error.
    with tenant_tx(app, A):
        app.execute(f"grant update on {S}.audit_events to bfg_app")
        assert not app.execute("select has_table_privilege(%s, 'update')", (f"{S}.audit_events",)).fetchone()[0]


# --- idempotent replay ----------------------------------------------------------------------------


def test_replay_with_same_ids_adds_no_rows(app):
    snap = f"snap-replay-{RUN}"
    records = [
        {
            "tenant_id": A,
            "snapshot_id": snap,
            "seq": i,
            "batch_group": "operations",
            "kind": "orders",
            "record_id": f"ord-{i:04d}",
            "body": record_json("orders", f"ord-{i:04d}", {"n": i}),
        }
        for i in range(5)
    ]
    snapshot = dict(_new_row("scenario_snapshots", A, 7), snapshot_id=snap, record_count=5)
    replay = {"tenant_id": A, "replay_id": f"replay-{RUN}", "snapshot_id": snap, "rows_written": 5}
    written = []
    for _ in range(2):
        with tenant_tx(app, A, commit=True):
            n = _insert(app, "scenario_snapshots", snapshot, "on conflict do nothing")
            n += _insert(app, "scenario_replays", replay, "on conflict do nothing")
            n += sum(_insert(app, "scenario_records", r, "on conflict do nothing") for r in records)
            written.append(n)
    assert written == [7, 0]
    with tenant_tx(app, A):
        count = app.execute(f"select count(*) from {S}.scenario_records where snapshot_id = %s", (snap,)).fetchone()[0]
        replays = app.execute(
            f"select count(*) from {S}.scenario_replays where replay_id = %s", (f"replay-{RUN}",)
        ).fetchone()[0]
    assert (count, replays) == (5, 1)


# --- a target made by the earlier runbook migrates in place ------------------------------------

OLD_RECORDS_KEY = "(tenant_id, snapshot_id, kind, record_id)"
# scenario_records as the earlier runbook made it: a plain table with a four-column key.
OLD_RECORDS_DDL = f"""
create table {S}.scenario_records (
  tenant_id text not null,
  snapshot_id text not null,
  seq integer not null check (seq >= 0),
  batch_group text not null
    check (batch_group in ('tenant_rbac', 'operations', 'finance', 'audit')),
  kind text collate "C" not null,
  record_id text collate "C" not null,
  body text not null,
  payload jsonb,
  constraint scenario_records_pkey primary key {OLD_RECORDS_KEY}
);
alter table {S}.scenario_records enable row level security;
alter table {S}.scenario_records force row level security;
create policy bfg_tenant_isolation on {S}.scenario_records
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));
grant select, insert, update, delete on {S}.scenario_records to bfg_app;
"""


def _run_runbook(pg: PgServer, dsn: str) -> None:
    """The runbook as one script, in one transaction, committed."""
    with psycopg.connect(dsn, passfile=pg.passfile) as conn:
        conn.execute(runbook_sql())


@contextlib.contextmanager
def _as_migrator(pg: PgServer, dsn: str) -> Iterator[Any]:
    """A transaction as bfg_migrator (the tables' owner) on `dsn`, committed on exit."""
    with psycopg.connect(dsn, passfile=pg.passfile) as conn:
        conn.execute("set local role bfg_migrator")
        yield conn


@pytest.fixture()
def old_target(pg: PgServer, new_database) -> str:
    """A database shaped by the earlier runbook (scenario_records a plain table keyed by
    (tenant_id, snapshot_id, kind, record_id)) holding 100 records. Its migration DSN."""
    dsn = pg.in_database("migration", new_database())
    _run_runbook(pg, dsn)
    with _as_migrator(pg, dsn) as conn:
        conn.execute(f"drop table {S}.scenario_records")  # the partitioned table and its default partition
        conn.execute(OLD_RECORDS_DDL)
        conn.execute(f"insert into {S}.tenants (tenant_id, name) values ('bfg', 'BFG Control')")
        conn.execute(
            f"insert into {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
            " select 'bfg', 'snap-old', g, 'operations', 'orders', 'ord-' || lpad(g::text, 4, '0'), '{}'"
            " from generate_series(0, 99) g"
        )
    return dsn


def _records_layout(conn) -> tuple[str, str, int]:
    """(relkind of scenario_records, its primary key, rows) as seen by bfg_migrator."""
    kind, key = conn.execute(
        "select c.relkind::text, pg_get_constraintdef(k.oid) from pg_class c"
        " join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'"
        f" where c.oid = '{S}.scenario_records'::regclass"
    ).fetchone()
    return kind, key, conn.execute(f"select count(*) from {S}.scenario_records").fetchone()[0]


def test_runbook_migrates_an_earlier_target_in_place(pg, old_target, new_database):
    with _as_migrator(pg, old_target) as conn:
        assert _records_layout(conn) == ("r", f"PRIMARY KEY {OLD_RECORDS_KEY}", 100)
    fingerprints = []
    for _ in range(2):  # migrates once, then changes nothing
        _run_runbook(pg, old_target)
        with _as_migrator(pg, old_target) as conn:
            assert _records_layout(conn) == ("p", "PRIMARY KEY (tenant_id, snapshot_id, seq)", 100)
            fingerprints.append(_catalog_fingerprint(conn))
            # The old rows became the partition of exactly their snapshot ids; the default
            # partition starts empty, so attaching a new snapshot never scans them.
            bound = conn.execute(
                f"select pg_get_expr(relpartbound, oid) from pg_class where oid = '{S}.scenario_records_legacy'::regclass"
            ).fetchone()[0]
            assert bound == "FOR VALUES IN ('snap-old')"
            assert conn.execute(f"select count(*) from {S}.scenario_records_legacy").fetchone()[0] == 100
            assert conn.execute(f"select count(*) from {S}.scenario_records_default").fetchone()[0] == 0
    assert fingerprints[0] == fingerprints[1]
    # otherwise the same catalog as a database the runbook made from scratch
    fresh = pg.in_database("migration", new_database())
    _run_runbook(pg, fresh)
    with _as_migrator(pg, fresh) as conn:
        fresh_fingerprint = _catalog_fingerprint(conn)

    def comparable(fingerprint: list[tuple]) -> list[tuple]:  # internal FK triggers are named by OID
        return [row for row in fingerprint
                if not str(row[2]).startswith("RI_ConstraintTrigger_") and "scenario_records_legacy" not in str(row)]

    assert comparable(fresh_fingerprint) == comparable(fingerprints[0])
    with psycopg.connect(old_target, passfile=pg.passfile, autocommit=True) as conn:  # rows route as expected
        conn.execute("set role bfg_migrator")
        with conn.transaction(force_rollback=True):
            conn.execute(
                f"insert into {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
                " values ('bfg', 'snap-old', 100, 'operations', 'orders', 'ord-0100', '{}'),"
                " ('bfg', 'snap-new', 0, 'operations', 'orders', 'ord-0000', '{}')"
            )
            assert conn.execute(
                f"select snapshot_id, tableoid::regclass::text from {S}.scenario_records"
                " where (snapshot_id, seq) in (('snap-old', 100), ('snap-new', 0)) order by 1"
            ).fetchall() == [("snap-new", f"{S}.scenario_records_default"), ("snap-old", f"{S}.scenario_records_legacy")]


def test_runbook_drops_an_empty_earlier_records_table(pg, new_database):
    dsn = pg.in_database("migration", new_database())
    _run_runbook(pg, dsn)
    with _as_migrator(pg, dsn) as conn:
        before = _catalog_fingerprint(conn)
        conn.execute(f"drop table {S}.scenario_records")
        conn.execute(OLD_RECORDS_DDL)
    _run_runbook(pg, dsn)
    with _as_migrator(pg, dsn) as conn:
        assert _records_layout(conn) == ("p", "PRIMARY KEY (tenant_id, snapshot_id, seq)", 0)
        after = _catalog_fingerprint(conn)
    assert [r for r in after if "RI_Constraint" not in str(r)] == [r for r in before if "RI_Constraint" not in str(r)]


def test_runbook_refuses_to_migrate_records_sharing_a_seq(pg, old_target):
    with _as_migrator(pg, old_target) as conn:  # legal under the earlier key
        conn.execute(
            f"insert into {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
            " values ('bfg', 'snap-old', 7, 'operations', 'orders', 'ord-extra', '{}')"
        )
    with pytest.raises(errors.RaiseException, match="share a seq") as exc, \
            psycopg.connect(old_target, passfile=pg.passfile) as conn:
        conn.execute(runbook_sql())
    assert "recreate the rehearsal target" in (exc.value.diag.message_hint or "")
    with _as_migrator(pg, old_target) as conn:  # nothing changed
        assert _records_layout(conn) == ("r", f"PRIMARY KEY {OLD_RECORDS_KEY}", 101)


# --- COPY replay of 100k records and checksum parity ------------------------------------------------

KINDS = (
    ("orders", "operations"),
    ("dispatch_events", "operations"),
    ("driver_events", "operations"),
    ("documents", "operations"),
    ("ksef_packages", "finance"),
    ("payments", "finance"),
    ("scenario_audit", "audit"),
)
COPY_ROWS = 100_000


def _generated_records(n: int) -> list[tuple[int, str, str, str, str]]:
    """(seq, batch_group, kind, record_id, canonical body) in canonical order."""
    per_kind = n // len(KINDS)
    out = []
    for k, (kind, group) in enumerate(KINDS):
        count = per_kind + (n - per_kind * len(KINDS) if k == len(KINDS) - 1 else 0)
        for i in range(count):
            rid = f"{kind[:3]}-{i:07d}"
            data = {
                "route": "Warszawa → Łódź → Lviv (Львів)",
                "pallets": i % 33,
                "temp_c": [2, 8],
                "note": 'tab\there, newline\nthere, back\\slash, "quoted"',
                "ksef": f"KSeF-{i:010d}",
            }
            out.append((len(out), group, kind, rid, record_json(kind, rid, data, checked=False)))
    return out


def test_copy_100k_records_then_checksum_parity_as_app(seeded):
    tenant, session = "bfg", "grant-demo-local"
    snap = f"copy-{RUN}"
    records = _generated_records(COPY_ROWS)
    expected = SnapshotHasher(session=session, tenant=tenant)
    expected.add_many(r[4] for r in records)
    digest = expected.hexdigest()

    with seeded.connect("migration") as conn:  # COPY needs a role that is not subject to RLS
        conn.execute("set local role bfg_migrator")
        conn.execute(f"insert into {S}.tenants (tenant_id, name) values ('bfg', 'BFG Control') on conflict do nothing")
        conn.execute(
            f"insert into {S}.scenario_snapshots (tenant_id, snapshot_id, checksum, digest, record_count, session)"
            " values (%s, %s, %s, %s, %s, %s)",
            (tenant, snap, "bfg-" + digest[:8], digest, len(records), session),
        )
        conn.commit()
        conn.execute("set local role bfg_migrator")
        with conn.cursor().copy(
            f"copy {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body) from stdin"
        ) as copy:
            for seq, group, kind, rid, body in records:
                copy.write_row((tenant, snap, seq, group, kind, rid, body))
        conn.commit()

    try:
        with seeded.connect("app") as conn:
            conn.execute(SET_TENANT_SQL, (tenant,))
            # 1. streamed in canonical order and hashed here, batch by batch
            got = SnapshotHasher(session=session, tenant=tenant)
            with conn.cursor(name="readback") as cur:
                cur.itersize = 20_000
                cur.execute(
                    f"select body from {S}.scenario_records where tenant_id = %s and snapshot_id = %s order by seq",
                    (tenant, snap),
                )
                while batch := cur.fetchmany(20_000):
                    got.add_many(r[0] for r in batch)
            # 2. recomputed by the server over the exact bodies (never jsonb::text)
            tail = canonical_json({"schema": "BFGScenarioSnapshot.v1", "session": session, "tenant": tenant})[1:]
            server_digest, rows = conn.execute(
                f"""select encode(sha256(convert_to(
                           '{{"records":[' || string_agg(body, ',' order by seq) || '],' || %s, 'UTF8')), 'hex'),
                           count(*)
                      from {S}.scenario_records where tenant_id = %s and snapshot_id = %s""",
                (tail, tenant, snap),
            ).fetchone()
            stored = conn.execute(
                f"select digest, record_count from {S}.scenario_snapshots where tenant_id = %s and snapshot_id = %s",
                (tenant, snap),
            ).fetchone()
            conn.rollback()
            conn.execute(SET_TENANT_SQL, (A,))  # another tenant sees none of it
            other = conn.execute(
                f"select count(*) from {S}.scenario_records where snapshot_id = %s", (snap,)
            ).fetchone()[0]
    finally:
        with seeded.connect("migration") as conn:
            conn.execute("set local role bfg_migrator")
            conn.execute(f"delete from {S}.scenario_records where tenant_id = %s and snapshot_id = %s", (tenant, snap))
            conn.execute(
                f"delete from {S}.scenario_snapshots where tenant_id = %s and snapshot_id = %s", (tenant, snap)
            )

    assert got.rows == rows == len(records)
    assert got.hexdigest() == digest
    assert server_digest == digest
    assert stored == (digest, len(records))
    assert other == 0


def test_sanity_generated_bodies_are_canonical():
    sample = _generated_records(14)
    for _, _, kind, rid, body in sample:
        assert body == canonical_json(json.loads(body))
        assert json.loads(body)["kind"] == kind and json.loads(body)["id"] == rid


# --- the runbook option tenant-logins: one login per tenant, policies on session_user -----------


def test_tenant_logins_option_ignores_every_setting_the_client_can_change(pg: PgServer, new_database) -> None:
    """With the option, the app-server-set tenant is gone: each tenant's own login sees its rows,
    setting bfg.tenant_id (per session or mid-transaction) reaches nothing, unmapped sees nothing."""
    mig = pg.in_database("migration", new_database())
    with psycopg.connect(mig, passfile=pg.passfile) as conn:
        conn.execute(runbook_sql("tenant-logins"))
    with psycopg.connect(mig, passfile=pg.passfile) as conn:  # twice: idempotent
        conn.execute(runbook_sql("tenant-logins"))
    with _as_migrator(pg, mig) as conn:
        for tenant, user, login in ((A, "u_anna", "bfg_anna_login"), (B, "u_boris", "bfg_other_login")):
            conn.execute(f"insert into {S}.tenants (tenant_id, name) values (%s, %s)", (tenant, tenant))
            conn.execute(f"insert into {S}.users (tenant_id, user_id, role_key, display_name) values (%s, %s, 'x', 'x')",
                         (tenant, user))
            conn.execute(f"insert into {S}.tenant_logins (login, tenant_id) values (%s, %s)", (login, tenant))

    def connect(login: str):
        return psycopg.connect(mig.replace("bfg_migration_login@", f"{login}@"), passfile=pg.passfile)

    with connect("bfg_anna_login") as anna:
        assert [r[0] for r in anna.execute(f"select user_id from {S}.users")] == ["u_anna"]
        for local in (False, True):
            anna.execute("select set_config('bfg.tenant_id', %s, %s)", (B, local))
            assert anna.execute(f"select count(*) from {S}.users where tenant_id = %s", (B,)).fetchone()[0] == 0
            assert anna.execute(f"update {S}.users set display_name = 'x' where tenant_id = %s", (B,)).rowcount == 0
            with pytest.raises(errors.InsufficientPrivilege):
                anna.execute(f"insert into {S}.users (tenant_id, user_id, role_key, display_name)"
                             " values (%s, 'u_evil', 'x', 'x')", (B,))
            anna.rollback()
        # The server still assigns the audit trail's order, id and time.
        anna.execute(f"insert into {S}.audit_events (tenant_id, event_id, actor_id, source, action, created_at, seq)"
                     " values (%s, 'chosen', 'u_anna', 't', 'x', '2001-01-01', 999)", (A,))
        event_id, seq, created = anna.execute(
            f"select event_id, seq, created_at > now() - interval '1 minute' from {S}.audit_events").fetchone()
        assert event_id != "chosen" and seq != 999 and created
        anna.rollback()
    with connect("bfg_other_login") as other:
        assert [r[0] for r in other.execute(f"select user_id from {S}.users")] == ["u_boris"]
    with connect("bfg_app_login") as unmapped:
        unmapped.execute("select set_config('bfg.tenant_id', %s, false)", (A,))
        assert unmapped.execute(f"select count(*) from {S}.users").fetchone()[0] == 0


def test_the_default_runbook_assigns_audit_order_id_and_time_on_the_server(app) -> None:
    with tenant_tx(app, A):
        app.execute(f"insert into {S}.audit_events (tenant_id, event_id, actor_id, source, action, created_at, seq)"
                    " values (%s, 'chosen-id', 'u_anna', 't', 'backdated', '2001-01-01', 1)", (A,))
        rows = app.execute(f"select event_id, seq, created_at > now() - interval '1 minute' from {S}.audit_events"
                           " where action = 'backdated'").fetchall()
        assert len(rows) == 1 and rows[0][0] != "chosen-id" and rows[0][1] > 1 and rows[0][2]
