"""Sequence diagrams in the terminal: `DiagramPane` draws one in a worker (with progress, and
stopped when something else is asked for) and shows it lazily; `DiagramScreen` is a TCP
stream's diagram (D from the packet list), with handshake/teardown folding and the Mermaid
text to copy or save."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from .. import clipboard
from ..render.sequence import Step, ladder, mermaid, steps
from ..streams.follow import endpoint_text, endpoints
from .failures import Guarded, report
from .key_bar import KeyBar
from .lines_view import LazyLines, LinesView, ListLines
from .messages import DiagramReady, Progress
from .plain import plain

# make(tick) -> steps; tick(done, total) reports progress and raises once the drawing is stale
StepMaker = Callable[[Callable[[int, int], None]], list[Step]]


def copy_diagram(screen, text: str) -> None:
    """Put a Mermaid diagram on the clipboard and say where it went."""
    routes = clipboard.copy(screen.app, text)
    screen.notify(f"Mermaid diagram copied ({', '.join(routes) or 'no clipboard'})", timeout=3)


def save_diagram(screen, path: str, text: str) -> None:
    """Write a Mermaid diagram to `path` (the user's choice) and say how it went."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        screen.notify(f"Diagram written to {path}", timeout=4)
    except OSError as e:
        screen.notify(f"Could not write: {e}", severity="error", timeout=6)


class StopDrawing(Exception):
    """The diagram being drawn is no longer wanted."""


class DiagramPane(Guarded, Vertical):
    """A diagram's ladder; drawings are kept by key, so going back to one shows it at once."""

    DEFAULT_CSS = """
    DiagramPane > .diagram-status { height: 1; }
    DiagramPane > LinesView { height: 1fr; }
    """

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = index
        self.drawn: dict[Any, tuple[list[Step], list[str]]] = {}
        self.key: Any = None

    def compose(self):
        yield Static("", classes="diagram-status")
        yield LinesView(grow_only=True)  # another session's ladder: no new layout of the screen

    @property
    def view(self) -> LinesView:
        return self.query_one(LinesView)

    def steps(self) -> list[Step] | None:
        """The steps shown, None while they are being drawn."""
        done = self.drawn.get(self.key)
        return done[0] if done else None

    def draw(self, key: Any, make: StepMaker, client: str, server: str) -> None:
        """Show the diagram `key`, drawing it with make() first unless it was drawn before."""
        self.key = key
        done = self.drawn.get(key)
        if done is not None:
            self.workers.cancel_group(self, "diagram")
            self.status("")
            self.view.show(ListLines(done[1]))
            return
        self.status(plain("drawing the diagram…"))
        self.view.show(LazyLines(0, 0, str))
        # the worker starts once this is painted: it would take turns with the paint otherwise
        self.call_after_refresh(self._start_drawing, key, make, client, server)

    def _start_drawing(self, key: Any, make: StepMaker, client: str, server: str) -> None:
        if key == self.key and key not in self.drawn:  # (not if another was asked for since)
            self.run_drawing(key, make, client, server)

    def status(self, text) -> None:
        self.query_one(".diagram-status", Static).update(text, layout=False)  # one line, always

    @work(thread=True, exclusive=True, group="diagram")
    def run_drawing(self, key: Any, make: StepMaker, client: str, server: str) -> None:
        worker = get_current_worker()

        def tick(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise StopDrawing()
            self.post_message(Progress("diagram", done, total))
        try:
            drawn = make(tick)
            lines = ladder(self.index, drawn, client, server)
        except StopDrawing:
            return
        except Exception as e:  # a bug in the drawing must not take the browser down
            report(self.app, e, "Could not draw the diagram")
            return
        self.post_message(DiagramReady(key, drawn, lines))

    def on_progress(self, message: Progress) -> None:
        if message.what == "diagram":
            message.stop()
            self.status(plain(f"drawing the diagram… {message.done:,} of {message.total:,} packets"))

    def on_diagram_ready(self, message: DiagramReady) -> None:
        self.drawn[message.key] = (message.steps, message.lines)
        if message.key == self.key:
            self.status("")
            self.view.show(ListLines(message.lines))


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
            yield DiagramPane(self.index, id="diagram-pane")
        box = Input(placeholder="file to save the Mermaid diagram in", id="diagram-path")
        box.display = False
        yield box
        yield KeyBar()

    def on_mount(self) -> None:
        self.draw()
        self.query_one(DiagramPane).view.focus()

    def draw(self) -> None:
        fold = self.fold
        self.query_one(DiagramPane).draw(
            fold, lambda tick: steps(self.index, self.frames, {self.a}, fold, tick),
            endpoint_text(self.a), endpoint_text(self.b))

    def action_fold(self) -> None:
        self.fold = not self.fold
        self.draw()

    def mermaid_text(self) -> str | None:
        drawn = self.query_one(DiagramPane).steps()
        if drawn is None:
            self.notify("The diagram is still being drawn", severity="warning", timeout=3)
            return None
        return mermaid(drawn, endpoint_text(self.a), endpoint_text(self.b))

    def action_copy_mermaid(self) -> None:
        text = self.mermaid_text()
        if text is not None:
            copy_diagram(self, text)

    def action_save_mermaid(self) -> None:
        box = self.query_one("#diagram-path", Input)
        box.value, box.display = f"tcp-stream-{self.stream}.mmd", True
        self.set_focus(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        text = self.mermaid_text()
        if text is not None:
            save_diagram(self, event.value.strip(), text)
