"""Land where you can act: on every screen, and after every cutover tab switch, a / enter / j / k
act at once, without Tab; the copilot opens on the acting owner's queue."""

from __future__ import annotations

import pytest
from bfg_tui.screens.modals import AcceptModal, CheckDetail, RowDetail
from bfg_tui.screens.widgets import CURSOR_FOCUSED, CheckTable, RowTable
from textual.widgets import TabbedContent

from tests.helpers.console import screen_text, settle, widget_text

OLENA, PETRO = "user_accountant_olena", "driver_tarasenko"
SCREENS = ("1", "2", "3", "4", "5", "6")


async def _acts(pilot) -> None:
    """j/k move the focused list's cursor, enter opens its detail, a accepts or says why not."""
    app = pilot.app
    table = app.focused
    assert isinstance(table, RowTable), f"{type(app.screen).__name__}: focus on {table!r}"
    assert table.row_count >= 1
    if table.row_count > 1:
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("k")
        assert table.cursor_row == 0
    assert CURSOR_FOCUSED in screen_text(app)  # the selected row is marked without colour
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, (CheckDetail, RowDetail)), app.screen
    await pilot.press("escape")
    await settle(pilot)
    assert app.focused is table
    before = str(app.last_message)
    await pilot.press("a")
    await settle(pilot)
    if isinstance(app.screen, AcceptModal):
        await pilot.press("escape")
        await settle(pilot)
    else:
        assert str(app.last_message) != before or app.last_message, "a did nothing"


@pytest.mark.parametrize("key", SCREENS, ids=["home", "providers", "rbac", "board", "cutover", "audit"])
async def test_keys_act_on_entry_without_tab(make_app, key: str) -> None:
    app = make_app(actor=OLENA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        await _acts(pilot)


@pytest.mark.slow
async def test_keys_act_after_every_cutover_tab_switch(make_app) -> None:
    app = make_app(actor=OLENA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        seen = []
        for _ in range(7):
            await pilot.press("right_square_bracket")
            await settle(pilot)
            seen.append(tabs.active)
            assert isinstance(app.focused, CheckTable) and app.focused.id == f"checks-{tabs.active}"
            await _acts(pilot)
        assert len(set(seen)) == 7


async def test_olenas_first_a_opens_her_first_sign_off(make_app) -> None:
    app = make_app(actor=OLENA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Your sign-offs (Olena): 2 waiting" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AcceptModal)
        assert app.screen.check_id in ("transition.db_schema", "transition.secrets_and_auth")


async def test_a_driver_sees_there_is_nothing_to_sign_and_why(make_app) -> None:
    app = make_app(actor=PETRO, lang="pl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Twoje akceptacje (Petro): nic do podpisania" in screen_text(app)
        why = widget_text(app.screen.query_one("#queue-none"))
        assert "ma tylko odczyt" in why and "Anna Kowalska" in why
        assert isinstance(app.focused, CheckTable) and app.focused.id == "blockers"


async def test_help_lists_every_key_in_force(make_app) -> None:
    app = make_app(actor=OLENA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = {description: key for key, description, _id, _lit in app.keys_in_force()}
        joined = " | ".join(f"{k} {d}" for d, k in keys.items())
        for needed in ("tab", "j", "k", "?", "q", "a", "⏎"):
            assert any(needed in k.split(", ") for k in keys.values()), (needed, joined)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert "Keys in force" in text and "↓, j" in text


async def test_actor_picker_shows_one_actor_per_row_at_80x24(make_app) -> None:
    app = make_app(actor=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        for name, actor_id in (("Anna Kowalska", "user_md_anna"), ("Lviv Farma Distribution", "cp_client_lviv_farma")):
            assert any(name in line and actor_id in line for line in lines), name
        assert not any(line.strip(" █▊▎") == "Portal" for line in lines)
