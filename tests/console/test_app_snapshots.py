"""Snapshot tests (pytest-textual-snapshot) of the six screens at 80×24 and 120×40, in English
and Polish, fresh state.

Deterministic: a pinned clock (BFG_TUI_FIXED_CLOCK) and OS user, no SSH variables, the
store path never shown, workers awaited, the cursor not blinking.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.helpers.console import settle

SCREENS = ("1", "2", "3", "4", "5", "6")
SIZES = ((80, 24), pytest.param((120, 40), marks=pytest.mark.slow))  # the fast loop checks the tighter layout


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFG_TUI_FIXED_CLOCK", "2026-01-15T09:30:00.000000Z")
    monkeypatch.setenv("LOGNAME", "reviewer")
    monkeypatch.setenv("USER", "reviewer")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("lang", ("en", "pl"))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", SCREENS, ids=["home", "providers", "rbac", "board", "cutover", "audit"])
def test_screen_snapshot(snap_compare, fixed: None, make_app, key: str, size: tuple[int, int], lang: str) -> None:
    app = make_app("user_md_anna", lang=lang, poll_seconds=3600)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
