"""2 · Provider contracts: six providers current → target, the live session, the rollout plan."""

from __future__ import annotations

from rich.table import Table as RichTable
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .base import ConsoleScreen, View
from .widgets import CheckTable, Table


class ProvidersScreen(ConsoleScreen):
    mode = "providers"
    help_key = "help.providers"
    LAND_ON = "#providers"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(f"[b]{self.tr('prov.heading')}[/b]\n{self.tr('prov.intro')}", classes="intro")
            yield Table([("name", "prov.col.provider"), ("current", "prov.col.current"), ("arrow", ""),
                         ("target", "prov.col.target"), ("contract", "prov.col.contract")],
                        id="providers", help_key="help.providers")
            yield Static(id="provider-detail", classes="hint")
            yield Static(f"{self.tr('prov.session')} · {self.tr('prov.session_sub')}", classes="section")
            yield Static(id="session", classes="panel")
            yield Static(self.tr("prov.rollout"), classes="section")
            yield Table([("env", "prov.col.env"), ("adapter", "prov.col.adapter"), ("detail", "prov.col.detail")],
                        id="rollout", help_key="help.providers")
            yield Static(self.tr("prov.checks"), classes="section")
            yield CheckTable(["contracts.providers_visible", "session.adapter_open"], id="provider-checks")

    def show(self, view: View) -> None:
        lang = self.bfg.lang
        cat, state = view.catalog, view.state
        self.query_one("#providers", Table).upsert([
            (p.id, (p.name.get(lang), p.current, "→", p.target, p.contract)) for p in cat.providers
        ])
        self._detail(view)
        scenario = state.scenario
        if scenario.saved_at:
            saved = self.tr("prov.saved", at=scenario.saved_at, actor=state.last_save_actor or "—",
                            records=scenario.records)
        else:
            saved = self.tr("prov.none_yet")
        session = (
            (self.tr("prov.storage"), state.fallback_adapter or "—"),
            (self.tr("prov.auth"), cat.auth_mode),
            (self.tr("prov.tenant"), f"{cat.tenant_mode} → {cat.tenant_mode_target}"),
            (self.tr("prov.last_save"), saved),
            (self.tr("prov.session_id"), f"{cat.session} · {cat.tenant_id} ({cat.tenant_name})"),
            (self.tr("prov.contract"), state.store_contract),
            (self.tr("prov.target"), state.target_adapter or "—"),
        )
        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in session:
            grid.add_row(label, value)
        self.put("#session", grid, key=session)
        self.query_one("#rollout", Table).upsert([
            (e.id, (e.title.get(lang), e.adapter, e.detail.get(lang))) for e in cat.environments
        ])
        self.query_one("#provider-checks", CheckTable).show(view)

    def _detail(self, view: View) -> None:
        table = self.query_one("#providers", Table)
        providers = view.catalog.providers
        if not providers or not table.row_count:
            return
        p = providers[min(table.cursor_row, len(providers) - 1)]
        self.put("#provider-detail", f"{p.name.get(self.bfg.lang)}: {p.detail.get(self.bfg.lang)}")

    def on_row_table_row_highlighted(self) -> None:
        if self.bfg.view is not None:
            self._detail(self.bfg.view)
