"""Row-level security proofs as the app login: the login cannot bypass RLS, every tenant
table forces it, a tenant-scoped session sees only its tenant, and the tenant A/B
matrix after a replay. The RLS probe tenant is seeded here by the migration login."""

from __future__ import annotations

import json
import time
from typing import Any

from ...runbook import MIGRATOR_ROLE, SCHEMA, SET_TENANT_SQL, runbook_sql
from ..base import Log, StepResult
from .session import PROBE_TENANT, PROBE_USER, Fail, PgSession, q, readers_turn

TENANT_TABLES = (
    "tenants", "users", "permissions", "scenario_snapshots", "scenario_records", "scenario_replays", "audit_events",
)


async def rbac_session(s: PgSession, log: Log, tenant_id: str, claims: dict[str, object]) -> StepResult:
    check = "connection.rbac_session"
    try:
        app = await s.app_conn()
        await refuse_bypass(s, app, log)
        await require_rls(s, app, log, apply_if_missing=True)
        await seed_probe_tenant(s, log, tenant_id)
        s.phase = "tenant-scoped session as the app login"
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant_id,))
            await app.execute("select set_config('bfg.claims', %s, true)", (json.dumps(claims, sort_keys=True),))
            seen = [r[0] for r in await (await app.execute(
                f"select tenant_id from {q('tenants')} order by 1")).fetchall()]
            other = (await (await app.execute(
                f"select (select count(*) from {q('users')} where tenant_id = %s)"
                f" + (select count(*) from {q('tenants')} where tenant_id = %s)",
                (PROBE_TENANT, PROBE_TENANT))).fetchone())[0]
            sub = (await (await app.execute("select current_setting('bfg.claims', true)::json->>'sub'"))
                   .fetchone())[0]
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (PROBE_TENANT,))
            probe_sees = (await (await app.execute(
                f"select count(*) from {q('users')} where user_id = %s", (PROBE_USER,))).fetchone())[0]
        async with app.transaction(force_rollback=True):
            after = (await (await app.execute(
                f"select coalesce(current_setting('bfg.tenant_id', true), ''),"
                f" (select count(*) from {q('tenants')})")).fetchone())
        mig = await s.mig_conn(log)
        async with mig.transaction(force_rollback=True):
            await mig.execute(f"set local role {MIGRATOR_ROLE}")
            total = (await (await mig.execute(f"select count(*) from {q('tenants')}")).fetchone())[0]
        log(f"as {sub} with tenant {tenant_id} set transaction-locally: saw tenants {seen} of {total}, "
            f"{other} rows of probe tenant {PROBE_TENANT}")
        log(f"as probe tenant {PROBE_TENANT}: saw {probe_sees} of its own rows (RLS filters, not blanket denial)")
        log(f"after the transaction: tenant setting '{after[0]}', {after[1]} tenants visible (setting was local)")
        ok = seen == [tenant_id] and other == 0 and total >= 2 and probe_sees == 1 and after == ("", 0)
        if not ok:
            return StepResult(check, False, f"tenant isolation not proven: saw {seen[:3]} of {total} tenants, "
                                            f"{other} probe-tenant rows, {after[1]} with no tenant set")
        return StepResult(check, True, f"claims of {sub}: tenant {tenant_id} set transaction-locally sees only "
                                       f"its tenant (1 of {total}) under forced RLS as a non-owner, no-BYPASSRLS login")
    except Exception as exc:
        return s.failed(check, log, exc)


async def refuse_bypass(s: PgSession, app: Any, log: Log) -> None:
    from ...pg_roles import HYGIENE_SQL, hygiene_problem

    s.phase = "checking the login's role attributes"
    row = await (await app.execute(HYGIENE_SQL)).fetchone()
    user = row[0]
    problem = hygiene_problem(row)
    if problem:
        raise Fail(f"login {problem}; probe with the non-owner app login")
    owned = await (await app.execute(
        "select c.relname, pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p') and pg_has_role(session_user, c.relowner, 'member')"
        " order by 1", (SCHEMA,))).fetchall()
    if owned:
        raise Fail(f"login {user} is {owned[0][1]} or a member of it, which owns {SCHEMA}.{owned[0][0]}: "
                    "an owner can switch RLS off; use the app login")
    log(f"login {user}: not superuser, no BYPASSRLS, no CREATEROLE, no member of a role that has one of them, "
        f"owns no {SCHEMA} table")


async def require_rls(s: PgSession, app: Any, log: Log, *, apply_if_missing: bool) -> None:
    s.phase = "checking row-level security"
    rows = await rls_catalog(s, app)
    if not rows and apply_if_missing:
        log(f"schema {SCHEMA} not found: applying the runbook as the migration login")
        await apply_runbook(s, log)
        rows = await rls_catalog(s, app)
    found = {r[0]: r for r in rows}
    missing = [t for t in TENANT_TABLES if t not in found]
    if missing:
        raise Fail(f"{SCHEMA}.{missing[0]} does not exist (or is not visible to the app login)")
    for name in TENANT_TABLES:
        _, enabled, forced, _policies, complete = found[name]
        if not enabled:
            raise Fail(f"row level security is not enabled on {SCHEMA}.{name}")
        if not forced:
            raise Fail(f"row level security is not forced on {SCHEMA}.{name}")
        if not complete:
            raise Fail(f"{SCHEMA}.{name} has no policy with both using and with check")
    log(f"RLS enabled and forced on {len(TENANT_TABLES)}/{len(TENANT_TABLES)} {SCHEMA} tables, "
        "each with a using + with check policy")


async def rls_catalog(s: PgSession, conn: Any) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = await (await conn.execute(
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity,"
        " (select count(*) from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname),"
        " exists (select 1 from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname"
        "         and p.qual is not null and p.with_check is not null)"
        " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p') and c.relname = any(%s)",
        (SCHEMA, list(TENANT_TABLES)))).fetchall()
    return rows


async def seed_probe_tenant(s: PgSession, log: Log, tenant_id: str) -> None:
    mig = await s.mig_conn(log)
    s.phase = "seeding the RLS probe tenant as the migration login"
    async with mig.transaction():
        await mig.execute(f"set local role {MIGRATOR_ROLE}")
        await mig.execute(
            f"insert into {q('tenants')} (tenant_id, name) values (%s, %s), (%s, %s) on conflict do nothing",
            (tenant_id, s.catalog.tenant_name, PROBE_TENANT, "RLS probe tenant (bfg-tui, no data)"))
        await mig.execute(
            f"insert into {q('users')} (tenant_id, user_id, role_key, display_name)"
            " values (%s, %s, 'rls_probe', 'RLS probe user') on conflict do nothing", (PROBE_TENANT, PROBE_USER))


async def apply_runbook(s: PgSession, log: Log) -> float:
    mig = await s.mig_conn(log)
    s.phase = "applying the runbook as the migration login"
    t0 = time.perf_counter()
    async with mig.transaction():
        await mig.execute(runbook_sql())
    secs = time.perf_counter() - t0
    log(f"runbook applied in one transaction as the migration login ({secs:.2f} s; idempotent)")
    return secs


async def tenant_matrix(s: PgSession, log: Log, tenant: str, snap: str, rows: int) -> list[tuple[str, bool]]:
    """Tenant A (the snapshot's) and B (the probe tenant), as the app login, all rolled back."""
    import psycopg

    app = await s.app_conn()
    s.phase = "tenant A/B matrix as the app login"
    a, b = tenant, PROBE_TENANT
    rec, users = q("scenario_records"), q("users")
    out: list[tuple[str, bool]] = []

    async def refused(sql: str, params: tuple[object, ...]) -> bool:
        try:
            async with app.transaction():  # a savepoint inside the rolled-back transaction
                await app.execute(sql, params)
        except psycopg.errors.InsufficientPrivilege:
            return True
        except psycopg.Error:
            return False
        return False

    async def scalar(sql: str, params: tuple[object, ...] = ()) -> int:
        value: int = (await (await app.execute(sql, params)).fetchone())[0]
        return value

    new_rec = (f"insert into {rec} (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
               " values (%s, %s, 0, 'audit', 'scenario_audit', %s, '{}')")
    async with app.transaction(force_rollback=True):
        await readers_turn(app)
        await app.execute(SET_TENANT_SQL, (b,))
        out.append((f"B select: {b} sees 0 of A's {rows} replayed rows",
                    await scalar(f"select count(*) from {rec} where snapshot_id = %s", (snap,)) == 0))
        out.append((f"B insert: {b} cannot insert a row for {a}",
                    await refused(new_rec, (a, snap, "matrix-b-into-a"))))
        out.append((f"B update: {b} updates 0 rows of {a}", (await app.execute(
            f"update {rec} set body = body where tenant_id = %s and snapshot_id = %s", (a, snap))).rowcount == 0))
        out.append((f"B delete: {b} deletes 0 rows of {a}", (await app.execute(
            f"delete from {rec} where tenant_id = %s and snapshot_id = %s", (a, snap))).rowcount == 0))
        out.append((f"B positive control: {b} sees its own probe user",
                    await scalar(f"select count(*) from {users} where user_id = %s", (PROBE_USER,)) == 1))
    async with app.transaction(force_rollback=True):
        await readers_turn(app)
        await app.execute(SET_TENANT_SQL, (a,))
        out.append((f"A select: {a} sees 0 rows of {b}", await scalar(
            f"select (select count(*) from {users} where tenant_id = %s)"
            f" + (select count(*) from {q('tenants')} where tenant_id = %s)", (b, b)) == 0))
        out.append((f"A insert: {a} cannot insert a row for {b}", await refused(
            f"insert into {users} (tenant_id, user_id, role_key, display_name) values (%s, 'matrix-a', 'x', 'x')",
            (b,))))
        out.append((f"A update: {a} updates 0 rows of {b}", (await app.execute(
            f"update {users} set display_name = display_name where tenant_id = %s", (b,))).rowcount == 0))
        out.append((f"A delete: {a} deletes 0 rows of {b}", (await app.execute(
            f"delete from {users} where tenant_id = %s", (b,))).rowcount == 0))
        out.append((f"A move: {a} cannot move its row to {b}", await refused(
            f"update {rec} set tenant_id = %s where tenant_id = %s and snapshot_id = %s and seq = 0", (b, a, snap))))
        out.append((f"A id probe: {b}'s user id is free for {a} (tenant-scoped keys)", not await refused(
            f"insert into {users} (tenant_id, user_id, role_key, display_name) values (%s, %s, 'x', 'x')",
            (a, PROBE_USER)) and await scalar(
            f"select count(*) from {users} where user_id = %s", (PROBE_USER,)) == 1))
        out.append((f"A positive control: {a} sees all {rows} of its replayed rows",
                    await scalar(f"select count(*) from {rec} where snapshot_id = %s", (snap,)) == rows))
    async with app.transaction(force_rollback=True):
        await readers_turn(app)
        await app.execute(SET_TENANT_SQL, ("",))
        out.append(("empty tenant: reads nothing", await scalar(
            f"select (select count(*) from {rec} where snapshot_id = %s) + (select count(*) from {users})"
            f" + (select count(*) from {q('tenants')})", (snap,)) == 0))
        out.append(("empty tenant: cannot insert", await refused(new_rec, (a, snap, "matrix-empty"))))
    # The switching attack, run and shown as what it is: the app login may set the tenant
    # itself, so a client holding the app password reads another tenant. Expected with an
    # app-server-set tenant (the runbook's default); closed by the tenant-logins option.
    async with app.transaction(force_rollback=True):
        await readers_turn(app)
        await app.execute(SET_TENANT_SQL, (a,))
        await app.execute(SET_TENANT_SQL, (b,))  # mid-transaction, as any client may
        switched = await scalar(f"select count(*) from {users} where user_id = %s", (PROBE_USER,))
    s.switching_attack = switched > 0
    fresh = await s.connect(s.dsn)  # a new session: the setting was never set at all
    try:
        async with fresh.transaction(force_rollback=True):
            await readers_turn(fresh)
            unset = await (await fresh.execute(
                f"select current_setting('bfg.tenant_id', true) is null,"
                f" (select count(*) from {rec} where snapshot_id = %s) + (select count(*) from {users})"
                f" + (select count(*) from {q('tenants')})", (snap,))).fetchone()
        out.append(("unset tenant (new session): reads nothing", bool(unset[0]) and unset[1] == 0))
    finally:
        await fresh.close()
    return out
