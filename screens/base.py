"""What every console screen shares: the view data, localised bindings, the top bar.

Screens are thin: they show what the engine computed (`View.ev`) and what the store
holds (`View.state`); every action is a message to the App, which calls the service.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from bfg_tui.engine import Evaluation
from bfg_tui.i18n import t
from bfg_tui.models import Catalog, State

if TYPE_CHECKING:
    from bfg_tui.app import BfgApp

MODE_ORDER = ("home", "providers", "rbac", "board", "cutover", "audit")


class View(NamedTuple):
    """One consistent picture: the stored state and what the engine computed from it."""

    catalog: Catalog
    state: State
    ev: Evaluation
    version: int


def bind(keys: str, action: str, binding_id: str, *, show: bool = True, priority: bool = False) -> Binding:
    """A Binding whose id names it in keymaps and i18n (`bind.<id>`, `tip.<id>`)."""
    return Binding(keys, action, t(f"bind.{binding_id}"), show=show, priority=priority,
                   tooltip=t(f"tip.{binding_id}"), id=binding_id)


def localize_bindings(node: Any, lang: str) -> None:
    """Rewrite the node's binding descriptions and tooltips in `lang` (ids stay)."""
    if lang == "en":
        return
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [
            dataclasses.replace(b, description=t(f"bind.{b.id}", lang), tooltip=t(f"tip.{b.id}", lang))
            if b.id and f"bind.{b.id}" in _KNOWN else b
            for b in bindings
        ]


def _known() -> frozenset[str]:
    from bfg_tui.i18n import STRINGS

    return frozenset(STRINGS)


_KNOWN = _known()


_UNSET = object()


def content_key(content: Any) -> object:
    """What a Static shows, comparable: Text equality ignores the base style, other renderables are opaque."""
    if content is None or isinstance(content, str):
        return content or ""
    from rich.text import Text

    if isinstance(content, Text):
        return ("text", content.plain, str(content.style), tuple(content.spans))
    return ("object", id(content))


def put(widget: Static, content: Any, key: object = None) -> bool:
    """Show `content` in `widget` only if it differs from what it shows; lay out only if its height changes.

    `Static.update` always asks for a layout of the whole screen (a few ms on a small machine);
    most updates keep the line count, so the height is measured first (Textual's own measure).
    `key` stands for renderables that cannot be compared (a rich Table, Group or Syntax).
    """
    key = content_key(content) if key is None else key
    if getattr(widget, "_bfg_shown", _UNSET) == key:
        return False
    widget._bfg_shown = key  # type: ignore[attr-defined]
    size = widget.content_size
    width_rule = widget.styles.width
    if not widget.is_mounted or not size.width or not widget.display or (width_rule is not None and width_rule.is_auto):
        widget.update(content)
        return True
    height_rule = widget.styles.height
    if height_rule is not None and not height_rule.is_auto:  # a fixed height: content never moves anything
        widget.update(content, layout=False)
        return True
    before = widget.get_content_height(size, size, size.width)
    widget.update(content, layout=False)
    if widget.get_content_height(size, size, size.width) != before:
        widget.refresh(layout=True)
    return True


class Localized:
    """Mixin: binding texts follow the app's language; `tr` translates; `put` updates a Static if it changed."""

    help_key: str = "help.app"

    @property
    def bfg(self) -> BfgApp:
        return self.app  # type: ignore[attr-defined,no-any-return]

    def tr(self, key: str, **kwargs: object) -> str:
        return t(key, self.bfg.lang, **kwargs)

    def on_mount(self) -> None:
        localize_bindings(self, self.bfg.lang)

    def put(self, selector: str, content: Any, key: object = None) -> bool:
        return put(self.query_one(selector, Static), content, key)  # type: ignore[attr-defined]


class TopBar(Static):
    """Screen switcher, who is acting, and the go/no-go decision: always visible."""

    DEFAULT_CSS = """
    TopBar { height: 2; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, mode: str) -> None:
        super().__init__(id="topbar")
        self.mode = mode

    def paint(self, app: BfgApp, view: View | None) -> None:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        lang = app.lang
        if view is None:
            decision = Text(t("app.loading", lang), style="italic")
        else:
            value = view.ev.decisions[view.catalog.go_no_go.id]
            ready = value == view.catalog.go_no_go.ready
            decision = Text(t("app.go_no_go", lang, value=value), style="bold green" if ready else "bold red")
        badge = app.badge(short=self.size.width < 110)
        key = (self.mode, lang, content_key(badge), content_key(decision))
        if getattr(self, "_bfg_shown", None) == key:
            return  # the same bar: nothing to repaint
        nav = Text(no_wrap=True, overflow="ellipsis")
        nav.append("BFG ", style="bold")
        for i, mode in enumerate(MODE_ORDER, start=1):
            label = f" {i} {t('nav.' + mode, lang)} "
            nav.append(label, style="reverse bold" if mode == self.mode else "")
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        badge.no_wrap = True
        badge.overflow = "ellipsis"
        grid.add_row(badge, Text(" ").append_text(decision))
        put(self, Group(nav, grid), key)

    def on_resize(self) -> None:
        self.paint(self.app, self.app.view)  # type: ignore[attr-defined]


class ConsoleScreen(Localized, Screen[None]):
    """A view of the console: top bar, body, a message line for outcomes, footer."""

    mode = "home"
    packet: str | None = None  # the packet `x` exports by default from here

    def __init__(self) -> None:
        super().__init__()
        self.shown_version = -1
        self.built = False

    def compose(self) -> ComposeResult:
        yield TopBar(self.mode)
        if self.bfg.view is None:
            # The first frame: paint fast, before the store is open; the body comes with the data.
            yield Static(self.tr("app.loading"), id="loading")
        else:
            self.built = True
            yield from self.compose_body()
        yield Static(id="message")
        yield Footer()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    def on_mount(self) -> None:
        self.repaint()

    def on_screen_resume(self) -> None:
        self.repaint()

    def repaint(self, force: bool = False) -> None:
        view = self.bfg.view
        if view is not None and not self.built:
            self.built = True
            self.call_later(self._build)
            return
        self.query_one(TopBar).paint(self.bfg, view)
        self.say(self.bfg.last_message)
        if view is None or (view.version == self.shown_version and not force):
            return
        self.shown_version = view.version
        self.show(view)

    async def _build(self) -> None:
        await self.recompose()
        self.shown_version = -1
        self.repaint()
        self.refresh_bindings()
        if self.AUTO_FOCUS:
            self.call_after_refresh(self._auto_focus)

    def _auto_focus(self) -> None:
        found = self.query(self.AUTO_FOCUS or "*")
        target = next((w for w in found if w.focusable), None)
        if target is not None:
            target.focus()
        elif self.focused is None:
            self.focus_next()

    def show(self, view: View) -> None:  # pragma: no cover - overridden
        pass

    def current_packet(self) -> str | None:
        return self.packet

    def say(self, message: Any) -> None:
        self.put("#message", message or "")
