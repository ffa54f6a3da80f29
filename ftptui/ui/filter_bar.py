"""The display-filter bar: validated as you type (green / red, as Wireshark's), with field-name
completion and the history of applied filters on Up/Down."""
from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..dfilter.compile import compile_filter
from ..dfilter.errors import FilterError
from ..dfilter.fields import complete
from ..dfilter.prepare import COMBINE, COMBINE_LABELS
from . import messages
from .failures import Guarded, report
from .history import load_filters, remember_filter
from .plain import plain

# the field name being typed at the end of the text: a word that does not continue a value
# (not after a digit, ':' or '/', so addresses and byte strings are left alone)
FIELD_AT_END = re.compile(r"(?<![A-Za-z0-9_:/.\-])[A-Za-z_][A-Za-z0-9_.\-]*$")


def in_string(text: str) -> bool:
    """Whether the end of `text` is inside a double-quoted string."""
    inside = False
    i = 0
    while i < len(text):
        c = text[i]
        if inside and c == "\\":
            i += 2
            continue
        if c == '"':
            inside = not inside
        i += 1
    return inside


def suggest(value: str) -> str | None:
    """`value` with the field name it ends with completed (the first of fields.complete), or None."""
    m = FIELD_AT_END.search(value)
    if not m or in_string(value[:m.start()]):
        return None
    prefix = m.group()
    names = complete(prefix, 1)
    if not names or names[0] == prefix:
        return None
    return value[:m.start()] + names[0]


class FieldSuggester(Suggester):
    """Inline completion of the field or protocol name under the cursor (Right or Tab accepts)."""

    def __init__(self):
        super().__init__(use_cache=True, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return suggest(value)


class FilterInput(Guarded, Input):
    BINDINGS = [
        Binding("up", "history(1)", "Older filter", show=False, id="filter.older"),
        Binding("down", "history(-1)", "Newer filter", show=False, id="filter.newer"),
        Binding("tab", "complete", "Complete", show=False, id="filter.complete"),
        Binding("escape", "leave", "Leave", show=False, id="filter.leave"),
    ]

    def __init__(self, **kwargs):
        super().__init__(placeholder="Apply a display filter … (/ from the list, Enter applies, Esc leaves)",
                         suggester=FieldSuggester(), compact=True, **kwargs)
        self.history: list[str] = []
        self.history_pos = -1  # -1: the text being typed (draft); k: history[k]
        self.draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        pos = max(-1, min(len(self.history) - 1, self.history_pos + step))
        if pos == self.history_pos:
            return
        if self.history_pos == -1:
            self.draft = self.value
        self.history_pos = pos
        self.value = self.draft if pos == -1 else self.history[pos]
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        if self._suggestion and self.cursor_at_end:
            self.action_cursor_right()
        else:
            self.post_message(messages.Leave(cancel=False))

    def action_leave(self) -> None:
        self.post_message(messages.Leave())


class FilterBar(Guarded, Vertical):
    """A label, the filter input and (when the text is invalid) one line with a caret and the error."""



    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state = "empty"           # "empty", "valid" or "invalid"
        self.error: FilterError | None = None

    def compose(self):
        with Horizontal(id="filter-line"):
            yield Label("Filter ", id="filter-label")
            yield FilterInput(id="filter")
        yield Static("", id="filter-msg", markup=False)

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    @property
    def value(self) -> str:
        return self.input.value

    def on_mount(self) -> None:
        self.input.history = load_filters()
        self.query_one("#filter-msg", Static).display = False

    def set_text(self, text: str) -> None:
        box = self.input
        box.value = text
        box.cursor_position = len(text)
        self.validate(text)

    def remember(self, text: str) -> None:
        self.input.history = remember_filter(text)
        self.input.history_pos = -1

    def validate(self, text: str) -> None:
        box = self.input
        msg = self.query_one("#filter-msg", Static)
        self.error = None
        if not text.strip():
            self.state = "empty"
        else:
            try:
                compile_filter(text)
                self.state = "valid"
            except FilterError as e:
                self.state = "invalid"
                self.error = e
            except Exception as e:  # a compiler bug must not take the browser down
                report(self.app, e, quiet=True)
                self.state = "invalid"
                self.error = FilterError(f"Internal error in the filter compiler: {type(e).__name__}: {e}",
                                         0, len(text))
        box.set_class(self.state == "valid", "filter-valid")
        box.set_class(self.state == "invalid", "filter-invalid")
        # one line whatever it says: showing or hiding it is the only change of size
        if self.error is None:
            msg.display = False
            msg.update("", layout=False)
            return
        msg.display = True
        msg.update(self.error_line(text, self.error), layout=False)

    def error_line(self, text: str, e: FilterError) -> Text:
        """A caret under the offending part (when it is in view), then the message: one line."""
        box = self.input
        pos = max(0, min(e.pos, len(text)))
        width = max(1, min(e.end, len(text) + 1) - pos)
        offset = box.content_region.x - self.content_region.x if box.content_region.width else 7
        col = offset + cell_len(text[:pos]) - box.scroll_offset.x
        line = Text()
        if offset <= col < max(offset + 1, box.content_region.width + offset - 1):
            line.append(" " * col)
            line.append("^" * min(width, max(1, box.content_region.width - (col - offset))), style="bold red")
            line.append(" ")
        else:
            line.append(f"column {pos + 1}: ", style="bold red")
        line.append(plain(e.message, style="red"))
        return line

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        box = self.input
        if box.history_pos != -1 and (box.history_pos >= len(box.history)
                                      or box.value != box.history[box.history_pos]):
            box.history_pos = -1
        self.validate(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.validate(event.value)
        if self.state == "invalid":
            self.app.bell()
            return
        self.post_message(messages.Apply(event.value.strip()))


FILTER_MENU = [(mode, how) for mode in ("apply", "prepare") for how in COMBINE]


class FilterMenu(Guarded, ModalScreen):
    """Wireshark's Apply as Filter / Prepare as Filter submenus for the selected tree field."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="filtermenu.close")]

    def __init__(self, expr: str):
        super().__init__()
        self.expr = expr

    def compose(self):
        with Vertical(id="filter-menu"):
            yield Label(plain(f"Filter on: {self.expr}"), id="filter-menu-title")
            options = []
            for mode, how in FILTER_MENU:
                verb = "Apply as Filter" if mode == "apply" else "Prepare as Filter"
                options.append(Option(f"{verb} › {COMBINE_LABELS[how]}", id=f"{mode}:{how}"))
            yield OptionList(*options, id="filter-menu-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        mode, how = (event.option.id or "apply:selected").split(":")
        self.dismiss((mode, how))
