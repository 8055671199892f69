"""3 · RBAC map: actors, roles, permissions, the future claim set, the checks each owns."""

from __future__ import annotations

import json

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from .base import ConsoleScreen, View
from .widgets import Table


class RbacScreen(ConsoleScreen):
    mode = "rbac"
    help_key = "help.rbac"
    LAND_ON = "#actors"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(f"[b]{self.tr('rbac.heading')}[/b]\n{self.tr('rbac.intro')}", classes="intro")
            yield Table([("name", "rbac.col.name"), ("id", "rbac.col.id"), ("desk", "rbac.col.desk"),
                         ("role", "rbac.col.role"), ("owns", "rbac.col.owns")], id="actors", help_key="help.rbac")
            with Horizontal(id="actor-detail"):
                yield Static(id="permissions", classes="panel half")
                yield Static(id="claims", classes="panel half")
            yield Static(id="owned", classes="panel")

    def show(self, view: View) -> None:
        lang = self.bfg.lang
        cat = view.catalog
        self.query_one("#actors", Table).upsert([
            (a.id, (a.name, a.id, a.desk, cat.roles[a.role].label.get(lang), str(len(self._owned(view, a.id)))))
            for a in cat.actors
        ])
        self._detail(view)

    @staticmethod
    def _owned(view: View, actor_id: str) -> list[str]:
        return [c.id for c in view.catalog.checks.values() if c.owner == actor_id]

    def _detail(self, view: View) -> None:
        table = self.query_one("#actors", Table)
        actors = view.catalog.actors
        if not actors:
            return
        actor = actors[min(table.cursor_row, len(actors) - 1)] if table.row_count else actors[0]
        owned = self._owned(view, actor.id)
        lang = self.bfg.lang
        body = "\n".join(f"• {c} · {view.catalog.checks[c].title.get(lang)}" for c in owned) or self.tr("rbac.owned_none")
        self.put("#owned", f"[b]{self.tr('rbac.owned', name=actor.name)}[/b]\n{body}")
        service = self.bfg.service
        if service is None:  # the role's permissions are the service's to say: shown once it is open
            return
        perms = service.permissions(actor.id)
        self.put("#permissions", f"[b]{self.tr('rbac.permissions', name=actor.name)}[/b]\n" + "\n".join(f"• {p}" for p in perms))
        doc = service.claims(actor.id)
        # One claim per line, lists inline: still JSON, and it fits 80×24.
        claims = "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                                      for k, v in doc.items()) + "\n}"
        if claims != getattr(self, "claims_json", None):  # highlighting is the slow part: only when it changed
            self.claims_json = claims
            self.put("#claims", Syntax("", "json", theme="ansi_dark", background_color="default").highlight(claims))
            self.query_one("#claims", Static).border_title = self.tr("rbac.claims")

    def on_row_table_row_highlighted(self) -> None:
        if self.bfg.view is not None:
            self._detail(self.bfg.view)
