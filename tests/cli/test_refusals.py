"""Every refusal: a one-line reason, exit 1, and nothing written but the refusal's event."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from bfg_tui.store.schema import SCHEMA_VERSION

from tests.helpers.rows import audit_rows, table_dump

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


def assert_only_refusal(db: Path, before_tables: dict, before_audit: list, result, *, contains: str) -> None:
    assert result.code == 1, result
    assert contains in result.err, result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert table_dump(db) == before_tables
    after = audit_rows(db)
    assert after[: len(before_audit)] == before_audit
    assert len(after) == len(before_audit) + 1
    _seq, kind, body = after[-1]
    assert kind == "action.refused"
    assert json.loads(body)["data"]["reason"] in result.err


@pytest.mark.parametrize(
    ("actor", "check", "contains"),
    [
        (MAREK, "transition.db_schema", "transition.db_schema is owned by user_accountant_olena; "
                                        "user_dispatcher_marek may not accept it"),
        ("driver_tarasenko", "transition.db_schema", "driver_tarasenko (driver) may not accept checks: read-only role"),
        ("cp_client_lviv_farma", "rollback.owner_confirmation", "cp_client_lviv_farma (client) may not accept checks"),
        (ANNA, "connection.write_probe", "connection.write_probe is a probe check"),
        (ANNA, "dryrun.adapter_replay", "dryrun.adapter_replay is a probe check"),
        (ANNA, "release.env_vars", "release.env_vars is derived from other checks and evidence"),
        (ANNA, "wiring.live_credentials", "wiring.live_credentials is derived"),
        (ANNA, "transition.no_such_check", "unknown check 'transition.no_such_check'"),
        ("user_nobody", "transition.db_schema", "unknown actor 'user_nobody'"),
        (ANNA, "infra.hosting_provider", "infra.hosting_provider needs a chosen value (--value)"),
    ],
)
def test_accept_refusals(cli, frozen: Path, actor: str, check: str, contains: str) -> None:
    tables, audit = table_dump(frozen), audit_rows(frozen)
    assert_only_refusal(frozen, tables, audit, cli("accept", check, actor=actor), contains=contains)


def test_accept_without_actor_is_refused(cli, frozen: Path) -> None:
    tables, audit = table_dump(frozen), audit_rows(frozen)
    assert_only_refusal(frozen, tables, audit, cli("accept", "transition.db_schema"),
                        contains="no actor: pass --as ACTOR or set BFG_ACTOR")


def test_revoke_by_a_non_owner_and_of_an_unaccepted_check(cli, frozen: Path) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    tables, audit = table_dump(frozen), audit_rows(frozen)
    assert_only_refusal(frozen, tables, audit, cli("revoke", "transition.db_schema", actor=MAREK),
                        contains="is owned by user_accountant_olena; user_dispatcher_marek may not revoke it")
    tables, audit = table_dump(frozen), audit_rows(frozen)
    assert_only_refusal(frozen, tables, audit, cli("revoke", "transition.secrets_and_auth", actor=OLENA),
                        contains="transition.secrets_and_auth is not accepted; nothing to revoke")


def test_the_managing_director_countersigns_and_it_is_recorded(cli, frozen: Path) -> None:
    result = cli("accept", "transition.db_schema", actor=ANNA)
    assert result.code == 0 and "countersigned by user_md_anna" in result.out
    body = json.loads(audit_rows(frozen)[-1][2])
    assert body["data"]["countersign"] is True
    assert body["auth"]["mode"] == "mock-auth-header" and body["auth"]["self_asserted"] is True
    assert body["auth"]["os_user"]


@pytest.mark.parametrize("actor", ["driver_tarasenko", "cp_client_lviv_farma", OLENA])
def test_read_only_roles_cannot_save_freeze_or_probe(cli, frozen: Path, tmp_path: Path, actor: str) -> None:
    for args in (("scenario", "save"), ("snapshot", "freeze"), ("probe", "connection", str(tmp_path / "t.db"))):
        tables, audit = table_dump(frozen), audit_rows(frozen)
        assert_only_refusal(frozen, tables, audit, cli(*args, actor=actor), contains=f"{actor} (")


@pytest.mark.parametrize("actor", ["driver_tarasenko", "cp_client_lviv_farma"])
def test_drivers_and_clients_cannot_export(cli, frozen: Path, actor: str) -> None:
    tables, audit = table_dump(frozen), audit_rows(frozen)
    assert_only_refusal(frozen, tables, audit, cli("export", "release", actor=actor),
                        contains="lacks permission packets.export")


def test_empty_snapshot_cannot_be_frozen(cli, db: Path) -> None:
    assert cli("init").code == 0
    tables, audit = table_dump(db), audit_rows(db)
    assert_only_refusal(db, tables, audit, cli("snapshot", "freeze", actor=MAREK),
                        contains="no scenario saved yet")


def test_a_scenario_with_no_records_cannot_be_saved(cli, db: Path, tmp_path: Path) -> None:
    assert cli("init").code == 0
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"schema": "BFGScenarioImport.v1", "tenant": "bfg", "records": []}))
    tables, audit = table_dump(db), audit_rows(db)
    result = cli("scenario", "save", "--from", str(empty), actor=MAREK)
    assert_only_refusal(db, tables, audit, result, contains="empty.json")


def test_malformed_import_is_refused_with_the_field_path(cli, db: Path, tmp_path: Path) -> None:
    assert cli("init").code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "BFGScenarioImport.v1", "tenant": "bfg", "records": [
        {"kind": "orders", "id": "ord-1", "data": {"pallets": 3, "temperature_min": 2.5}}]}))
    tables, audit = table_dump(db), audit_rows(db)
    result = cli("scenario", "save", "--from", str(bad), actor=MAREK)
    assert_only_refusal(db, tables, audit, result, contains="records[0].data.temperature_min")


def test_dry_run_without_connection_evidence_is_refused(cli, frozen: Path, tmp_path: Path) -> None:
    tables, audit = table_dump(frozen), audit_rows(frozen)
    result = cli("probe", "dry-run", str(tmp_path / "t.db"), actor=MAREK)
    assert_only_refusal(frozen, tables, audit, result, contains="dry-run needs connection 4/4")


def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def test_corrupt_database_file(cli, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database at all\x00" * 200)
    before = _file_bytes(bad)
    for args, actor in ((("status", "--json"), None), (("accept", "transition.db_schema"), OLENA)):
        result = cli(*args, actor=actor, store=bad)
        assert result.code == 1 and "not a readable bfg-tui store" in result.err, result
        assert "Traceback" not in result.err and result.err.count("\n") == 1
    assert _file_bytes(bad) == before


def test_foreign_sqlite_file_is_not_touched(cli, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("create table invoices (id integer)")
    conn.commit()
    conn.close()
    before = _file_bytes(other)
    result = cli("status", store=other)
    assert result.code == 1 and "is not a bfg-tui store" in result.err
    assert _file_bytes(other) == before


def test_read_only_database_file(cli, frozen: Path) -> None:
    os.chmod(frozen, stat.S_IRUSR | stat.S_IRGRP)
    try:
        before = _file_bytes(frozen)
        ok = cli("status", "--json")
        assert ok.code == 0  # reading still works
        for args in (("accept", "transition.db_schema"), ("export", "release")):
            result = cli(*args, actor=OLENA)
            assert result.code == 1 and "read-only" in result.err, result
            assert "Traceback" not in result.err
        assert _file_bytes(frozen) == before
    finally:
        os.chmod(frozen, stat.S_IRUSR | stat.S_IWUSR)


def test_newer_schema_is_refused(cli, frozen: Path) -> None:
    conn = sqlite3.connect(frozen)
    conn.execute("pragma user_version = 99")
    conn.commit()
    conn.close()
    before = _file_bytes(frozen)
    for args, actor in ((("status",), None), (("accept", "transition.db_schema"), OLENA)):
        result = cli(*args, actor=actor)
        assert result.code == 1, result
        assert f"schema version 99 is newer than this bfg-tui understands ({SCHEMA_VERSION}); upgrade bfg-tui" in result.err
    assert _file_bytes(frozen) == before


def test_usage_errors_exit_2(cli) -> None:
    assert cli("accept").code == 2
    assert cli("export", "release", "--format", "pdf").code == 2
    assert cli("no-such-verb").code == 2
