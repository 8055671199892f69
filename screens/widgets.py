"""Reusable parts: the check list every screen uses, and small helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from bfg_tui.i18n import reason_text, t

from .base import Localized, View, bind


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def mark(ready: bool, stale: bool, lang: str) -> Text:
    if stale:
        return Text(t("mark.stale", lang), style="bold yellow")
    if ready:
        return Text(t("mark.ready", lang), style="bold green")
    return Text(t("mark.blocked", lang), style="red")


def decision_text(value: str) -> Text:
    return Text(value, style="bold green" if value.startswith("READY") else "bold red")


def owner_label(view: View, check_id: str, lang: str) -> str:
    check = view.catalog.checks[check_id]
    if check.kind == "probe":
        return t("owner.probe", lang)
    if check.kind == "derived" or not check.owner:
        return t("owner.none", lang)
    actor = view.catalog.actor(check.owner)
    return actor.name if actor else check.owner


def status_label(view: View, check_id: str, lang: str) -> str:
    status = view.ev.checks[check_id]
    acc = view.state.acceptances.get(check_id)
    text = reason_text(status.reason, lang)
    if status.ready and acc is not None and acc.value:
        text = f"{acc.value} · {text}"
    return text


class CheckTable(Localized, DataTable[object]):
    """Checks, one per row (row key = check id): focus one, then a / r / enter / p."""

    help_key = "help.checks"

    DEFAULT_CSS = """
    CheckTable { height: auto; max-height: 16; margin: 0 0 1 0; }
    """

    BINDINGS = [
        bind("j", "cursor_down", "list.down", show=False),
        bind("k", "cursor_up", "list.up", show=False),
        bind("a", "request('accept')", "check.accept"),
        bind("r", "request('revoke')", "check.revoke"),
        bind("enter", "request('detail')", "check.detail"),
        bind("p", "request('probe')", "check.probe"),
    ]

    class Requested(Message):
        """The user asked for `verb` (accept, revoke, detail, probe) on `check_id`."""

        def __init__(self, check_id: str, verb: str) -> None:
            super().__init__()
            self.check_id = check_id
            self.verb = verb

    def __init__(
        self, ids: Iterable[str] = (), *, group: str | None = None, id: str | None = None, classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.ids: list[str] = list(ids)
        self.group = group
        self._cells: dict[str, tuple[object, ...]] = {}

    def on_mount(self) -> None:
        lang = self.bfg.lang
        self.add_column(t("col.state", lang), key="mark", width=5)
        self.add_column(t("col.check", lang), key="check")
        self.add_column(t("col.owner", lang), key="owner")
        self.add_column(t("col.status", lang), key="status")
        view = self.bfg.view
        if view is not None:
            self.show(view)

    @property
    def current(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def action_request(self, verb: str) -> None:
        check_id = self.current
        if check_id is not None:
            self.post_message(self.Requested(check_id, verb))

    def set_ids(self, ids: Sequence[str]) -> None:
        """Change which checks are listed, keeping the cursor on the same check if it stays."""
        ids = list(ids)
        if ids == self.ids:
            return
        keep = self.current
        self.ids = ids
        self.clear()
        self._cells.clear()
        view = self.bfg.view
        if view is not None:
            self.show(view)
        if keep in ids:
            self.move_cursor(row=ids.index(keep), animate=False, scroll=True)

    def _row(self, view: View, check_id: str) -> tuple[object, ...]:
        lang = self.bfg.lang
        status = view.ev.checks[check_id]
        title = view.catalog.checks[check_id].title.get(lang)
        width = self.app.size.width
        title_w = 34 if width >= 110 else 26
        owner_w = 18 if width >= 110 else 16
        status_w = max(16, min(70, width - title_w - owner_w - 19))
        return (
            mark(status.ready, status.stale, lang),
            clip(title, title_w),
            clip(owner_label(view, check_id, lang), owner_w),
            clip(status_label(view, check_id, lang), status_w),
        )

    def show(self, view: View) -> None:
        if not self.columns:
            return  # not mounted yet: on_mount paints
        if self.group and not self.ids:
            self.ids = list(view.catalog.groups[self.group].checks)
        for check_id in self.ids:
            cells = self._row(view, check_id)
            old = self._cells.get(check_id)
            if old is None:
                self.add_row(*cells, key=check_id)
            elif old != cells:
                for col, (a, b) in zip(("mark", "check", "owner", "status"), zip(old, cells, strict=True), strict=True):
                    if a != b:
                        self.update_cell(check_id, col, b)
            self._cells[check_id] = cells


class Table(Localized, DataTable[object]):
    """A read-only table with j/k navigation."""

    DEFAULT_CSS = """
    Table { height: auto; max-height: 16; margin: 0 0 1 0; }
    """

    BINDINGS = [
        bind("j", "cursor_down", "list.down", show=False),
        bind("k", "cursor_up", "list.up", show=False),
    ]

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None, help_key: str = "help.app") -> None:
        super().__init__(id=id, cursor_type="row")
        self._columns_spec = list(columns)
        self.help_key = help_key
        self._rows: dict[str, tuple[object, ...]] = {}

    def on_mount(self) -> None:
        for key, label_key in self._columns_spec:
            self.add_column(self.tr(label_key) if label_key else "", key=key)

    def upsert(self, rows: Sequence[tuple[str, Sequence[object]]]) -> None:
        """Rows by key: added once, then only changed cells are updated (cursor and scroll stay)."""
        if not self.columns:
            self.call_after_refresh(self.upsert, rows)
            return
        keys = [k for k, _ in self._columns_spec]
        wanted = [k for k, _ in rows]
        if list(self._rows) != wanted:
            cursor = self.cursor_row
            self.clear()
            self._rows.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
                self._rows[key] = tuple(cells)
            if self.row_count:
                self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)
            return
        for key, cells in rows:
            old = self._rows[key]
            for col, a, b in zip(keys, old, cells, strict=True):
                if a != b:
                    self.update_cell(key, col, b)
            self._rows[key] = tuple(cells)
