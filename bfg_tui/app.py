"""The Textual console: a thin App that wires screens to the service.

The first frame is the data: before Textual composes the first screen, the state of an
existing SQLite store is read with plain sqlite3 (as `bfg-tui status` does) and
evaluated, so the copilot paints its figures in its first frame. The console service
(aiosqlite, the write path, the live poll) opens in a worker after that frame. A store
that cannot be read that way (a new one, PostgreSQL) is opened in full, and if that
takes longer than FIRST_FRAME_WAIT_S a loading frame is painted first. Screens show what
the engine computed; every action goes through `bfg_tui.service.Console`, and a refusal
is shown with its reason.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen

import bfg_tui.screens as _screens_pkg
from bfg_tui.i18n import STRINGS as _STRINGS
from bfg_tui.i18n import default_lang, message_text, t
from bfg_tui.screens.base import MODE_ORDER, ConsoleScreen, View, bind, localize_bindings

if TYPE_CHECKING:
    from bfg_tui.models import Actor, Catalog
    from bfg_tui.screens.widgets import CheckTable
    from bfg_tui.service import Console, Outcome

POLL_SECONDS = 0.5
FIRST_FRAME_WAIT_S = 0.3  # how long the first frame waits for the data before a loading frame
DARK, LIGHT = "textual-dark", "textual-light"
_SCREENS = {
    "home": ("home", "HomeScreen"),
    "providers": ("providers", "ProvidersScreen"),
    "rbac": ("rbac", "RbacScreen"),
    "board": ("board", "BoardScreen"),
    "cutover": ("cutover", "CutoverScreen"),
    "audit": ("audit", "AuditScreen"),
}


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


class BfgApp(App[int]):
    """bfg-tui: gates, owner checks, probes, packets and one go/no-go decision."""

    TITLE = "bfg-tui"
    CSS_PATH = str(Path(_screens_pkg.__file__).parent / "app.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        name: _factory(*spec) for name, spec in _SCREENS.items()
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

    def __init__(
        self, db: str | None = None, actor: str | None = None, lang: str | None = None, *,
        pick_actor: bool = True, poll_seconds: float = POLL_SECONDS, first_frame_wait: float = FIRST_FRAME_WAIT_S,
        bound: bool = False,
    ) -> None:
        super().__init__()
        self.db = db
        self.actor_id = actor or None
        self.bound = bound  # ssh-session: the key's actor, no switching
        self.key_actors: list[str] | None = None  # signed store: actors whose keys are here
        self.identity_key: str | None = None  # the acting actor's key fingerprint, when signed
        self.lang = lang if lang in ("en", "pl") else default_lang()
        self.pick_actor = pick_actor
        self.poll_seconds = poll_seconds
        self.first_frame_wait = first_frame_wait
        self.first_frame_painted = False
        self._opening: asyncio.Future[None] | None = None
        self.service: Console | None = None
        self.view: View | None = None
        self.last_message: Text | str = ""
        self.first_frame_ms: float | None = None
        self.bench_memory: dict[str, str] = {}
        self.live_refreshes = 0
        self.integrity_error: str | None = None  # the state is not the trail's: no decision shown
        self._version = 0
        self._data_version: int | None = None
        self._polling = False
        self.theme = DARK
        localize_bindings(self, self.lang)

    # ------------------------------------------------------------- start-up

    async def on_load(self) -> None:
        """Before the first screen is composed: get the data, waiting at most `first_frame_wait`."""
        self._opening = asyncio.ensure_future(self._first_view())
        await asyncio.wait({self._opening}, timeout=self.first_frame_wait)

    async def _first_view(self) -> None:
        """The first View: read directly when the store is an existing SQLite file, else the full open."""
        view = self._read_view()
        if view is not None:
            self.view = view
            return
        from bfg_tui.service import Console

        self.service = await Console.open(self.db)
        await self.reload()

    def _read_view(self) -> View | None:
        """The state of an existing SQLite store, read and evaluated without opening the service.

        Plain sqlite3 through the store's own read plan: no aiosqlite thread, no write path,
        none of the service's imports before the first frame. None when this does not apply
        or fails; the full open then does the work (and reports any error).
        """
        from bfg_tui.errors import BfgError
        from bfg_tui.paths import default_db, is_postgres

        location = self.db or default_db()
        if is_postgres(location):
            return None
        from bfg_tui.catalog import default_catalog
        from bfg_tui.engine import evaluate
        from bfg_tui.runbook import shipped_lint
        from bfg_tui.store.sqlite_plans import read_state_sync

        try:
            state = read_state_sync(Path(location))
            if state is None:
                return None
            catalog = default_catalog()
            state = state._replace(runbook_lint_ok=shipped_lint().ok)
            ev = evaluate(catalog, state, self.lang)
        except BfgError:
            return None
        self._version += 1
        return View(catalog, state, ev, self._version)

    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_frame)

    def _load_keymap(self) -> None:
        # After the first frame: finding the config directory (platformdirs) and parsing TOML
        # are not needed to paint it (a key pressed before that frame acts with the default keys).
        from bfg_tui.keymap import keymap_path, load_keymap

        keymap, problem = load_keymap()
        if problem:
            self.notify(t("app.keymap_error", self.lang, path=keymap_path(), reason=problem), severity="warning")
        elif keymap:
            self.set_keymap(keymap)

    def _after_first_frame(self) -> None:
        self.first_frame_painted = True
        self._load_keymap()
        self.repaint()  # the body's tables and panels, when the first view is already there
        if os.environ.get("BFG_TUI_BENCH_EXIT_ON_FIRST_FRAME"):
            t0 = float(os.environ.get("BFG_TUI_BENCH_T0") or 0) or None
            self.first_frame_ms = (time.time() - t0) * 1000 if t0 else None
            self.exit(0)
            return
        self.load()

    def _bench_loaded(self) -> None:
        """Benchmark hook: the store is loaded and painted; note RSS and leave."""
        status = Path("/proc/self/status")
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines()) if status.exists() else {}
        self.bench_memory = {k: fields[k].strip() for k in ("VmRSS", "VmHWM") if k in fields}
        self.exit(0)

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        from bfg_tui.errors import BfgError
        from bfg_tui.service import Console

        try:
            if self._opening is not None:
                await self._opening  # the first view, or the full open started before the first frame
            if self.service is None:
                self.service = await Console.open(self.db)
        except BfgError as exc:
            self.say(Text(t("app.load_failed", self.lang, reason=exc.reason), style="bold red"))
            return
        login_refusal = None
        login_actor = self.service.login_actor
        if login_actor is not None:
            # On the shared store the login decides who acts; another --as is refused.
            if self.actor_id is not None and self.actor_id != login_actor:
                login = self.service.login
                login_refusal = Text(t("app.login_mismatch", self.lang, login=login, actor=login_actor,
                                       claimed=self.actor_id[:64]), style="bold red")
                self.actor_id = None
            else:
                self.actor_id = login_actor
        await self.refresh_identity()
        if self.actor_id is None and self.key_actors is not None and len(self.key_actors) == 1:
            self.actor_id = self.key_actors[0]  # signed: the one key here says who acts
            await self.refresh_identity()
        await self.reload()
        if os.environ.get("BFG_TUI_BENCH_EXIT_AFTER_LOAD"):
            self.call_after_refresh(self._bench_loaded)
            return
        self.set_interval(self.poll_seconds, self.poll, name="live")
        if login_refusal is not None:
            self.say(login_refusal)
        if self.service.login_actor is not None:
            return  # the login decides who acts: no picker, no switching
        if self.actor_id is not None and self.service.catalog.actor(self.actor_id) is None:
            from bfg_tui.rbac import resolve_actor

            self.say(Text(message_text(resolve_actor(self.service.catalog, self.actor_id), self.lang), style="bold red"))
            self.actor_id = None
        if self.actor_id is None and self.pick_actor:
            self.switch_actor_flow(initial=True)

    async def refresh_identity(self) -> None:
        """Signed store: which actors' keys this session holds, and the acting actor's key."""
        if self.service is None:
            return
        self.key_actors = await self.service.key_actors()
        self.identity_key = None
        if self.key_actors is not None and self.actor_id:
            signer = await self.service.identity.signer_for(self.actor_id)
            self.identity_key = signer.key.fingerprint if signer else None

    async def on_unmount(self) -> None:
        if self.service is not None:
            await self.service.close()

    # ------------------------------------------------------------- data

    async def reload(self) -> None:
        """Re-read the store, re-evaluate, repaint the visible screen (focus and scroll kept)."""
        console = self.service
        if console is None:
            return
        # The version first: a commit landing while the state is read bumps it again,
        # so the next poll refreshes instead of missing that change.
        self._data_version = await console.data_version()
        from bfg_tui.errors import StateMismatch

        try:
            state, ev = await console.evaluate(self.lang)
        except StateMismatch:
            # Never a decision from rows the audit trail does not back.
            self.integrity_error = t("app.state_mismatch", self.lang)
            self.view = None
            self.say(Text(self.integrity_error, style="bold red"))
            self.repaint()
            return
        self.integrity_error = None
        self._version += 1
        self.view = View(console.catalog, state, ev, self._version)
        self.repaint()

    def repaint(self) -> None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConsoleScreen):
                screen.repaint()
                break

    async def poll(self) -> None:
        """Live: another process committed to the store → refresh within one poll."""
        from bfg_tui.errors import BfgError

        console = self.service
        if self._polling or console is None:
            return
        self._polling = True
        try:
            current = await console.data_version()
            if current != self._data_version:
                await self.reload()
                self.live_refreshes += 1
        except BfgError:
            pass
        finally:
            self._polling = False

    # ------------------------------------------------------------- identity

    @property
    def catalog(self) -> Catalog | None:
        """The service's catalog, or the first view's while the service opens."""
        if self.service is not None:
            return self.service.catalog
        return self.view.catalog if self.view is not None else None

    @property
    def actor(self) -> Actor | None:
        catalog = self.catalog
        if catalog is None or self.actor_id is None:
            return None
        return catalog.actor(self.actor_id)

    def badge(self, short: bool = False) -> Text:
        """The always-visible "acting as" badge."""
        actor = self.actor
        catalog = self.catalog
        if actor is None and catalog is None and self.actor_id:  # loading: the id as given
            return Text(t("app.acting_as_id", self.lang, actor=self.actor_id), style="bold")
        if actor is None:
            return Text(t("app.nobody", self.lang), style="bold yellow")
        role = catalog.roles[actor.role].label.get(self.lang) if catalog else actor.role
        key = "app.acting_as_short" if short else "app.acting_as"
        return Text(t(key, self.lang, name=actor.name, actor=actor.id, role=role), style="bold")

    def identity_badge(self, short: bool = False) -> Text:
        """ "signed · SHA256:ab12…" or "identity: demo (self-asserted)" (the top bar's first line)."""
        if self.service is None or self.view is None:
            return Text()
        if self.view.state.identity != "signed":
            return Text(t("app.identity_demo_short" if short else "app.identity_demo", self.lang), style="yellow")
        if self.identity_key is None:
            return Text(t("app.identity_no_key", self.lang), style="bold yellow")
        key = self.identity_key[:11] + "…"  # SHA256: and four characters
        return Text(key if short else t("app.identity_signed", self.lang, fingerprint=key), style="bold green")

    # ------------------------------------------------------------- messages

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """A toast: plain text, never markup, every control character made visible (reasons quote input)."""
        from bfg_tui.sanitise import visible, visible_lines

        super().notify(visible_lines(str(message)), title=visible(str(title)), severity=severity, timeout=timeout,
                       markup=False)

    def say(self, message: Text | str) -> None:
        self.last_message = message
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConsoleScreen):
                screen.say(message)
                break

    def done(self, message: str) -> None:
        """Success shows in the message line (in place); refusals also raise a toast."""
        self.say(Text("✓ " + message, style="green"))

    def refused(self, reason: str, *, refusal: bool = True) -> None:
        reason, title = self._note_refusal(reason, refusal=refusal)
        self.say(self.last_message)
        self.notify(reason, title=title, severity="error", timeout=8)

    def _note_refusal(self, reason: str, *, refusal: bool = True) -> tuple[str, str]:
        title = t("app.refused" if refusal else "app.error", self.lang)
        self.last_message = Text(f"✗ {title}: {reason}", style="bold red")
        return reason, title

    async def act(self, call: Awaitable[Outcome], success: Callable[[Outcome], str] | None = None) -> Outcome | None:
        """Run one service action: show its outcome or refusal, then re-evaluate and repaint.

        The outcome line and the recomputed figures are painted in one frame: the message is
        only noted here, and the repaint after the reload shows it with everything else.
        """
        from bfg_tui.errors import BfgError, Refused

        toast: tuple[str, str] | None = None
        try:
            out = await call
        except Refused as exc:
            toast = self._note_refusal(message_text(exc.reason, self.lang, exc.code, exc.params))
            out = None
        except BfgError as exc:
            toast = self._note_refusal(message_text(exc.reason, self.lang), refusal=False)
            out = None
        except Exception as exc:  # never a crash: one line, and never a secret
            from bfg_tui.secrets import scan

            text = f"{type(exc).__name__}: {exc}"
            toast = self._note_refusal(t("app.secret_error", self.lang) if scan(text) else text, refusal=False)
            out = None
        else:
            message = success(out) if success else message_text(out.message, self.lang, out.code, out.params)
            if message:
                self.last_message = Text("✓ " + message, style="green")
        try:
            await self.reload()
        finally:
            self.say(self.last_message)  # shown already by the repaint; a no-op then
            if toast is not None:
                self.notify(toast[0], title=toast[1], severity="error", timeout=8)
        return out

    # ------------------------------------------------------------- actions

    def action_go(self, mode: str) -> None:
        if mode in self.MODES and self.current_mode != mode:
            self.switch_mode(mode)

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK
        self.notify(t("app.theme", self.lang, theme=self.theme), timeout=2)

    def action_switch_actor(self) -> None:
        if self.bound:
            self.say(Text(t("app.bound", self.lang, actor=self.actor_id or ""), style="yellow"))
            self.repaint_badge()
            return
        self.switch_actor_flow()

    def action_help(self) -> None:
        from bfg_tui.screens.modals import HelpScreen

        focused = self.focused
        key = "help.app"
        node: Any = focused
        while node is not None:
            key = getattr(node, "help_key", None) or key
            if getattr(node, "help_key", None):
                break
            node = node.parent
        self.push_screen(HelpScreen(key, self.keys_in_force()))

    # Textual's own bindings, by action: their words are ours to translate.
    _OWN_ACTIONS: ClassVar[dict[str, str]] = {
        "app.focus_next": "focus.next", "app.focus_previous": "focus.previous",
        "app.command_palette": "palette", "help_quit": "",
    }

    def keys_in_force(self) -> list[tuple[str, str, str]]:
        """Every key in force on this screen, one row per binding (its keys together: "down, j")."""
        rows: dict[str, tuple[list[str], str, str]] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Ours have ids; of Textual's, only those named here (not its scroll-left/right twins).
            ident = binding.id or self._OWN_ACTIONS.get(binding.action, "")
            if not ident:
                continue
            display = binding.key_display or self.get_key_display(binding)
            if ident not in rows:
                described = f"bind.{ident}"
                description = t(described, self.lang) if described in _STRINGS else (binding.description or ident)
                rows[ident] = ([], description, binding.id or "")
            if display not in rows[ident][0] and key not in rows[ident][0]:
                rows[ident][0].append(display)
        return [(", ".join(keys), description, bid) for keys, description, bid in rows.values()]


    def action_save_scenario(self) -> None:
        self.save_flow()

    def action_freeze(self) -> None:
        self.freeze_flow()

    def action_export(self, packet: str = "") -> None:
        self.export_flow(packet or None)

    def on_check_table_requested(self, message: CheckTable.Requested) -> None:
        """a / r / enter / p on a check (the widgets module loads with the first data, not before)."""
        if self.service is None:
            return
        if message.verb == "accept":
            self.accept_flow(message.check_id)
        elif message.verb == "revoke":
            self.revoke_flow(message.check_id)
        elif message.verb == "detail":
            from bfg_tui.screens.modals import CheckDetail

            self.push_screen(CheckDetail(message.check_id))
        elif message.verb == "probe":
            check = self.service.catalog.checks[message.check_id]
            if check.kind == "probe" and check.probe:
                self.probe_flow(check.probe)
            else:
                self.refused(t("not_probe", self.lang, check=check.id), refusal=False)

    # ------------------------------------------------------------- flows (workers: they wait for modals)

    @work(group="flow")
    async def switch_actor_flow(self, initial: bool = False) -> None:
        from bfg_tui.screens.modals import ActorPicker

        if self.service is None:
            return
        await self.refresh_identity()
        if self.key_actors == []:
            self.say(Text(t("app.no_keys", self.lang), style="yellow"))
            self.repaint_badge()
            return
        chosen = await self.push_screen_wait(ActorPicker(self.actor_id, self.key_actors))
        if not chosen or chosen == self.actor_id:
            if initial and not chosen:
                self.say(Text(t("app.no_actor", self.lang), style="yellow"))
            return
        if initial:
            self.actor_id = chosen
            await self.refresh_identity()
            self.repaint_badge(land=True)
            return
        previous = self.actor_id or ""
        out = await self.act(self.service.switch_actor(previous, chosen))
        if out is not None:
            self.actor_id = chosen
        await self.refresh_identity()
        self.repaint_badge(land=True)

    def repaint_badge(self, land: bool = False) -> None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConsoleScreen):
                screen.repaint(force=True)
                if land:  # the queue belongs to the new actor: land on it
                    screen.call_after_refresh(screen.land)
                break

    @work(group="flow")
    async def accept_flow(self, check_id: str) -> None:
        from bfg_tui import rbac
        from bfg_tui.screens.modals import AcceptModal

        console = self.service
        assert console is not None
        check = console.catalog.checks[check_id]
        actor = self.actor
        grant = rbac.may_sign(console.catalog, actor, check_id, "accept") if actor else None
        if actor is None or check.kind != "owner" or isinstance(grant, str):
            # The service refuses (and records the refusal); the reason is shown in place.
            await self.act(console.accept(self.actor_id, check_id))
            return
        countersign = bool(grant and grant.countersign)
        form = await self.push_screen_wait(AcceptModal(check_id, countersign))  # note/value, then confirm
        if form is None:
            return
        note, value = form
        await self.act(console.accept(self.actor_id, check_id, note=note, value=value or None))

    @work(group="flow")
    async def revoke_flow(self, check_id: str) -> None:
        from bfg_tui import rbac
        from bfg_tui.screens.modals import ConfirmModal

        console = self.service
        assert console is not None
        actor = self.actor
        grant = rbac.may_sign(console.catalog, actor, check_id, "revoke") if actor else None
        if actor is None or isinstance(grant, str) or check_id not in self.view_acceptances():
            await self.act(console.revoke(self.actor_id, check_id))
            return
        title = console.catalog.checks[check_id].title.get(self.lang)
        if await self.push_screen_wait(ConfirmModal(
            t("modal.revoke_title", self.lang, check=title),
            t("modal.confirm_revoke", self.lang, check=check_id, actor=actor.id),
        )):
            await self.act(console.revoke(self.actor_id, check_id))

    def view_acceptances(self) -> Any:
        return self.view.state.acceptances if self.view else {}

    @work(group="flow")
    async def save_flow(self) -> None:
        from bfg_tui import rbac
        from bfg_tui.screens.modals import ConfirmModal

        if self.service is None:
            return
        actor = self.actor
        allowed = actor is not None and rbac.may(self.service.catalog, actor, "scenario.save") is None
        if allowed and not await self.push_screen_wait(ConfirmModal(
            t("modal.save_title", self.lang), t("modal.confirm_save", self.lang, actor=self.actor_id),
        )):
            return
        await self.act(self.service.save_scenario(self.actor_id))

    @work(group="flow")
    async def freeze_flow(self) -> None:
        from bfg_tui import rbac
        from bfg_tui.screens.modals import ConfirmModal

        if self.service is None:
            return
        actor = self.actor
        allowed = actor is not None and rbac.may(self.service.catalog, actor, "snapshot.freeze") is None
        if allowed and not await self.push_screen_wait(ConfirmModal(
            t("modal.freeze_title", self.lang), t("modal.confirm_freeze", self.lang, actor=self.actor_id),
        )):
            return
        await self.act(self.service.freeze(self.actor_id))

    def default_probe_target(self) -> str:
        endpoint = self.view.state.connection_endpoint if self.view else None
        if endpoint and endpoint.startswith("sqlite:///"):
            return endpoint[len("sqlite://"):]
        if endpoint and endpoint.startswith("postgresql://") and ":***@" not in endpoint:
            return endpoint  # a redacted DSN without a password is the DSN itself
        base = Path(self.db or os.environ.get("BFG_TUI_DB") or ".")
        folder = base.parent if "://" not in str(base) else Path.cwd()
        return str(folder / "rehearsal-target.db")

    @work(group="flow")
    async def probe_flow(self, probe: str) -> None:
        from bfg_tui.screens.modals import ProbeModal

        if self.service is None:
            return
        await self.push_screen_wait(ProbeModal(probe, self.default_probe_target()))
        await self.reload()

    def default_export_path(self, packet: str, fmt: str) -> str:
        from bfg_tui.paths import export_dir

        ext = {"text": "txt", "json": "json", "md": "md"}[fmt]
        if packet in ("release", "rollback") and fmt == "text":
            ext = "env"
        if packet == "runbook" and fmt == "text":
            ext = "sql"
        return str(export_dir()[0] / f"bfg-{packet.replace('_', '-')}.{ext}")

    @work(group="flow")
    async def export_flow(self, packet: str | None) -> None:
        from bfg_tui.safe_write import write_file
        from bfg_tui.screens.modals import ExportModal

        console = self.service
        if console is None:
            return
        if packet is None:
            screen = next((s for s in reversed(self.screen_stack) if isinstance(s, ConsoleScreen)), None)
            packet = screen.current_packet() if screen else None
        choice = await self.push_screen_wait(ExportModal(packet or "release"))
        if choice is None:
            return
        pid, fmt = choice.packet, choice.fmt
        if choice.path:
            target = Path(choice.path)
            destination = f"file:{target.name}"

            def write(text: str) -> None:
                self._ensure_export_dir(target.parent)
                # The same rules as `export -o`; `force` only after the owner said yes.
                write_file(target, text.encode("utf-8"), force=choice.force)
        else:
            destination = "clipboard:osc52"
            write = self.copy_to_clipboard
        out = await self.act(console.export(self.actor_id, pid, fmt, destination, write=write), success=lambda _o: "")
        if out is None:
            return
        if choice.path:
            self.done(t("export.done_file", self.lang, packet=pid, fmt=fmt, path=target))
        else:
            self.done(t("export.done_clip", self.lang, packet=pid, fmt=fmt))

    @staticmethod
    def _ensure_export_dir(folder: Path) -> None:
        """The default export folder is made (0700) on first use; any other folder must exist."""
        from bfg_tui.paths import export_dir
        from bfg_tui.store.sqlite_files import make_private_dirs

        if folder == export_dir()[0] and not folder.exists():
            make_private_dirs(folder, "the export folder")


def run_app(db: str | None = None, actor: str | None = None, lang: str | None = None, *, bound: bool = False) -> int:
    """Open the console on the store (`bfg-tui` with no subcommand; `ssh-session` binds the actor)."""
    app = BfgApp(db=db, actor=actor, lang=lang, bound=bound)
    code = app.run()
    if app.first_frame_ms is not None or app.bench_memory:
        import sys

        if app.first_frame_ms is not None:
            sys.stderr.write(f"BFG_TUI_FIRST_FRAME_MS={app.first_frame_ms:.1f}\n")
        for key, value in app.bench_memory.items():
            sys.stderr.write(f"BFG_TUI_{key.upper()}={value}\n")
    return int(code or 0)
