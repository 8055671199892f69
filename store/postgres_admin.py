"""Who may connect to the shared store: the migrator's mapping of logins to (tenant, actor).

`add_login` and `list_logins` back `bfg-tui store add-login` and `bfg-tui store logins`.
Mapping is the migrator's job (the mapping table is owned by bfg_migrator; logins can
only read their own row). Creating roles is not: the migrator holds no CREATEROLE (a
CREATEROLE login can grant itself the migrator role on PostgreSQL 15), so for a login
that does not exist yet, or is not a member of bfg_app, the SQL a DBA runs is returned
instead. A login that would be refused as a store login is never mapped.
"""

from __future__ import annotations

import contextlib
import re
from typing import NamedTuple

import psycopg

from bfg_tui.errors import Reason, StoreError
from bfg_tui.pg_roles import for_role, hygiene_problem
from bfg_tui.runbook import APP_ROLE, MIGRATOR_ROLE

from .postgres import PgLocation, _connect, fetch_one, parse_location, translate_error
from .postgres_schema import SCHEMA_VERSION

_LOGIN_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class LoginMapping(NamedTuple):
    login: str
    tenant: str
    actor: str
    role_exists: bool
    app_member: bool


class AddLoginResult(NamedTuple):
    mapping: LoginMapping
    replaced: LoginMapping | None  # the earlier mapping of this login, if it changed
    dba_sql: str  # what a DBA must still run ("" when nothing)


def valid_login(name: str) -> bool:
    return bool(_LOGIN_RE.match(name)) and not name.startswith("pg_")


async def _migration_conn(loc: PgLocation, verb: str) -> psycopg.AsyncConnection:
    conn = await _connect(loc, f"bfg-tui store {verb}")
    member, version_table = await fetch_one(
        conn,
        "select case when exists (select 1 from pg_roles where rolname = %s) "
        "then pg_has_role(session_user, %s, 'MEMBER') else false end, to_regclass(%s) is not null",
        (MIGRATOR_ROLE, MIGRATOR_ROLE, f"{loc.schema}.schema_version"),
    )
    if not member:
        await conn.close()
        raise StoreError(Reason.of("pgstore.needs_migrator", where=loc.display, verb=verb, role=MIGRATOR_ROLE))
    version = 0
    if version_table:
        row = await (await conn.execute(f"select version from {loc.schema}.schema_version")).fetchone()
        version = int(row[0]) if row else 0
    if version != SCHEMA_VERSION:
        await conn.close()
        raise StoreError(Reason.of("pgstore.install_first", where=loc.display, version=version, needs=SCHEMA_VERSION))
    return conn


def dba_sql(login: str, exists: bool) -> str:
    """The statements a DBA (a role with CREATEROLE) runs for this login."""
    if exists:
        return f"grant {APP_ROLE} to {login};"
    return (f"create role {login} login nosuperuser nobypassrls nocreatedb nocreaterole in role {APP_ROLE};\n"
            f"\\password {login}")


async def add_login(location: str, actor: str, login: str, tenant: str) -> AddLoginResult:
    loc = parse_location(location)
    if not valid_login(login):
        raise StoreError(Reason.of("pgstore.bad_login", login=repr(login[:64])))
    if not tenant or len(tenant) > 64 or not tenant.isprintable():
        raise StoreError(Reason.of("pgstore.bad_tenant"))
    conn = await _migration_conn(loc, "add-login")
    s = loc.schema
    try:
        exists = (await (await conn.execute("select 1 from pg_roles where rolname = %s", (login,))).fetchone()) is not None
        app_member = False
        if exists:
            # The checks the store makes at open, made on the login before it is mapped.
            row = await fetch_one(conn, for_role(), {"u": login})
            problem = hygiene_problem(row)
            owner = (await (await conn.execute(
                "select o.rolname::text from pg_class c join pg_roles o on o.oid = c.relowner "
                "where c.oid = to_regclass(%s) and pg_has_role(%s::name, c.relowner, 'MEMBER')",
                (f"{s}.audit_events", login))).fetchone())
            if owner:
                problem = Reason.of("login.owner_member", user=login, owner=owner[0])
            if problem:
                raise StoreError(Reason.of("pgstore.not_mapped", where=loc.display, problem=Reason.said(problem),
                                           role=APP_ROLE))
            app_member = bool((await fetch_one(
                conn, "select pg_has_role(%s::name, %s, 'MEMBER')", (login, APP_ROLE)))[0])
        async with conn.transaction():
            await conn.execute(f"set local role {MIGRATOR_ROLE}")
            old = await (await conn.execute(
                f"select tenant_id, actor from {s}.logins where login = %s for update", (login,))).fetchone()
            await conn.execute(
                f"insert into {s}.logins(login, tenant_id, actor) values (%s, %s, %s) on conflict (login) do update "
                "set tenant_id = excluded.tenant_id, actor = excluded.actor, created_at = now()",
                (login, tenant, actor))
        mapping = LoginMapping(login, tenant, actor, exists, app_member)
        replaced = None
        if old is not None and (old[0], old[1]) != (tenant, actor):
            replaced = LoginMapping(login, old[0], old[1], exists, app_member)
        return AddLoginResult(mapping, replaced, "" if app_member else dba_sql(login, exists))
    except psycopg.Error as exc:
        raise translate_error(exc, loc.display) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def list_logins(location: str) -> list[LoginMapping]:
    """Every mapping (the migration login) or the connected login's own (any other login, by RLS)."""
    loc = parse_location(location)
    conn = await _connect(loc, "bfg-tui store logins")
    s = loc.schema
    try:
        migrator = (await fetch_one(
            conn,
            "select case when exists (select 1 from pg_roles where rolname = %s) "
            "then pg_has_role(session_user, %s, 'MEMBER') else false end", (MIGRATOR_ROLE, MIGRATOR_ROLE),
        ))[0]
        async with conn.transaction():
            if migrator:
                await conn.execute(f"set local role {MIGRATOR_ROLE}")
            rows = await (await conn.execute(
                f"select l.login, l.tenant_id, l.actor, r.oid is not null, "
                f"case when r.oid is null then false else pg_has_role(r.oid, %s, 'MEMBER') end "
                f"from {s}.logins l left join pg_roles r on r.rolname = l.login "
                "order by l.tenant_id, l.actor, l.login", (APP_ROLE,))).fetchall()
        return [LoginMapping(*r) for r in rows]
    except psycopg.Error as exc:
        raise translate_error(exc, loc.display) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
