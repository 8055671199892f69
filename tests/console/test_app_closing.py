"""A console closed while a screen's body is mounting closes cleanly: nothing is painted
into the body that never mounted (it raised NoMatches on '#queue' and friends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import eventually
from tests.helpers.console import running


async def test_a_screen_whose_app_closes_while_its_body_mounts_paints_nothing(
    make_app, db: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bfg_tui.screens.home import HomeScreen

    async with running(make_app()):  # a store with data: the next app reads it first
        pass
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
        # the first frame, then the body's build
        await eventually(lambda: bool(closed_while_building), "the body was never built", timeout=20)
    assert closed_while_building == [True]  # the race was driven: the body never mounted
    assert app.return_code == 0  # closed cleanly: no exception from painting the missing body


async def test_a_screen_whose_recompose_mounts_nothing_paints_nothing(
    make_app, db: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual's recompose returns without composing while the screen is being pruned, yet
    the screen still counts as attached: the build must see that the body never came."""
    from bfg_tui.screens.home import HomeScreen

    async with running(make_app()):  # a store with data: the next app reads it first
        pass
    skipped: list[bool] = []

    async def prunes_as_the_body_mounts(self: HomeScreen) -> None:
        skipped.append(self.is_attached)  # attached, and yet nothing is composed

    monkeypatch.setattr(HomeScreen, "recompose", prunes_as_the_body_mounts)
    app = make_app()
    async with app.run_test(size=(120, 40)):  # raises what the app raised
        await eventually(lambda: bool(skipped), "the body's build never ran", timeout=20)
        # leave once the store is open and read: closing a console while it loads is another race
        await eventually(lambda: app.service is not None and not [w for w in app.workers if w.group == "load"],
                         "the store never finished loading", timeout=20)
        assert all(skipped)
        assert not app.screen.query("#queue")  # the race was driven: no body
