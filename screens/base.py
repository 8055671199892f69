"""What every console screen shares: the view data, localised bindings, the top bar.

Screens are thin: they show what the engine computed (`View.ev`) and what the store
holds (`View.state`), and repaint when the App's `view` changes (they watch it); every
action is a message to the App (`bfg_tui.screens.messages`), whose flows call the service.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from bfg_tui import sanitise
from bfg_tui.i18n import known, t
from bfg_tui.sanitise import visible, visible_lines
from bfg_tui.textual_compat import adopt_stylesheet, rewrite_bindings

if TYPE_CHECKING:  # the engine and the models load with the store, after the first frame
    from textual.dom import DOMNode

    from bfg_tui.models import Actor, Catalog, Evaluation, State
    from bfg_tui.service import Console

# The screens, in key order (1…6): mode -> "module.Class" under bfg_tui.screens, imported
# when the mode is first shown. The one list: keys, palette, help and modes derive from it.
SCREENS: dict[str, str] = {
    "home": "home.HomeScreen",
    "providers": "providers.ProvidersScreen",
    "rbac": "rbac.RbacScreen",
    "board": "board.BoardScreen",
    "cutover": "cutover.CutoverScreen",
    "audit": "audit.AuditScreen",
}
MODE_ORDER = tuple(SCREENS)


def tcss(name: str) -> str:
    """A stylesheet beside this module, used as a class's DEFAULT_CSS.

    app.tcss holds only what every screen shares; each view's styles are in its own file
    (console.tcss for every console screen, cutover.tcss, audit.tcss, modals.tcss) and are
    parsed when that class is first mounted. Textual parses the App's CSS several times
    before the first frame, and a screen's CSS_PATH re-parses every stylesheet.
    """
    return (Path(__file__).parent / name).read_text(encoding="utf-8")


class View(NamedTuple):
    """One consistent picture: the stored state and what the engine computed from it.

    Each evaluation is a new View: a screen knows it has shown this one by identity.
    """

    catalog: Catalog
    state: State
    ev: Evaluation


class ConsoleHost(Protocol):
    """The App as the screens see it: its data (`bfg_tui.live`) and the message line.

    The App sits above the screens and imports them, so they type it by this protocol
    instead of importing it; mypy checks that `bfg_tui.app.BfgApp` is one.
    """

    @property
    def lang(self) -> str: ...
    @property
    def view(self) -> View | None: ...
    @property
    def last_message(self) -> Text | str: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def identity_key(self) -> str | None: ...
    @property
    def service(self) -> Console | None: ...
    @property
    def catalog(self) -> Catalog | None: ...
    @property
    def actor(self) -> Actor | None: ...
    @property
    def integrity_error(self) -> str | None: ...
    @property
    def first_frame_painted(self) -> bool: ...

    def may(self, action: str, check_id: str | None = None) -> bool: ...
    def say(self, message: Text | str) -> None: ...
    def done(self, message: str) -> None: ...
    def refused(self, reason: str, *, refusal: bool = True) -> None: ...


def bind(keys: str, action: str, binding_id: str, *, show: bool = True, priority: bool = False) -> Binding:
    """A Binding whose id names it in keymaps and i18n (`bind.<id>`, `tip.<id>`)."""
    return Binding(keys, action, t(f"bind.{binding_id}"), show=show, priority=priority,
                   tooltip=t(f"tip.{binding_id}"), id=binding_id)


def localize_bindings(node: Any, lang: str) -> None:
    """Rewrite the node's binding descriptions and tooltips in `lang` (ids stay)."""
    if lang == "en":
        return
    rewrite_bindings(node, lambda b: dataclasses.replace(b, description=t(f"bind.{b.id}", lang),
                                                         tooltip=t(f"tip.{b.id}", lang))
                     if b.id and known(f"bind.{b.id}") else b)


_UNSET = object()


def safe_text(text: Text, one_line: bool = False) -> Text:
    """`text` with every control character made visible (`bfg_tui.sanitise`), styles kept.

    Rich drops only a few control codes; an ESC in stored text would reach the terminal.
    `one_line` makes newlines visible too (a table cell).
    """
    plain = text.plain
    if plain.isprintable() if one_line else plain.replace("\n", "").isprintable():
        return text  # no control, format or separator character at all: no pattern to compile
    pattern = sanitise.CONTROL if one_line else sanitise.CONTROL_BUT_NEWLINE
    if pattern.search(plain) is None:
        return text
    from rich.text import Span

    cuts = sorted({cut for m in pattern.finditer(plain) for cut in (m.start(), m.end())})
    out = text.blank_copy()
    for part in text.divide(cuts):
        if len(part.plain) == 1 and pattern.match(part.plain):
            shown = visible(part.plain)
            part = Text(shown, style=part.style, spans=[Span(0, len(shown), span.style) for span in part.spans])
        out.append_text(part)
    return out


def safe(content: Any, one_line: bool = False) -> Any:
    """What a widget is given to show, made safe: a str or Text with every control character visible.

    Other renderables (a rich Table, a Syntax) are built from text made safe by their caller.
    """
    if isinstance(content, str):
        return visible(content) if one_line else visible_lines(content)
    if isinstance(content, Text):
        return safe_text(content, one_line)
    return content


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
    content = safe(content)  # every Static the console updates goes through here
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


# A plain mixin when running: Textual follows only a class's first node base for bindings and CSS.
if TYPE_CHECKING:
    _Node = DOMNode
else:
    _Node = object


class ServiceKeys(_Node):
    """Mixin for a node whose keys ask the service for something (`SERVICE_ACTIONS`: action
    name -> the service's action).

    A key the acting person may not use is dimmed, as Textual greys a key: `check_action`
    returns None. Whether they may is the service's answer (`Console.can`, through the App's
    `may`) for who acts and `service_subject()`. A dimmed key still does its action when
    pressed (`BfgApp.run_action`): the service refuses it, records the refusal, and the
    console says why.
    """

    SERVICE_ACTIONS: ClassVar[dict[str, str]] = {}

    def service_subject(self) -> str | None:
        """The check this node's keys act on (the highlighted row), if any."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        asked = self.SERVICE_ACTIONS.get(action)
        if asked is None:
            return super().check_action(action, parameters)
        app = cast("ConsoleHost", self.app)
        return True if app.may(asked, self.service_subject()) else None


class Localized:
    """Mixin: binding texts follow the app's language; `tr` translates; `put` updates a Static if it changed."""

    help_key: str = "help.app"

    @property
    def bfg(self) -> ConsoleHost:
        return cast("ConsoleHost", self.app)  # type: ignore[attr-defined]

    def tr(self, key: str, **kwargs: object) -> str:
        return t(key, self.bfg.lang, **kwargs)

    def on_mount(self) -> None:
        localize_bindings(self, self.bfg.lang)

    def put(self, selector: str, content: Any, key: object = None) -> bool:
        return put(self.query_one(selector, Static), content, key)  # type: ignore[attr-defined]


def badge(app: ConsoleHost, short: bool = False) -> Text:
    """The always-visible "acting as" badge."""
    actor = app.actor
    catalog = app.catalog
    if actor is None and catalog is None and app.actor_id:  # loading: the id as given
        return Text(t("app.acting_as_id", app.lang, actor=app.actor_id), style="bold")
    if actor is None:
        return Text(t("app.nobody", app.lang), style="bold yellow")
    role = catalog.roles[actor.role].label.get(app.lang) if catalog else actor.role
    key = "app.acting_as_short" if short else "app.acting_as"
    return Text(t(key, app.lang, name=actor.name, actor=actor.id, role=role), style="bold")


def identity_badge(app: ConsoleHost, short: bool = False) -> Text:
    """ "signed · SHA256:ab12…" or "identity: demo (self-asserted)" (the top bar's first line)."""
    if app.service is None or app.view is None:
        return Text()
    if app.view.state.identity != "signed":
        return Text(t("app.identity_demo_short" if short else "app.identity_demo", app.lang), style="yellow")
    if app.identity_key is None:
        return Text(t("app.identity_no_key", app.lang), style="bold yellow")
    key = app.identity_key[:11] + "…"  # SHA256: and four characters
    return Text(key if short else t("app.identity_signed", app.lang, fingerprint=key), style="bold green")


class TopBar(Widget):
    """Screen switcher, who is acting, and the go/no-go decision: always visible.

    Two lines of Text laid out here (a rich Table grid measured the same on every paint).
    """

    DEFAULT_CSS = """
    TopBar { height: 2; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, mode: str) -> None:
        super().__init__(id="topbar")
        self.mode = mode
        self._shown: object = None
        self._nav = Text()
        self._badge = Text()
        self._decision = Text()
        self._identity: tuple[Text, Text] = (Text(), Text())

    def paint(self, app: ConsoleHost, view: View | None) -> None:
        lang = app.lang
        if view is None and app.integrity_error:
            decision = Text(app.integrity_error, style="bold red")
        elif view is None:
            decision = Text(t("app.loading", lang), style="italic")
        else:
            value = view.ev.decisions[view.catalog.go_no_go.id]
            ready = value == view.catalog.go_no_go.ready
            decision = Text(t("app.go_no_go", lang, value=value), style="bold green" if ready else "bold red")
        acting = safe_text(badge(app, short=self.size.width < 110), one_line=True)  # the --as id as typed
        identity = (identity_badge(app), identity_badge(app, short=True))
        key = (self.mode, lang, content_key(acting), content_key(decision), *map(content_key, identity))
        if self._shown == key:
            return  # the same bar: nothing to repaint
        self._shown = key
        nav = Text()
        nav.append("BFG ", style="bold")
        for i, mode in enumerate(MODE_ORDER, start=1):
            nav.append(f" {i} {t('nav.' + mode, lang)} ", style="reverse bold" if mode == self.mode else "")
        self._nav, self._badge, self._decision = nav, acting, Text(" ").append_text(decision)
        self._identity = identity
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        nav = self._nav.copy()
        # The identity mode at the right of the first line: in full where it fits.
        ident = next((i for i in self._identity if nav.cell_len + 1 + i.cell_len <= width), Text())
        nav.truncate(max(0, width - ident.cell_len), overflow="ellipsis", pad=bool(ident.cell_len))
        nav.append_text(ident)
        left = self._badge.copy()
        left.truncate(max(0, width - self._decision.cell_len), overflow="ellipsis", pad=True)
        line = Text(end="", no_wrap=True)
        line.append_text(nav)
        line.append("\n")
        line.append_text(left)
        line.append_text(self._decision)
        return line

    def on_resize(self) -> None:
        app = cast("ConsoleHost", self.app)
        self.paint(app, app.view)


class KeyBar(Widget, can_focus=False):
    """The bindings in force, on one line, as Textual's Footer shows them (same look and colours).

    One widget instead of the Footer's widget per key: a Footer re-composes all of its keys
    whenever the focus moves to a part with other bindings, which delays the first frame
    (benchmarks/tui_bench.py measures it). Clicking a key presses it; hovering shows its tooltip.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description", "keybar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keybar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        # (key, key display, description, enabled, tooltip) shown left to right, and the palette key.
        self.keys: list[tuple[str, str, str, bool, str]] = []
        self.palette: tuple[str, str, str, bool, str] | None = None
        self._spans: list[tuple[int, int, str, str]] = []  # x0, x1, key, tooltip: for the mouse

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        app = self.app
        active = screen.active_bindings
        shown: dict[str, tuple[str, str, str, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in shown:  # one key per action, as the Footer
                shown[binding.action] = (binding.key, app.get_key_display(binding), binding.description, enabled,
                                         tooltip)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            lang = getattr(app, "lang", "en")  # Textual's own binding: its words are ours to translate
            palette = (binding.key, app.get_key_display(binding), t("bind.palette", lang), enabled,
                       t("tip.palette", lang))
        keys = list(shown.values())
        if keys != self.keys or palette != self.palette:
            self.keys, self.palette = keys, palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        width = self.size.width
        right = Text(no_wrap=True, end="")
        if self.palette is not None:  # docked right: "▏^p palette "
            _key, display, description, enabled, _tooltip = self.palette
            right.append("▏", self.get_component_rich_style("keybar--separator"))
            right.append(display, key_style)
            right.append(f" {description} ", description_style)
            if not enabled:
                right.stylize("dim", 1)
        room = max(0, width - right.cell_len)
        line = Text(no_wrap=True, end="")
        spans: list[tuple[int, int, str, str]] = []
        for key, display, description, enabled, tooltip in self.keys:
            start = line.cell_len
            line.append(f" {display} ", key_style)
            line.append(f"{description} ", description_style)
            if not enabled:
                line.stylize("dim", start)
            if start < room:
                spans.append((start, min(line.cell_len, room), key, tooltip))
        line.truncate(room, pad=True)
        line.append_text(right)
        if self.palette is not None:
            spans.append((room + 1, width, self.palette[0], self.palette[4]))
        self._spans = spans
        return line

    def _key_at(self, x: int) -> tuple[str, str] | None:
        for x0, x1, key, tooltip in self._spans:
            if x0 <= x < x1:
                return key, tooltip
        return None

    def on_click(self, event: events.Click) -> None:
        found = self._key_at(event.x)
        if found is not None:
            self.app.simulate_key(found[0])

    def on_mouse_move(self, event: events.MouseMove) -> None:
        found = self._key_at(event.x)
        self.tooltip = found[1] if found else None


class ConsoleScreen(Localized, Screen[None]):
    """A view of the console: top bar, body, a message line for outcomes, footer."""

    DEFAULT_CSS = tcss("console.tcss")

    mode = "home"
    packet: str | None = None  # the packet `x` exports by default from here
    # Where landing focuses (else the first list). Textual's own AUTO_FOCUS stays off: it
    # focuses before the body's layout settles and then centres the list, scrolling the
    # page's heading out of view.
    LAND_ON: str | None = None
    AUTO_FOCUS = None

    def __init__(self) -> None:
        super().__init__()
        self.shown: View | None = None  # the view this screen's body shows
        self.built = False
        self._building = False
        self._trail_hidden: list[Widget] = []  # what a state the trail does not back hid
        self._composed = 0  # how many times compose ran: a recompose may compose nothing
        self._keys_for = self._who_may()  # what the key bar's dimming was last worked out for
        adopt_stylesheet(self, self.app)  # no re-parse of every stylesheet for a new screen

    def compose(self) -> ComposeResult:
        self._composed += 1
        yield TopBar(self.mode)
        view = self.bfg.view
        if view is None or not self.bfg.first_frame_painted:
            # The first frame: the top bar (go/no-go) and the figures at a glance, painted before
            # the body's tables and panels are mounted (they come in the next frame), or a
            # loading line while the store opens.
            yield Static(self.glance(view), id="loading")
        else:
            self.built = True
            yield from self.compose_body()
        yield Static(id="message")
        yield KeyBar()

    def glance(self, view: View | None) -> Text:
        """The first frame's line: the copilot's gate figures, or "opening the store"."""
        if view is None:
            return Text(self.tr("app.loading"))
        text = Text(self.tr("home.heading") + "  ", style="bold")
        target = view.state.target_adapter or "—"
        return text.append(self.tr("home.gates_ready", count=view.ev.count("gates"), target=target))

    def compose_body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    def on_mount(self) -> None:
        app = self.app  # the App's reactives (`ConsoleHost` names them)
        self.watch(app, "view", self._view_changed, init=False)
        self.watch(app, "last_message", self._message_changed, init=False)
        self.watch(app, "actor_id", self._who_changed, init=False)
        self.watch(app, "identity_key", self._who_changed, init=False)
        self.repaint()
        if self.built:  # composed with the data (a screen first shown after loading): land now
            self.call_after_refresh(self._auto_focus)

    def on_screen_resume(self) -> None:
        self.repaint()  # what changed while another mode was shown

    @property
    def showing(self) -> bool:
        """This screen is its mode's, and its mode is the current one (a dialog may be above it)."""
        return self in self.app.screen_stack

    def _view_changed(self) -> None:
        if self.showing:
            self.repaint()

    def _message_changed(self, message: Text | str) -> None:
        if self.showing and not self._building:  # else the built body shows it
            self.say(message)

    def _who_changed(self) -> None:
        if self.showing:  # the badge, and the queue that belongs to who acts
            self.repaint(force=True)

    def repaint(self, force: bool = False) -> None:
        view = self.bfg.view
        if view is not None and not self.built and self.bfg.first_frame_painted:
            self.built = self._building = True
            self.call_later(self._build)
            return
        if self._building:  # the body is being mounted: it shows the latest view when it is there
            return
        bars = self.query(TopBar)
        if not bars:  # still composing (a screen switched to while the store loads): it paints on mount
            return
        bars.first().paint(self.bfg, view)
        who_may = self._who_may()
        if who_may != self._keys_for:  # the service opened, someone else acts, or the state moved: re-dim
            self._keys_for = who_may
            self.refresh_bindings()
        self.say(self.bfg.last_message)
        self._hide_figures(view is None and bool(self.bfg.integrity_error))
        if view is None or not self.built or (view is self.shown and not force):
            return
        self.shown = view
        self.show(view)

    def _who_may(self) -> tuple[bool, str | None, int]:
        """What the service's answers about keys depend on beyond the highlighted row: whether
        it is open, who acts, and the view (by identity: each evaluation is a new one)."""
        return self.bfg.service is not None, self.bfg.actor_id, id(self.bfg.view)

    def _hide_figures(self, hide: bool) -> None:
        """A state the trail does not back shows no figures at all, only why (top bar, message line)."""
        hidden = self._trail_hidden
        if hide and not hidden:
            for child in self.children:
                if not isinstance(child, (TopBar, KeyBar)) and child.id != "message" and child.display:
                    child.display = False
                    hidden.append(child)
        elif not hide and hidden:
            for child in hidden:
                child.display = True
            hidden.clear()

    async def _build(self) -> None:
        composed = self._composed
        await self.recompose()
        self._building = False
        # The app is closing: Textual skips the compose of a screen it is pruning (which still
        # counts as attached), so the body may never have mounted; a later repaint of a screen
        # that is still there builds it again.
        if self._composed == composed or not self.is_attached:
            self.built = False
            return
        self.shown = None
        self.repaint()
        self.refresh_bindings()
        self.call_after_refresh(self._auto_focus)

    def _auto_focus(self) -> None:
        """Land where the user can act: the screen's LAND_ON widget, else its first list."""
        # By type name: widgets imports this module, so importing RowTable here would be a cycle.
        found = self.query(self.LAND_ON or "RowTable")
        target = next((w for w in found if w.focusable), None)
        if target is not None:
            target.focus(scroll_visible=False)  # the page stays at its top: heading and intro in view
        elif self.focused is None:
            self.focus_next()

    def land(self) -> None:
        """Focus where the user can act now (after the actor changed, the queue did too)."""
        self._auto_focus()

    def show(self, view: View) -> None:  # pragma: no cover - overridden
        pass

    def current_packet(self) -> str | None:
        return self.packet

    def say(self, message: Any) -> None:
        self.put("#message", message or "")
