"""Keys the acting person may not use are dimmed in the key bar, on every screen.

Whether a key is dimmed is the service's answer (`Console.can`) for who acts and the
highlighted check; a dimmed key still does its action when pressed, so the service
refuses it, records the refusal, and the console says why.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from bfg_tui.screens.base import KeyBar
from textual.widgets import Static

from tests.helpers.console import goto_check, press, running, screen_text, settle, widget_text

ANNA, MAREK, OLENA, DRIVER = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena", "driver_tarasenko"


def keys_shown(app: Any) -> dict[str, bool]:
    """Each key the key bar shows, by its key, and whether it is lit (False: dimmed)."""
    bar = app.screen.query_one(KeyBar)
    return {key: enabled for key, _display, _description, enabled, _tooltip in bar.keys}


def dimmed(app: Any) -> set[str]:
    return {key for key, lit in keys_shown(app).items() if not lit}


def refusals(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute(
            "select json_extract(body, '$.data.action') from audit_events where kind = 'action.refused' order by seq")]


async def test_home_dims_what_a_look_only_actor_may_not_do(make_app, db: Path) -> None:
    app = make_app(DRIVER)
    async with running(app) as pilot:
        await goto_check(pilot, "blockers", "transition.db_schema")
        assert {"s", "f", "x", "a", "r"} <= dimmed(app)
        assert keys_shown(app)["enter"] and keys_shown(app)["p"] is False  # detail is reading; a probe is not
        assert keys_shown(app)["f1"] and keys_shown(app)["ctrl+q"]  # help and quit are everyone's


async def test_home_lights_what_the_director_may_do(make_app, db: Path) -> None:
    from tests.helpers.console import service_do

    await service_do(db, ("accept", (ANNA, "transition.contracts_frozen"), {}))  # so she has something to revoke
    app = make_app(ANNA)
    async with running(app) as pilot:
        await goto_check(pilot, "queue", "transition.contracts_frozen")
        assert "transition.contracts_frozen" in app.view.state.acceptances
        assert dimmed(app) == {"p"}  # an owner check has no probe
        await goto_check(pilot, "blockers", "connection.endpoint_reachability")
        assert dimmed(app) == {"a", "r"}  # a probe check is signed by its probe, never by hand


async def test_the_accept_key_follows_the_highlighted_check(make_app, db: Path) -> None:
    # Marek owns two transition checks and may not countersign another owner's. His are
    # accepted first, so revoking them is his to do as well (nothing to revoke is dimmed).
    from tests.helpers.console import service_do

    mine = ("transition.role_headers_mapped", "transition.rehearsal_scenario_store")
    await service_do(db, ("save_scenario", (MAREK,), {}), ("freeze", (MAREK,), {}),  # the store check binds to it
                     *(("accept", (MAREK, check), {}) for check in mine))
    app = make_app(MAREK)
    async with running(app, "4") as pilot:
        assert set(mine) <= set(app.view.state.acceptances)
        await goto_check(pilot, "transition", "transition.role_headers_mapped")
        assert keys_shown(app)["a"] and keys_shown(app)["r"]
        await goto_check(pilot, "transition", "transition.db_schema")  # Olena's
        assert {"a", "r"} <= dimmed(app)
        await pilot.press("k")  # back up to transition.rehearsal_scenario_store, his again
        await pilot.pause()
        assert app.screen.focused.current == "transition.rehearsal_scenario_store"
        assert "a" not in dimmed(app) and "r" not in dimmed(app)


async def test_the_keys_follow_who_acts(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with running(app) as pilot:
        await goto_check(pilot, "blockers", "transition.db_schema")
        assert not {"s", "f", "x", "a"} & dimmed(app)
        app.actor_id = OLENA  # an accountant: exports and signs her own, may not save or freeze
        await settle(pilot)
        assert {"s", "f"} <= dimmed(app) and not {"x", "a"} & dimmed(app)
        app.actor_id = DRIVER
        await settle(pilot)
        assert {"s", "f", "x", "a"} <= dimmed(app)
        app.actor_id = ANNA
        await settle(pilot)
        assert not {"s", "f", "x", "a"} & dimmed(app)


async def test_a_dimmed_key_still_says_why_and_is_recorded(make_app, db: Path) -> None:
    app = make_app(DRIVER)
    async with running(app) as pilot:
        await goto_check(pilot, "blockers", "transition.db_schema")
        assert {"f", "a"} <= dimmed(app)
        await press(pilot, "f")
        assert "lacks permission snapshot.freeze" in widget_text(app.screen.query_one("#message", Static))
        await press(pilot, "a")
        assert "may not accept checks" in widget_text(app.screen.query_one("#message", Static))
    assert refusals(db) == ["snapshot.freeze", "check.accept"]


async def test_the_key_bar_draws_a_dimmed_key_dim(make_app, db: Path) -> None:
    app = make_app(OLENA)
    async with running(app):
        bar = app.screen.query_one(KeyBar)
        line = bar.render()
        plain = line.plain

        def dim_at(word: str) -> bool:
            at = plain.index(word)
            return any(span.start <= at < span.end and "dim" in str(span.style) for span in line.spans)

        assert dim_at("Save") and dim_at("Freeze") and not dim_at("Export")


async def test_providers_dims_signing_a_derived_check_for_everyone(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with running(app, "2") as pilot:
        await goto_check(pilot, "provider-checks", "contracts.providers_visible")
        assert {"a", "r"} <= dimmed(app) and keys_shown(app)["enter"]


@pytest.mark.parametrize(("actor", "dims"), [(DRIVER, True), (ANNA, False)])
async def test_board_dims_signing_for_a_look_only_actor(make_app, db: Path, actor: str, dims: bool) -> None:
    app = make_app(actor)
    async with running(app, "4") as pilot:
        await goto_check(pilot, "transition", "transition.contracts_frozen")
        assert ({"a", "r"} <= dimmed(app)) is dims, actor
        assert keys_shown(app)["enter"]


@pytest.mark.parametrize(("actor", "dims"), [(OLENA, True), (MAREK, False)])
async def test_cutover_dims_probe_save_freeze_for_an_accountant(make_app, db: Path, actor: str, dims: bool) -> None:
    app = make_app(actor)
    async with running(app, "5"):
        assert ({"s", "f", "p"} <= dimmed(app)) is dims, actor
        assert "x" not in dimmed(app), actor  # both may export
        assert keys_shown(app)["right_square_bracket"]


async def test_rbac_and_audit_have_nothing_to_dim_for_a_look_only_actor(make_app, db: Path) -> None:
    app = make_app(DRIVER)
    async with running(app) as pilot:
        for number in ("3", "6"):
            await press(pilot, number)
            assert keys_shown(app), number
            assert dimmed(app) == set(), number  # reading the roles and the trail is everyone's


async def test_revoke_is_dimmed_on_a_check_that_is_not_accepted(make_app, db: Path) -> None:
    """r follows the check's state as well as who acts: there is nothing to revoke on a check
    nobody accepted; once accepted it is the owner's to revoke, and dimmed again once revoked."""
    from tests.helpers.keyboard import accept

    app = make_app(MAREK)
    async with running(app, "4") as pilot:
        await goto_check(pilot, "transition", "transition.role_headers_mapped")  # his, not accepted
        assert keys_shown(app)["a"] and not keys_shown(app)["r"]
        await accept(pilot, "transition", "transition.role_headers_mapped")
        assert keys_shown(app)["r"] and keys_shown(app)["a"]
        await press(pilot, "r")  # his to revoke: asked to confirm
        await press(pilot, "enter")
        assert "transition.role_headers_mapped" not in app.view.state.acceptances
        assert not keys_shown(app)["r"]


async def test_revoke_stays_dimmed_for_who_may_not_on_an_accepted_check(make_app, db: Path) -> None:
    from tests.helpers.console import service_do

    await service_do(db, ("accept", (OLENA, "transition.db_schema"), {}))
    app = make_app(MAREK)
    async with running(app, "4") as pilot:
        await goto_check(pilot, "transition", "transition.db_schema")  # Olena's, accepted: not his
        assert "transition.db_schema" in app.view.state.acceptances
        assert {"a", "r"} <= dimmed(app)


async def test_probe_is_dimmed_on_a_check_without_a_probe(make_app, db: Path) -> None:
    app = make_app(MAREK)  # may run probes
    async with running(app) as pilot:
        await goto_check(pilot, "blockers", "transition.db_schema")  # an owner check
        assert not keys_shown(app)["p"]
        await goto_check(pilot, "blockers", "connection.endpoint_reachability")  # a probe's
        assert keys_shown(app)["p"]


async def test_a_key_dimmed_by_the_checks_state_still_says_why(make_app, db: Path) -> None:
    app = make_app(MAREK)
    async with running(app, "4") as pilot:
        await goto_check(pilot, "transition", "transition.role_headers_mapped")
        assert {"r", "p"} <= dimmed(app)
        await press(pilot, "r")
        assert ("transition.role_headers_mapped is not accepted; nothing to revoke"
                in widget_text(app.screen.query_one("#message", Static)))
        await press(pilot, "p")
        assert ("transition.role_headers_mapped is not a probe check"
                in widget_text(app.screen.query_one("#message", Static)))
    assert refusals(db) == ["check.revoke"]  # the refused revoke is recorded, as before


async def test_help_marks_the_dimmed_keys_and_says_why(make_app, db: Path) -> None:
    from bfg_tui.screens.modals import HelpScreen

    app = make_app(MAREK)
    async with running(app, "4") as pilot:
        await goto_check(pilot, "transition", "transition.role_headers_mapped")
        await press(pilot, "f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {binding_id: lit for _keys, _description, binding_id, lit in help_screen.bindings}
        assert rows["check.revoke"] is False and rows["check.probe"] is False
        assert rows["check.accept"] is True and rows["check.detail"] is True
        table = help_screen.key_table()
        ids = list(table.columns[2].cells)
        dim_rows = {ids[n] for n, row in enumerate(table.rows) if row.style == "dim"}
        assert dim_rows == {binding_id for binding_id, lit in rows.items() if not lit}  # as the key bar draws them
        assert "Dimmed keys do not apply here" in screen_text(app)
