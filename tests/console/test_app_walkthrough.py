"""The fresh demo to the end of the local walkthrough, by keyboard alone, as the right actors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.helpers.console import press, screen_text, settle, widget_text
from tests.helpers.keyboard import (
    ANNA,
    MAREK,
    OLENA,
    VALUES,
    accept,
    become,
    export_release,
    probe_connection_and_dry_run,
    save_and_freeze_by_keys,
)


@pytest.mark.slow
async def test_keyboard_walkthrough_ends_blocked_pending_infrastructure(make_app, db: Path, workdir: Path) -> None:
    app = make_app(MAREK)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.view.ev.decisions["go_no_go"] == "BLOCKED_PENDING_DRY_RUN"
        # Marek saves and freezes the scenario.
        await save_and_freeze_by_keys(pilot)
        assert app.view.state.snapshot is not None and app.view.state.snapshot.rows > 0

        # The six transition checks on the decision board, each by its owner.
        await pilot.press("4")
        await settle(pilot)
        await accept(pilot, "transition", "transition.role_headers_mapped")
        await accept(pilot, "transition", "transition.rehearsal_scenario_store")
        await become(pilot, OLENA)
        await accept(pilot, "transition", "transition.db_schema")
        await accept(pilot, "transition", "transition.secrets_and_auth")
        await become(pilot, ANNA)
        await accept(pilot, "transition", "transition.contracts_frozen")
        await accept(pilot, "transition", "transition.migration_and_rollback")
        assert app.view.ev.count("decision_board") == "6/7"  # the dry-run row also needs the dry-run

        # Marek runs the connection wizard and the dry-run against a SQLite target file.
        await become(pilot, MAREK)
        await probe_connection_and_dry_run(pilot, "t.db")
        assert app.view.ev.count("connection") == "4/4" and app.view.ev.count("dry_run") == "5/5"
        assert app.view.ev.decisions["release"] == "READY"

        # Anna confirms the rollback drill and accepts the eight valued checks.
        await become(pilot, ANNA)
        await pilot.press("left_square_bracket", "left_square_bracket")  # dry-run → connection → rollback
        await settle(pilot)
        await accept(pilot, "checks-rollback", "rollback.owner_confirmation")
        await pilot.press("1")
        await settle(pilot)
        for check_id, value in VALUES.items():
            table = "provider-selection" if check_id.startswith("provider.") else "infrastructure"
            await accept(pilot, table, check_id, value)
        assert app.view.ev.count("infrastructure") == "4/4" and app.view.ev.count("provider_selection") == "4/4"
        assert app.view.ev.decisions["rollback"] == "BLOCKED_PENDING_ROLLBACK_DRILL"

        # Last, Anna exports the release packet.
        await press(pilot, "5")
        await press(pilot, "left_square_bracket")  # rollback → release
        assert "BFG_RELEASE_DECISION=READY" in await export_release(pilot, workdir / "exports")

        await pilot.press("1")
        await settle(pilot)
        ev = app.view.ev
        assert ev.count("gates") == "9/9"
        assert {d: ev.decisions[d] for d in ("release", "rollback", "runbook", "cutover")} == dict.fromkeys(
            ("release", "rollback", "runbook", "cutover"), "READY")
        assert ev.decisions["go_no_go"] == "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS"
        assert "go/no-go BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS" in screen_text(app)
        assert "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS" in widget_text(app.screen.query_one("#gonogo", Static))
    with sqlite3.connect(db) as conn:
        kinds = [r[0] for r in conn.execute("select kind from audit_events order by seq")]
    assert "action.refused" not in kinds
    assert kinds.count("session.switch_actor") == 4 and kinds[-1] == "packet.export"
