"""The Textual console: the App wires the screens, keys and palette to the data and the flows.

The data (`bfg_tui.live`): the evaluated view in reactives the screens watch, read before
the first frame when it can be. The flows (`bfg_tui.flows`): each request a screen posts,
handled with `@on`, through the service.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.actions import ActionParseResult
from textual.app import App
from textual.binding import BindingType
from textual.dom import DOMNode
from textual.screen import Screen

import bfg_tui.screens as _screens_pkg
from bfg_tui.flows import ConsoleFlows
from bfg_tui.i18n import default_lang, t
from bfg_tui.screens.base import MODE_ORDER, SCREENS, ServiceKeys, bind, localize_bindings
from bfg_tui.screens.messages import ExportRequested, FreezeRequested, SaveRequested, SwitchActorRequested
from bfg_tui.startup import resume_gc
from bfg_tui.textual_compat import action_target, dispatch_action

if TYPE_CHECKING:
    from bfg_tui.screens.base import ConsoleHost

POLL_SECONDS = 0.5
FIRST_FRAME_WAIT_S = 0.3  # how long the first frame waits for the data before a loading frame
DARK, LIGHT = "textual-dark", "textual-light"


def _console_commands() -> Any:
    """The command palette provider, imported when the palette first opens (start-up budget)."""
    from bfg_tui.screens.commands import ConsoleCommands

    return ConsoleCommands


def _factory(module: str, cls: str) -> Callable[[], Screen[Any]]:
    """Import a screen's module only when its mode is first shown (start-up budget)."""

    def make() -> Screen[Any]:
        mod = importlib.import_module(f"bfg_tui.screens.{module}")
        screen: Screen[Any] = getattr(mod, cls)()
        return screen

    return make


class BfgApp(ServiceKeys, ConsoleFlows):
    """bfg-tui: gates, owner checks, probes, packets and one go/no-go decision."""

    TITLE = "bfg-tui"
    CSS_PATH = str(Path(_screens_pkg.__file__).parent / "app.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        name: _factory(*spec.split(".")) for name, spec in SCREENS.items()
    }
    DEFAULT_MODE = "home"
    COMMANDS = App.COMMANDS | {_console_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(bind(str(i), f"go('{mode}')", f"screen.{mode}", show=False) for i, mode in enumerate(MODE_ORDER, 1)),
        bind("f1,question_mark", "help", "help"),
        bind("ctrl+a,u", "switch_actor", "actor.switch"),
        bind("ctrl+t", "toggle_theme", "theme.toggle", show=False),
        bind("ctrl+q,q", "quit", "quit", priority=False),
    ]
    # The screens' s / f / x: dimmed for whoever may not (ServiceKeys).
    SERVICE_ACTIONS: ClassVar[dict[str, str]] = {"save_scenario": "scenario.save", "freeze": "snapshot.freeze",
                                                 "export": "packet.export"}

    def __init__(
        self, db: str | None = None, actor: str | None = None, lang: str | None = None, *,
        pick_actor: bool = True, poll_seconds: float = POLL_SECONDS, first_frame_wait: float = FIRST_FRAME_WAIT_S,
        bound: bool = False,
    ) -> None:
        super().__init__()
        self.init_live()
        self.db = db
        self.actor_id = actor or None
        self.bound = bound
        self.lang = lang if lang in ("en", "pl") else default_lang()
        self.pick_actor = pick_actor
        self.poll_seconds = poll_seconds
        self.first_frame_wait = first_frame_wait
        self.theme = DARK
        localize_bindings(self, self.lang)

    def on_mount(self) -> None:
        self.call_after_refresh(self.first_frame)

    def first_frame(self) -> None:
        """The first frame is on screen: now the keymap, the body's tables and panels, and the store."""
        resume_gc()  # paused by `bfg-tui` for the start-up
        self.first_frame_painted = True
        self._load_keymap()
        screen = self.console_screen()
        if screen is not None:
            screen.repaint()  # the body, when the first view is already there
        self.load()

    def _load_keymap(self) -> None:
        # After the first frame: finding the config directory (platformdirs) and parsing TOML
        # are not needed to paint it (a key pressed before that frame acts with the default keys).
        from bfg_tui.keymap import keymap_path, load_keymap

        keymap, problem = load_keymap()
        if problem:
            self.notify(t("app.keymap_error", self.lang, path=keymap_path(), reason=problem), severity="warning")
        elif keymap:
            self.set_keymap(keymap)

    # ------------------------------------------------------------- keys and palette

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        """Run an action; a dimmed key's too: the service refuses it, records the refusal, and it is shown."""
        target, name, params = action_target(self, action, self if default_namespace is None else default_namespace,
                                              namespaces)
        if isinstance(target, ServiceKeys) and target.check_action(name, params) is None:
            return await dispatch_action(self, target, name, params)
        return await super().run_action(action, default_namespace, namespaces)

    def action_go(self, mode: str) -> None:
        if mode in self.MODES and self.current_mode != mode:
            self.switch_mode(mode)

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK
        self.notify(t("app.theme", self.lang, theme=self.theme), timeout=2)

    def action_switch_actor(self) -> None:
        self.post_message(SwitchActorRequested())

    def action_save_scenario(self) -> None:
        self.post_message(SaveRequested())

    def action_freeze(self) -> None:
        self.post_message(FreezeRequested())

    def action_export(self, packet: str = "") -> None:
        self.post_message(ExportRequested(packet or None))

    def action_help(self) -> None:
        from bfg_tui.screens.modals import HelpScreen

        self.push_screen(HelpScreen.for_focus(self))

    def keys_in_force(self) -> list[tuple[str, str, str, bool]]:
        from bfg_tui.screens.modals import keys_in_force

        return keys_in_force(self)


def run_app(db: str | None = None, actor: str | None = None, lang: str | None = None, *, bound: bool = False) -> int:
    """Open the console on the store (`bfg-tui` with no subcommand; `ssh-session` binds the actor)."""
    return int(BfgApp(db=db, actor=actor, lang=lang, bound=bound).run() or 0)


if TYPE_CHECKING:  # the screens type their App by this protocol: mypy checks BfgApp is one
    _HOST: type[ConsoleHost] = BfgApp
