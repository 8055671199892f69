"""`audit verify` names the first bad event on an edited, deleted, swapped or truncated trail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers.rows import run_sql
from tests.helpers.walkthrough import save_and_freeze

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


@pytest.fixture
def trail(cli, db: Path) -> Path:
    save_and_freeze(cli)
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    assert cli("accept", "transition.secrets_and_auth", actor=OLENA).code == 0
    assert cli("accept", "transition.db_schema", actor="driver_tarasenko").code == 1
    assert cli("revoke", "transition.db_schema", actor=OLENA).code == 0
    ok = cli("audit", "verify")
    assert ok.code == 0 and "audit trail ok: 7 events" in ok.out
    return db


def test_edited_event(cli, trail: Path) -> None:
    run_sql(trail, "update audit_events set body = replace(body, 'user_accountant_olena', 'user_md_anna') where seq = 4")
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
    run_sql(trail, "delete from audit_events where seq = 3")
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 3: event 3 is missing" in result.err


def test_swapped_events(cli, trail: Path) -> None:
    run_sql(
        trail,
        "update audit_events set seq = -4 where seq = 4",
        "update audit_events set seq = 4 where seq = 5",
        "update audit_events set seq = 5 where seq = -4",
    )
    result = cli("audit", "verify")
    assert result.code == 1 and "broken at event 4" in result.err


def test_truncated_trail(cli, trail: Path) -> None:
    run_sql(trail, "delete from audit_events where seq >= 6")
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
    run_sql(trail, "update audit_events set body = replace(body, 'transition.db_schema', 'transition.x') where seq = 7")
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
    run_sql(trail, "update audit_events set body = replace(body, '\"system\"', '\"user_md_anna\"') where seq = 1")
    result = cli("audit", "verify")
    assert result.code == 1
    assert result.err == "bfg-tui: audit trail broken at event 1: event 1 was edited: its hash does not match its content\n"


def test_truncated_trail_names_the_first_missing_event(cli, trail: Path) -> None:
    run_sql(trail, "delete from audit_events where seq >= 6")
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
    run_sql(trail, "delete from audit_events where seq = 3")
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
    run_sql(trail, "update audit_events set body = replace(body, 'user_accountant_olena', 'user_md_anna') where seq = 4")
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


# ------------------------------------------------------------- the stored hash column, on long trails
# Stores pass the hash column joined in seq order; verify names the first event whose stored
# hash is not its body's, wherever it is (event 1, a two-digit seq, past the 64th event).


def _chain(n: int) -> tuple[list[bytes], list[str]]:
    from bfg_tui.store.audit_chain import GENESIS, event_body, event_hash
    from bfg_tui.store.base import ActorContext

    bodies, hashes, prev = [], [], GENESIS
    for seq in range(1, n + 1):
        body = event_body(seq=seq, prev=prev, at="2026-01-01T00:00:00Z", kind="check.accept",
                          ctx=ActorContext(OLENA), data={"check": "transition.db_schema", "n": seq})
        prev = event_hash(body)
        bodies.append(body.encode())
        hashes.append(prev)
    return bodies, hashes


@pytest.mark.parametrize(("seq", "edit"), [(1, "first digit"), (7, "whole"), (70, "whole"), (70, "last digit"),
                                           (130, "first digit")])
def test_an_edited_hash_column_is_named_at_its_event(seq: int, edit: str) -> None:
    from bfg_tui.store.audit_chain import verify_chain

    bodies, hashes = _chain(130)
    assert verify_chain(bodies, 130, hashes[-1], hashes="".join(hashes).encode()).ok
    wrong = "f" if hashes[seq - 1][0] != "f" else "e"
    old = hashes[seq - 1]
    hashes[seq - 1] = {"whole": "0" * 64, "first digit": wrong + old[1:], "last digit": old[:-1] + wrong}[edit]
    result = verify_chain(bodies, 130, old if seq == 130 else hashes[-1], hashes="".join(hashes).encode())
    assert (result.ok, result.first_bad_seq) == (False, seq)
    assert result.reason == f"event {seq}: its hash column does not match its body"


# ------------------------------------------------------------- what a probe event records


def _run(facts: dict) -> object:
    from bfg_tui.store.base import ProbeRunRecord, StepRecord

    return ProbeRunRecord(run_id="run-1", probe="connection", target_kind="postgresql",
                          endpoint="postgresql://bfg_app@db.example/bfg", started_at="t0", finished_at="t1",
                          steps=(StepRecord("connection.tls_fingerprint", True, "ok"),), transcript=("done",),
                          tls=True, credentials_external=True, facts=facts)


def test_a_probe_event_records_the_runs_fingerprint() -> None:
    from bfg_tui.store.audit_chain import probe_data

    fingerprint = "sha256:" + "ab" * 32
    assert probe_data(_run({"fingerprint": fingerprint, "server": "PostgreSQL 15"}))["fingerprint"] == fingerprint
    assert probe_data(_run({}))["fingerprint"] is None


def test_the_facts_digest_does_not_depend_on_the_order_facts_were_gathered() -> None:
    from bfg_tui.store.audit_chain import probe_data, probe_facts_json

    one = _run({"fingerprint": "sha256:ab", "server": "PostgreSQL 15"})
    other = _run({"server": "PostgreSQL 15", "fingerprint": "sha256:ab"})
    assert probe_facts_json(one) == probe_facts_json(other)
    assert probe_data(one)["facts_sha256"] == probe_data(other)["facts_sha256"]


# ------------------------------------------------------------- searchable columns that differ from the body
# (PostgreSQL verify: kind, actor and subject are copies of the body a forger could edit.)


def _accept_body() -> bytes:
    return _chain(1)[0][0]


@pytest.mark.parametrize(("columns", "named"), [
    (("packet.export", OLENA, "transition.db_schema"), "kind"),
    (("check.accept", ANNA, "transition.db_schema"), "actor"),
    (("check.accept", OLENA, "transition.secrets_and_auth"), "subject"),
])
def test_verify_names_the_searchable_column_that_differs_from_the_body(columns: tuple, named: str) -> None:
    from bfg_tui.store.audit_chain import column_fault

    result = column_fault(3, columns, _accept_body(), 2, "h" * 64)
    assert (result.ok, result.count, result.head, result.first_bad_seq) == (False, 2, "h" * 64, 3)
    assert result.reason == f"event 3: its {named} column does not match its body"


def test_columns_that_match_the_body_are_reported_without_naming_one() -> None:
    from bfg_tui.store.audit_chain import column_fault

    result = column_fault(3, ("check.accept", OLENA, "transition.db_schema"), _accept_body(), 2, "h" * 64)
    assert (result.ok, result.reason) == (False, "event 3: its columns do not match its body")


@pytest.mark.parametrize("edited", [1, 2, 4, 70])
def test_an_edited_event_reports_the_head_of_the_events_before_it(edited: int) -> None:
    from bfg_tui.store.audit_chain import GENESIS, verify_chain

    bodies, hashes = _chain(130)
    bodies[edited - 1] = bodies[edited - 1].replace(b'"n":', b'"n":1')  # its stored hash is left as it was

    def inspect(seq: int) -> tuple[str, bytes]:
        return hashes[seq - 1], bodies[seq - 1]

    result = verify_chain(bodies, 130, hashes[-1], inspect)
    assert result.reason == f"event {edited} was edited: its hash does not match its content"
    # What verified is the events before the edited one: the head is the last of those.
    assert (result.ok, result.count, result.first_bad_seq) == (False, edited - 1, edited)
    assert result.head == (hashes[edited - 2] if edited > 1 else GENESIS)
