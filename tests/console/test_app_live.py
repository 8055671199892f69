"""Live: a change committed by another process shows in the open console within 1 s."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from bfg_tui.screens.widgets import RowTable

from tests.helpers import ROOT
from tests.helpers.console import settle


async def test_another_process_change_shows_within_a_second(make_app, db: Path) -> None:
    app = make_app("user_md_anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#transition", RowTable)
        table.focus()
        await pilot.press("j", "j")  # the cursor and focus must survive the refresh
        scroll_before = app.screen.query_one("#body").scroll_y
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bfg_tui", "--db", str(db), "--as", "user_accountant_olena",
            "accept", "transition.db_schema", cwd=ROOT, env=dict(os.environ),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        _out, err = await proc.communicate()
        assert proc.returncode == 0, err
        committed = time.monotonic()
        row = table.get_row_index("transition.db_schema")
        while "accepted by user_accountant_olena" not in str(table.get_row_at(row)[3]):
            assert time.monotonic() - committed < 1.0, "the console did not show the change within 1 s"
            await asyncio.sleep(0.02)
        assert time.monotonic() - committed < 1.0
        assert app.live_refreshes >= 1
        assert app.focused is table and table.cursor_row == 2
        assert app.screen.query_one("#body").scroll_y == scroll_before
        board = app.screen.query_one("#board", RowTable)
        assert str(board.get_row_at(3)[3]) == "1/1 checks accepted"
