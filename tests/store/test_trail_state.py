"""The trail is the truth: state rows planted or edited without an event never count.

Each case edits the SQLite store directly (as anyone with write access to the file
could), then checks that `status`, `status --json`, exports and the console refuse to
report a decision, and that `audit verify` names the first difference.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.rows import run_sql
from tests.helpers.walkthrough import save_and_freeze

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
MISMATCH = "the state does not match the audit trail: run `bfg-tui audit verify`"
AT = "2026-11-29T00:00:00.000000Z"


@pytest.fixture
def walked(cli, tmp_path: Path, db: Path) -> Path:
    """A store with a scenario, a snapshot, an acceptance, both probes and an export."""
    target = tmp_path / "target.db"
    save_and_freeze(cli)
    assert cli("accept", "transition.db_schema", "--note", "reviewed", actor=OLENA).code == 0
    assert cli("probe", "connection", str(target), actor=MAREK).code == 0
    assert cli("probe", "dry-run", str(target), actor=MAREK).code == 0
    assert cli("export", "release", actor=ANNA).code == 0
    assert cli("audit", "verify").code == 0
    return db


# table -> (the edit, what `audit verify` must name)
DECISION_FORGERIES: dict[str, tuple[str, str]] = {
    "acceptances": (
        f"insert into acceptances values ('transition.secrets_and_auth', '{OLENA}', 'forged', null, null, 0, '{AT}', 7, null)",
        "acceptance of transition.secrets_and_auth is not in the trail",
    ),
    "acceptances-edit": (
        "update acceptances set note = 'edited' where check_id = 'transition.db_schema'",
        "acceptance of transition.db_schema differs from the trail (note)",
    ),
    "acceptances-delete": (
        "delete from acceptances where check_id = 'transition.db_schema'",
        "acceptance of transition.db_schema in the trail is missing from the state",
    ),
    "probe_results": (
        "update probe_results set passed = 1, tls = 1, credentials_external = 1, target_kind = 'postgresql' "
        "where check_id = 'connection.tls_fingerprint'",
        "probe result of connection.tls_fingerprint differs from the trail",
    ),
    "meta": (
        "update meta set value = '999999' where key = 'last_release_export_seq'",
        "meta last_release_export_seq differs from the trail",
    ),
    "scenarios": (
        "insert into scenarios values (77, '2026-11-29T00:00:00Z', 'user_dispatcher_marek', 'demo', 1, '{}')",
        "scenario version 77 is not in the trail",
    ),
    "snapshots": (
        f"insert into snapshots values (9, 1, 5, '{'a' * 64}', '{{}}', '{AT}', 'user_dispatcher_marek', 3)",
        "snapshot 9 is not in the trail",
    ),
}
# Tables the decision does not read: `audit verify` still names the planted row.
RECORD_FORGERIES: dict[str, tuple[str, str]] = {
    "probe_runs": (
        "insert into probe_runs values ('run-forged', 'connection', 'postgresql', 'x', 1, '', '', null, '{}', "
        "'[]', '[]', 3)",
        "probe run run-forged is not in the trail",
    ),
    "probe_runs-transcript": (
        "update probe_runs set transcript = '[\"all good\"]' where probe = 'dry_run'",
        "differs from the trail (transcript_sha256)",
    ),
    "exports": (
        f"insert into exports values (40, 'release', 'md', 'stdout', '{'b' * 64}', '{AT}', 'user_md_anna', 40)",
        "export at event 40 is not in the trail",
    ),
}


@pytest.mark.parametrize("case", sorted(DECISION_FORGERIES))
def test_a_forged_state_row_refuses_the_decision(cli, walked: Path, case: str) -> None:
    edit, named = DECISION_FORGERIES[case]
    run_sql(walked, edit)

    status = cli("status", "--exit-code")
    assert status.code == 1 and MISMATCH in status.err and "go/no-go" not in status.out, status
    doc = cli("status", "--json")
    assert doc.code == 1 and doc.json() == {"error": {"code": "state_mismatch", "message": MISMATCH}}
    export = cli("export", "release", actor=ANNA)
    assert export.code == 1 and MISMATCH in export.err and export.out == ""
    # A write over a forged state is refused too: it would bless the forgery.
    accept = cli("accept", "transition.secrets_and_auth", "--note", "x", actor=OLENA)
    assert accept.code == 1 and MISMATCH in accept.err

    verify = cli("audit", "verify")
    assert verify.code == 1 and named in verify.err, verify
    assert "the state does not match the audit trail" in verify.err


@pytest.mark.parametrize("case", sorted(RECORD_FORGERIES))
def test_a_forged_record_row_is_named_by_verify(cli, walked: Path, case: str) -> None:
    edit, named = RECORD_FORGERIES[case]
    run_sql(walked, edit)
    verify = cli("audit", "verify")
    assert verify.code == 1 and named in verify.err, verify


def test_forging_every_row_never_reaches_ready(cli, db: Path) -> None:
    """The attack: acceptances and probe results planted with no event."""
    from bfg_tui.catalog import default_catalog

    save_and_freeze(cli)
    catalog = default_catalog()
    statements = []
    for check in catalog.checks.values():
        if check.kind == "owner":
            statements.append(
                f"insert or replace into acceptances values ('{check.id}', '{check.owner}', '', 'v', "
                f"(select digest from snapshots order by id desc limit 1), 0, '{AT}', 3, null)")
        elif check.kind == "probe":
            statements.append(
                f"insert or replace into probe_results values ('{check.id}', 1, 'postgresql', 'pg', 'ok', 'r', "
                f"(select digest from snapshots order by id desc limit 1), 1, 1, '{AT}', 3, 'sha256:ab')")
    statements.append("update meta set value = '999' where key = 'last_release_export_seq'")
    statements.append("update meta set value = 'pg' where key = 'connection_endpoint'")
    run_sql(db, *statements)
    status = cli("status", "--exit-code")
    assert status.code == 1 and MISMATCH in status.err and "READY" not in status.out
    assert cli("audit", "verify").code == 1


def test_a_recomputed_head_digest_is_still_caught_by_verify(cli, walked: Path) -> None:
    """Whoever also rewrites the head's digest fools the cheap check, never `audit verify`."""
    from bfg_tui.store import replay
    from bfg_tui.store.sqlite_plans import read_state_sync

    run_sql(walked, DECISION_FORGERIES["acceptances"][0])
    with pytest.raises(Exception, match="does not match the audit trail"):
        read_state_sync(walked)
    state = read_state_sync(walked, check=False)
    run_sql(walked, f"update audit_head set state_digest = '{replay.state_digest(state)}'")
    assert cli("status").code == 0  # the cheap check is only a digest
    verify = cli("audit", "verify")
    assert verify.code == 1 and "acceptance of transition.secrets_and_auth is not in the trail" in verify.err


def test_an_edited_head_digest_is_named(cli, walked: Path) -> None:
    run_sql(walked, f"update audit_head set state_digest = '{'0' * 64}'")
    assert MISMATCH in cli("status").err
    verify = cli("audit", "verify")
    assert verify.code == 1 and "the head's state digest does not match the trail" in verify.err


def test_the_walkthrough_state_is_the_replay_of_its_trail(cli, walked: Path) -> None:
    """Every write path keeps the cache equal to the replay (verify compares them)."""
    assert cli("revoke", "transition.db_schema", "--note", "changed", actor=OLENA).code == 0
    assert cli("accept", "transition.db_schema", "--note", "again", actor=OLENA).code == 0
    assert cli("scenario", "save", "--scale", "3", actor=MAREK).code == 0
    assert cli("export", "dry-run", "--format", "json", actor=ANNA).code == 0
    assert cli("--lang", "en", "accept", "no.such.check", actor="nobody").code == 1  # a refusal
    verify = cli("audit", "verify")
    assert verify.code == 0, verify
    assert cli("status").code == 0


async def test_the_console_shows_the_mismatch_instead_of_a_decision(walked: Path, make_app: Callable) -> None:
    from tests.helpers.console import screen_text

    run_sql(walked, DECISION_FORGERIES["acceptances"][0])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        for _ in range(200):
            await pilot.pause()
            if getattr(app, "integrity_error", None):
                break
        await pilot.pause()
        text = screen_text(app)
        assert "does not match the audit trail" in text
        assert "go/no-go BLOCKED" not in text and "go/no-go READY" not in text


def test_status_json_error_is_json(cli, walked: Path) -> None:
    run_sql(walked, DECISION_FORGERIES["meta"][0])
    out = cli("status", "--json")
    assert json.loads(out.out)["error"]["code"] == "state_mismatch"


@pytest.mark.parametrize("column", ["actor", "kind", "subject"])
def test_the_searchable_columns_cannot_be_edited_apart_from_the_body(walked: Path, column: str) -> None:
    """kind, actor and subject are generated from the hashed body: an edit is refused."""
    with pytest.raises(sqlite3.OperationalError, match="generated column"):
        run_sql(walked, f"update audit_events set {column} = 'x' where seq = 4")


def test_an_edited_hash_column_names_the_event(cli, walked: Path) -> None:
    run_sql(walked, f"update audit_events set hash = '{'0' * 64}' where seq = 4")
    verify = cli("audit", "verify")
    assert verify.code == 1 and "broken at event 4: event 4: its hash column does not match its body" in verify.err


def test_a_table_rebuilt_with_plain_columns_is_named(cli, walked: Path) -> None:
    """Whoever rebuilds audit_events with editable columns to hide a refusal is caught."""
    assert cli("accept", "transition.db_schema", "--note", "x", actor="nobody").code == 1
    seq = cli("audit", "list", "--json", "--filter", "action.refused").json()[0]["seq"]
    run_sql(walked,
         "create table forged (seq integer primary key, hash text not null, body blob not null, kind text not null, "
         "actor text not null, subject text not null default '')",
         "insert into forged select seq, hash, body, kind, actor, subject from audit_events",
         "drop table audit_events", "alter table forged rename to audit_events",
         f"update audit_events set kind = 'packet.export', actor = '{ANNA}' where seq = {seq}")
    assert cli("audit", "list", "--json", "--filter", "action.refused").json() == []  # hidden from the filter...
    verify = cli("audit", "verify")  # ...but not from verify
    assert verify.code == 1 and "the audit_events table was altered" in verify.err, verify


def _v1_store(path: Path) -> None:
    """A store as the version before the trail could rebuild the state left it."""
    from bfg_tui.store.audit_chain import GENESIS, event_body, event_hash
    from bfg_tui.store.base import ActorContext
    from bfg_tui.store.schema import APPLICATION_ID, MIGRATIONS

    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"pragma application_id = {APPLICATION_ID}")
    conn.execute("pragma user_version = 1")
    meta = {"contract": "ScenarioStore.v1", "target_adapter": "postgresql", "fallback_adapter": "sqlite",
            "last_change_seq": "2", "last_release_export_seq": "0", "connection_endpoint": "", "created_at": AT}
    conn.executemany("insert into meta values (?, ?)", meta.items())
    conn.execute("insert into scenarios values (0, null, null, 'seed', 0, '{}')")
    ctx = ActorContext("system")
    create = event_body(seq=1, prev=GENESIS, at=AT, kind="store.create", ctx=ActorContext("system"),
                        data={"contract": "ScenarioStore.v1", "seed_records": 0})
    accept = event_body(seq=2, prev=event_hash(create), at=AT, kind="check.accept", ctx=ActorContext(OLENA),
                        data={"check": "transition.db_schema", "note": "old", "value": None, "snapshot_digest": None,
                              "countersign": False})
    for seq, body, kind, actor, subject in ((1, create, "store.create", ctx.actor_id, ""),
                                            (2, accept, "check.accept", OLENA, "transition.db_schema")):
        conn.execute("insert into audit_events values (?, ?, ?, ?, ?, ?)",
                     (seq, event_hash(body), body.encode(), kind, actor, subject))
    conn.execute("insert into acceptances values ('transition.db_schema', ?, 'old', null, null, 0, ?, 2)", (OLENA, AT))
    conn.execute("insert into audit_head values (1, 2, ?)", (event_hash(accept),))
    conn.commit()
    conn.close()


def test_an_older_store_is_upgraded_by_an_attesting_event(cli, db: Path) -> None:
    _v1_store(db)
    assert cli("accept", "transition.secrets_and_auth", "--note", "new", actor=OLENA).code == 0
    events = cli("audit", "list", "--json").json()
    assert [e["kind"] for e in reversed(events)] == ["store.create", "check.accept", "store.upgrade", "check.accept"]
    assert events[1]["data"]["state"]["acceptances"]["transition.db_schema"]["note"] == "old"
    assert cli("audit", "verify").code == 0
    assert cli("status").code == 0
    # A second upgrade, appended by hand to bless a forgery, is named.
    run_sql(db, "update audit_head set state_digest = ''")
    from bfg_tui.store.audit_chain import event_body, event_hash
    from bfg_tui.store.base import ActorContext

    conn = sqlite3.connect(db)
    count, head = conn.execute("select count, head from audit_head").fetchone()
    body = event_body(seq=count + 1, prev=head, at=AT, kind="store.upgrade", ctx=ActorContext("system"),
                      data={"from_version": 1, "state": events[1]["data"]["state"]})
    conn.execute("insert into audit_events(seq, hash, body) values (?, ?, ?)", (count + 1, event_hash(body), body.encode()))
    conn.execute("update audit_head set count = ?, head = ?", (count + 1, event_hash(body)))
    conn.commit()
    conn.close()
    verify = cli("audit", "verify")
    assert verify.code == 1 and f"event {count + 1}: a store upgrade in a store whose trail needs none" in verify.err


async def test_a_forgery_while_the_console_is_open_hides_its_figures(walked: Path, make_app: Callable) -> None:
    from tests.helpers.console import screen_text, settle

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)
        assert "go/no-go BLOCKED" in screen_text(app)
        run_sql(walked, DECISION_FORGERIES["acceptances"][0])
        await app.reload()  # what the live refresh does on the next change
        await pilot.pause()
        text = screen_text(app)
        assert "does not match the audit trail" in text
        assert "BLOCKED" not in text and "READY" not in text
