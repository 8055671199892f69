"""1 · Readiness copilot: gates, recommended action, blockers, go/no-go, provider, infra, wiring."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .base import ConsoleScreen, View, bind

# Where blockers are listed from: the gates in pipeline order, then the owner groups.
OWNER_GROUPS = ("transition", "provider_selection", "infrastructure", "wiring")


class HomeScreen(ConsoleScreen):
    mode = "home"
    help_key = "help.home"
    packet = "infrastructure"

    BINDINGS = [
        bind("s", "app.save_scenario", "scenario.save"),
        bind("f", "app.freeze", "snapshot.freeze"),
        bind("x", "app.export", "packet.export"),
    ]

    def compose_body(self) -> ComposeResult:
        from .widgets import CheckTable, Table  # with the data: the first frame (home, loading) needs neither

        with VerticalScroll(id="body"):
            yield Static(id="summary")
            yield Static(id="gonogo", classes="panel")
            yield Static(id="recommended", classes="panel")
            yield Static(self.tr("home.gates"), classes="section")
            yield Table([("gate", "col.gate"), ("count", "col.count"), ("state", "col.state")], id="gates",
                        help_key="help.home")
            yield Static(self.tr("home.blockers"), classes="section")
            yield Static(id="blockers-none")
            yield CheckTable(id="blockers")
            yield Static(self.tr("home.provider_selection"), classes="section")
            yield Static(id="ps-hint", classes="hint")
            yield CheckTable(group="provider_selection", id="provider-selection")
            yield Static(self.tr("home.infrastructure"), classes="section")
            yield Static(id="infra-hint", classes="hint")
            yield CheckTable(group="infrastructure", id="infrastructure")
            yield Static(self.tr("home.wiring"), classes="section")
            yield Static(id="wiring-hint", classes="hint")
            yield CheckTable(group="wiring", id="wiring")
            yield Static(id="wiring-decision")
            yield Static(self.tr("home.proof"), classes="section")
            yield Static(f"{self.tr('home.proof_intro')}\n{self.tr('home.proof_steps')}", classes="hint")

    def show(self, view: View) -> None:
        from .widgets import CheckTable, Table, decision_text, mark

        lang = self.bfg.lang
        cat, state, ev = view.catalog, view.state, view.ev
        target = state.target_adapter or "—"
        summary = Text()
        summary.append(self.tr("home.heading") + "  ", style="bold")
        summary.append(self.tr("home.gates_ready", count=ev.count("gates"), target=target))
        summary.append("\n")
        if state.snapshot is not None:
            summary.append(self.tr("home.snapshot", rows=state.snapshot.rows, checksum=state.snapshot.checksum))
        else:
            summary.append(self.tr("home.snapshot_none"), style="dim")
        if ev.stale:
            summary.append("\n" + self.tr("home.stale", checks=", ".join(ev.stale)), style="bold yellow")
        self.put("#summary", summary)

        go = cat.go_no_go
        decision = ev.decisions[go.id]
        panel = Text()
        panel.append(self.tr("home.go_no_go") + "  ", style="bold")
        panel.append_text(decision_text(decision))
        panel.append("\n" + self.tr("home.go_ready" if decision == go.ready else "home.go_blocked"))
        panel.append("\n" + self.tr("home.why", order=", ".join(go.first_blocked_of)) + ": ", style="dim")
        panel.append("  ".join(f"{d}={ev.decisions[d]}" for d in go.first_blocked_of), style="dim")
        self.put("#gonogo", panel)

        rec = ev.recommended
        text = Text()
        text.append(self.tr("home.recommended") + "\n", style="bold")
        text.append(rec.title + "\n", style="bold cyan")
        text.append(rec.detail)
        self.put("#recommended", text)

        self.query_one("#gates", Table).upsert([
            (g.id, (cat.groups[g.group].title.get(lang), ev.count(g.group), mark(ev.ready(f"group:{g.group}"), False, lang)))
            for g in cat.gates
        ])

        order = [g.group for g in cat.gates] + list(OWNER_GROUPS)
        blockers: list[str] = []
        for group in order:
            blockers += [c for c in cat.groups[group].checks if not ev.checks[c].ready and c not in blockers]
        table = self.query_one("#blockers", CheckTable)
        table.set_ids(blockers)
        table.show(view)
        table.display = bool(blockers)
        self.put("#blockers-none", self.tr("home.blockers_none"))
        self.query_one("#blockers-none").display = not blockers

        owner = cat.checks["provider.live_db_auth_provider"].owner or ""
        actor = cat.actor(owner)
        name = actor.name if actor else owner
        wiring = ev.decisions["wiring"]
        self.put("#ps-hint", f"{ev.count('provider_selection')} · "
                 + self.tr("home.provider_selection_hint", owner=name, target=target, decision=decision))
        self.put("#infra-hint", f"{ev.count('infrastructure')} · "
                 + self.tr("home.infrastructure_hint", owner=name, target=target, decision=decision))
        self.put("#wiring-hint", f"{ev.count('wiring')} · "
                 + self.tr("home.wiring_hint", target=target, infra=ev.count("infrastructure")))
        from bfg_tui.models import DECISION_READY
        from bfg_tui.packets import TRAFFIC

        line = Text(self.tr("home.wiring_decision", decision=wiring, traffic=TRAFFIC),
                    style="bold green" if wiring == DECISION_READY else "bold red")
        self.put("#wiring-decision", line)
        for table_id in ("#provider-selection", "#infrastructure", "#wiring"):
            self.query_one(table_id, CheckTable).show(view)
