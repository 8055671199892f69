"""1 · Readiness copilot: gates, recommended action, blockers, go/no-go, provider, infra, wiring."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from bfg_tui.i18n import render

from .base import ConsoleScreen, View, bind

# Where blockers are listed from: the gates in pipeline order, then the owner groups.
OWNER_GROUPS = ("transition", "provider_selection", "infrastructure", "wiring")


class HomeScreen(ConsoleScreen):
    mode = "home"
    help_key = "help.home"
    packet = "release"  # the packet the copilot's path to GO ends with

    BINDINGS = [
        bind("s", "app.save_scenario", "scenario.save"),
        bind("f", "app.freeze", "snapshot.freeze"),
        bind("x", "app.export", "packet.export"),
    ]

    def current_packet(self) -> str | None:
        """The focused gate's packet (its decision's, or the one named like it); release otherwise."""
        from bfg_tui.packets import PACKETS

        from .widgets import Table

        focused, view = self.focused, self.bfg.view
        if isinstance(focused, Table) and focused.id == "gates" and view is not None and focused.current:
            gate = focused.current
            packet = next((d.packet for d in view.catalog.decisions.values() if d.gate == gate), gate)
            if packet in PACKETS:
                return packet
        return self.packet

    def compose_body(self) -> ComposeResult:
        from .widgets import CheckTable, Table  # with the data: the first frame (home, loading) needs neither

        with VerticalScroll(id="body"):
            yield Static(id="summary")
            yield Static(id="queue-title", classes="section")
            yield Static(id="queue-none", classes="hint")
            yield CheckTable(id="queue")
            yield Static(id="plan", classes="panel")
            yield Static(id="recommended", classes="panel")
            yield Static(id="gonogo", classes="panel")
            yield Static(id="decision-needed", classes="panel")
            yield Static(id="cards")
            yield Static(self.tr("home.gates"), classes="section")
            yield Table([("gate", "col.gate"), ("count", "col.count"), ("state", "")], id="gates",
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

    def _auto_focus(self) -> None:
        # Land where the owner can act: their queue; with nothing to sign, the blockers.
        from .widgets import CheckTable

        for selector in ("#queue", "#blockers"):
            table = self.query_one(selector, CheckTable)
            if table.display and table.row_count:
                table.focus(scroll_visible=False)
                self.query_one("#body").scroll_home(animate=False, immediate=True)
                return
        super()._auto_focus()

    def show(self, view: View) -> None:
        from .widgets import CheckTable, Table, decision_text, mark

        lang = self.bfg.lang
        self._show_queue(view)
        self._show_plan(view)
        cat, state, ev = view.catalog, view.state, view.ev
        target = state.target_adapter or "—"
        summary = Text()
        summary.append(self.tr("home.page_title") + "\n", style="bold")
        summary.append(self.tr("home.page_intro") + "\n", style="dim")
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

        self._show_decision_needed(view, decision)
        self._show_cards(view)

        rec = ev.recommended
        text = Text()
        text.append(self.tr("home.recommended") + "\n", style="bold")
        text.append(render(rec.title, self.bfg.lang) + "\n", style="bold cyan")
        text.append(render(rec.detail, self.bfg.lang))
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
        line.append("\n" + self.tr("home.no_live_secrets"), style="")
        preflight = self.tr("home.preflight_ready" if ev.ready("group:preflight") else "home.preflight_not_run",
                            count=ev.count("preflight"))
        infra = self.tr("home.infra_accepted" if ev.ready("group:infrastructure") else "home.infra_blocked")
        line.append("\n" + self.tr("home.preflight_status", preflight=preflight, infra=infra), style="dim")
        self.put("#wiring-decision", line)
        for table_id in ("#provider-selection", "#infrastructure", "#wiring"):
            self.query_one(table_id, CheckTable).show(view)

    def _show_queue(self, view: View) -> None:
        """The acting owner's sign-offs: pending first (in the plan's order), then the accepted ones."""
        from bfg_tui.plan import owner_check_order

        from .widgets import CheckTable

        cat, ev = view.catalog, view.ev
        actor = self.bfg.actor
        table = self.query_one("#queue", CheckTable)
        owned = [c for c in owner_check_order(cat) if cat.checks[c].owner == (actor.id if actor else None)]
        if actor is None:
            title, none = self.tr("queue.title_nobody"), self.tr("queue.nobody")
        else:
            first = actor.name.split()[0]
            role = cat.roles[actor.role].label.get(self.bfg.lang)
            if not owned:
                title = self.tr("queue.title_none", name=first)
                service = self.bfg.service
                if service is None:
                    none = ""  # who may sign is the service's to say: shown once it is open
                else:
                    signs = service.can(actor.id, "check.accept").ok  # may sign checks at all
                    key = "queue.owns_none" if signs else "queue.read_only"
                    owners = sorted({cat.actor(c.owner).name for c in cat.checks.values()  # type: ignore[union-attr]
                                     if c.owner and cat.actor(c.owner)})
                    none = self.tr(key, name=actor.name, role=role, owners=", ".join(owners))
            else:
                waiting = [c for c in owned if not ev.checks[c].ready]
                title = self.tr("queue.title", name=first, n=len(waiting))
                none = "" if waiting else self.tr("queue.all_done")
                plan_order = [s.check for s in self._plan(view).steps if s.action == "accept"]
                waiting.sort(key=lambda c: plan_order.index(c) if c in plan_order else len(plan_order))
                table.set_ids(waiting + [c for c in owned if c not in waiting])
        self.put("#queue-title", title)
        self.put("#queue-none", none)
        self.query_one("#queue-none").display = bool(none)
        table.display = bool(owned) and actor is not None
        if table.display:
            table.show(view)

    def _plan(self, view: View):  # type: ignore[no-untyped-def]
        from bfg_tui.plan import make_plan

        cached = getattr(self, "_plan_cache", None)
        if cached is None or cached[0] is not view:
            cached = (view, make_plan(view.catalog, view.state, view.ev))
            self._plan_cache = cached
        return cached[1]

    def _show_plan(self, view: View) -> None:
        """Path to GO: the same steps `bfg-tui plan` prints, by owner, the first few in full."""
        from bfg_tui.plan import owner_summary, step_text

        lang = self.bfg.lang
        plan = self._plan(view)
        text = Text()
        text.append(self.tr("plan.heading") + "  ", style="bold")
        if not plan.steps:
            text.append(self.tr("plan.none", decision=view.ev.decisions[view.catalog.go_no_go.id]))
            self.put("#plan", text)
            return
        text.append(self.tr("plan.summary", n=len(plan.steps), decision=plan.decision))
        text.append("\n" + owner_summary(view.catalog, plan, lang))
        if plan.steps[0].postgresql:
            text.append("\n" + self.tr("plan.pg_now", checks=", ".join(plan.postgresql_evidence)), style="bold yellow")
        shown = 5
        for i, step in enumerate(plan.steps[:shown], 1):
            text.append(f"\n{i:>2}. {step_text(view.catalog, step, lang, short=True)}", style="bold" if i == 1 else "")
        if len(plan.steps) > shown:
            text.append("\n" + self.tr("plan.more", n=len(plan.steps) - shown), style="dim")
        if plan.postgresql_evidence and not plan.steps[0].postgresql:
            text.append("\n" + self.tr("plan.pg_note", checks=", ".join(plan.postgresql_evidence)), style="dim")
        self.put("#plan", text)

    def _show_decision_needed(self, view: View, decision: str) -> None:
        """The seed's "Decision needed" card, the infrastructure prompt and the selected target, while blocked."""
        cat, ev, state = view.catalog, view.ev, view.state
        target = state.target_adapter or "—"
        card = self.query_one("#decision-needed", Static)
        card.display = decision != cat.go_no_go.ready
        if not card.display:
            return
        text = Text()
        text.append(self.tr("home.decision_needed") + "  ", style="bold yellow")
        text.append(self.tr("home.decision_needed_title") + "\n", style="bold")
        text.append(self.tr("home.decision_needed_detail", release=ev.count("release"), cutover=ev.count("data_cutover")))
        text.append("\n" + self.tr("home.infra_prompt_title") + ": ", style="bold")
        text.append(self.tr("home.infra_prompt", target=target, decision=decision))
        text.append("\n" + self.tr("home.selected_target", target=target), style="bold")
        text.append(" " + self.tr("home.selected_target_detail"))
        self.put("#decision-needed", text)

    def _show_cards(self, view: View) -> None:
        """The seed's six summary cards: contract, actors, provider modes, preflight, transition, connection."""
        from rich.table import Table as RichTable

        cat, ev, state = view.catalog, view.ev, view.state
        cards = (
            ("card.contract", state.store_contract),
            ("card.actors", str(len(cat.actors))),
            ("card.providers", str(len(cat.providers))),
            ("card.preflight", ev.count("preflight")),
            ("card.transition", ev.count("transition")),
            ("card.connection", ev.count("connection")),
        )
        columns = 3 if self.size.width >= 110 else 2
        grid = RichTable.grid(padding=(0, 2), expand=True)
        for _ in range(columns):
            grid.add_column(ratio=1)
        cells = []
        for key, figure in cards:
            cell = Text()
            cell.append(self.tr(key) + "  ", style="bold")
            cell.append(figure + "\n", style="bold cyan")
            cell.append(self.tr(key + "_detail"), style="dim")
            cells.append(cell)
        for i in range(0, len(cells), columns):
            grid.add_row(*cells[i:i + columns])
        self.put("#cards", grid, key=(columns, cards, self.bfg.lang))
