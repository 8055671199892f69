"""5 · Cutover console: seven tabs, each with its checks, its packet and its decision."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.lazy import Lazy
from textual.widgets import Static, TabbedContent, TabPane, Tabs

from bfg_tui.catalog import default_catalog
from bfg_tui.models import Catalog
from bfg_tui.sanitise import visible, visible_lines

from .base import ConsoleScreen, Localized, ServiceKeys, View, bind, tcss
from .messages import ProbeRequested
from .widgets import CheckTable, decision_text, mark


class Tab(NamedTuple):
    id: str
    group: str
    packet: str
    decision: str | None = None
    probe: str | None = None


def tabs(catalog: Catalog) -> tuple[Tab, ...]:
    """One tab per gate whose group has a packet, in gate order, with the group's decision
    and the probe that produces its checks (if any)."""
    out = []
    for gate in catalog.gates:
        packet = catalog.packet_for(gate.group)
        if packet is None:
            continue
        decision = next((d.id for d in catalog.decisions.values() if d.gate == gate.group), None)
        probe = next((catalog.checks[c].probe for c in catalog.groups[gate.group].checks
                      if catalog.checks[c].kind == "probe"), None)
        out.append(Tab(gate.id, gate.group, packet.id, decision, probe))
    return tuple(out)


TABS = tabs(default_catalog())


class GatePane(Localized, VerticalScroll):
    """One tab: intro, gate figure and decision, checks, extras, packet preview."""

    help_key = "help.cutover"

    def __init__(self, tab: Tab) -> None:
        super().__init__(id=f"pane-{tab.id}")
        self.tab = tab
        self.dirty = True
        self._run_id: str | None = None
        self._packet_text = ""

    def compose(self) -> ComposeResult:
        yield Static(self.tr(f"cut.{self.tab.id}_intro"), classes="hint")
        yield Static(classes="gate-line")
        yield CheckTable(group=self.tab.group, id=f"checks-{self.tab.id}")
        if self.tab.id == "data_cutover":
            yield Static(classes="batches")
        if self.tab.probe:
            yield Static(self.tr("cut.targets"), classes="section")
            yield Static(self.tr("cut.targets_none"), classes="targets")
            yield Static(self.tr("cut.transcript"), classes="section")
            yield Static(self.tr("cut.transcript_none"), classes="transcript")
        yield Static(classes="section packet-title")
        yield Static(classes="packet")

    def on_mount(self) -> None:
        # Only the visible tab paints now; the others when first shown (TabActivated).
        screen = self.screen
        active = screen.query_one(TabbedContent).active if isinstance(screen, CutoverScreen) else self.tab.id
        if self.bfg.view is not None and active == self.tab.id:
            self.show(self.bfg.view)

    def show(self, view: View) -> None:
        from bfg_tui.packets import PACKETS

        lang = self.bfg.lang
        cat, ev, state = view.catalog, view.ev, view.state
        line = Text()
        line.append(self.tr("cut.gate", title=cat.groups[self.tab.group].title.get(lang), count=ev.count(self.tab.group)),
                    style="bold")
        if self.tab.decision:
            line.append("   " + self.tr("cut.decision", decision=""))
            line.append_text(decision_text(ev.decisions[self.tab.decision]))
        self.put(".gate-line", line)
        self.query_one(CheckTable).show(view)
        if self.tab.id == "data_cutover":
            counts = state.scenario.kind_counts
            text = Text(self.tr("cut.batches", count=ev.count("batch_groups")) + "\n", style="bold")
            for b in cat.batches:
                rows = sum(counts.get(k, 0) for k in b.kinds)
                text.append_text(mark(ev.ready(f"batch:{b.id}"), False, lang))
                text.append(" " + self.tr("cut.batch_rows", title=b.title.get(lang), rows=rows) + "\n")
            self.put(".batches", text)
        if self.tab.probe:
            first = cat.groups[self.tab.group].checks[0]
            result = state.probes.get(first)
            run_id = result.run_id if result else None
            if run_id != self._run_id:
                self._run_id = run_id
                if run_id:
                    self.load_transcript(run_id)
            if getattr(self, "_targets_for", None) != (state.audit_count, state.connection_endpoint):
                self._targets_for = (state.audit_count, state.connection_endpoint)
                self.load_targets(state.connection_endpoint)
        self.put(".packet-title", self.tr("cut.packet", schema=PACKETS[self.tab.packet]))
        service = self.bfg.service
        # The packet as the service renders it (shown once the service is open).
        packet_text = service.packet_preview(self.tab.packet, state, ev).rstrip("\n") if service else ""
        if packet_text != self._packet_text:
            self._packet_text = packet_text
            body = self.query_one(".packet", Static)
            if self.tab.packet == "runbook":
                # Highlighted once into Text: re-rendering a Syntax on every frame is slow.
                body.update(Syntax("", "sql", theme="ansi_dark", background_color="default").highlight(
                    visible_lines(packet_text)))
            else:
                body.update(Text(visible_lines(packet_text)))
        self.dirty = False

    @work(exclusive=True, group="targets")
    async def load_targets(self, selected: str | None) -> None:
        """Each target's latest evidence: its latest connection and dry-run runs, the selected one marked."""
        service = self.bfg.service
        if service is None:
            return
        runs = await service.latest_probe_runs(200)
        latest: dict[str, dict[str, tuple[bool, str]]] = {}
        for _run_id, probe, endpoint, passed, finished in runs:  # newest first
            latest.setdefault(endpoint, {}).setdefault(probe, (passed, finished))
        if not latest:
            return
        text = Text()
        for endpoint, probes in latest.items():
            chosen = endpoint == selected
            text.append(("▶ " if chosen else "  ") + visible(endpoint), style="bold" if chosen else "")
            if chosen:
                text.append("  " + self.tr("cut.target_selected"), style="bold cyan")
            for probe in ("connection", "dry_run"):
                if probe in probes:
                    passed, finished = probes[probe]
                    word = self.tr("cut.run_passed" if passed else "cut.run_failed")
                    text.append(f"  · {probe.replace('_', '-')} {word} {visible(str(finished))}",
                                style="green" if passed else "red")
            text.append("\n")
        self.put(".targets", text)

    @work(exclusive=True, group="transcript")
    async def load_transcript(self, run_id: str) -> None:
        service = self.bfg.service
        if service is None:
            return
        run = await service.probe_run(run_id)
        if run is not None:
            text = Text(f"{visible(run.run_id)} · {visible(run.endpoint)} · {visible(run.finished_at)}\n", style="bold")
            text.append("\n".join(visible(line) for line in run.transcript))
            self.put(".transcript", text)


class CutoverScreen(ServiceKeys, ConsoleScreen):
    DEFAULT_CSS = tcss("cutover.tcss")

    mode = "cutover"
    help_key = "help.cutover"

    BINDINGS = [
        bind("s", "app.save_scenario", "scenario.save"),
        bind("f", "app.freeze", "snapshot.freeze"),
        bind("x", "app.export", "packet.export"),
        bind("p", "probe", "check.probe"),
        bind("right_square_bracket", "tab(1)", "tab.next"),
        bind("left_square_bracket", "tab(-1)", "tab.prev"),
    ]
    SERVICE_ACTIONS: ClassVar[dict[str, str]] = {"probe": "probe.run"}

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for i, tab in enumerate(TABS):
                with TabPane(self.tr(f"cut.{tab.id}"), id=tab.id):
                    yield GatePane(tab) if i == 0 else Lazy(GatePane(tab))

    @property
    def active_tab(self) -> Tab:
        active = self.query_one(TabbedContent).active
        return next((t for t in TABS if t.id == active), TABS[0])

    def current_packet(self) -> str | None:
        return self.active_tab.packet

    def show(self, view: View) -> None:
        active = self.active_tab.id
        for pane in self.query(GatePane):
            if pane.tab.id == active:
                pane.show(view)
            else:
                pane.dirty = True

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane_id = event.pane.id
        pane = self.query(f"#pane-{pane_id}")
        if pane:
            gate = pane.first(GatePane)
            if gate.dirty and self.bfg.view is not None:
                gate.show(self.bfg.view)
        if not isinstance(self.focused, Tabs):
            self._focus_pane(pane_id)

    def _focus_pane(self, pane_id: str | None, tries: int = 10) -> None:
        """Land on the tab's checks, so a / enter / j / k act at once (a Lazy pane mounts a frame later)."""
        tables = self.query(f"#checks-{pane_id}")
        if tables:
            tables.first(CheckTable).focus(scroll_visible=False)
        elif pane_id is not None and tries:
            self.call_after_refresh(self._focus_pane, pane_id, tries - 1)

    def _auto_focus(self) -> None:
        self._focus_pane(self.query_one(TabbedContent).active)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [t.id for t in TABS]
        tabs.active = ids[(ids.index(tabs.active) + step) % len(ids)]
        self._focus_pane(tabs.active)

    def action_probe(self) -> None:
        tab = self.active_tab
        self.post_message(ProbeRequested(tab.probe, tab.id))
