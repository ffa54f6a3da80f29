"""The conversations table: a LineTable over a ConversationTable's numpy columns in a sort
order, so a million conversations cost their columns and nothing more; only the rows on screen
become text.  A click on a column title asks to sort by it (HeaderClicked)."""
from __future__ import annotations

import numpy as np

from ..text import safe
from .cursor_view import cursor_bindings
from .line_table import LineTable


class ConversationList(LineTable):
    BINDINGS = cursor_bindings("convlist")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows = None                    # a ConversationTable, or None
        self.order = np.zeros(0, dtype=np.int64)  # display row -> table row
        self.cells = None                   # conversation -> list of cell texts

    def show(self, rows, order: np.ndarray, columns, labels: list[str], widths: list[int], cells) -> None:
        """Show `rows` (a ConversationTable) in `order`; `cells(conversation)` gives a row's texts."""
        self.rows, self.order, self.cells = rows, order, cells
        self.show_columns([c.key for c in columns], labels, widths, [c.numeric for c in columns])
        self.rows_changed()

    @property
    def row_count(self) -> int:
        return len(self.order)

    def conversation(self, row: int):
        return self.rows[int(self.order[row])]

    def get_row_at(self, row: int) -> list[str]:
        return [safe(t) for t in self.cells(self.conversation(row))]
