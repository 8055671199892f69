"""The fresh demo to the end of the local walkthrough, by keyboard alone, as the right actors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Static

from tests.conftest import screen_text, settle, widget_text
from tests.test_app_screens import no_animations  # noqa: F401  (autouse)

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
ACTOR_ORDER = [ANNA, MAREK, OLENA, "driver_tarasenko", "cp_client_lviv_farma"]
VALUES = {  # short, so the typing stays quick
    "provider.live_db_auth_provider": "PG15",
    "provider.auth_rbac_owner": "OIDC",
    "provider.tenant_secrets_boundary": "RLS",
    "provider.live_wiring_go_no_go": "stg",
    "infra.hosting_provider": "HCloud",
    "infra.region_residency": "EU",
    "infra.runtime_owner": "marek",
    "infra.secrets_backup": "RPO15",
}


async def focus_table(pilot, table_id: str) -> None:
    """Tab until the table has focus (keyboard only)."""
    for _ in range(30):
        if pilot.app.focused is not None and pilot.app.focused.id == table_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"could not tab to #{table_id}")


async def cursor_to(pilot, check_id: str) -> None:
    """j/k the cursor to the check (the test reads the rows to know how far to go)."""
    table = pilot.app.focused
    target = table.get_row_index(check_id)
    step = target - table.cursor_row
    if step:
        await pilot.press(*(["j"] * step if step > 0 else ["k"] * -step))
    assert table.current == check_id


async def accept(pilot, table_id: str, check_id: str, value: str = "") -> None:
    await focus_table(pilot, table_id)
    await cursor_to(pilot, check_id)
    await pilot.press("a")
    await settle(pilot)
    if value:
        await pilot.press(*value, "enter")  # value, then on to the note
    await pilot.press("enter")  # the note (empty)
    await settle(pilot)
    await pilot.press("enter")  # confirm
    await settle(pilot)
    assert pilot.app.view.ev.checks[check_id].ready, widget_text(pilot.app.screen.query_one("#message"))


async def become(pilot, actor: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+a")
    await settle(pilot)
    step = ACTOR_ORDER.index(actor) - ACTOR_ORDER.index(app.actor_id)
    await pilot.press(*(["j"] * step if step > 0 else ["k"] * -step), "enter")
    await settle(pilot)
    assert app.actor_id == actor


async def probe(pilot, target: str | None = None) -> None:
    await pilot.press("p")
    await settle(pilot)
    if target is not None:
        await pilot.press("home", "ctrl+k", *target)
    await pilot.press("enter")
    await settle(pilot)
    assert pilot.app.screen.outcome == "passed", screen_text(pilot.app)
    await pilot.press("enter")
    await settle(pilot)


async def test_keyboard_walkthrough_ends_blocked_pending_infrastructure(make_app, db: Path, tmp_path: Path,
                                                                        monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(MAREK)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.view.ev.decisions["go_no_go"] == "BLOCKED_PENDING_DRY_RUN"
        # Marek saves and freezes the scenario (home: s, f; each confirmed with enter).
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
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
        await pilot.press("5")
        await settle(pilot)
        await probe(pilot, "t.db")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        await probe(pilot)  # the target defaults to the one the connection ran against
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

        # Last, Anna exports the release packet (x, enter: the default file).
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("left_square_bracket")  # rollback → release
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "BFG_RELEASE_DECISION=READY" in (tmp_path / "exports" / "bfg-release.env").read_text()

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
