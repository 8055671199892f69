"""Reusable parts: the row table every list uses, the check list, and small helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Offset, Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from bfg_tui.i18n import render, t

from .base import Localized, ServiceKeys, View, bind, safe
from .messages import AcceptRequested, DetailRequested, ProbeRequested, RevokeRequested


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


def status_label(view: View, check_id: str, lang: str) -> str:
    """Why a check is not passing (its first unmet dependency, by name), or who or what made it pass."""
    from bfg_tui.figures import why

    status = view.ev.checks[check_id]
    if not status.ready:
        return why(view.catalog, view.state, view.ev, check_id, lang)
    return render(status.reason, lang)


def value_label(view: View, check_id: str, lang: str) -> str:
    """The check's figure as the seed words it ("0/4 + 0/5", "5 actors", a chosen value)."""
    from bfg_tui.figures import value

    return value(view.catalog, view.state, view.ev, check_id, lang)


Cell = object  # a str, or a rich Text (its style is kept)

# The selected row's glyph: filled in the focused table, hollow in the others.
CURSOR_FOCUSED, CURSOR_BLURRED = "▶", "▷"


def _cell_key(cell: Cell) -> object:
    """What decides a cell's look: Text equality ignores the base style, so compare it too."""
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), tuple(cell.spans))
    return cell


class RowTable(Localized, ScrollView, can_focus=True):
    """A keyboard-first table of rows (one row cursor), rendered line by line.

    Each row is rendered once into a Strip and cached; `set_rows` compares the new rows
    with the shown ones and repaints only the lines whose cells changed (a DataTable
    re-renders every visible row on any cell update). The header stays on top when
    the rows scroll. It looks like a row-cursor DataTable (same theme variables).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"rowtable--header", "rowtable--cursor"}

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .rowtable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .rowtable--header {
                background-tint: $foreground 5%;
            }
        }
        & > .rowtable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .rowtable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .rowtable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("down,j", "cursor_down", "list.down", show=False),
        bind("up,k", "cursor_up", "list.up", show=False),
        bind("pagedown", "page_down", "list.page_down", show=False),
        bind("pageup", "page_up", "list.page_up", show=False),
        bind("home", "first", "list.first", show=False),
        bind("end", "last", "list.last", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: RowTable, cursor_row: int, row_key: str | None) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(
        self, columns: Sequence[tuple[str, str, int | None]], *, id: str | None = None, classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._columns = [(key, label_key, width) for key, label_key, width in columns]
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._looks: dict[str, tuple[object, ...]] = {}
        self._widths: list[int] = []
        self._strips: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._styles: tuple[Style, Style, Style] = (Style(), Style(), Style())
        self._styles_for: object = None
        self.cursor_row = 0
        self._highlighted: str | None = None

    # ------------------------------------------------------------- data

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def columns(self) -> list[str]:
        return [key for key, _label, _width in self._columns]

    @property
    def current(self) -> str | None:
        """The key of the row under the cursor."""
        return self._keys[self.cursor_row] if self._keys else None

    def get_row_at(self, index: int) -> list[Cell]:
        return list(self._rows[self._keys[index]])

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show `rows` (key, cells): unchanged rows are not repainted, the cursor stays on its row.

        Cells are made safe first: stored text (a value, a refused actor id) shows its control
        characters, and a newline in it cannot break the row.
        """
        rows = [(key, tuple(safe(cell, one_line=True) for cell in cells)) for key, cells in rows]
        keys = [key for key, _cells in rows]
        if keys != self._keys:
            keep = self.current
            self._keys = keys
            self._index = {key: i for i, key in enumerate(keys)}
            self._rows = {key: tuple(cells) for key, cells in rows}
            self._looks = {key: tuple(map(_cell_key, cells)) for key, cells in self._rows.items()}
            self._strips.clear()
            self._widths = []
            self._fit_widths(self._keys)
            self._resized()
            self.refresh()
            row = self._index.get(keep, min(self.cursor_row, max(0, len(keys) - 1))) if keep is not None else 0
            self._set_cursor(row, scroll=False)
            return
        changed = []
        for key, cells in rows:
            look = tuple(map(_cell_key, cells))
            if look != self._looks[key]:
                self._rows[key] = tuple(cells)
                self._looks[key] = look
                self._strips.pop(key, None)
                changed.append(key)
        if not changed:
            return
        if self._fit_widths(changed):
            self._strips.clear()
            self._resized()
            self.refresh()
            return
        for key in changed:
            self._refresh_row(self._index[key])

    def _fit_widths(self, keys: Iterable[str]) -> bool:
        """Grow the columns to fit the cells of `keys` (never shrink, like a DataTable); True if any grew."""
        self._ensure_widths()
        grew = False
        for key in keys:
            for i, (cell, (_key, _label, fixed)) in enumerate(zip(self._rows[key], self._columns, strict=True)):
                if fixed is None:
                    length = cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len
                    if length > self._widths[i]:
                        self._widths[i] = length
                        grew = True
        return grew

    def _ensure_widths(self) -> None:
        if not self._widths:  # at first (and after the rows were replaced): the header labels
            self._widths = [width if width is not None else Text.from_markup(self.tr(label)).cell_len
                            for _key, label, width in self._columns]

    def _resized(self) -> None:
        width = sum(w + 2 for w in self._widths)
        size = Size(width, len(self._keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
            self._header = None
            self.refresh(layout=True)

    def _refresh_row(self, index: int) -> None:
        y = index + 1 - round(self.scroll_offset.y)
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # ------------------------------------------------------------- cursor

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        if row is not None:
            self._set_cursor(row, scroll=scroll, animate=animate)

    def _set_cursor(self, row: int, *, scroll: bool = True, animate: bool = False) -> None:
        row = max(0, min(row, len(self._keys) - 1))
        old = self.cursor_row
        self.cursor_row = row
        if old != row:
            self._refresh_row(old)
            self._refresh_row(row)
        if scroll and self._keys:
            self._scroll_to_row(row, animate)
        key = self.current
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, row, key))

    def _scroll_to_row(self, row: int, animate: bool = False) -> None:
        """Bring the cursor row into view here (below the fixed header), then in the containers around."""
        self.scroll_to_region(Region(0, row + 1, max(1, self.size.width), 1), spacing=Spacing(top=1),
                              animate=animate, force=True)
        # The same line in each container's coordinates, as Widget.scroll_to_widget walks them.
        y = row + 1 - round(self.scroll_offset.y)
        line = Region(0, y, 1, 1).translate(Offset(*self.styles.gutter.top_left) + self.virtual_region.offset)
        node: Widget = self
        while isinstance(node.parent, Widget) and node.parent is not self.screen:
            parent = node.parent
            delta = parent.scroll_to_region(line, animate=animate, immediate=True) if parent.is_scrollable else None
            if delta:
                line = line.translate(-delta)
            line = line.translate(Offset(*parent.styles.gutter.top_left) + parent.virtual_region.offset)
            node = parent

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor_row + self._page())

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor_row - self._page())

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._keys) - 1)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            row = offset.y - 1 + round(self.scroll_offset.y)
            if row < len(self._keys):
                self._set_cursor(row)

    # ------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        # The three styles of this frame; row caches are keyed on them. Computing them walks the
        # ancestors (a refresh clears Textual's cache), so they are kept while focus and theme stay.
        app = self.app
        look = (self.get_pseudo_class_state(), app.theme, app.ansi_color, self.size)
        if look != self._styles_for:
            self._styles_for = look
            self._styles = (
                self.rich_style,
                self.get_component_rich_style("rowtable--header"),
                self.get_component_rich_style("rowtable--cursor"),
            )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, header, cursor = self._styles
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            self._ensure_widths()
            header_look = (header, width, tuple(self._widths))
            if self._header is None or self._header[0] != header_look:
                labels = [Text.from_markup(self.tr(label)) for _key, label, _width in self._columns]
                self._header = (header_look, self._render_row(labels, header, None, width))
            return self._header[1].crop_extend(scroll_x, scroll_x + width, base)
        index = y - 1 + scroll_y
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        is_cursor = index == self.cursor_row
        glyph = (CURSOR_FOCUSED if self.has_focus else CURSOR_BLURRED) if is_cursor else " "
        look = (base, cursor if is_cursor else None, width, tuple(self._widths), glyph)
        cached = self._strips.get(key)
        if cached is None or cached[0] != look:
            post = Style.from_color(cursor.color) if is_cursor else None  # the cursor's colour wins, as in DataTable
            pre = base + cursor if is_cursor else base
            cached = (look, self._render_row(self._rows[key], pre, post, width, glyph))
            self._strips[key] = cached
        return cached[1].crop_extend(scroll_x, scroll_x + width, base)

    def _render_row(self, cells: Sequence[Cell], pre: Style, post: Style | None, width: int,
                    glyph: str = " ") -> Strip:
        """One row: each cell padded by one space each side and cut to its column (…), then the rest of the line.

        The selected row's first pad is a glyph, so the cursor shows without colour (NO_COLOR).
        """
        line = Text(end="", no_wrap=True)
        for i, (cell, column_width) in enumerate(zip(cells, self._widths, strict=True)):
            text = cell if isinstance(cell, Text) else Text(str(cell))
            if text.cell_len > column_width:
                text = text.copy()
                text.truncate(column_width, overflow="ellipsis")
            line.append(glyph if i == 0 else " ", style="bold" if i == 0 and glyph != " " else "")
            line.append_text(text)
            line.append(" " * (column_width - text.cell_len + 1))
        segments = list(Segment.apply_style(line.render(self.app.console), pre, post))
        total = sum(w + 2 for w in self._widths)
        if width > total:
            segments.append(Segment(" " * (width - total), pre + post if post else pre))
        return Strip(segments, max(total, width)).simplify()


class CheckTable(ServiceKeys, RowTable):
    """Checks, one per row (row key = check id): focus one, then a / r / enter / p.

    a / r / p are dimmed when who acts may not do them to the highlighted check.
    """

    help_key = "help.checks"

    DEFAULT_CSS = """
    CheckTable { height: auto; max-height: 16; margin: 0 0 1 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("a", "accept", "check.accept"),
        bind("r", "revoke", "check.revoke"),
        bind("enter", "detail", "check.detail"),
        bind("p", "probe", "check.probe"),
    ]
    SERVICE_ACTIONS: ClassVar[dict[str, str]] = {"accept": "check.accept", "revoke": "check.revoke",
                                                 "probe": "probe.run"}

    def __init__(
        self, ids: Iterable[str] = (), *, group: str | None = None, id: str | None = None, classes: str | None = None,
    ) -> None:
        super().__init__([("mark", "", 5), ("check", "col.check", None), ("value", "col.value", None),
                          ("status", "col.status", None)], id=id, classes=classes)
        self.ids: list[str] = list(ids)
        self.group = group

    def on_mount(self) -> None:
        view = self.bfg.view
        if view is not None:
            self.show(view)

    def service_subject(self) -> str | None:
        return self.current

    def on_row_table_row_highlighted(self) -> None:
        self.refresh_bindings()  # another check: what who acts may do to it

    def action_accept(self) -> None:
        if self.current is not None:
            self.post_message(AcceptRequested(self.current))

    def action_revoke(self) -> None:
        if self.current is not None:
            self.post_message(RevokeRequested(self.current))

    def action_detail(self) -> None:
        if self.current is not None:
            self.post_message(DetailRequested(self.current))

    def action_probe(self) -> None:
        """The focused check's probe; a check that is not a probe check says so."""
        view, check_id = self.bfg.view, self.current
        if view is not None and check_id is not None:
            check = view.catalog.checks[check_id]
            self.post_message(ProbeRequested(check.probe if check.kind == "probe" and check.probe else None,
                                             check.id))

    def set_ids(self, ids: Sequence[str]) -> None:
        """Change which checks are listed (the cursor stays on the same check if it stays)."""
        self.ids = list(ids)

    def _check_rows(self, view: View) -> list[tuple[str, tuple[Cell, ...]]]:
        """Mark, title, figure, why: the status column takes the width the other columns leave."""
        lang = self.bfg.lang
        width = self.app.size.width
        title_w = 30 if width >= 110 else 21
        value_w = 30 if width >= 110 else 23  # BLOCKED_PENDING_DRY_RUN fits at 80 columns
        cells = [(c, view.catalog.checks[c].title.get(lang), value_label(view, c, lang), status_label(view, c, lang))
                 for c in self.ids]
        used_v = min(value_w, max((len(v) for _c, _t, v, _s in cells), default=0))
        title_w = max(title_w, min(30, width - 17 - max(used_v, 5) - 26))  # short figures leave titles room
        used_t = min(title_w, max((len(t) for _c, t, _v, _s in cells), default=0))
        status_w = max(16, min(70, width - used_t - used_v - 17))
        out: list[tuple[str, tuple[Cell, ...]]] = []
        for check_id, title, figure, why in cells:
            status = view.ev.checks[check_id]
            out.append((check_id, (mark(status.ready, status.stale, lang), clip(title, title_w), clip(figure, value_w),
                                   clip(why, status_w))))
        return out

    def show(self, view: View) -> None:
        if self.group and not self.ids:
            self.ids = list(view.catalog.groups[self.group].checks)
        self.set_rows(self._check_rows(view))


class Table(RowTable):
    """A read-only table with j/k navigation; enter shows the row in full, a says where sign-offs are."""

    DEFAULT_CSS = """
    Table { height: auto; max-height: 16; margin: 0 0 1 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("enter", "open", "row.detail"),
        bind("a", "no_accept", "check.accept", show=False),
    ]

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None, help_key: str = "help.app") -> None:
        super().__init__([(key, label_key, None) for key, label_key in columns], id=id)
        self.help_key = help_key

    def action_open(self) -> None:
        from .modals import RowDetail

        key = self.current
        if key is None:
            return
        extra = getattr(self.screen, "row_detail", None)
        body = extra(self, key) if extra is not None else None
        pairs = [(Text.from_markup(self.tr(label)).plain or key_, cell)
                 for (key_, label, _w), cell in zip(self._columns, self.get_row_at(self.cursor_row), strict=True)]
        self.app.push_screen(RowDetail(key, pairs, body))

    def action_no_accept(self) -> None:
        self.bfg.say(Text(self.tr("table.no_accept"), style="yellow"))

    def upsert(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Rows by key: only the changed rows repaint (cursor and scroll stay)."""
        self.set_rows(rows)
