"""6 · Audit trail: newest first, one page at a time, filterable, with the chain status."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Static

from bfg_tui.i18n import message_text
from bfg_tui.sanitise import NO_CONTROL

from .base import ConsoleScreen, View, bind, tcss
from .widgets import Table

PAGE = 100


class AuditScreen(ConsoleScreen):
    DEFAULT_CSS = tcss("audit.tcss")

    mode = "audit"
    help_key = "help.audit"
    LAND_ON = "#events"

    BINDINGS = [
        bind("right_square_bracket", "page(1)", "page.next"),
        bind("left_square_bracket", "page(-1)", "page.prev"),
        bind("slash", "filter", "audit.filter"),
        bind("v", "verify", "audit.verify"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page_offset = 0
        self.page_total = 0
        self.filter_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static(id="chain", classes="gate-line")
        yield Input(placeholder=self.tr("audit.filter"), id="filter", restrict=NO_CONTROL)
        yield Static(id="page", classes="hint")
        yield Table([("seq", "audit.col.seq"), ("at", "audit.col.at"), ("actor", "audit.col.actor"),
                     ("kind", "audit.col.kind"), ("subject", "audit.col.subject")], id="events", help_key="help.audit")

    def show(self, view: View) -> None:
        self.load_page()
        self.verify()

    @work(exclusive=True, group="audit-page")
    async def load_page(self) -> None:
        service = self.bfg.service
        if service is None:
            return
        self.page_total = await service.audit_count(self.filter_text)
        self.page_offset = max(0, min(self.page_offset, max(0, self.page_total - 1) // PAGE * PAGE))
        events = await service.audit_page(offset=self.page_offset, limit=PAGE, text=self.filter_text)
        rows = []
        self._events = {str(e.seq): e for e in events}
        for e in events:
            data = e.data
            subject = data.get("check") or data.get("packet") or data.get("probe") or data.get("subject") or ""
            if e.kind == "action.refused":
                subject = f"{data.get('subject', '')}: {data.get('reason', '')}"
            rows.append((str(e.seq), (str(e.seq), e.at, e.actor, e.kind, str(subject)[:90])))
        self.query_one("#events", Table).upsert(rows)
        if events:
            page = self.tr("audit.page", first=self.page_offset + 1, last=self.page_offset + len(events), total=self.page_total)
        else:
            page = self.tr("audit.empty")
        self.put("#page", page)

    def row_detail(self, _table: object, key: str) -> object:
        """enter on an event: its whole hashed body (data and who acted from where)."""
        from .modals import pretty_json

        event = getattr(self, "_events", {}).get(key)
        if event is None:
            return None
        from bfg_tui.sanitise import visible_lines

        return Text(visible_lines(pretty_json({"kind": event.kind, "actor": event.actor, "auth": event.auth, "data": event.data,
                                 "hash": event.hash, "prev": event.prev})))

    @work(exclusive=True, group="audit-verify")
    async def verify(self) -> None:
        service = self.bfg.service
        if service is None:
            return
        result = await service.verify_audit()
        if result.ok:
            text = Text(self.tr("audit.chain_ok", n=result.count, head=result.head[:16]), style="bold green")
        else:
            reason = message_text(result.reason, self.bfg.lang)
            text = Text(self.tr("audit.chain_bad", seq=result.first_bad_seq, reason=reason), style="bold red")
        self.put("#chain", text)

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.page_offset = 0
        self.load_page()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#events").focus()

    def action_page(self, step: int) -> None:
        new = self.page_offset + step * PAGE
        if 0 <= new < max(self.page_total, 1):
            self.page_offset = new
            self.load_page()

    def action_filter(self) -> None:
        self.query_one("#filter").focus()

    def action_verify(self) -> None:
        self.put("#chain", self.tr("audit.chain_checking"))
        self.verify()
