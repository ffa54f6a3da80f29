"""A TCP stream's sequence diagram in the terminal (D from the packet list): the ladder, with
handshake/teardown folding, and the Mermaid text to copy or save."""
from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Log, Static

from .. import clipboard
from ..render.sequence import ladder, mermaid, steps
from ..streams.follow import endpoint_text, endpoints
from .failures import Guarded
from .plain import plain


class DiagramScreen(Guarded, Screen):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Back", id="diagram.close"),
        Binding("z", "fold", "Fold handshakes", id="diagram.fold"),
        Binding("m", "copy_mermaid", "Copy Mermaid", id="diagram.copy"),
        Binding("M", "save_mermaid", "Save Mermaid", id="diagram.save"),
    ]

    def __init__(self, index, stream: int):
        super().__init__()
        self.index, self.stream, self.fold = index, stream, False
        self.frames = index.stream_packets(stream)
        a, b = endpoints(index, int(self.frames[0]))
        self.a, self.b = (a[0], a[1]), (b[0], b[1])

    def compose(self):
        with Vertical():
            yield Static(plain(f"TCP stream {self.stream}: {endpoint_text(self.a)} ⇄ {endpoint_text(self.b)}"),
                         id="diagram-title")
            yield Log(id="diagram-log")
        box = Input(placeholder="file to save the Mermaid diagram in", id="diagram-path")
        box.display = False
        yield box
        yield Footer()

    def on_mount(self) -> None:
        self.draw()

    def steps(self):
        return steps(self.index, self.frames, {self.a}, self.fold)

    def draw(self) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write_lines(ladder(self.index, self.steps(), endpoint_text(self.a), endpoint_text(self.b)), scroll_end=False)

    def action_fold(self) -> None:
        self.fold = not self.fold
        self.draw()

    def mermaid_text(self) -> str:
        return mermaid(self.steps(), endpoint_text(self.a), endpoint_text(self.b))

    def action_copy_mermaid(self) -> None:
        routes = clipboard.copy(self.app, self.mermaid_text())
        self.notify(f"Mermaid diagram copied ({', '.join(routes) or 'no clipboard'})", timeout=3)

    def action_save_mermaid(self) -> None:
        box = self.query_one("#diagram-path", Input)
        box.value, box.display = f"tcp-stream-{self.stream}.mmd", True
        self.set_focus(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        try:
            with open(event.value.strip(), "w", encoding="utf-8") as f:
                f.write(self.mermaid_text())
            self.notify(f"Diagram written to {event.value.strip()}", timeout=4)
        except OSError as e:
            self.notify(f"Could not write: {e}", severity="error", timeout=6)
