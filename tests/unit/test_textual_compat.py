"""Textual's private names the console uses still mean what bfg_tui.textual_compat expects.

When a Textual upgrade breaks one of these, this file fails, naming it: fix the compat
module (and only it), then move the pin in pyproject.toml.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import textual
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from bfg_tui import textual_compat

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_textual_is_the_pinned_major() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in deps if d.startswith("textual"))
    found = re.fullmatch(r"textual>=(\d+)(?:\.\d+)*,<(\d+)", pin)
    assert found, f"Textual is not pinned to one major version: {pin!r}"
    low, high = int(found.group(1)), int(found.group(2))
    assert high == low + 1, pin
    assert int(textual.__version__.split(".")[0]) == low, f"installed Textual {textual.__version__}, pinned {pin}"


class _Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "bell", "in English", id="demo")]

    def compose(self) -> ComposeResult:
        yield Static("hello")


async def test_rewritten_bindings_are_the_ones_in_force() -> None:
    import dataclasses

    app = _Keys()
    async with app.run_test() as pilot:
        textual_compat.rewrite_bindings(app, lambda b: dataclasses.replace(b, description="po polsku"))
        app.refresh_bindings()
        await pilot.pause()
        shown = [a.binding.description for a in app.screen.active_bindings.values() if a.binding.id == "demo"]
        assert shown == ["po polsku"], "Textual no longer keeps a node's bindings in _bindings.key_to_bindings"


def test_textual_still_compares_the_stylesheet_counts() -> None:
    # The console's screens skip a stylesheet re-parse by taking the app's count when they are made.
    assert "_css_update_count" in inspect.getsource(App), "App._css_update_count is gone"
    assert "screen._css_update_count != self._css_update_count" in inspect.getsource(App), (
        "Textual no longer decides a screen's restyle by comparing _css_update_count")
    assert "self._css_update_count" in inspect.getsource(Screen.__init__), "Screen._css_update_count is gone"


async def test_a_new_screen_adopts_the_apps_count() -> None:
    app = _Keys()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen: Screen[Any] = Screen()
        assert screen._css_update_count != app._css_update_count
        textual_compat.adopt_stylesheet(screen, app)
        assert screen._css_update_count == app._css_update_count


async def test_the_screen_renders_and_frames_are_counted() -> None:
    import io

    from rich.console import Console

    counting = textual_compat.counting_frame_bytes(_Keys)
    assert issubclass(counting, _Keys)
    app = counting()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        before = app.frame_bytes
        app.query_one(Static).update("changed")
        await pilot.pause()
        assert app.frame_bytes > before > 0, "App._display no longer receives each frame as a CompositorUpdate"
        out = Console(width=40, file=io.StringIO(), record=True, color_system=None, force_terminal=True)
        out.print(textual_compat.render_screen(app.screen))
        assert "changed" in out.export_text()


class _Greyed(App[None]):
    """`ring` is greyed out (check_action None); `screen.count` is not."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "ring", "ring", id="ring"),
                                             Binding("c", "screen.count", "count", id="count")]
    rung = 0

    def compose(self) -> ComposeResult:
        yield Static("hello")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "ring" else True

    def action_ring(self, times: int = 1) -> None:
        self.rung += times


async def test_a_greyed_action_is_found_and_run_only_through_the_compat_module() -> None:
    app = _Greyed()
    async with app.run_test() as pilot:
        await pilot.press("r")
        assert app.rung == 0, "Textual now runs an action whose check_action is None: the compat dispatch may go"
        assert [a.enabled for a in app.screen.active_bindings.values() if a.binding.id == "ring"] == [False]
        target, name, params = textual_compat.action_target(app, "ring(2)", app.screen)
        assert (target, name, params) == (app.screen, "ring", (2,))  # no namespace: the default one
        target, name, params = textual_compat.action_target(app, "app.ring(2)", app.screen)
        assert (target, name, params) == (app, "ring", (2,))
        assert textual_compat.action_target(app, "screen.count", app)[0] is app.screen
        assert await textual_compat.dispatch_action(app, app, "ring", (2,)) is True
        assert app.rung == 2
        assert await textual_compat.dispatch_action(app, app, "no_such_action", ()) is False
