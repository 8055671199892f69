"""A console closed while a screen's body is mounting closes cleanly: nothing is painted
into the body that never mounted (it raised NoMatches on '#queue' and friends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import eventually
from tests.helpers.console import press, running


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


class _HeldUntilClose:
    """Holds a store call, once reached, until the console closes its service, then lets it
    go on as the store closes: the shape of a read still in flight when the console quits."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import asyncio

        from bfg_tui.service import Console

        self.reached = asyncio.Event()
        self._release = asyncio.Event()
        self.closes = 0
        close = Console.close

        async def closing(service: Console) -> None:
            self.closes += 1
            self._release.set()  # the held call goes on while the store closes
            await close(service)

        monkeypatch.setattr(Console, "close", closing)

    def hold(self, owner: object, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """`owner.name` (an async method) waits, once reached, until the service closes."""
        real = getattr(owner, name)

        async def held(*args: object, **kwargs: object) -> object:
            self.reached.set()
            await self._release.wait()
            return await real(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)


async def test_quitting_while_the_store_is_still_loading_ends_quietly(
    make_app, db: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The console shut down while its load worker reads the store: the read is stopped before
    the store closes, so it never runs on a closed database, and nothing is written."""
    from bfg_tui.store.sqlite import SQLiteStore
    from textual.worker import WorkerState

    from tests.helpers.rows import audit_rows

    async with running(make_app()):  # a store with data
        pass
    before = audit_rows(db)
    gate = _HeldUntilClose(monkeypatch)
    gate.hold(SQLiteStore, "_read_state", monkeypatch)  # inside the read's snapshot transaction
    app = make_app()
    async with app.run_test(size=(120, 40)):  # raises what the app raised while closing
        await eventually(gate.reached.is_set, "the load never read the store", timeout=20)
        loads = [w for w in app.workers if w.group == "load"]
    assert gate.closes == 1  # the store was closed, with the read in flight
    assert [w.state for w in loads] == [WorkerState.CANCELLED]  # stopped, not failed on a closed store
    assert audit_rows(db) == before



async def test_quitting_while_an_export_reads_the_store_ends_quietly(
    make_app, db: Path, monkeypatch: pytest.MonkeyPatch, workdir: Path,
) -> None:
    """The export flow, a worker too, stopped mid-read by the console closing: nothing written,
    no export recorded, no error."""
    from bfg_tui.store.sqlite import SQLiteStore
    from textual.worker import WorkerState

    from tests.helpers.rows import audit_rows

    async with running(make_app()):
        pass
    before = audit_rows(db)
    gate = _HeldUntilClose(monkeypatch)
    app = make_app()
    async with running(app) as pilot:
        gate.hold(SQLiteStore, "_read_state", monkeypatch)  # from now: the export's read of the state
        await press(pilot, "x")  # the export dialog
        await pilot.press("enter")
        await eventually(gate.reached.is_set, "the export never read the store", timeout=20)
        flows = [w for w in app.workers if w.group == "flow"]
    assert gate.closes == 1
    assert [w.state for w in flows] == [WorkerState.CANCELLED]
    assert audit_rows(db) == before
    assert not list(workdir.rglob("*release*"))
