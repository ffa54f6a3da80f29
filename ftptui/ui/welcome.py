"""Welcome screen, as Wireshark's: an Open part and a Capture part."""
from __future__ import annotations

import os

from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from ..capture.interfaces import describe, list_interfaces
from ..dissect.text import safe
from .recent import load_recent


class WelcomeScreen(Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit", id="welcome.quit"),
                Binding("o", "focus_path", "Open path", id="welcome.open")]

    class OpenFile(Message):
        def __init__(self, path: str):
            self.path = path
            super().__init__()

    def __init__(self, sample: str):
        super().__init__()
        self.sample = sample

    def compose(self):
        with Vertical(id="welcome"):
            yield Label("Welcome to ftptui", id="title")
            yield Label("Open", classes="section")
            options = [Option(f"Sample: active FTP session ({self.sample})", id="sample:")]
            sample = os.path.abspath(self.sample)
            options += [Option(safe(p), id="recent:" + p) for p in load_recent() if p != sample]
            yield OptionList(*options, id="open-list")
            yield Input(placeholder="…or type a capture file path and press Enter", id="path")
            yield Label("Capture", classes="section")
            yield OptionList(*[Option(safe(describe(i)), id="iface:" + i.name) for i in list_interfaces()],
                             id="iface-list")
            yield Label("Live capture from these interfaces arrives in a later version; "
                        "use tcpdump -w and open the file meanwhile.", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#open-list", OptionList).focus()

    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        oid = event.option.id or ""
        if oid == "sample:":
            self.post_message(self.OpenFile(self.sample))
        elif oid.startswith("recent:"):
            self.post_message(self.OpenFile(oid[len("recent:"):]))
        elif oid.startswith("iface:"):
            self.notify(f"Live capture on {oid[6:]} is not available yet.", severity="warning")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.post_message(self.OpenFile(event.value.strip()))
