"""The dry-run steps before the replay: the runbook applied and every record kind mapped
to a table with forced RLS, then the actor claims written and read back."""

from __future__ import annotations

from typing import cast

from ...runbook import MIGRATOR_ROLE, SCHEMA, SET_TENANT_SQL, shipped_lint
from ..base import Log, StepResult
from . import rls
from .session import PROBE_TENANT, RUNBOOK_LOCK, PgSession, q


async def schema_map(s: PgSession, log: Log, kind_tables: dict[str, str], kinds: list[str]) -> StepResult:
    check = "dryrun.schema_map"
    try:
        lint = shipped_lint()
        log(f"runbook static RLS lint: {lint.summary()}")
        if not lint.ok:
            return StepResult(check, False, f"the runbook fails the RLS lint: {lint.problems[0]}")
        await rls.apply_runbook(s, log)
        app = await s.app_conn()
        s.phase = "mapping record kinds to tables"
        tables = sorted({kind_tables[k] for k in kinds if k in kind_tables})
        unknown = [k for k in kinds if k not in kind_tables]
        if unknown:
            return StepResult(check, False, f"record kind {unknown[0]} maps to no target table")
        rows = await (await app.execute(
            "select t, to_regclass(%s || '.' || t) is not null"
            " and has_table_privilege(%s || '.' || t, 'select') from unnest(%s::text[]) t",
            (SCHEMA, SCHEMA, tables))).fetchall()
        absent = [t for t, ok in rows if not ok]
        if absent:
            return StepResult(check, False, f"table {SCHEMA}.{absent[0]} is missing or not readable by the app")
        await rls.require_rls(s, app, log, apply_if_missing=False)
        log(f"{len(kinds)} record kinds map to {', '.join(f'{SCHEMA}.{t}' for t in tables)}")
        return StepResult(check, True, f"runbook applied (one transaction, idempotent); {len(kinds)} kinds map to "
                                       f"{len(tables)} tables with forced RLS")
    except Exception as exc:
        return s.failed(check, log, exc)


async def replay_claims(s: PgSession, log: Log, tenant_id: str, claims: list[dict[str, object]]) -> StepResult:
    check = "dryrun.rbac_claims_probe"
    try:
        mig = await s.mig_conn(log)
        s.phase = "writing the actor claims as the migration login"
        roles: dict[str, list[str]] = {}
        for c in claims:
            roles.setdefault(str(cast(list[str], c["roles"])[0]), sorted({str(p) for p in cast(list[str], c["permissions"])}))
        async with mig.transaction():
            # Takes turns with replays and runbook runs (two dry-runs into one database at once
            # otherwise deadlock between one's claims and the other's replay).
            await mig.execute("select pg_advisory_xact_lock(%s, %s)", RUNBOOK_LOCK)
            await mig.execute(f"set local role {MIGRATOR_ROLE}")
            await mig.execute(f"insert into {q('tenants')} (tenant_id, name) values (%s, %s) on conflict do nothing",
                              (tenant_id, s.catalog.tenant_name))
            async with mig.cursor() as cur:
                await cur.executemany(
                    f"insert into {q('users')} (tenant_id, user_id, role_key, display_name, desk)"
                    " values (%s, %s, %s, %s, %s) on conflict (tenant_id, user_id) do update set"
                    " role_key = excluded.role_key, display_name = excluded.display_name, desk = excluded.desk",
                    [(tenant_id, c["sub"], c["roles"][0], c["name"], c["org"]) for c in claims])  # type: ignore[index]
                for role, perms in roles.items():
                    await cur.execute(
                        f"delete from {q('permissions')} where tenant_id = %s and role_key = %s"
                        " and not (permission = any(%s))", (tenant_id, role, perms))
                await cur.executemany(
                    f"insert into {q('permissions')} (tenant_id, role_key, permission) values (%s, %s, %s)"
                    " on conflict do nothing",
                    [(tenant_id, role, p) for role, perms in roles.items() for p in perms])
        app = await s.app_conn()
        s.phase = "reading the claims back as the app login"
        subs = [str(c["sub"]) for c in claims]
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant_id,))
            users = await (await app.execute(
                f"select user_id, tenant_id, role_key, display_name, desk from {q('users')}"
                " where user_id = any(%s)", (subs,))).fetchall()
            perms = await (await app.execute(
                f"select role_key, permission from {q('permissions')} where role_key = any(%s)",
                (list(roles),))).fetchall()
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (PROBE_TENANT,))
            leaked = (await (await app.execute(
                f"select count(*) from {q('users')} where user_id = any(%s)", (subs,))).fetchone())[0]
        by_role: dict[str, set[str]] = {}
        for role, perm in perms:
            by_role.setdefault(role, set()).add(perm)
        back = {u[0]: {"sub": u[0], "tenant_id": u[1], "roles": [u[2]], "name": u[3], "org": u[4],
                       "permissions": sorted(by_role.get(u[2], ()))} for u in users}
        want = {str(c["sub"]): {"sub": c["sub"], "tenant_id": c["tenant_id"], "roles": list(c["roles"]),  # type: ignore[call-overload]
                                "name": c["name"], "org": c["org"],
                                "permissions": sorted(str(p) for p in c["permissions"])} for c in claims}  # type: ignore[attr-defined]
        equal = [s for s in subs if back.get(s) == want[s]]
        log(f"claims: {len(claims)} actors written to {SCHEMA}.users/permissions as {MIGRATOR_ROLE}; read back "
            f"as the app login equal for {len(equal)}/{len(claims)}; visible to the probe tenant: {leaked}")
        if len(equal) != len(claims) or leaked:
            bad = next((s for s in subs if s not in equal), "")
            return StepResult(check, False, f"claims read back differ for {bad}" if bad else
                              f"{leaked} claim rows visible to another tenant")
        return StepResult(check, True, f"{len(claims)} actors replay as claims with their permissions "
                                       "(read back equal as the app login; invisible to other tenants)")
    except Exception as exc:
        return s.failed(check, log, exc)
