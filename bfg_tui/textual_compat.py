"""Every use of Textual's private names, in one place.

Textual's major version is pinned in pyproject.toml; tests/unit/test_textual_compat.py
fails when an upgrade renames, removes or stops reading one of these, so an upgrade
is a change to this module and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.actions import ActionParseResult
    from textual.app import App
    from textual.binding import Binding
    from textual.dom import DOMNode
    from textual.screen import Screen

A = TypeVar("A", bound="App[Any]")


def rewrite_bindings(node: DOMNode, rewrite: Callable[[Binding], Binding]) -> None:
    """Replace each of `node`'s own bindings with `rewrite(binding)` (keys stay).

    Textual has no public way to change a binding's description after the class is made;
    the console's bindings are declared in English and shown in the user's language.
    """
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [rewrite(b) for b in bindings]


def action_target(app: App[Any], action: str | ActionParseResult, default_namespace: DOMNode,
                  namespaces: Mapping[str, DOMNode] | None = None) -> tuple[DOMNode, str, tuple[object, ...]]:
    """The node, action name and parameters Textual would run `action` with (its own parsing)."""
    return app._parse_action(action, default_namespace, namespaces)


async def dispatch_action(app: App[Any], target: DOMNode, name: str, params: tuple[object, ...]) -> bool:
    """Run an action on `target` as Textual does, without asking `check_action` first.

    Textual has no public way to run an action its `check_action` greyed out (None); the
    console greys a key the acting person may not use, and still runs it when pressed so
    the refusal is recorded and explained.
    """
    return await app._dispatch_action(target, name, params)


def adopt_stylesheet(screen: Screen[Any], app: App[Any]) -> None:
    """Style a new screen from the app's current stylesheet, without a full re-parse.

    A new screen is styled from the current stylesheet when it mounts, but Textual would
    still re-parse every stylesheet and restyle the whole app for it (a mode screen's
    first visit, and before the first frame). A later CSS change (the theme) bumps the
    app's count again and is applied as usual.
    """
    screen._css_update_count = app._css_update_count


def render_screen(screen: Screen[Any]) -> RenderableType:
    """The whole screen as one renderable (what the terminal shows), for tests and screenshots."""
    update = screen._compositor.render_update(full=True)
    assert update is not None  # a full update always renders
    return update


def counting_frame_bytes(app_class: type[A]) -> type[A]:
    """`app_class`, also encoding each frame for a terminal when headless and adding up its bytes.

    Headless (Pilot), Textual skips turning a frame into escape sequences; a user's terminal
    gets them, so a benchmark that times a repaint should include that work.
    """
    from textual._compositor import CompositorUpdate

    class Counting(app_class):  # type: ignore[valid-type,misc]
        frame_bytes = 0

        def _display(self, screen: Screen[Any], renderable: Any) -> None:  # a CompositorUpdate, among others
            super()._display(screen, renderable)
            if self.is_headless and isinstance(renderable, CompositorUpdate):
                self.frame_bytes += len(renderable.render_segments(self.console))

    Counting.__name__ = Counting.__qualname__ = f"Counting{app_class.__name__}"
    return Counting
