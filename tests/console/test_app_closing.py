"""A console closed while a screen's body is mounting closes cleanly: nothing is painted
into the body that never mounted (it raised NoMatches on '#queue' and friends)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.helpers.console import settle


async def test_a_screen_whose_app_closes_while_its_body_mounts_paints_nothing(
    make_app, db: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bfg_tui.screens.home import HomeScreen

    async with make_app().run_test(size=(120, 40)) as pilot:  # a store with data: the next app reads it first
        await settle(pilot)
    recompose = HomeScreen.recompose
    closed_while_building: list[bool] = []

    async def quit_as_the_body_mounts(self: HomeScreen) -> None:
        # The user quits at the moment the body is swapped in for the first frame's glance line:
        # Textual then leaves the body unmounted.
        self.app.exit()
        await recompose(self)
        closed_while_building.append(not self.query("#queue"))

    monkeypatch.setattr(HomeScreen, "recompose", quit_as_the_body_mounts)
    app = make_app()
    async with app.run_test(size=(120, 40)):  # raises what the app raised while closing
        deadline = time.monotonic() + 20
        while not closed_while_building and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the first frame, then the body's build
    assert closed_while_building == [True]  # the race was driven: the body never mounted
    assert app.return_code == 0  # closed cleanly: no exception from painting the missing body
