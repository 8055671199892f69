"""`audit verify` names the first bad event on an edited, deleted, swapped or truncated trail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


@pytest.fixture
def trail(cli, db: Path) -> Path:
    assert cli("scenario", "save", actor=MAREK).code == 0
    assert cli("snapshot", "freeze", actor=MAREK).code == 0
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    assert cli("accept", "transition.secrets_and_auth", actor=OLENA).code == 0
    assert cli("accept", "transition.db_schema", actor="driver_tarasenko").code == 1
    assert cli("revoke", "transition.db_schema", actor=OLENA).code == 0
    ok = cli("audit", "verify")
    assert ok.code == 0 and "audit trail ok: 7 events" in ok.out
    return db


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.close()


def test_edited_event(cli, trail: Path) -> None:
    _sql(trail, "update audit_events set body = replace(body, 'user_accountant_olena', 'user_md_anna') where seq = 4")
    result = cli("audit", "verify")
    assert result.code == 1
    assert "broken at event 4: event 4 was edited" in result.err


def test_edited_event_with_recomputed_hash_breaks_the_link(cli, trail: Path) -> None:
    conn = sqlite3.connect(trail)
    import hashlib

    body = conn.execute("select body from audit_events where seq = 4").fetchone()[0].replace(b"olena", b"anna")
    conn.execute("update audit_events set body = ?, hash = ? where seq = 4",
                 (body, hashlib.sha256(body).hexdigest()))
    conn.commit()
    conn.close()
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 5: event 5 does not chain to event 4" in result.err


def test_deleted_event(cli, trail: Path) -> None:
    _sql(trail, "delete from audit_events where seq = 3")
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 3: event 3 is missing" in result.err


def test_swapped_events(cli, trail: Path) -> None:
    _sql(
        trail,
        "update audit_events set seq = -4 where seq = 4",
        "update audit_events set seq = 4 where seq = 5",
        "update audit_events set seq = 5 where seq = -4",
    )
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 4" in result.err


def test_truncated_trail(cli, trail: Path) -> None:
    _sql(trail, "delete from audit_events where seq >= 6")
    result = cli("audit", "verify")
    assert result.code == 1
    assert "trail holds 5 events but the head records 7: truncated" in result.err


def test_truncation_with_a_forged_head_is_caught_by_the_published_head(cli, trail: Path) -> None:
    head = cli("audit", "verify").out.split("head ")[1].split()[0]
    conn = sqlite3.connect(trail)
    prev = conn.execute("select hash from audit_events where seq = 6").fetchone()[0]
    conn.execute("delete from audit_events where seq = 7")
    conn.execute("update audit_head set count = 6, head = ?", (prev,))
    conn.commit()
    conn.close()
    # The chain alone cannot tell (a local rewrite of the trail is self-consistent), but
    # the state tables still hold the truncated revoke's effect...
    local = cli("audit", "verify")
    assert local.code == 1 and "the state does not match the audit trail: meta last_change_seq" in local.err
    # ...and whoever rewrites those too is still caught against a packet's head.
    result = cli("audit", "verify", "--expect-head", f"7:{head}")
    assert result.code == 1 and "does not match the expected head" in result.err  # ...but not against a packet


def test_audit_list_json_newest_first(cli, trail: Path) -> None:
    events = cli("audit", "list", "--json").json()
    assert [e["seq"] for e in events] == [7, 6, 5, 4, 3, 2, 1]
    assert events[1]["kind"] == "action.refused"
    filtered = cli("audit", "list", "--json", "--filter", "check.accept").json()
    assert [e["seq"] for e in filtered] == [5, 4]


def test_edited_last_event(cli, trail: Path) -> None:
    _sql(trail, "update audit_events set body = replace(body, 'transition.db_schema', 'transition.x') where seq = 7")
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 7: event 7 was edited" in result.err
