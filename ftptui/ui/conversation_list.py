"""A table of conversations drawn line by line (the Line API), as the packet list is: only the
rows on screen become text, so a million conversations cost their numpy columns and nothing
more, and showing them takes no time on the UI thread.  The header row sorts on a click."""
from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip

from ..text import safe
from . import messages
from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded

GAP = 2  # spaces between columns


class ConversationList(Guarded, CursorView, can_focus=True):
    BINDINGS = cursor_bindings("convlist")
    HEADER = 1
    DEFAULT_CSS = """
    ConversationList > .conversation-list--header { text-style: bold reverse; }
    ConversationList > .conversation-list--cursor { color: white; background: #2a5db0; text-style: bold; }
    ConversationList > .conversation-list--zebra { text-style: dim; }
    """
    COMPONENT_CLASSES = {"conversation-list--header", "conversation-list--cursor", "conversation-list--zebra"}



    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows = None                    # a ConversationTable, or None
        self.order = np.zeros(0, dtype=np.int64)  # display row -> table row
        self.keys: list[str] = []           # column keys
        self.labels: list[str] = []
        self.widths: list[int] = []
        self.numeric: list[bool] = []
        self.cells = None                   # conversation -> list of cell texts

    def show(self, rows, order: np.ndarray, columns, labels: list[str], widths: list[int], cells) -> None:
        """Show `rows` (a ConversationTable) in `order`; `cells(conversation)` gives a row's texts."""
        self.rows, self.order, self.cells = rows, order, cells
        self.keys = [c.key for c in columns]
        self.numeric = [c.numeric for c in columns]
        self.widths = [max(w, len(label)) for w, label in zip(widths, labels)]
        self.labels = labels
        self.virtual_size = Size(self.line_width(), len(order) + 1)
        self.cursor = min(self.cursor, max(0, len(order) - 1))
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self.order)

    def conversation(self, row: int):
        return self.rows[int(self.order[row])]

    def get_row_at(self, row: int) -> list[str]:
        return [safe(t) for t in self.cells(self.conversation(row))]

    def line_width(self) -> int:
        return sum(self.widths) + GAP * len(self.widths)

    def column_x(self, k: int) -> int:
        """Where column k starts (content coordinates)."""
        return sum(self.widths[:k]) + GAP * k

    def _line(self, texts: list[str]) -> str:
        parts = []
        for text, width, numeric in zip(texts, self.widths, self.numeric):
            parts.append((text.rjust(width) if numeric else text.ljust(width))[:width])
        return (" " * GAP).join(parts) + " " * GAP

    # --- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            text, style = self._line(self.labels), self.get_component_rich_style("conversation-list--header")
        else:
            row = scroll_y + y - 1
            if row >= self.row_count:
                return Strip.blank(width, self.rich_style)
            text = self._line(self.get_row_at(row))
            style = (self.get_component_rich_style("conversation-list--cursor") if row == self.cursor
                     else self.get_component_rich_style("conversation-list--zebra") if row % 2 else self.rich_style)
        return Strip([Segment(text.ljust(width + scroll_x)[scroll_x:scroll_x + width], style)])

    # --- moving -----------------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return self.row_count

    def watch_cursor(self, row: int) -> None:
        self.keep_in_view(row)
        self.refresh()
        self.post_message(messages.Highlighted())

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
