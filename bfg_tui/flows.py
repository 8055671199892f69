"""The console's flows: what happens when a screen asks for something.

Each request is a message class (`bfg_tui.screens.messages`) handled here with `@on`.
A flow runs as a worker (it may wait for a dialog), asks the service what the actor may
do only to choose the dialog, and lets the service decide and refuse: the refusal is
recorded there and shown here with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work

from bfg_tui.errors import Reason
from bfg_tui.i18n import Msg, message_text, t
from bfg_tui.live import LiveConsole
from bfg_tui.screens.base import View
from bfg_tui.screens.messages import (
    AcceptRequested,
    DetailRequested,
    ExportRequested,
    FreezeRequested,
    ProbeRequested,
    RevokeRequested,
    SaveRequested,
    SwitchActorRequested,
)

if TYPE_CHECKING:
    from bfg_tui.service import Outcome


class ConsoleFlows(LiveConsole):
    """The App's action half: one handler per request, the outcome shown in the message line."""

    bound: bool  # ssh-session: the key's actor, no switching

    # ------------------------------------------------------------- outcomes

    def done(self, message: str) -> None:
        """Success shows in the message line (in place); refusals also raise a toast."""
        self.say(Text("✓ " + message, style="green"))

    def refused(self, reason: str, *, refusal: bool = True) -> None:
        title = self._refusal_title(refusal)
        self.say(Text(f"✗ {title}: {reason}", style="bold red"))
        self.notify(reason, title=title, severity="error", timeout=8)

    def _refusal_title(self, refusal: bool) -> str:
        return t("app.refused" if refusal else "app.error", self.lang)

    async def act(self, call: Awaitable[Outcome], success: Callable[[Outcome], str] | None = None) -> Outcome | None:
        """Run one service action: show its outcome or refusal, then re-evaluate and repaint.

        The outcome line and the recomputed figures are painted in one frame: the message is
        set right after the new view, with nothing awaited in between.
        """
        from bfg_tui.errors import BfgError, Refused

        line: Text | None = None
        toast: tuple[str, str] | None = None
        out: Outcome | None = None
        try:
            out = await call
        except Refused as exc:
            toast = (message_text(exc.reason, self.lang, exc.code, exc.params), self._refusal_title(True))
        except BfgError as exc:
            toast = (message_text(exc.reason, self.lang), self._refusal_title(False))
        except Exception as exc:  # never a crash: one line, and never a secret
            from bfg_tui.secrets import scrub
            from bfg_tui.targets import known_secrets

            text = scrub(f"{type(exc).__name__}: {exc}", known_secrets(), withheld=t("app.secret_error", self.lang))
            toast = (text, self._refusal_title(False))
        else:
            message = success(out) if success else message_text(out.message, self.lang, out.code, out.params)
            if message:
                line = Text("✓ " + message, style="green")
        if toast is not None:
            line = Text(f"✗ {toast[1]}: {toast[0]}", style="bold red")
        try:
            await self.reload()
        finally:
            if line is not None:
                self.say(line)
            if toast is not None:
                self.notify(toast[0], title=toast[1], severity="error", timeout=8)
        return out

    # ------------------------------------------------------------- requests

    @on(SwitchActorRequested)
    def _switch_actor(self, request: SwitchActorRequested) -> None:
        if self.bound and not request.initial:
            self.say(Text(t("app.bound", self.lang, actor=self.actor_id or ""), style="yellow"))
            return
        self.switch_actor_flow(request.initial)

    @on(AcceptRequested)
    def _accept(self, request: AcceptRequested) -> None:
        if self.service is not None:
            self.accept_flow(request.check_id)

    @on(RevokeRequested)
    def _revoke(self, request: RevokeRequested) -> None:
        if self.service is not None:
            self.revoke_flow(request.check_id)

    @on(DetailRequested)
    def _detail(self, request: DetailRequested) -> None:
        from bfg_tui.screens.modals import CheckDetail

        if self.service is not None:
            self.push_screen(CheckDetail(request.check_id))

    @on(ProbeRequested)
    def _probe(self, request: ProbeRequested) -> None:
        if request.probe is None:
            self.refused(message_text(Reason.of("check.not_probe", check=request.subject), self.lang), refusal=False)
        elif self.service is not None:
            self.probe_flow(request.probe)

    @on(SaveRequested)
    def _save(self) -> None:
        self.save_flow()

    @on(FreezeRequested)
    def _freeze(self) -> None:
        self.freeze_flow()

    @on(ExportRequested)
    def _export(self, request: ExportRequested) -> None:
        self.export_flow(request.packet)

    # ------------------------------------------------------------- flows (workers: they wait for dialogs)

    @work(group="flow")
    async def switch_actor_flow(self, initial: bool = False) -> None:
        from bfg_tui.screens.modals import ActorPicker

        if self.service is None:
            return
        await self.refresh_identity()
        if self.key_actors == []:
            self.say(Text(t("app.no_keys", self.lang), style="yellow"))
            return
        chosen = await self.push_screen_wait(ActorPicker(self.actor_id, self.key_actors))
        if not chosen or chosen == self.actor_id:
            if initial and not chosen:
                self.say(Text(t("app.no_actor", self.lang), style="yellow"))
            return
        # The start-up pick is not a switch; a switch is audited, and a refused one changes nothing.
        if initial or await self.act(self.service.switch_actor(self.actor_id or "", chosen)) is not None:
            self.actor_id = chosen
        await self.refresh_identity()
        screen = self.console_screen()
        if screen is not None:  # the queue belongs to the new actor: land on it
            screen.call_after_refresh(screen.land)

    @work(group="flow")
    async def accept_flow(self, check_id: str) -> None:
        from bfg_tui.screens.modals import AcceptModal

        service = self.service
        assert service is not None
        verdict = service.can(self.actor_id, "check.accept", check_id)
        if verdict.ok:
            form: tuple[str, str] | None = await self.push_screen_wait(AcceptModal(check_id, verdict.countersign))
            if form is None:
                return
            note, value = form
            await self.act(service.accept(self.actor_id, check_id, note=note, value=value or None))
        else:
            # The service refuses (and records the refusal); the reason is shown in place.
            await self.act(service.accept(self.actor_id, check_id))

    @work(group="flow")
    async def revoke_flow(self, check_id: str) -> None:
        from bfg_tui.screens.modals import ConfirmModal

        service = self.service
        assert service is not None
        accepted = self.view is not None and check_id in self.view.state.acceptances
        if service.can(self.actor_id, "check.revoke", check_id).ok and accepted:
            title = service.catalog.checks[check_id].title.get(self.lang)
            if not await self.push_screen_wait(ConfirmModal(
                t("modal.revoke_title", self.lang, check=title),
                t("modal.confirm_revoke", self.lang, check=check_id, actor=self.actor_id),
            )):
                return
        await self.act(service.revoke(self.actor_id, check_id))

    @work(group="flow")
    async def save_flow(self) -> None:
        if self.service is None:
            return
        if await self._confirmed("scenario.save", "modal.save_title", "modal.confirm_save"):
            await self.act(self.service.save_scenario(self.actor_id))

    @work(group="flow")
    async def freeze_flow(self) -> None:
        if self.service is None:
            return
        if await self._confirmed("snapshot.freeze", "modal.freeze_title", "modal.confirm_freeze"):
            await self.act(self.service.freeze(self.actor_id))

    async def _confirmed(self, action: str, title: str, question: str) -> bool:
        """Asks to confirm what the actor may do; what they may not goes on to the service's refusal."""
        from bfg_tui.screens.modals import ConfirmModal

        assert self.service is not None
        if not self.service.can(self.actor_id, action).ok:
            return True
        answer: bool | None = await self.push_screen_wait(ConfirmModal(
            t(title, self.lang), t(question, self.lang, actor=self.actor_id)))
        return bool(answer)

    @work(group="flow")
    async def probe_flow(self, probe: str) -> None:
        from bfg_tui.screens.modals import ProbeModal

        if self.service is None:
            return
        await self.push_screen_wait(ProbeModal(probe, default_probe_target(self.view, self.db)))
        await self.reload()

    @work(group="flow")
    async def export_flow(self, packet: str | None) -> None:
        from bfg_tui.safe_write import write_file
        from bfg_tui.screens.modals import ExportChoice, ExportModal

        service = self.service
        if service is None:
            return
        if packet is None:
            screen = self.console_screen()
            packet = screen.current_packet() if screen else None
        choice: ExportChoice | None = await self.push_screen_wait(ExportModal(packet or "release"))
        if choice is None:
            return
        pid, fmt = choice.packet, choice.fmt
        write: Callable[[str], None]
        if choice.path:
            target = Path(choice.path)
            destination = f"file:{target.name}"

            def write(text: str) -> None:
                ensure_export_dir(target.parent)
                # The same rules as `export -o`; `force` only after the owner said yes.
                write_file(target, text.encode("utf-8"), force=choice.force)
        else:
            destination = "clipboard:osc52"
            write = self.copy_to_clipboard
        out = await self.act(service.export(self.actor_id, pid, fmt, destination, write=write), success=lambda _o: "")
        if out is None:
            return
        if choice.path:
            self.done(t("export.done_file", self.lang, packet=pid, fmt=fmt, path=target))
        else:
            self.done(t("export.done_clip", self.lang, packet=pid, fmt=fmt))


def default_probe_target(view: View | None, db: str | None) -> str:
    """The target the probe dialog proposes: the selected one, else a rehearsal file beside the store."""
    endpoint = view.state.connection_endpoint if view else None
    if endpoint and endpoint.startswith("sqlite:///"):
        return endpoint[len("sqlite://"):]
    if endpoint and endpoint.startswith("postgresql://") and ":***@" not in endpoint:
        return endpoint  # a redacted DSN without a password is the DSN itself
    base = Path(db or os.environ.get("BFG_TUI_DB") or ".")
    folder = base.parent if "://" not in str(base) else Path.cwd()
    return str(folder / "rehearsal-target.db")


def ensure_export_dir(folder: Path) -> None:
    """The default export folder is made (0700) on first use; any other folder must exist."""
    from bfg_tui.paths import export_dir
    from bfg_tui.store.sqlite_files import make_private_dirs

    if folder == export_dir()[0] and not folder.exists():
        make_private_dirs(folder, Msg("file.export_folder"))
