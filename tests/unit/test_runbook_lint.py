"""The static RLS lint: the shipped runbook passes; every weakening is named."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bfg_tui.rls_lint import LintResult, lint_rls
from bfg_tui.runbook import app_role_statements, render_runbook, runbook_sql
from tests.helpers import ROOT

# The seed's runbook outline, verbatim (shared/seed/integration-console.txt lines 283-330).
SEED_SQL = """\
-- ProductionAdapterMigrationRunbook.v1
-- source=BFGScenarioSnapshot.v1
-- target=db-auth-session-adapter
-- session=grant-demo-local
-- checksum=bfg-feb1d61b
-- rows=0
-- runbook_decision=BLOCKED_PENDING_PREFLIGHT
create schema if not exists bfg_flowcontrol;
create table if not exists bfg_flowcontrol.tenants (
tenant_id text primary key,
name text not null,
created_at timestamptz not null default now()
);
create table if not exists bfg_flowcontrol.users (
user_id text primary key,
tenant_id text not null references bfg_flowcontrol.tenants(tenant_id),
role_key text not null,
display_name text not null,
permissions text[] not null default '{}'
);
create table if not exists bfg_flowcontrol.scenario_snapshots (
snapshot_id text primary key,
tenant_id text not null references bfg_flowcontrol.tenants(tenant_id),
checksum text not null,
schema_version text not null,
payload jsonb not null,
created_at timestamptz not null default now()
);
create table if not exists bfg_flowcontrol.audit_events (
event_id text primary key,
tenant_id text not null references bfg_flowcontrol.tenants(tenant_id),
actor_id text not null references bfg_flowcontrol.users(user_id),
source text not null,
payload jsonb not null,
created_at timestamptz not null default now()
);
alter table bfg_flowcontrol.users enable row level security;
alter table bfg_flowcontrol.scenario_snapshots enable row level security;
alter table bfg_flowcontrol.audit_events enable row level security;
drop policy if exists bfg_tenant_users on bfg_flowcontrol.users;
drop policy if exists bfg_tenant_snapshots on bfg_flowcontrol.scenario_snapshots;
drop policy if exists bfg_tenant_audit on bfg_flowcontrol.audit_events;
create policy bfg_tenant_users on bfg_flowcontrol.users
using (tenant_id = current_setting('bfg.tenant_id', true));
create policy bfg_tenant_snapshots on bfg_flowcontrol.scenario_snapshots
using (tenant_id = current_setting('bfg.tenant_id', true));
create policy bfg_tenant_audit on bfg_flowcontrol.audit_events
using (tenant_id = current_setting('bfg.tenant_id', true));
"""

TENANT_TABLES = (
    "bfg_flowcontrol.tenants",
    "bfg_flowcontrol.users",
    "bfg_flowcontrol.permissions",
    "bfg_flowcontrol.scenario_snapshots",
    "bfg_flowcontrol.scenario_records",
    "bfg_flowcontrol.scenario_replays",
    "bfg_flowcontrol.audit_events",
)


def _policy_block(sql: str, table: str) -> str:
    m = re.search(r"create policy bfg_tenant_isolation on " + re.escape(table) + r"\n.*?;\n", sql, re.DOTALL)
    assert m, table
    return m.group(0)


def test_shipped_runbook_passes():
    result = lint_rls(runbook_sql())
    assert isinstance(result, LintResult)
    assert result.ok, result.problems
    assert result.problems == ()
    assert set(result.tables) == set(TENANT_TABLES)
    assert result.summary() == "rls_lint=passed tenant_tables=7"


def test_a_runbook_is_linted_once():
    # Every dry-run lints the runbook before it runs: the lint itself runs once per runbook text
    # (its cold time is a row of `make bench`).
    sql = runbook_sql()
    lint_rls.cache_clear()
    first = lint_rls(sql)
    assert all(lint_rls(sql) is first for _ in range(100))
    assert (lint_rls.cache_info().misses, lint_rls.cache_info().hits) == (1, 100)
    assert lint_rls(sql.replace("tenant", "tenant ")) is not first  # another text is linted anew


@pytest.mark.parametrize(("verb", "problem"), [
    ("force", "row level security not forced (owner bypasses policies)"),
    ("enable", "row level security not enabled"),
])
@pytest.mark.parametrize("table", TENANT_TABLES)
def test_a_missing_alter_is_named(table, verb, problem):
    sql = runbook_sql()
    statement = f"alter table {table} {verb} row level security;\n"
    assert statement in sql
    result = lint_rls(sql.replace(statement, ""))
    assert not result.ok
    assert result.problems == (f"{table}: {problem}",)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_missing_with_check_is_named(table):
    sql = runbook_sql()
    block = _policy_block(sql, table)
    weakened = re.sub(r"\n\s*with check \(.*?\)\);", ");", block, flags=re.DOTALL)
    assert weakened != block
    result = lint_rls(sql.replace(block, weakened))
    assert not result.ok
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{table}: ")
    assert "with check" in result.problems[0]


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_missing_policy_is_named(table):
    sql = runbook_sql()
    result = lint_rls(sql.replace(_policy_block(sql, table), ""))
    assert not result.ok
    assert result.problems == (f"{table}: no policy",)


def test_policy_dropped_after_creation_is_caught():
    table = "bfg_flowcontrol.scenario_records"
    sql = runbook_sql() + f"\ndrop policy if exists bfg_tenant_isolation on {table};\n"
    assert lint_rls(sql).problems == (f"{table}: no policy",)


def test_rls_disabled_later_is_caught():
    table = "bfg_flowcontrol.audit_events"
    sql = runbook_sql() + f"\nalter table {table} no force row level security;\n"
    assert lint_rls(sql).problems == (f"{table}: row level security not forced (owner bypasses policies)",)


def test_policy_not_scoped_by_tenant_is_caught():
    table = "bfg_flowcontrol.permissions"
    sql = runbook_sql()
    block = _policy_block(sql, table)
    loose = f"create policy bfg_tenant_isolation on {table}\n  using (true)\n  with check (true);\n"
    result = lint_rls(sql.replace(block, loose))
    assert result.problems == (
        f"{table}: policy bfg_tenant_isolation does not compare tenant_id to the tenant setting"
        " or to the session_user's mapping",
    )


def test_empty_tenant_setting_must_match_nothing():
    table = "bfg_flowcontrol.users"
    sql = runbook_sql()
    block = _policy_block(sql, table)
    weak = block.replace("nullif(current_setting('bfg.tenant_id', true), '')", "current_setting('bfg.tenant_id', true)")
    assert weak != block
    result = lint_rls(sql.replace(block, weak))
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{table}: policy bfg_tenant_isolation lets an empty tenant")


def test_new_tenant_table_without_rls_is_caught():
    sql = runbook_sql() + (
        "\ncreate table if not exists bfg_flowcontrol.invoices (\n"
        "  tenant_id text not null,\n  invoice_id text not null,\n"
        "  primary key (tenant_id, invoice_id)\n);\n"
    )
    result = lint_rls(sql)
    assert "bfg_flowcontrol.invoices" in result.tables
    assert result.problems == (
        "bfg_flowcontrol.invoices: row level security not enabled",
        "bfg_flowcontrol.invoices: row level security not forced (owner bypasses policies)",
        "bfg_flowcontrol.invoices: no policy",
    )


def test_non_tenant_tables_and_comments_are_ignored():
    sql = (
        "-- create table fake (tenant_id text);\n"
        "create table lookup (code text primary key, label text check (label <> 'tenant_id x'));\n"
        "create table t (tenant_id text not null, v int);\n"
        "alter table t enable row level security, force row level security;\n"
        "create policy p on t for all using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))"
        " with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));\n"
    )
    result = lint_rls(sql)
    assert result.ok, result.problems
    assert result.tables == ("t",)


def test_seed_sql_fails_with_every_gap_named():
    result = lint_rls(SEED_SQL)
    assert not result.ok
    assert result.tables == (
        "bfg_flowcontrol.tenants",
        "bfg_flowcontrol.users",
        "bfg_flowcontrol.scenario_snapshots",
        "bfg_flowcontrol.audit_events",
    )
    problems = set(result.problems)
    assert "bfg_flowcontrol.tenants: row level security not enabled" in problems
    assert "bfg_flowcontrol.tenants: no policy" in problems
    for table in result.tables:
        assert f"{table}: row level security not forced (owner bypasses policies)" in problems
    for table in result.tables[1:]:
        assert f"{table}: no policy with both using and with check (missing with check)" in problems
    assert result.summary().startswith("rls_lint=failed")


def test_empty_sql_is_not_a_pass():
    result = lint_rls("")
    assert not result.ok
    assert result.problems and "no tenant tables" in result.problems[0]


def test_shipped_runbook_shape():
    sql = runbook_sql()
    lowered = sql.lower()
    assert "concurrently" not in lowered
    assert "create database" not in lowered
    assert "begin;" not in lowered and "commit;" not in lowered  # runs inside the caller's transaction
    code = "\n".join(line.split("--", 1)[0] for line in lowered.splitlines())
    assert "jsonb::text" not in code and "payload::text" not in code  # checksums come from body
    statements = app_role_statements()
    assert "grant select, insert on bfg_flowcontrol.audit_events to bfg_app;" in statements
    assert not any("update" in s and "audit_events" in s for s in statements)


def test_render_runbook_keeps_header_then_body():
    text = render_runbook({"source": "BFGScenarioSnapshot.v1", "checksum": "bfg-00000000"},
                          "ProductionAdapterMigrationRunbook.v1")
    lines = text.splitlines()
    assert lines[:3] == [
        "-- ProductionAdapterMigrationRunbook.v1",
        "-- source=BFGScenarioSnapshot.v1",
        "-- checksum=bfg-00000000",
    ]
    assert text.endswith(runbook_sql())
    assert lint_rls(text).ok


def test_the_tenant_logins_option_passes_the_lint_with_every_policy_on_session_user() -> None:
    from bfg_tui.rls_lint import _clean

    sql = runbook_sql("tenant-logins")
    result = lint_rls(sql)
    assert result.ok, result.problems
    assert "bfg_flowcontrol.tenant_logins" in result.tables
    # The option's policies replace the default's on every tenant table: the last policy
    # created on each is keyed on session_user, never on a setting.
    option = _clean(runbook_sql("tenant-logins")[len(runbook_sql()):])
    for table in result.tables:
        name = table.split(".")[-1]
        assert f"create policy bfg_tenant_isolation on {table}" in option or name == "tenant_logins", table
    assert "current_setting" not in option
    # Loosened, it fails like the default does.
    weak = sql.replace("with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l "
                       "where l.login = session_user::text));\n", ";\n", 1)
    assert weak != sql and not lint_rls(weak).ok


def test_an_unknown_runbook_option_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown runbook option"):
        runbook_sql("no-such-option")


def test_the_recorded_lint_of_the_shipped_runbook_is_current() -> None:
    """assets/runbook_lint.json answers for the shipped runbook: it names that runbook and the lint's verdict."""
    import json

    from bfg_tui.store.replay import sha256_text

    from bfg_tui.assets_io import asset_text

    recorded = json.loads(asset_text("runbook_lint.json"))
    assert recorded == {"runbook_sha256": sha256_text(runbook_sql()), "ok": lint_rls(runbook_sql()).ok}, (
        "stale: run `make runbook-lint`")


def _lint_ok_in_a_fresh_process(sql_edit: str) -> tuple[bool, bool]:
    """(shipped_lint_ok(), whether the lint itself ran) in a new interpreter, the runbook edited by `sql_edit`."""
    code = (
        "import sys\nimport bfg_tui.runbook as rb\n"
        f"shipped = rb.runbook_sql()\nrb.runbook_sql = lambda option=None: {sql_edit}\n"
        "print(rb.shipped_lint_ok(), 'bfg_tui.rls_lint' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    ok, linted = out.stdout.split()
    return ok == "True", linted == "True"


def test_the_shipped_runbook_is_judged_by_its_record_without_linting() -> None:
    assert _lint_ok_in_a_fresh_process("shipped") == (True, False)


def test_an_edited_runbook_is_linted_not_taken_from_the_record() -> None:
    table = TENANT_TABLES[1]
    weakened = f"shipped.replace('alter table {table} force row level security;\\n', '')"
    assert _lint_ok_in_a_fresh_process(weakened) == (False, True)
    assert _lint_ok_in_a_fresh_process("shipped + '\\n-- a comment\\n'") == (True, True)


def _policies(sql: str) -> list[str]:
    """The tables a statement `create policy bfg_tenant_isolation on <table>` names, in order."""
    return re.findall(r"^create policy bfg_tenant_isolation on (\S+)$", sql, re.MULTILINE)


def test_the_shipped_tenant_logins_option_is_the_generated_one() -> None:
    from bfg_tui.runbook import tenant_logins_sql

    shipped = (ROOT / "assets" / "runbook_tenant_logins.sql").read_text(encoding="utf-8")
    assert shipped == tenant_logins_sql(), "assets/runbook_tenant_logins.sql is stale: run `make runbook`"
    assert _policies(shipped) == _policies(runbook_sql())


def test_a_new_tenant_table_gets_its_login_policy() -> None:
    from bfg_tui.runbook import tenant_logins_sql

    table = ("create table if not exists bfg_flowcontrol.invoices (tenant_id text not null, id text not null);\n"
             "alter table bfg_flowcontrol.invoices enable row level security;\n"
             "alter table bfg_flowcontrol.invoices force row level security;\n"
             "create policy bfg_tenant_isolation on bfg_flowcontrol.invoices\n"
             "  as permissive for all to public\n"
             "  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))\n"
             "  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));\n")
    runbook = runbook_sql() + table
    option = tenant_logins_sql(runbook)
    assert "create policy bfg_tenant_isolation on bfg_flowcontrol.invoices\n" in option
    combined = runbook + "\n" + option
    assert lint_rls(combined).ok and "bfg_flowcontrol.invoices" in lint_rls(combined).tables
    assert _policies(option) == _policies(runbook)
