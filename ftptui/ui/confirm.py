"""A question before something is thrown away: a message and a few one-key answers."""
from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from .failures import Guarded
from .plain import plain


class ConfirmDialog(Guarded, ModalScreen):
    """Dismissed with the answer's value; Esc (and n) always means "no, leave things as they are"
    and dismisses None."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    #confirm { width: 76; max-width: 95%; height: auto; border: round $warning; background: $panel; padding: 0 1; }
    #confirm Label { width: 100%; }
    #confirm-answers { margin: 1 0 0 0; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,n", "dismiss(None)", "No", id="confirm.no")]

    def __init__(self, message: str, answers: list[tuple[str, str, str]]):
        """`answers`: (key, what it does, value dismissed with), e.g. ("y", "quit", "quit")."""
        super().__init__()
        self.message, self.answers = message, answers

    def compose(self):
        with Vertical(id="confirm"):
            yield Label(plain(self.message), id="confirm-message")
            yield Label(plain("   ".join(f"{key}: {what}" for key, what, _ in self.answers) + "   Esc/n: cancel"),
                        id="confirm-answers")

    def on_key(self, event) -> None:
        for key, _, value in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return
