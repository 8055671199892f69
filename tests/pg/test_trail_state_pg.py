"""The trail is the truth on PostgreSQL too: rows planted or edited behind the store's back
(by the superuser, past RLS and the append-only trigger) never yield a decision, and
`audit verify` names the first difference or the edited event.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.errors import StateMismatch
from tests.helpers.backends import Backend, cli, pg_backend
from tests.helpers.pg_server import PgServer

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
CATALOG = default_catalog()
MISMATCH = "the state does not match the audit trail: run `bfg-tui audit verify`"
AT = "2026-11-29T00:00:00.000000Z"
T = CATALOG.tenant_id

# table -> (edit with {s} for the schema and %(t)s for the tenant, what verify names)
FORGERIES: dict[str, tuple[str, str, bool]] = {
    "acceptances": (
        "insert into {s}.acceptances(tenant_id, check_id, actor, note, value, snapshot_digest, countersign, at, "
        f"event_seq) values (%(t)s, 'transition.secrets_and_auth', '{OLENA}', 'forged', null, null, false, "
        f"'{AT}', 7)",
        "acceptance of transition.secrets_and_auth is not in the trail", True,
    ),
    "probe_results": (
        "update {s}.probe_results set passed = true, tls = true, credentials_external = true "
        "where tenant_id = %(t)s and check_id = 'connection.tls_fingerprint'",
        "probe result of connection.tls_fingerprint differs from the trail", True,
    ),
    "meta": (
        "update {s}.meta set value = '999999' where tenant_id = %(t)s and key = 'last_release_export_seq'",
        "meta last_release_export_seq differs from the trail", True,
    ),
    "scenarios": (
        "insert into {s}.scenarios(tenant_id, version, saved_at, actor, source, records, kind_counts) "
        f"values (%(t)s, 77, '{AT}', '{MAREK}', 'demo', 1, '{{}}')",
        "scenario version 77 is not in the trail", True,
    ),
    "snapshots": (
        "insert into {s}.snapshots(tenant_id, id, scenario_version, rows, digest, kind_counts, frozen_at, actor, "
        f"event_seq) values (%(t)s, 9, 1, 5, '{'a' * 64}', '{{}}', '{AT}', '{MAREK}', 3)",
        "snapshot 9 is not in the trail", True,
    ),
    "probe_runs": (
        "insert into {s}.probe_runs(tenant_id, run_id, probe, target_kind, endpoint, passed, started_at, "
        "finished_at, snapshot_digest, facts, steps, transcript, event_seq) values (%(t)s, 'run-forged', "
        "'connection', 'postgresql', 'x', true, '', '', null, '{{}}', '[]', '[]', 3)",
        "probe run run-forged is not in the trail", False,
    ),
    "exports": (
        "insert into {s}.exports(tenant_id, id, packet, format, destination, digest, at, actor, event_seq) "
        f"values (%(t)s, 40, 'release', 'md', 'stdout', '{'b' * 64}', '{AT}', '{ANNA}', 40)",
        "export at event 40 is not in the trail", False,
    ),
}


@pytest.fixture
async def walked(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg_server, monkeypatch) as backend:
        console = await backend.console()
        try:
            target = str(tmp_path / "target.db")
            await console.save_scenario(MAREK)
            await console.freeze(MAREK)
            await console.accept(OLENA, "transition.db_schema", note="reviewed")
            assert (await console.probe(MAREK, "connection", target)).passed
            assert (await console.probe(MAREK, "dry_run", target)).passed
            await console.export(ANNA, "release")
            assert (await console.store.audit_verify()).ok
        finally:
            await console.close()
        yield backend


def _admin(backend: Backend, sql: str) -> None:
    assert backend.pg is not None
    with backend.pg.connect("admin") as conn:
        conn.execute("set session_replication_role = replica")  # past the append-only trigger
        conn.execute(sql.replace("{s}", backend.schema), {"t": T})
        conn.commit()


@pytest.mark.parametrize("case", sorted(FORGERIES))
async def test_a_forged_state_row_on_postgres(walked: Backend, case: str) -> None:
    edit, named, decides = FORGERIES[case]
    _admin(walked, edit)
    console = await walked.console()
    try:
        if decides:
            with pytest.raises(StateMismatch, match="does not match the audit trail"):
                await console.state()
        result = await console.store.audit_verify()
        assert not result.ok and named in result.reason, result
    finally:
        await console.close()
    if decides:
        status = cli(walked.location, "status", "--exit-code")
        assert status.returncode == 1 and MISMATCH in status.stderr and "go/no-go" not in status.stdout
        doc = cli(walked.location, "status", "--json")
        assert doc.returncode == 1
        assert json.loads(doc.stdout) == {"error": {"code": "state_mismatch", "message": MISMATCH}}
        export = cli(walked.location, "export", "release", actor=ANNA)
        assert export.returncode == 1 and MISMATCH in export.stderr and export.stdout == ""


@pytest.mark.parametrize("column,value", [("actor", "user_md_anna"), ("kind", "check.revoke"),
                                          ("subject", "transition.other"), ("hash", "0" * 64)])
async def test_an_edited_event_column_on_postgres_names_the_event(walked: Backend, column: str, value: str) -> None:
    console = await walked.console()
    try:
        seq = (await console.store.audit_page(limit=1, text="transition.db_schema"))[0].seq
        _admin(walked, f"update {{s}}.audit_events set {column} = '{value}' where tenant_id = %(t)s and seq = {seq}")
        result = await console.store.audit_verify()
        assert not result.ok and result.first_bad_seq == seq, result
        assert f"event {seq}: its {column} column does not match its body" in result.reason
    finally:
        await console.close()
