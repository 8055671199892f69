"""Pilot tests: accept, revoke, refusal, detail, probe run and cancel, export, actor switch, save/freeze."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from bfg_tui.screens.widgets import RowTable
from textual.widgets import Static

from tests.helpers.console import (
    at_check,
    confirm,
    goto_check,
    press,
    running,
    screen_text,
    service_do,
    settle,
    wait_until,
    widget_text,
)
from tests.helpers.keyboard import save_and_freeze_by_keys
from tests.helpers.rows import event_kinds

ANNA, MAREK, OLENA, DRIVER = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena", "driver_tarasenko"


def accepted(db: Path) -> dict[str, tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute("select check_id, actor, note, value from acceptances")}


def message(app) -> str:
    return widget_text(app.screen.query_one("#message", Static))


async def type_into_focused(pilot, text: str) -> None:
    await pilot.press("home", "ctrl+k", *text)


async def test_accept_with_note_keeps_focus_and_cursor(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with at_check(app, "4", "transition", "transition.contracts_frozen") as (pilot, table):
        await pilot.press("j", "k")
        row = table.cursor_row
        await press(pilot, "a")
        assert type(app.screen).__name__ == "AcceptModal"
        await press(pilot, *"rehearsed", "enter")
        assert "Accept transition.contracts_frozen as user_md_anna?" in screen_text(app)
        await press(pilot, "enter")
        assert accepted(db)["transition.contracts_frozen"] == (ANNA, "rehearsed", None)
        assert app.focused is table and table.cursor_row == row
        assert str(table.get_row_at(row)[0]) == "ok" and "accepted by user_md_anna" in str(table.get_row_at(row)[3])
        board = app.screen.query_one("#board", RowTable)
        assert str(board.get_row_at(1)[3]) == "1/2 checks accepted"
        assert "accepted by user_md_anna" in message(app)


async def test_accept_a_valued_check_asks_for_the_value(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with running(app) as pilot:
        await goto_check(pilot, "infrastructure", "infra.region_residency")
        await press(pilot, "a")
        await pilot.press("enter")  # empty value: refused by the form, asked again
        await pilot.pause()
        assert "A value is required" in screen_text(app)
        await press(pilot, *"EU", "enter", *"ops", "enter")
        await pilot.press("enter")  # confirm
        await settle(pilot)
        assert accepted(db)["infra.region_residency"] == (ANNA, "ops", "EU")
        row = app.screen.query_one("#infrastructure", RowTable).get_row_at(1)
        assert str(row[0]) == "ok" and str(row[2]) == "EU" and str(row[3]).startswith("accepted by user_md_anna")
        assert "1/4" in widget_text(app.screen.query_one("#infra-hint", Static))


async def test_escape_cancels_an_acceptance(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with at_check(app, "4", "transition", "transition.contracts_frozen") as (pilot, _table):
        await press(pilot, "a")
        await press(pilot, *"x", "enter", "escape")
        assert accepted(db) == {}


async def test_revoke_asks_then_revokes(make_app, db: Path) -> None:
    await service_do(db, ("accept", (OLENA, "transition.db_schema"), {"note": "ok"}))
    app = make_app(OLENA)
    async with at_check(app, "4", "transition", "transition.db_schema") as (pilot, _table):
        await press(pilot, "r")
        assert type(app.screen).__name__ == "ConfirmModal"
        await press(pilot, "enter")
        assert "transition.db_schema" not in accepted(db)
        assert event_kinds(db)[-1] == "check.revoke"
        assert str(app.screen.query_one("#board", RowTable).get_row_at(3)[3]) == "0/1 checks accepted"


@pytest.mark.parametrize(("screen", "table", "check", "key", "refusal"), [
    pytest.param("4", "transition", "transition.db_schema", "a",
                 ("Refused", "driver_tarasenko (driver) may not accept checks"), id="a read-only role accepts"),
    pytest.param("1", "blockers", "connection.endpoint_reachability", "a", ("is a probe check",),
                 id="a probe check by hand"),
    pytest.param("1", None, None, "s", ("lacks permission scenario.write",), id="a driver saves the scenario"),
])
async def test_refusals_are_shown_in_place_and_recorded(make_app, db: Path, screen: str, table: str | None,
                                                        check: str | None, key: str, refusal: tuple[str, ...]) -> None:
    app = make_app(DRIVER)
    async with running(app, screen) as pilot:
        if table is not None:
            await goto_check(pilot, table, check)
        await press(pilot, key)
        assert all(part in message(app) for part in refusal), message(app)
        assert app.is_running
    assert event_kinds(db).count("action.refused") == 1
    assert accepted(db) == {}


async def test_detail_modal_shows_owner_history_and_state(make_app, db: Path) -> None:
    await service_do(db, ("accept", (MAREK, "transition.role_headers_mapped"), {"note": "headers ok"}))
    app = make_app(ANNA)
    async with at_check(app, "4", "transition", "transition.role_headers_mapped") as (pilot, _table):
        await press(pilot, "enter")
        text = screen_text(app)
        assert "Check transition.role_headers_mapped" in text
        assert "Marek Zielinski (user_dispatcher_marek · Dispatcher)" in text
        assert "owner check" in text and "accepted by user_dispatcher_marek" in text
        assert "check.accept" in widget_text(app.screen.query_one("#history", Static))
        await press(pilot, "escape")
        assert type(app.screen).__name__ == "BoardScreen"


async def test_connection_probe_runs_in_a_worker_and_streams(make_app, db: Path, workdir: Path) -> None:
    target = workdir / "t.db"
    app = make_app(MAREK)
    async with running(app, "5") as pilot:
        await press(pilot, "p")
        assert type(app.screen).__name__ == "ProbeModal"
        await type_into_focused(pilot, "t.db")
        await press(pilot, "enter")
        assert app.screen.outcome == "passed"
        assert app.screen.lines > 4 and "PASS" in "\n".join(app.screen.query_one("#transcript").lines)
        await press(pilot, "enter")
        assert type(app.screen).__name__ == "CutoverScreen"
        text = screen_text(app)
        assert "Connection 4/4" in text and f"sqlite://{target}" in text
        detail = widget_text(app.screen.query_one("#pane-connection .transcript", Static))
        assert "connection.write_probe: PASS" in detail


async def test_a_probe_can_be_cancelled_and_the_ui_stays_responsive(make_app, db: Path) -> None:
    app = make_app(MAREK)
    started = asyncio.Event()

    async def slow_probe(actor, probe, target, log=None, new_target=False):
        # A line streamed, then a probe that only ends when cancelled (idle, so Pilot sees each key done).
        log("step 0")
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("not cancelled")

    async with running(app) as pilot:
        app.service.probe = slow_probe
        await press(pilot, "5")
        await press(pilot, "p")
        await pilot.press("enter")
        await asyncio.wait_for(started.wait(), 20)
        modal = app.screen
        await wait_until(pilot, lambda: modal.lines > 0, failure="the probe's line never reached the dialog")
        assert modal.running
        await press(pilot, "c")
        assert modal.outcome == "cancelled" and not modal.running
        assert "Probe cancelled" in screen_text(app)
        await press(pilot, "escape")
        assert type(app.screen).__name__ == "CutoverScreen"
        await press(pilot, "6")  # still responsive
        assert type(app.screen).__name__ == "AuditScreen"
    assert "probe.run" not in event_kinds(db)


async def test_dry_run_refused_without_connection(make_app, db: Path, workdir: Path) -> None:
    app = make_app(MAREK)
    async with running(app, "5") as pilot:
        await press(pilot, "right_square_bracket", "p")
        await type_into_focused(pilot, "t.db")
        await press(pilot, "enter")
        assert app.screen.outcome == "refused"
        assert "dry-run needs a frozen snapshot" in screen_text(app)


# The export dialog (packets by key, asks before replacing, refuses odd targets): tests/console/test_app_export.py


async def test_export_refused_for_a_driver(make_app, db: Path, workdir: Path) -> None:
    app = make_app(DRIVER)
    async with running(app) as pilot:
        await confirm(pilot, "x")
        assert "lacks permission packets.export" in message(app)
    assert not list(workdir.glob("bfg-*"))


async def test_switching_actor_is_audited(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with running(app, "ctrl+a") as pilot:
        assert type(app.screen).__name__ == "ActorPicker"
        await pilot.press("j", "j", "enter")  # Olena
        await settle(pilot)
        assert app.actor_id == OLENA
        assert "acting as Olena Shevchenko (user_accountant_olena · Accountant)" in screen_text(app)
    assert event_kinds(db)[-1] == "session.switch_actor"


async def test_without_an_actor_a_picker_opens_at_start(make_app, db: Path) -> None:
    app = make_app(None)
    async with running(app) as pilot:
        assert type(app.screen).__name__ == "ActorPicker"
        await pilot.press("j", "enter")  # Marek
        await settle(pilot)
        assert app.actor_id == MAREK and "acting as Marek Zielinski" in screen_text(app)
        await press(pilot, "u")
        await pilot.press("escape")  # keep Marek
        await settle(pilot)
        assert app.actor_id == MAREK
    assert "session.switch_actor" not in event_kinds(db)


async def test_save_and_freeze_from_the_keyboard(make_app, db: Path) -> None:
    app = make_app(MAREK)
    async with running(app) as pilot:
        await save_and_freeze_by_keys(pilot)
        summary = widget_text(app.screen.query_one("#summary", Static))
        assert "Snapshot:" in summary and "checksum bfg-" in summary
    assert event_kinds(db)[-2:] == ["scenario.save", "snapshot.freeze"]


async def test_polish_refusals_and_outcomes_are_polish(make_app, db: Path) -> None:
    app = make_app(DRIVER, lang="pl")
    async with running(app) as pilot:
        await pilot.press("s")  # a driver may not save the scenario: refused in place, in Polish
        await settle(pilot)
        assert message(app) == "✗ Odmowa: driver_tarasenko (driver) nie ma uprawnienia scenario.write do scenario.save"
        await app.act(app.service.accept(ANNA, "transition.contracts_frozen"))
        assert message(app) == "✓ transition.contracts_frozen zaakceptowana przez user_md_anna"
        await app.act(app.service.revoke(ANNA, "transition.contracts_frozen"))
        await app.act(app.service.revoke(ANNA, "transition.contracts_frozen"))  # refused by the store
        assert "transition.contracts_frozen nie jest zaakceptowana; nie ma czego cofać" in message(app)
    # The audit trail keeps the English reason, as the CLI prints it.
    with sqlite3.connect(db) as conn:
        reasons = [r[0] for r in conn.execute(
            "select json_extract(body, '$.data.reason') from audit_events where kind = 'action.refused'")]
    assert reasons[0] == "driver_tarasenko (driver) lacks permission scenario.write for scenario.save"
