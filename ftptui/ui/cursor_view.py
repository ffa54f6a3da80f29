"""A scrolling view of lines with a cursor: what the packet list, the follow view, the
conversation list and the line views share, keys included.  ↑/↓ (k/j) move it a line, PgUp/PgDn a page, Home/End (g/G) to the
ends, and the view scrolls to keep it visible (below `HEADER` lines of column titles)."""
from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.scroll_view import ScrollView


def cursor_bindings(prefix: str, page_down: str = "pagedown", sideways: tuple[str, str] | None = None,
                    ends: tuple[str, str] = ("home,g", "end,G")) -> list[BindingType]:
    """The movement keys of a CursorView, with ids `prefix.up` and so on (for key maps);
    `sideways`: the keys that scroll left and right, for views wider than the screen; `ends`:
    the keys to the first and last line (a screen that binds g itself leaves it out)."""
    keys = [("up,k", "cursor(-1)", "Up", "up"), ("down,j", "cursor(1)", "Down", "down"),
            ("pageup", "page(-1)", "Page up", "page_up"), (page_down, "page(1)", "Page down", "page_down"),
            (ends[0], "first", "First", "first"), (ends[1], "last", "Last", "last")]
    if sideways is not None:
        keys += [(sideways[0], "scroll_x(-8)", "Left", "left"), (sideways[1], "scroll_x(8)", "Right", "right")]
    return [Binding(key, action, description, show=False, id=f"{prefix}.{name}")
            for key, action, description, name in keys]


class CursorView(ScrollView):
    HEADER = 0  # lines at the top that are not rows (a column header)
    # no automatic repaint: each view refreshes what the move changed (the list: two rows)
    cursor = reactive(0, always_update=True, repaint=False)

    @property
    def line_count(self) -> int:
        """How many lines the cursor can be on."""
        raise NotImplementedError

    @property
    def page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1 - self.HEADER)

    def keep_in_view(self, line: int) -> None:
        top, visible = self.scroll_offset.y, self.scrollable_content_region.height - self.HEADER
        if line < top:
            self.scroll_to(y=line, animate=False)
        elif visible > 0 and line >= top + visible:
            self.scroll_to(y=line - visible + 1, animate=False)

    def move_to(self, line: int) -> None:
        if self.line_count:
            self.cursor = max(0, min(self.line_count - 1, line))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * self.page)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.line_count - 1)

    def action_scroll_x(self, delta: int) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x + delta), animate=False)
