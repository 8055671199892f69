"""4 · Decision board: the seven rows with owner and evidence, and the six transition checks."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .base import ConsoleScreen, View
from .widgets import CheckTable, Table, mark


class BoardScreen(ConsoleScreen):
    mode = "board"
    help_key = "help.board"
    LAND_ON = "#transition"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(id="board-intro", classes="intro")
            yield Table([("mark", ""), ("row", "board.col.row"), ("owner", "board.col.owner"),
                         ("evidence", "board.col.evidence"), ("subject", "board.col.subject")],
                        id="board", help_key="help.board")
            yield Static(id="board-detail", classes="hint")
            yield Static(self.tr("board.transition"), classes="section")
            yield Static(id="transition-intro", classes="hint")
            yield CheckTable(group="transition", id="transition")

    def show(self, view: View) -> None:
        lang = self.bfg.lang
        cat, ev = view.catalog, view.ev
        self.put("#board-intro", f"[b]{self.tr('board.heading')}[/b] · "
                 f"{self.tr('board.summary', count=ev.count('decision_board'))}\n{self.tr('board.intro')}")
        rows = []
        for row in cat.board:
            actor = cat.actor(row.owner)
            role = cat.roles[actor.role].label.get(lang) if actor else ""
            owner = (f"{actor.name} · {role}" if self.size.width >= 110 else actor.name) if actor else row.owner
            if row.evidence is not None and not row.checks:
                evidence = row.evidence.get(lang)
            else:
                accepted = sum(1 for c in row.checks if ev.checks[c].ready)
                evidence = self.tr("board.evidence", ready=accepted, total=len(row.checks))
                if row.rule is not None:  # evidence besides the ticks, e.g. the dry-run itself
                    from bfg_tui.figures import node_figure, node_title

                    evidence += "".join(f" + {node_title(cat, r, lang)} {node_figure(cat, view.state, ev, r, lang)}"
                                        for r in row.rule.all)
            rows.append((row.id, (mark(ev.ready(f"board:{row.id}"), False, lang), row.title.get(lang), owner,
                                  evidence, row.subject)))
        self.query_one("#board", Table).upsert(rows)
        self._detail(view)
        self.put("#transition-intro", self.tr("board.transition_intro", count=ev.count("transition")))
        self.query_one("#transition", CheckTable).show(view)

    def _detail(self, view: View) -> None:
        table = self.query_one("#board", Table)
        board = view.catalog.board
        if board and table.row_count:
            row = board[min(table.cursor_row, len(board) - 1)]
            self.put("#board-detail", f"{row.title.get(self.bfg.lang)}: {row.detail.get(self.bfg.lang)}")

    def on_row_table_row_highlighted(self) -> None:
        if self.bfg.view is not None:
            self._detail(self.bfg.view)
