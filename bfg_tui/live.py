"""The console's data: the evaluated view, held in reactives the screens watch, and kept live.

The first frame is the data: before Textual composes the first screen, the state of an
existing SQLite store is read with plain sqlite3 (as `bfg-tui status` does) and
evaluated, so the copilot paints its figures in its first frame. The console service
(aiosqlite, the write path, the live poll) opens in a worker after that frame. A store
that cannot be read that way (a new one, PostgreSQL) is opened in full, and if that
takes longer than the first-frame wait a loading frame is painted first.

Every read after that goes through the service (`bfg_tui.service.Console`). Setting
`view`, `last_message`, `actor_id` or `identity_key` is all it takes to repaint: each
console screen watches them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App
from textual.reactive import var

from bfg_tui.i18n import message_text, t
from bfg_tui.screens.base import ConsoleScreen, View

if TYPE_CHECKING:
    from bfg_tui.models import Actor, Catalog
    from bfg_tui.service import Console


class LiveConsole(App[int]):
    """The App's data half: what the screens show, and where it comes from."""

    # Always updated: a new view is a new evaluation (comparing two States would cost more than showing one).
    view: var[View | None] = var(None, always_update=True, init=False)
    last_message: var[Text | str] = var("", always_update=True, init=False)  # the message line's outcome
    actor_id: var[str | None] = var(None, init=False)  # who acts (None: nobody chosen yet)
    identity_key: var[str | None] = var(None, init=False)  # signed store: the acting actor's key fingerprint

    # Set by the App from its arguments.
    db: str | None
    lang: str
    pick_actor: bool
    poll_seconds: float
    first_frame_wait: float

    def init_live(self) -> None:
        self.service: Console | None = None
        self.key_actors: list[str] | None = None  # signed store: actors whose keys are here
        self.integrity_error: str | None = None  # the state is not the trail's: no decision shown
        self.first_frame_painted = False
        self.live_refreshes = 0
        self._opening: asyncio.Future[None] | None = None
        self._data_version: int | None = None
        self._polling = False

    # ------------------------------------------------------------- before the first frame

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

        `read_state_now` is plain sqlite3 through the store's own read plan: no aiosqlite
        thread, no write path. None when this does not apply or fails; the full open then
        does the work (and reports any error).
        """
        from bfg_tui.errors import BfgError
        from bfg_tui.service import read_state_now

        try:
            state = read_state_now(self.db)
            if state is None:
                return None
            from bfg_tui.assess import assess
            from bfg_tui.catalog import default_catalog

            catalog = default_catalog()
            return View(catalog, state, assess(catalog, state))
        except BfgError:
            return None

    # ------------------------------------------------------------- after it

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        """Open the service (if the first view did not), settle who acts, then keep the view live."""
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
        service = self.service
        login_refusal = None
        if service.login_actor is not None:
            # On the shared store the login decides who acts; another --as is refused.
            if self.actor_id is not None and self.actor_id != service.login_actor:
                login_refusal = Text(t("app.login_mismatch", self.lang, login=service.login,
                                       actor=service.login_actor, claimed=self.actor_id[:64]), style="bold red")
                self.actor_id = None
            else:
                self.actor_id = service.login_actor
        await self.refresh_identity()
        if self.actor_id is None and self.key_actors is not None and len(self.key_actors) == 1:
            self.actor_id = self.key_actors[0]  # signed: the one key here says who acts
            await self.refresh_identity()
        await self.reload()
        self.loaded(login_refusal)

    def loaded(self, login_refusal: Text | None = None) -> None:
        """The store is open and shown: poll it, and make sure someone acts."""
        service = self.service
        assert service is not None
        self.set_interval(self.poll_seconds, self.poll, name="live")
        if login_refusal is not None:
            self.say(login_refusal)
        if service.login_actor is not None:
            return  # the login decides who acts: no picker, no switching
        if self.actor_id is not None:
            found = service.find_actor(self.actor_id)
            if isinstance(found, str):
                self.say(Text(message_text(found, self.lang), style="bold red"))
                self.actor_id = None
        if self.actor_id is None and self.pick_actor:
            from bfg_tui.screens.messages import SwitchActorRequested

            self.post_message(SwitchActorRequested(initial=True))

    async def refresh_identity(self) -> None:
        """Signed store: which actors' keys this session holds, and the acting actor's key."""
        if self.service is None:
            return
        self.key_actors = await self.service.key_actors()
        self.identity_key = (await self.service.signer_fingerprint(self.actor_id)
                             if self.key_actors is not None else None)

    async def on_unmount(self) -> None:
        await self.stop_workers()
        if self.service is not None:
            await self.service.close()

    async def stop_workers(self) -> None:
        """Cancel every worker (the App's and the screens') and wait until each has unwound.

        Textual cancels workers as it shuts down but does not wait: a read cancelled inside
        its transaction still ends it on the store, and that must happen before the store closes.
        """
        workers = [worker for worker in self.workers if not worker.is_finished]
        for worker in workers:
            worker.cancel()
        pending: list[Awaitable[object]] = [worker.wait() for worker in workers]
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()  # the open started before the first frame, if no load awaits it
            pending.append(self._opening)
        # Their outcome no longer matters (cancelled, or an error nobody is left to show).
        await asyncio.gather(*pending, return_exceptions=True)

    async def reload(self) -> None:
        """Re-read the store and re-evaluate; the screens repaint (focus and scroll kept)."""
        service = self.service
        if service is None:
            return
        # The version first: a commit landing while the state is read bumps it again,
        # so the next poll refreshes instead of missing that change.
        self._data_version = await service.data_version()
        from bfg_tui.errors import StateMismatch

        try:
            state, ev = await service.evaluate()
        except StateMismatch:
            # Never a decision from rows the audit trail does not back.
            self.integrity_error = t("app.state_mismatch", self.lang)
            self.view = None
            self.say(Text(self.integrity_error, style="bold red"))
            return
        self.integrity_error = None
        self.view = View(service.catalog, state, ev)

    async def poll(self) -> None:
        """Live: another process committed to the store → refresh within one poll."""
        from bfg_tui.errors import BfgError

        if self._polling or self.service is None:
            return
        self._polling = True
        try:
            current = await self.service.data_version()
            if current != self._data_version:
                await self.reload()
                self.live_refreshes += 1
        except BfgError:
            pass
        finally:
            self._polling = False

    # ------------------------------------------------------------- who acts, what is shown

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

    def may(self, action: str, check_id: str | None = None) -> bool:
        """Whether who acts may do `action` (on `check_id`, as the shown state stands), as the
        service says; records nothing.

        For dimming keys (`ServiceKeys`); True until the service has opened.
        """
        service = self.service
        if service is None:
            return True
        if not service.can(self.actor_id, action, check_id).ok:
            return False
        view = self.view
        return view is None or service.applies(action, check_id, view.state) is None

    def console_screen(self) -> ConsoleScreen | None:
        """The console screen of the current mode (under any dialog)."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, ConsoleScreen)), None)

    def say(self, message: Text | str) -> None:
        """Show `message` in the message line (each console screen watches it)."""
        self.last_message = message

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """A toast: plain text, never markup, every control character made visible (reasons quote input)."""
        from bfg_tui.sanitise import visible, visible_lines

        super().notify(visible_lines(str(message)), title=visible(str(title)), severity=severity, timeout=timeout,
                       markup=False)
