"""Driving the Textual console in tests: settle, read the screen, act through the service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any


async def wait_until(pilot: object, condition: Callable[[], bool], timeout: float = 20.0,
                     failure: str | Callable[[], str] = "the condition never held") -> None:
    """Let the app run until `condition()` holds, checking after each pause. The timeout only
    turns a hang into a failure: it is not a speed claim."""
    import asyncio

    try:
        async with asyncio.timeout(timeout):
            while True:
                await pilot.pause()  # type: ignore[attr-defined]
                if condition():
                    return
                await asyncio.sleep(0.01)  # timers, workers and other processes run meanwhile
    except TimeoutError:
        raise AssertionError(failure() if callable(failure) else failure) from None


async def settle(pilot: object, timeout: float = 20.0) -> None:
    """Wait until the console is loaded and no worker is busy (a flow waiting on a modal is idle)."""
    from textual.screen import ModalScreen
    from textual.worker import WorkerState

    app = pilot.app  # type: ignore[attr-defined]

    def idle() -> bool:
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if isinstance(app.screen, ModalScreen):
            busy = [w for w in busy if w.group != "flow"]
        return app.view is not None and not busy and getattr(app.screen, "built", True)

    await wait_until(pilot, idle, timeout, lambda: f"console did not settle: {[w.name for w in app.workers]}")
    await pilot.pause()  # type: ignore[attr-defined]


async def press(pilot: object, *keys: str) -> None:
    """Press the keys, then let the console settle."""
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await settle(pilot)


@contextlib.asynccontextmanager
async def running(app: object, *keys: str, size: tuple[int, int] = (120, 40),
                  **options: Any) -> AsyncIterator[Any]:
    """The console run settled, then `keys` pressed (a screen's number key): yields its Pilot."""
    async with app.run_test(size=size, **options) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)
        if keys:
            await press(pilot, *keys)
        yield pilot


async def goto_check(pilot: Any, table_id: str, check_id: str) -> Any:
    """Focus the table and move its cursor from the top to the check with j (as a user would); the table."""
    from bfg_tui.screens.widgets import RowTable

    table = pilot.app.screen.query_one(f"#{table_id}", RowTable)
    table.focus()
    await pilot.pause()
    await pilot.press("home")
    for _ in range(table.row_count):
        if table.current == check_id:
            break
        await pilot.press("j")
    assert table.current == check_id, f"{check_id} not in #{table_id}"
    await pilot.pause()
    return table


@contextlib.asynccontextmanager
async def at_check(app: object, screen: str, table_id: str, check_id: str) -> AsyncIterator[tuple[Any, Any]]:
    """The console on `screen` (its number key), the cursor on the check in its table: (pilot, table)."""
    async with running(app, screen) as pilot:
        yield pilot, await goto_check(pilot, table_id, check_id)


async def confirm(pilot: object, key: str) -> None:
    """Press `key`, then enter in the dialog it opens (its default answer), letting each settle."""
    await pilot.press(key)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def screen_text(app: object) -> str:
    """The visible screen as plain text."""
    import io

    from rich.console import Console

    width, height = app.size  # type: ignore[attr-defined]
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False,
                      color_system=None, force_terminal=True)
    from bfg_tui.textual_compat import render_screen

    console.print(render_screen(app.screen))  # type: ignore[attr-defined]
    return console.export_text()


def widget_text(widget: object) -> str:
    """The plain text a Static shows."""
    content = widget.content  # type: ignore[attr-defined]
    return content.plain if hasattr(content, "plain") else str(content)


async def service_do(db: Path, *calls: tuple[str, tuple[object, ...], dict[str, object]]) -> None:
    """Run service actions in-process (from an async test): ("accept", (actor, check), {"note": ..})."""
    from bfg_tui.errors import Refused
    from bfg_tui.service import Console

    console = await Console.open(str(db))
    try:
        for name, args, kwargs in calls:
            with contextlib.suppress(Refused):
                await getattr(console, name)(*args, **kwargs)
    finally:
        await console.close()
