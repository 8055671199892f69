"""A retried command never doubles an acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.rows import audit_rows, table_dump

OLENA = "user_accountant_olena"


def test_retry_with_the_same_key_changes_nothing(cli, db: Path) -> None:
    first = cli("accept", "transition.db_schema", "--idempotency-key", "k-1", actor=OLENA)
    assert first.code == 0
    events = audit_rows(db)
    again = cli("accept", "transition.db_schema", "--idempotency-key", "k-1", actor=OLENA)
    assert again.code == 0
    assert audit_rows(db) == events


def test_identical_reaccept_is_a_no_op(cli, db: Path) -> None:
    assert cli("accept", "transition.db_schema", "--note", "ok", actor=OLENA).code == 0
    events = audit_rows(db)
    result = cli("accept", "transition.db_schema", "--note", "ok", actor=OLENA)
    assert result.code == 0 and "already accepted" in result.out
    assert audit_rows(db) == events
    # A different note is a new acceptance, recorded.
    assert cli("accept", "transition.db_schema", "--note", "re-checked", actor=OLENA).code == 0
    assert len(audit_rows(db)) == len(events) + 1


def test_scenario_save_retry(cli, db: Path) -> None:
    args = ("scenario", "save", "--idempotency-key", "save-1")
    assert cli(*args, actor="user_dispatcher_marek").code == 0
    events = audit_rows(db)
    assert cli(*args, actor="user_dispatcher_marek").code == 0
    assert audit_rows(db) == events


def test_a_key_replays_its_first_outcome_and_says_so(cli, db: Path) -> None:
    first = cli("accept", "transition.db_schema", "--note", "ok", "--idempotency-key", "k-7", actor=OLENA)
    assert first.code == 0
    seq = len(audit_rows(db))
    again = cli("accept", "transition.db_schema", "--note", "ok", "--idempotency-key", "k-7", actor=OLENA)
    assert again.code == 0 and f"already done at event {seq}" in again.out, again


@pytest.mark.parametrize("second", [
    ("accept", "transition.secrets_and_auth", "--note", "ok"),  # another check
    ("accept", "transition.db_schema", "--note", "different"),  # another note
    ("revoke", "transition.db_schema", "--note", "ok"),  # another verb
])
def test_a_key_reused_for_another_action_is_refused(cli, db: Path, second: tuple[str, ...]) -> None:
    assert cli("accept", "transition.db_schema", "--note", "ok", "--idempotency-key", "k-8", actor=OLENA).code == 0
    state = table_dump(db)["acceptances"]
    result = cli(*second, "--idempotency-key", "k-8", actor=OLENA)
    assert result.code == 1 and result.out == "", result
    assert "idempotency key 'k-8' was already used for a different action" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert table_dump(db)["acceptances"] == state
    assert audit_rows(db)[-1][1] == "action.refused"  # the refusal is on the record, nothing else


def test_a_key_is_bound_to_its_actor(cli, db: Path) -> None:
    assert cli("accept", "transition.db_schema", "--idempotency-key", "k-9", actor=OLENA).code == 0
    other = cli("accept", "transition.db_schema", "--idempotency-key", "k-9", actor="user_md_anna")
    assert other.code == 1 and "already used for a different action" in other.err


def test_revoke_with_a_key(cli, db: Path) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    assert cli("revoke", "transition.db_schema", "--note", "n", "--idempotency-key", "r-1", actor=OLENA).code == 0
    events = audit_rows(db)
    again = cli("revoke", "transition.db_schema", "--note", "n", "--idempotency-key", "r-1", actor=OLENA)
    assert again.code == 0 and f"already done at event {len(events)}" in again.out
    assert audit_rows(db) == events
    other = cli("revoke", "transition.db_schema", "--note", "other", "--idempotency-key", "r-1", actor=OLENA)
    assert other.code == 1 and "already used for a different action" in other.err


def test_scenario_save_key_bound_to_its_source(cli, db: Path, tmp_path: Path) -> None:
    marek = "user_dispatcher_marek"
    assert cli("scenario", "save", "--idempotency-key", "s-1", actor=marek).code == 0
    events = audit_rows(db)
    again = cli("scenario", "save", "--idempotency-key", "s-1", actor=marek)
    assert again.code == 0 and "already done at event" in again.out and audit_rows(db) == events
    scaled = cli("scenario", "save", "--scale", "2", "--idempotency-key", "s-1", actor=marek)
    assert scaled.code == 1 and "already used for a different action" in scaled.err
    assert [r for r in audit_rows(db) if r[1] == "scenario.save"] == [r for r in events if r[1] == "scenario.save"]
