"""The migration runbook SQL, and whether it passes the RLS lint.

`runbook_sql()` is the hardened, idempotent, transaction-safe body shipped in
assets/runbook.sql. The lint itself is `bfg_tui.rls_lint`; every status read asks
`shipped_lint_ok()`, which answers from the verdict recorded for the shipped runbook
(assets/runbook_lint.json) while the runbook is the one it was recorded for, and lints
otherwise. Pure and stdlib only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .rls_lint import LintResult

SCHEMA = "bfg_flowcontrol"
MIGRATOR_ROLE = "bfg_migrator"
APP_ROLE = "bfg_app"
# Set the tenant for the current transaction only (parameter: the tenant id).
SET_TENANT_SQL = "select set_config('bfg.tenant_id', %s, true)"


# Runbook options: SQL applied after the runbook, in the same transaction.
OPTIONS = {"tenant-logins": "runbook_tenant_logins.sql"}


def runbook_sql(option: str | None = None) -> str:
    """The runbook SQL body (schema, tables, RLS, roles) from assets/runbook.sql, and an
    option's SQL after it (`tenant-logins`: one login per tenant, policies on session_user)."""
    if option is None:
        return _load_asset("runbook.sql")
    if option not in OPTIONS:
        raise ValueError(f"unknown runbook option {option!r} (one of: {', '.join(OPTIONS)})")
    return _load_asset("runbook.sql") + "\n" + _load_asset(OPTIONS[option])


@lru_cache(maxsize=4)
def _load_asset(name: str) -> str:
    from .assets_io import asset_text

    return asset_text(name)


def shipped_lint() -> LintResult:
    """The lint of the shipped runbook: what the packets report."""
    from .rls_lint import lint_rls

    return lint_rls(runbook_sql())


def runbook_sha256(sql: str) -> str:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # hashlib's own import costs more (start-up)
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha256
    return str(sha256(sql.encode("utf-8")).hexdigest())


def shipped_record() -> dict[str, Any]:
    """What assets/runbook_lint.json holds: the shipped runbook it speaks for, and the lint's verdict."""
    sql = runbook_sql()
    return {"runbook_sha256": runbook_sha256(sql), "ok": shipped_lint().ok}


def shipped_lint_ok() -> bool:
    """Does the shipped runbook pass the lint (the `rls_lint` fact)?

    The recorded verdict while the runbook is the one it was recorded for; any other
    runbook (edited in place, say) is linted. Compiling the lint's expressions would
    cost more than the rest of a `status` read.
    """
    import json

    try:
        recorded = json.loads(_load_asset("runbook_lint.json"))
    except (OSError, ValueError):
        recorded = None
    if (isinstance(recorded, dict) and isinstance(recorded.get("ok"), bool)
            and recorded.get("runbook_sha256") == runbook_sha256(runbook_sql())):
        return bool(recorded["ok"])
    return shipped_lint().ok


_GRANT = r"^\s*(grant|revoke)\b[^;]*?\b(?:to|from)\s+bfg_app\s*;"


def app_role_statements(sql: str | None = None) -> list[str]:
    """The grant/revoke statements of the runbook that concern the app role, one line each."""
    text = runbook_sql() if sql is None else sql
    return [re.sub(r"\s+", " ", m.group(0)).strip()
            for m in re.finditer(_GRANT, text, re.IGNORECASE | re.MULTILINE)]


def render_runbook(header: dict[str, str], schema: str) -> str:
    """The packet's schema and header comments (`-- key=value`), then the SQL body."""
    lines = [f"-- {schema}"]
    lines += [f"-- {k}={v}" for k, v in header.items()]
    return "\n".join(lines) + "\n" + runbook_sql()


# --- the tenant-logins option, generated ----------------------------------------------

# The tenant a connection may see under the tenant-logins option: its login's mapping.
_LOGIN_TENANT = f"(select l.tenant_id from {SCHEMA}.tenant_logins l where l.login = session_user::text)"
_POLICY_ON = r"^create policy bfg_tenant_isolation on (\S+)$"  # compiled on use: status imports this module

_TENANT_LOGINS_HEAD = f"""\
-- Runbook option `tenant-logins`: one login role per tenant, policies on session_user.
-- Apply it after assets/runbook.sql in the SAME transaction
-- (psql --single-transaction -f assets/runbook.sql -f assets/runbook_tenant_logins.sql, or
-- bfg_tui.runbook.runbook_sql("tenant-logins")). Idempotent like the runbook.
-- Generated from the runbook's tenant tables by bfg_tui.runbook.tenant_logins_sql
-- (`make runbook`); edit the generator, not this file.
--
-- The default runbook trusts the application server to set bfg.tenant_id per request:
-- that protects honest code paths, not a client holding the app login's credentials (it can set the
-- tenant itself). With this option the tenant is the connected login's, mapped by the
-- migrator, and no setting the client can change moves it:
--   GRANT bfg_app TO acme_app;   -- by a DBA: one plain login per tenant (no CREATEROLE,
--                                --  no membership of bfg_migrator or of a bypassing role)
--   INSERT INTO {SCHEMA}.tenant_logins (login, tenant_id) VALUES ('acme_app', 'acme');
-- A login without a mapping sees and writes nothing. Snapshot partitions are reached only
-- through scenario_records (the app has no grant on any partition), whose policy applies.

create table if not exists {SCHEMA}.tenant_logins (
  login text not null,
  tenant_id text not null,
  created_at timestamptz not null default now(),
  constraint tenant_logins_pkey primary key (login),
  constraint tenant_logins_tenant_fkey foreign key (tenant_id)
    references {SCHEMA}.tenants (tenant_id)
);
alter table {SCHEMA}.tenant_logins enable row level security;
alter table {SCHEMA}.tenant_logins force row level security;
drop policy if exists bfg_own_login on {SCHEMA}.tenant_logins;
create policy bfg_own_login on {SCHEMA}.tenant_logins
  as permissive for all to public
  using (login = session_user::text)
  with check (login = session_user::text);
revoke all on {SCHEMA}.tenant_logins from public;
grant select on {SCHEMA}.tenant_logins to {APP_ROLE};

-- Every tenant table: the tenant is the session_user's, through the mapping.
"""

_TENANT_LOGINS_TAIL = f"""\
-- Snapshot partitions attached by earlier dry-runs get the same policy.
do $partitions$
declare
  part regclass;
begin
  for part in select i.inhrelid::regclass from pg_inherits i
               where i.inhparent = '{SCHEMA}.scenario_records'::regclass loop
    execute format('drop policy if exists bfg_tenant_isolation on %s', part);
    execute format('create policy bfg_tenant_isolation on %s as permissive for all to public'
                   ' using (tenant_id = (select l.tenant_id from {SCHEMA}.tenant_logins l'
                   ' where l.login = session_user::text))'
                   ' with check (tenant_id = (select l.tenant_id from {SCHEMA}.tenant_logins l'
                   ' where l.login = session_user::text))', part);
  end loop;
end
$partitions$;
"""


def tenant_logins_sql(runbook: str | None = None) -> str:
    """The `tenant-logins` option's SQL (shipped as assets/runbook_tenant_logins.sql): its
    mapping table, then a session_user policy for every table the runbook gives a tenant
    policy, so a tenant table added to the runbook is covered by regenerating (`make runbook`)."""
    tables = re.findall(_POLICY_ON, runbook_sql() if runbook is None else runbook, re.MULTILINE)
    blocks = [
        f"drop policy if exists bfg_tenant_isolation on {table};\n"
        f"create policy bfg_tenant_isolation on {table}\n"
        "  as permissive for all to public\n"
        f"  using (tenant_id = {_LOGIN_TENANT})\n"
        f"  with check (tenant_id = {_LOGIN_TENANT});\n\n"
        for table in tables
    ]
    return _TENANT_LOGINS_HEAD + "".join(blocks) + _TENANT_LOGINS_TAIL


if __name__ == "__main__":  # `make runbook-lint` writes assets/runbook_lint.json
    import json

    print(json.dumps(shipped_record(), indent=2))
