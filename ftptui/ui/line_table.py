"""Tables drawn line by line (the Line API), as the packet list is: a header row, then rows of
cells in columns of set widths, and only the rows on screen become text.  The conversations
(numpy columns, up to millions of rows) and the FTP view's tables (a few hundred rows) are both
LineTables: Textual's DataTable renders each cell through Rich (50 ms for a screenful, more for
its first layout), which a key that opens a view cannot afford.

Cells are given as text from a capture: each is made safe (text.safe) before it is drawn, and
columns are measured in terminal cells, so wide characters keep the columns straight."""
from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip

from ..text import safe
from . import messages
from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded

GAP = 2  # spaces between columns


class LineTable(Guarded, CursorView, can_focus=True):
    """The drawing, the cursor and the header clicks; subclasses hold the rows (`row_count`,
    `get_row_at`) and call `show_columns` then `rows_changed` when they change."""
    HEADER = 1
    DEFAULT_CSS = """
    LineTable > .line-table--header { text-style: bold reverse; }
    LineTable > .line-table--cursor { color: white; background: #2a5db0; text-style: bold; }
    LineTable:blur > .line-table--cursor { background: #2a5db0 50%; }
    LineTable > .line-table--zebra { text-style: dim; }
    """
    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--zebra"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.keys: list[str] = []  # column ids (a click on a title posts HeaderClicked(key))
        self.labels: list[str] = []
        self.widths: list[int] = []
        self.numeric: list[bool] = []  # right-aligned columns

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    def get_row_at(self, row: int) -> list[str]:
        """The row's cells, safe for a terminal."""
        raise NotImplementedError

    def show_columns(self, keys: Sequence[str], labels: Sequence[str], widths: Sequence[int],
                     numeric: Sequence[bool]) -> None:
        self.keys = list(keys)
        self.labels = [safe(label) for label in labels]
        self.widths = [max(w, cell_len(label)) for w, label in zip(widths, self.labels)]
        self.numeric = list(numeric)

    def rows_changed(self) -> None:
        self.virtual_size = Size(self.line_width(), self.row_count + 1)
        self.cursor = min(self.cursor, max(0, self.row_count - 1))
        self.refresh()

    def line_width(self) -> int:
        return sum(self.widths) + GAP * len(self.widths)

    def column_x(self, k: int) -> int:
        """Where column k starts (content coordinates)."""
        return sum(self.widths[:k]) + GAP * k

    def _line(self, texts: list[str]) -> str:
        parts = []
        for text, width, numeric in zip(texts, self.widths, self.numeric):
            short = width - cell_len(text)
            parts.append(set_cell_size(text, width) if short < 0 or not numeric else " " * short + text)
        return (" " * GAP).join(parts) + " " * GAP

    # --- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            text, style = self._line(self.labels), self.get_component_rich_style("line-table--header")
        else:
            row = scroll_y + y - 1
            if row >= self.row_count:
                return Strip.blank(width, self.rich_style)
            text = self._line(self.get_row_at(row))
            style = (self.get_component_rich_style("line-table--cursor") if row == self.cursor
                     else self.get_component_rich_style("line-table--zebra") if row % 2 else self.rich_style)
        strip = Strip([Segment(text, style)]).adjust_cell_length(max(width + scroll_x, self.virtual_size.width), style)
        return strip.crop(scroll_x, scroll_x + width)

    # --- moving -----------------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return self.row_count

    def watch_cursor(self, row: int) -> None:
        self.keep_in_view(row)
        self.refresh()
        self.post_message(messages.Highlighted())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event) -> None:
        at = event.get_content_offset(self)
        if at is None:
            return
        if at.y == 0:
            x = at.x + self.scroll_offset.x
            for k in range(len(self.keys)):
                if self.column_x(k) <= x < self.column_x(k) + self.widths[k] + GAP:
                    self.post_message(messages.HeaderClicked(self.keys[k]))
                    return
            return
        self.move_to(self.scroll_offset.y + at.y - 1)
        self.focus()


class TextTable(LineTable):
    """A table of rows given at once (the FTP view's sessions, transfers and credentials; g
    there filters, so only Home and End go to the ends)."""
    BINDINGS = cursor_bindings("table", sideways=("left,h", "right,l"), ends=("home", "end"))

    def __init__(self, widest: int = 60, **kwargs):
        """`widest`: the most cells a column takes (longer cells are cut)."""
        super().__init__(**kwargs)
        self.widest = widest
        self.rows: list[list[str]] = []

    def show(self, labels: Sequence[str], rows: Sequence[Sequence[object]],
             numeric: Sequence[bool] = ()) -> None:
        """Show these rows (each cell as str(cell)), columns as wide as their widest cell."""
        self.rows = [[safe(str(cell)) for cell in row] for row in rows]
        widths = [0] * len(labels)
        for row in self.rows:
            widths = [max(w, cell_len(text)) for w, text in zip(widths, row)]
        self.show_columns(labels, labels, [min(w, self.widest) for w in widths],
                          [k < len(numeric) and numeric[k] for k in range(len(labels))])
        self.rows_changed()

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def get_row_at(self, row: int) -> list[str]:
        return self.rows[row]
