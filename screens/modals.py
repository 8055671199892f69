"""Modal screens: confirm, accept (note / value), actor picker, check detail, probe, export, help."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Log, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from bfg_tui.catalog import default_catalog
from bfg_tui.errors import BfgError
from bfg_tui.i18n import known, message_text, render, t
from bfg_tui.models import Catalog
from bfg_tui.paths import default_export_path
from bfg_tui.sanitise import NO_CONTROL, visible, visible_lines

from .base import Localized, bind, safe, tcss

R = TypeVar("R")


class BfgModal(Localized, ModalScreen[R]):
    DEFAULT_CSS = tcss("modals.tcss")

    help_key = "help.modal"
    BINDINGS = [bind("escape", "cancel", "modal.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(BfgModal[bool]):
    """A yes/no question for a signing or destructive action."""

    BINDINGS = [
        bind("enter,y", "confirm", "modal.confirm"),
        bind("escape,n", "cancel", "modal.cancel"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.question)
            yield Static(f"{self.tr('modal.yes')}   {self.tr('modal.no')}", classes="hint")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class AcceptModal(BfgModal[tuple[str, str]]):
    """Asks for the note and, for a valued check, the chosen value; then asks to confirm."""

    BINDINGS = [
        bind("escape", "cancel", "modal.cancel"),
        bind("enter,y", "confirm", "modal.confirm", show=False),
    ]

    def __init__(self, check_id: str, countersign: bool) -> None:
        super().__init__()
        self.check_id = check_id
        self.countersign = countersign
        self.result: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        view = self.bfg.view
        assert view is not None
        check = view.catalog.checks[self.check_id]
        with Vertical(classes="dialog"):
            yield Label(self.tr("modal.accept_title", check=check.title.get(self.bfg.lang)), classes="dialog-title")
            yield Static(f"{check.id} · {check.detail.get(self.bfg.lang)}")
            if self.countersign:
                yield Static(self.tr("modal.countersign", actor=self.bfg.actor_id, owner=check.owner), classes="warn")
            with Vertical(id="form"):
                if check.value is not None:
                    yield Label(self.tr("modal.value", label=check.value.label.get(self.bfg.lang),
                                        example=check.value.example))
                    acc = view.state.acceptances.get(check.id)
                    yield Input(value=visible(acc.value or "") if acc else "", placeholder=check.value.example,
                                id="value", restrict=NO_CONTROL)
                yield Label(self.tr("modal.note"))
                yield Input(id="note", restrict=NO_CONTROL)  # a pasted escape sequence is refused as typed
            yield Static(id="question", classes="warn")
            yield Static(f"{self.tr('modal.yes')}   {self.tr('modal.no')}", classes="hint")
            yield Static(id="problem", classes="warn")

    def on_mount(self) -> None:
        first = self.query("#value") or self.query("#note")
        first.first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values = self.query("#value")
        value = values.first(Input).value.strip() if values else ""
        if values and not value:
            self.query_one("#problem", Static).update(self.tr("modal.value_missing"))
            values.first().focus()
            return
        if event.input.id == "value":
            self.query_one("#note", Input).focus()
            return
        # Second step: confirm, in the same window.
        self.result = (self.query_one("#note", Input).value.strip(), value)
        self.query_one("#form").display = False
        self.query_one("#problem", Static).update("")
        self.query_one("#question", Static).update(Text(
            self.tr("modal.confirm_accept", check=self.check_id, actor=self.bfg.actor_id)
            + (f"\n{self.tr('detail.value')}: {visible(value)}" if value else "")))
        self.set_focus(None)

    def action_confirm(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)


class ActorList(OptionList):
    BINDINGS = [
        bind("j", "cursor_down", "list.down", show=False),
        bind("k", "cursor_up", "list.up", show=False),
    ]


class ActorPicker(BfgModal[str]):
    """Who is acting: one of the catalog actors (in a signed store, only those whose keys are here)."""

    def __init__(self, current: str | None, allowed: list[str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.allowed = allowed

    def actors(self) -> list[Any]:
        view = self.bfg.view
        actors = list(view.catalog.actors) if view else []
        return actors if self.allowed is None else [a for a in actors if a.id in self.allowed]

    def compose(self) -> ComposeResult:
        view = self.bfg.view
        assert view is not None
        lang = self.bfg.lang
        # One actor per line at 80×24: name, role and id in columns, never wrapped.
        name_w = max(len(a.name) for a in view.catalog.actors) + 2
        role_w = max(len(view.catalog.roles[a.role].label.get(lang)) for a in view.catalog.actors) + 2
        options = [
            Option(Text(f"{a.name:<{name_w}}{view.catalog.roles[a.role].label.get(lang):<{role_w}}{a.id}",
                        no_wrap=True, overflow="ellipsis"), id=a.id)
            for a in self.actors()
        ]
        with Vertical(classes="dialog"):
            yield Label(self.tr("picker.title"), classes="dialog-title")
            yield Static(self.tr("picker.hint"), classes="hint")
            yield ActorList(*options, id="actors")

    def on_mount(self) -> None:
        actors = self.query_one(ActorList)
        ids = [a.id for a in self.actors()]
        if self.current in ids:
            actors.highlighted = ids.index(self.current)
        actors.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class CheckDetail(BfgModal[None]):
    """Owner, kind, state, staleness, reason, history, evidence and transcript of one check."""

    BINDINGS = [bind("escape,enter", "cancel", "modal.close")]

    def __init__(self, check_id: str) -> None:
        super().__init__()
        self.check_id = check_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.tr("detail.title", check=self.check_id), classes="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(self._facts(), id="facts")
                yield Static(self.tr("detail.tree"), classes="section")
                yield Static(self._tree(), id="tree")
                yield Static(self.tr("detail.history"), classes="section")
                yield Static("…", id="history")
                yield Static(id="evidence")

    def _tree(self) -> Text:
        """The dependency tree, each node with its state (ok / --) and figure; why where it is not passing."""
        from bfg_tui.figures import tree

        view = self.bfg.view
        assert view is not None
        lang = self.bfg.lang
        text = Text()
        for node in tree(view.catalog, view.state, view.ev, self.check_id, lang):
            if node.depth == 0:
                continue
            text.append("  " * (node.depth - 1))
            text.append("ok " if node.ready else "-- ", style="bold green" if node.ready else "red")
            text.append(node.title)
            if node.value:
                text.append(f"  {node.value}", style="bold")
            if node.why:
                text.append(f"  — {node.why}", style="dim")
            if node.repeated:
                text.append("  " + self.tr("fig.above"), style="dim")
            text.append("\n")
        return text if text.plain else Text(self.tr("detail.tree_none"), style="dim")

    def _facts(self) -> RichTable:
        view = self.bfg.view
        assert view is not None
        lang = self.bfg.lang
        check = view.catalog.checks[self.check_id]
        status = view.ev.checks[self.check_id]
        table = RichTable.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        yes, no = self.tr("detail.yes"), self.tr("detail.no")
        owner = "—"
        if check.owner:
            actor = view.catalog.actor(check.owner)
            owner = f"{actor.name} ({check.owner} · {view.catalog.roles[actor.role].label.get(lang)})" if actor else check.owner
        state = self.tr("state.ready" if status.ready else "state.blocked")
        table.add_row(self.tr("col.check"), check.title.get(lang))
        table.add_row("", check.detail.get(lang))
        table.add_row(self.tr("detail.kind"), self.tr(f"kind.{check.kind}"))
        table.add_row(self.tr("detail.group"), view.catalog.groups[check.group].title.get(lang))
        table.add_row(self.tr("detail.owner"), owner)
        table.add_row(self.tr("detail.state"), Text(state, style="bold green" if status.ready else "bold red"))
        table.add_row(self.tr("detail.stale"), Text(yes, style="bold yellow") if status.stale else no)
        from bfg_tui.figures import value, why

        figure = value(view.catalog, view.state, view.ev, self.check_id, lang)
        if figure:
            table.add_row(self.tr("col.value"), Text(visible(figure)))
        table.add_row(self.tr("detail.reason"), Text(visible(why(view.catalog, view.state, view.ev, self.check_id, lang)
                                                             or render(status.reason, lang))))
        table.add_row(self.tr("detail.binds"), yes if check.binds_snapshot else no)
        if check.passes_when:
            table.add_row(self.tr("detail.passes_when"), check.passes_when)
        acc = view.state.acceptances.get(self.check_id)
        if acc is not None:
            # Stored text as Text (never markup), every control character made visible.
            if acc.value:
                table.add_row(self.tr("detail.value"), Text(visible(acc.value)))
            if acc.note:
                table.add_row(self.tr("detail.note"), Text(visible_lines(acc.note)))
        return table

    def on_mount(self) -> None:
        self.load_history()

    @work(exclusive=True, group="detail")
    async def load_history(self) -> None:
        service, view = self.bfg.service, self.bfg.view
        if service is None or view is None:
            return
        events = await service.check_history(self.check_id, 20)
        if events:
            lines = Text()
            for e in events:  # one line per event: a stored newline must not forge one
                extra = visible(str(e.data.get("value") or e.data.get("note") or e.data.get("reason") or ""))
                lines.append(f"#{e.seq} {visible(str(e.at))} {visible(str(e.actor)):<22} {visible(str(e.kind))}",
                             style="bold" if e.kind == "check.accept" else "")
                lines.append(f"  {extra}\n" if extra else "\n")
            self.query_one("#history", Static).update(safe(lines))
        else:
            self.query_one("#history", Static).update(self.tr("detail.history_none"))
        result = view.state.probes.get(self.check_id)
        if result is not None:
            run = await service.probe_run(result.run_id)
            body = Text(self.tr("detail.evidence", run=visible(result.run_id), endpoint=visible(result.endpoint)) + "\n",
                        style="bold")
            body.append(visible(result.detail) + "\n")
            if run is not None:
                body.append(self.tr("detail.transcript") + "\n", style="bold")
                body.append("\n".join(visible(line) for line in run.transcript))
            self.query_one("#evidence", Static).update(body)


class ProbeModal(BfgModal[bool]):
    """Asks for the target, runs the probe in a worker, streams the transcript; c cancels."""

    BINDINGS = [
        bind("escape", "cancel", "modal.close"),
        bind("c", "stop", "probe.cancel"),
    ]

    def __init__(self, probe: str, default_target: str) -> None:
        super().__init__()
        self.probe = probe
        self.default_target = default_target
        self.worker: Worker[None] | None = None
        self.lines = 0
        self.outcome: str | None = None  # passed | failed | refused | cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.tr("probe.title", probe=self.probe.replace("_", "-")), classes="dialog-title")
            yield Label(self.tr("probe.target"))
            yield Input(value=visible(self.default_target), id="target", restrict=NO_CONTROL)
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static(id="status")
            yield Log(id="transcript", max_lines=2000)

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @on(Input.Submitted, "#target")
    def _start(self, event: Input.Submitted) -> None:
        if self.running:
            return
        if self.outcome is not None:
            self.dismiss(self.outcome == "passed")
            return
        target = event.value.strip()
        if not target:
            return
        new_target = False
        if self.probe == "connection":
            selected = self._other_selected(target)
            if selected and getattr(self, "asked", None) != target:
                # Another target holds passing evidence: ask first; enter again confirms.
                self.asked = target
                self.query_one("#status", Static).update(
                    Text(self.tr("probe.ask_new_target", target=visible(target), selected=visible(selected)),
                         style="bold yellow"))
                return
            new_target = bool(selected)
        event.input.disabled = True
        self.query_one(Log).focus()
        self.query_one("#status", Static).update(Text(self.tr("probe.running", target=visible(target))))
        self.worker = self.run_probe(target, new_target)

    def _other_selected(self, target: str) -> str | None:
        """The selected target, when probing `target` would need --new-target (else None)."""
        from bfg_tui.probes.runner import new_target_reason
        from bfg_tui.targets import redact_endpoint

        view = self.bfg.view
        try:
            endpoint = redact_endpoint(target)
        except ValueError:
            return None  # the service refuses a bad target with its reason
        if view is None or new_target_reason(view.state, endpoint) is None:
            return None
        return view.state.connection_endpoint

    def _line(self, line: str) -> None:
        self.lines += 1
        self.query_one(Log).write_line(visible(line))
        self.query_one("#progress", ProgressBar).tooltip = self.tr("probe.lines", n=self.lines)

    @work(exclusive=True, group="probe")
    async def run_probe(self, target: str, new_target: bool = False) -> None:
        from bfg_tui.errors import BfgError, Refused

        app = self.bfg
        assert app.service is not None
        try:
            run = await app.service.probe(app.actor_id, self.probe, target, log=self._line, new_target=new_target)
        except Refused as exc:
            reason = message_text(exc.reason, app.lang, exc.code, exc.params)
            self._finish("refused", self.tr("probe.refused", reason=reason))
            app.refused(reason)
            return
        except BfgError as exc:
            reason = message_text(exc.reason, app.lang)
            self._finish("refused", self.tr("probe.refused", reason=reason))
            app.refused(reason, refusal=False)
            return
        if run.passed:
            self._finish("passed", self.tr("probe.passed", n=len(run.steps)))
            app.done(self.tr("probe.passed", n=len(run.steps)))
        else:
            failed = next(s for s in run.steps if not s.passed)
            self._finish("failed", self.tr("probe.failed", check=failed.check_id, detail=failed.detail))
            app.refused(self.tr("probe.failed", check=failed.check_id, detail=failed.detail), refusal=False)

    def _finish(self, outcome: str, message: str) -> None:
        self.outcome = outcome
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=1, progress=1)
        style = "bold green" if outcome == "passed" else "bold red"
        self.query_one("#status", Static).update(Text(visible(message), style=style))
        target = self.query_one("#target", Input)
        target.disabled = False
        target.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.worker and event.state == WorkerState.CANCELLED:
            self._finish("cancelled", self.tr("probe.cancelled"))
            self.bfg.say(Text(self.tr("probe.cancelled"), style="yellow"))

    def action_stop(self) -> None:
        if self.running and self.worker is not None:
            self.worker.cancel()

    def action_cancel(self) -> None:
        if self.running:
            self.action_stop()
            return
        self.dismiss(self.outcome == "passed")


class ExportChoice(NamedTuple):
    packet: str
    fmt: str
    path: str  # "" = the clipboard
    force: bool  # the owner agreed to replace the file there


def packet_keys(catalog: Catalog) -> dict[str, str]:
    """Each packet's key in the dialog, in the catalog's order (the catalog declares both)."""
    return {p.id: p.key for p in catalog.packets}


# One key per packet and per format, shown in the dialog; none collides with the dialog's own keys.
PACKET_KEYS: dict[str, str] = packet_keys(default_catalog())
FORMAT_KEYS: dict[str, str] = {"text": "t", "json": "j", "md": "m"}


class ExportModal(BfgModal[ExportChoice]):
    """Packet and format by key, a file (in the export folder) or the clipboard (OSC 52).

    It shows what will be written where before writing, refuses what `bfg_tui.safe_write`
    refuses (a symlink, device, directory...) with the reason, and asks before replacing a file.
    """

    AUTO_FOCUS = ""  # nothing focused: keys choose; `e` (or tab) edits the path
    BINDINGS = [
        bind("escape", "cancel", "modal.cancel"),
        bind("enter", "submit", "export.submit"),
        bind("e", "edit_path", "export.edit_path"),
        bind("f", "dest('file')", "export.to_file", show=False),
        bind("y", "dest('clipboard')", "export.to_clipboard", show=False),
        *(bind(key, f"packet('{pid}')", f"export.packet.{pid}", show=False) for pid, key in PACKET_KEYS.items()),
        *(bind(key, f"format('{fmt}')", f"export.format.{fmt}", show=False) for fmt, key in FORMAT_KEYS.items()),
    ]

    def __init__(self, packet: str) -> None:
        super().__init__()
        self.packet = packet if packet in PACKET_KEYS else "release"
        self.fmt = "text"
        self.dest = "file"
        self.auto_path = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="export"):
            yield Label(self.tr("export.title"), classes="dialog-title")
            yield Static(id="packets")
            yield Static(id="formats")
            yield Static(id="folder", classes="hint")
            yield Input(id="path", restrict=NO_CONTROL)  # a pasted escape sequence is refused as typed
            yield Static(id="plan")
            yield Static(id="problem", classes="warn")
            yield Static(self.tr("export.keys"), classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.auto_path = str(default_export_path(self.packet, self.fmt))
        self.query_one("#path", Input).value = self.auto_path
        self._paint()

    # ---- keys

    def action_packet(self, packet: str) -> None:
        self.packet = packet
        self._follow_defaults()

    def action_format(self, fmt: str) -> None:
        self.fmt = fmt
        self._follow_defaults()

    def action_dest(self, dest: str) -> None:
        self.dest = dest
        self.query_one("#path", Input).disabled = dest != "file"
        self._paint()

    def action_edit_path(self) -> None:
        if self.dest == "file":
            self.query_one("#path", Input).focus()

    def action_cancel(self) -> None:
        path = self.query_one("#path", Input)
        if path.has_focus:  # leave the path field first: the keys choose again
            self.set_focus(None)
            return
        self.dismiss(None)

    def _follow_defaults(self) -> None:
        """A path the owner has not typed follows the packet and format."""
        path = self.query_one("#path", Input)
        if path.value == self.auto_path:
            self.auto_path = str(default_export_path(self.packet, self.fmt))
            path.value = self.auto_path
        self._paint()

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._paint()

    # ---- what is shown

    def _paint(self) -> None:
        from bfg_tui.packets import PACKETS
        from bfg_tui.paths import export_dir

        grid = RichTable.grid(padding=(0, 2))
        for _ in range(3):
            grid.add_column()
        cells = []
        for pid, key in PACKET_KEYS.items():
            chosen = pid == self.packet
            cells.append(Text.assemble(("▶ " if chosen else "  "), (f"[{key}] ", "bold"),
                                       (pid.replace("_", "-"), "bold reverse" if chosen else "")))
        for row in range(0, len(cells), 3):
            grid.add_row(*cells[row:row + 3])
        schema = Text(f"{self.tr('export.packet')}: {self.packet.replace('_', '-')} · {PACKETS[self.packet]}",
                      style="bold")
        self.put("#packets", Group(schema, grid))
        line = Text(f"{self.tr('export.format')}: ")
        for fmt, key in FORMAT_KEYS.items():
            line.append(f"[{key}] ", style="bold")
            line.append(fmt, style="bold reverse" if fmt == self.fmt else "")
            line.append("   ")
        line.append(f"\n{self.tr('export.dest')}: ")
        for dest, key, label in (("file", "f", self.tr("export.file")), ("clipboard", "y", self.tr("export.clipboard"))):
            line.append(f"[{key}] ", style="bold")
            line.append(label, style="bold reverse" if dest == self.dest else "")
            line.append("  ")
        self.put("#formats", line)
        folder, source = export_dir()
        self.put("#folder", self.tr("export.folder", folder=folder, source=source))
        self.put("#plan", self._plan())
        self.put("#problem", "")

    def _plan(self) -> Text:
        from bfg_tui.safe_write import inspect

        name = self.packet.replace("_", "-")
        if self.dest == "clipboard":
            return Text(self.tr("export.plan_clip", packet=name, fmt=self.fmt), style="bold")
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            return Text(self.tr("export.no_path"), style="yellow")
        target = Path(raw).expanduser()
        plan = Text(self.tr("export.plan_file", packet=name, fmt=self.fmt, path=target), style="bold")
        try:
            if inspect(target) is not None:
                plan.append("\n" + self.tr("export.plan_replace"), style="yellow")
        except BfgError as exc:
            plan.append("\n" + message_text(exc.reason, self.bfg.lang), style="bold red")
        return plan

    # ---- export

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        from bfg_tui.safe_write import check_target

        if self.dest == "clipboard":
            self.dismiss(ExportChoice(self.packet, self.fmt, "", False))
            return
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            self.put("#problem", self.tr("export.no_path"))
            return
        target = Path(raw).expanduser()
        try:
            existing = check_target(target, force=True)  # the same rules as `export -o`
        except BfgError as exc:
            self.put("#problem", Text("✗ " + message_text(exc.reason, self.bfg.lang), style="bold red"))
            return
        if existing is None:
            self.dismiss(ExportChoice(self.packet, self.fmt, str(target), False))
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self.dismiss(ExportChoice(self.packet, self.fmt, str(target), True))
            else:
                self.put("#problem", self.tr("export.kept", path=target))

        self.app.push_screen(ConfirmModal(self.tr("export.replace_title"),
                                          self.tr("export.confirm_replace", path=target, packet=self.packet.replace("_", "-"),
                                                  fmt=self.fmt)), answered)


class RowDetail(BfgModal[None]):
    """One row of a read-only table in full (its cells are cut to fit the table), and more where a screen adds it."""

    BINDINGS = [bind("escape,enter", "cancel", "modal.close")]

    def __init__(self, key: str, pairs: Sequence[tuple[str, object]], body: Any = None) -> None:
        super().__init__()
        self.key = key
        self.pairs = pairs
        self.body = body

    def compose(self) -> ComposeResult:
        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, cell in self.pairs:
            shown = cell.plain if isinstance(cell, Text) else str(cell)
            grid.add_row(label, Text(visible(shown), style=cell.style if isinstance(cell, Text) else ""))
        with Vertical(classes="dialog wide"):
            yield Label(visible(self.key), classes="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(grid)
                if self.body is not None:
                    yield Static(self.body)


class HelpScreen(BfgModal[None]):
    """Help for the focused part, and the keys in force."""

    BINDINGS = [bind("escape,enter,f1,question_mark", "cancel", "modal.close")]

    def __init__(self, key: str, bindings: Sequence[tuple[str, str, str, bool]]) -> None:
        super().__init__()
        self.key = key
        self.bindings = bindings

    @classmethod
    def for_focus(cls, app: App[Any]) -> HelpScreen:
        """Help for the focused widget, or the nearest part around it that has its own."""
        key = "help.app"
        node: Any = app.focused
        while node is not None:
            if getattr(node, "help_key", None):
                key = node.help_key
                break
            node = node.parent
        return cls(key, keys_in_force(app))

    def key_table(self) -> RichTable:
        """The keys in force, a dimmed key's row dim, as the key bar draws it."""
        keys = RichTable(show_header=True, box=None, padding=(0, 2))
        keys.add_column(self.tr("help.keys"), style="bold")
        keys.add_column("")
        keys.add_column("id", style="dim")
        seen: set[tuple[str, str]] = set()
        for key, description, binding_id, lit in self.bindings:
            if (description, binding_id) in seen or not description:
                continue
            seen.add((description, binding_id))
            keys.add_row(key, description, binding_id, style=None if lit else "dim")
        return keys

    def compose(self) -> ComposeResult:
        from bfg_tui.keymap import keymap_path

        notes = [Text("\n" + self.tr("help.keymap", path=keymap_path()), style="dim")]
        if not all(lit for *_row, lit in self.bindings):
            notes.insert(0, Text("\n" + self.tr("help.dimmed"), style="dim"))
        part = self.key.removeprefix("help.")
        with Vertical(classes="dialog wide"):
            yield Label(self.tr("help.title", part=part), classes="dialog-title")
            with VerticalScroll():
                yield Static(Group(Text(self.tr(self.key) + "\n"), self.key_table(), *notes))


def pretty_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# Textual's own bindings, by action: their words are ours to translate.
_OWN_ACTIONS: dict[str, str] = {
    "app.focus_next": "focus.next", "app.focus_previous": "focus.previous",
    "app.command_palette": "palette", "help_quit": "",
}


def keys_in_force(app: App[Any]) -> list[tuple[str, str, str, bool]]:
    """Every key in force on the app's screen, one row per binding (its keys together: "down, j"),
    and whether it is lit (False: dimmed, as in the key bar)."""
    lang = getattr(app, "lang", "en")
    rows: dict[str, tuple[list[str], str, str, bool]] = {}
    for key, active in app.screen.active_bindings.items():
        binding = active.binding
        # Ours have ids; of Textual's, only those named here (not its scroll-left/right twins).
        ident = binding.id or _OWN_ACTIONS.get(binding.action, "")
        if not ident:
            continue
        display = binding.key_display or app.get_key_display(binding)
        if ident not in rows:
            described = f"bind.{ident}"
            description = t(described, lang) if known(described) else (binding.description or ident)
            rows[ident] = ([], description, binding.id or "", active.enabled)
        if display not in rows[ident][0] and key not in rows[ident][0]:
            rows[ident][0].append(display)
    return [(", ".join(keys), description, bid, lit) for keys, description, bid, lit in rows.values()]
