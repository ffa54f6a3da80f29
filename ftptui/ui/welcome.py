"""Welcome screen, as Wireshark's: an Open part and a Capture part."""
from __future__ import annotations

import os

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ..capture.interfaces import describe, list_interfaces
from ..errors import FtptuiError
from ..text import safe
from . import messages
from .failures import Guarded
from .key_bar import KeyBar
from .plain import plain
from .recent import load_recent


class WelcomeScreen(Guarded, Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit", id="welcome.quit"),
                Binding("o", "focus_path", "Open path", id="welcome.open")]



    def __init__(self, sample: str):
        super().__init__()
        self.sample = sample

    def compose(self):
        with Vertical(id="welcome"):
            yield Label("Welcome to ftptui", id="title")
            yield Label("Open", classes="section")
            options = [Option(plain(f"Sample: active FTP session ({self.sample})"), id="sample:")]
            sample = os.path.abspath(self.sample)
            options += [Option(plain(p), id="recent:" + p) for p in load_recent() if p != sample]
            yield OptionList(*options, id="open-list")
            yield Input(placeholder="…or type a capture file path and press Enter", id="path")
            yield Label("Capture", classes="section")
            yield OptionList(*[Option(plain(describe(i)), id="iface:" + i.name) for i in list_interfaces()],
                             id="iface-list")
            yield Label("Enter on an interface asks for a capture filter and starts capturing "
                        "(capturing needs root or the CAP_NET_RAW capability).", classes="hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#open-list", OptionList).focus()

    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        oid = event.option.id or ""
        if oid == "sample:":
            self.post_message(messages.OpenFile(self.sample))
        elif oid.startswith("recent:"):
            self.post_message(messages.OpenFile(oid[len("recent:"):]))
        elif oid.startswith("iface:"):
            self.ask_capture_filter(oid[len("iface:"):])

    def ask_capture_filter(self, name: str) -> None:
        """Ask for a capture filter for interface `name`; the dialog checks it (and the
        interface) with libpcap and stays open, with the message, until it is valid."""
        from ..capture.live import LiveCapture, resolve_interface
        from .live import CaptureFilterDialog

        def check(text: str):
            return LiveCapture([name], text)

        def chosen(live) -> None:
            if live is not None:
                self.post_message(messages.StartCapture(live))

        try:
            resolve_interface(name)  # the interface itself (unsupported link type, gone): say so now
        except FtptuiError as e:
            self.notify(str(e), severity="error", timeout=10)
            return
        self.app.push_screen(CaptureFilterDialog(f"Capture on {safe(name)}: capture filter (libpcap syntax)",
                                                 "", check), chosen)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.post_message(messages.OpenFile(event.value.strip()))
