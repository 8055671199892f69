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


def _set_prev(db: Path, seq: int, new_prev: str) -> None:
    """Rewrite the `prev` link inside event `seq`'s body, leaving its stored hash alone."""
    conn = sqlite3.connect(db)
    body = conn.execute("select body from audit_events where seq = ?", (seq,)).fetchone()[0]
    at = body.rfind(b',"prev":"') + len(b',"prev":"')
    conn.execute("update audit_events set body = ? where seq = ?", (body[:at] + new_prev.encode() + body[at + 64:], seq))
    conn.commit()
    conn.close()


def test_rule_verify_fails_when_an_events_prev_link_is_edited_and_its_stored_hash_left_alone(
        cli, trail: Path) -> None:
    _set_prev(trail, 4, "f" * 64)
    result = cli("audit", "verify")
    assert result.code == 1 and result.out == ""
    assert result.err == "bfg-tui: audit trail broken at event 4: event 4 was edited: its hash does not match its content\n"


def test_rule_verify_fails_when_the_first_events_prev_link_is_edited(cli, trail: Path) -> None:
    _set_prev(trail, 1, "1" * 64)
    result = cli("audit", "verify")
    assert result.code == 1
    assert "broken at event 1: event 1 was edited: its hash does not match its content" in result.err


def test_edited_first_event(cli, trail: Path) -> None:
    _sql(trail, "update audit_events set body = replace(body, '\"system\"', '\"user_md_anna\"') where seq = 1")
    result = cli("audit", "verify")
    assert result.code == 1
    assert result.err == "bfg-tui: audit trail broken at event 1: event 1 was edited: its hash does not match its content\n"


def test_truncated_trail_names_the_first_missing_event(cli, trail: Path) -> None:
    _sql(trail, "delete from audit_events where seq >= 6")
    result = cli("audit", "verify")
    assert result.err.startswith("bfg-tui: audit trail broken at event 6: trail holds 5 events")


def test_the_freeze_event_records_the_snapshots_checksum_digest_and_rows(cli, trail: Path) -> None:
    snapshot = cli("status", "--json").json()["snapshot"]
    freeze = next(e for e in cli("audit", "list", "--json").json() if e["kind"] == "snapshot.freeze")
    assert freeze["data"]["checksum"] == snapshot["checksum"]
    assert freeze["data"]["digest"] == snapshot["digest"]
    assert freeze["data"]["rows"] == snapshot["rows"]


# ------------------------------------------------------------- the verified prefix of a broken trail
# `audit_verify` also returns how far the trail holds: the count of intact events before
# the fault and the hash of the last of them (GENESIS when none).


def _hashes(db: Path) -> dict[int, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("select seq, hash from audit_events"))
    finally:
        conn.close()


async def _verify(db: Path):
    from bfg_tui.service import Console

    console = await Console.open(str(db))
    try:
        return await console.store.audit_verify()
    finally:
        await console.close()


async def test_a_missing_event_leaves_the_events_before_it_verified(trail: Path) -> None:
    hashes = _hashes(trail)
    _sql(trail, "delete from audit_events where seq = 3")
    result = await _verify(trail)
    assert (result.ok, result.count, result.head, result.first_bad_seq) == (False, 2, hashes[2], 3)


async def test_an_edited_prev_link_leaves_the_events_before_it_verified(trail: Path) -> None:
    hashes = _hashes(trail)
    _set_prev(trail, 4, "f" * 64)
    result = await _verify(trail)
    assert (result.ok, result.count, result.head, result.first_bad_seq) == (False, 3, hashes[3], 4)


async def test_an_edited_first_event_leaves_nothing_verified(trail: Path) -> None:
    from bfg_tui.store.audit_chain import GENESIS

    _set_prev(trail, 1, "1" * 64)
    result = await _verify(trail)
    assert (result.ok, result.count, result.head, result.first_bad_seq) == (False, 0, GENESIS, 1)


async def test_an_edited_event_is_named_with_the_events_before_it_verified(trail: Path) -> None:
    _sql(trail, "update audit_events set body = replace(body, 'user_accountant_olena', 'user_md_anna') where seq = 4")
    result = await _verify(trail)
    assert (result.ok, result.count, result.first_bad_seq) == (False, 3, 4)


def _bodies(db: Path) -> list[bytes]:
    conn = sqlite3.connect(db)
    try:
        return [bytes(r[0]) for r in conn.execute("select cast(body as blob) from audit_events order by seq")]
    finally:
        conn.close()


def test_verify_chain_reads_the_bodies_from_any_iterable(trail: Path) -> None:
    from bfg_tui.store.audit_chain import verify_chain

    bodies, hashes = _bodies(trail), _hashes(trail)
    result = verify_chain(iter(bodies), 7, hashes[7])
    assert (result.ok, result.count, result.head) == (True, 7, hashes[7])


def test_verify_chain_without_stored_hashes_names_the_broken_link(trail: Path) -> None:
    from bfg_tui.store.audit_chain import verify_chain

    bodies, hashes = _bodies(trail), _hashes(trail)
    bodies[3] = bodies[3].replace(b"user_accountant_olena", b"user_md_anna")
    result = verify_chain(bodies, 7, hashes[7])
    assert (result.ok, result.count, result.first_bad_seq) == (False, 4, 5)
    assert result.reason == "event 5 does not chain to event 4 (moved, swapped or replaced)"
