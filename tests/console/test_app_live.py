"""Live: a change committed by another process shows in the open console at its next poll,
and the console polls at least once a second."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bfg_tui.screens.widgets import RowTable

from tests.helpers import ROOT
from tests.helpers.console import settle, wait_until


def test_the_console_polls_at_least_once_a_second(make_app) -> None:
    # With one poll enough to show a commit (below), this is the "within a second" promise.
    assert 0 < make_app().poll_seconds <= 1.0


async def _accept_in_another_process(db: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bfg_tui", "--db", str(db), "--as", "user_accountant_olena",
        "accept", "transition.db_schema", cwd=ROOT, env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    _out, err = await proc.communicate()
    assert proc.returncode == 0, err


async def test_one_poll_shows_another_process_change_keeping_focus_and_scroll(make_app, db: Path) -> None:
    app = make_app("user_md_anna", poll_seconds=3600)  # the test polls, not the timer
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#transition", RowTable)
        table.focus()
        await pilot.press("j", "j")  # the cursor and focus must survive the refresh
        scroll_before = app.screen.query_one("#body").scroll_y
        await _accept_in_another_process(db)
        row = table.get_row_index("transition.db_schema")
        assert "accepted by user_accountant_olena" not in str(table.get_row_at(row)[3])
        await app.poll()
        await pilot.pause()
        assert "accepted by user_accountant_olena" in str(table.get_row_at(row)[3])
        assert app.live_refreshes == 1
        assert app.focused is table and table.cursor_row == 2
        assert app.screen.query_one("#body").scroll_y == scroll_before
        board = app.screen.query_one("#board", RowTable)
        assert str(board.get_row_at(3)[3]) == "1/1 checks accepted"


async def test_the_console_polls_by_itself(make_app, db: Path) -> None:
    app = make_app("user_md_anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _accept_in_another_process(db)
        await wait_until(pilot, lambda: "transition.db_schema" in app.view.state.acceptances)
        assert app.live_refreshes >= 1
