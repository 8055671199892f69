"""A retried command never doubles an acceptance."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import audit_rows

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
