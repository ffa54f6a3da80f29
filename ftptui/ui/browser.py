"""The main screen: packet list, detail tree and hex pane, with the index built in a worker."""
from __future__ import annotations

import threading

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ..capture import open_capture
from ..dissect.fallback import scapy_layers
from ..dissect.packet import dissect
from ..store.index import PacketIndex
from .detail_tree import DetailTree
from .hex_view import HexView
from .packet_list import PacketList


# layers the fast decoders only summarise: the tree adds scapy's dissection below them
FALLBACK_LAYERS = {"http", "tls", "ssh", "dhcp", "dhcpv6", "ntp", "nbns", "ssdp", "igmp", "stp", "llc", "data"}


class IndexProgress(Message):
    """The indexer added packets; newer progress replaces older queued ones."""

    def __init__(self, done: bool):
        self.done = done
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexProgress) and not message.done


def progress_bar(fraction: float, width: int = 20) -> str:
    filled = int(round(fraction * width))
    return "[" + "█" * filled + "░" * (width - filled) + f"] {fraction * 100:3.0f}%"


class BrowserScreen(Screen):
    BINDINGS = [
        Binding("ctrl+g,colon", "goto", "Go to packet", id="browser.goto"),
        Binding("escape", "cancel_goto", "Cancel", show=False, id="browser.cancel"),
        Binding("q", "app.quit", "Quit", id="browser.quit"),
    ]

    def __init__(self, path: str):
        super().__init__()
        self.cap = open_capture(path)  # raises CaptureError before anything is drawn
        self.index = PacketIndex(self.cap)
        self.path = path
        self.stop = threading.Event()
        self.current = None

    def compose(self):
        with Vertical(id="panes"):
            yield PacketList(self.index, id="packets")
            with Horizontal(id="lower"):
                yield DetailTree(id="tree")
                yield HexView(id="hex")
        yield Input(placeholder="Go to packet number", id="goto")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#goto", Input).display = False
        self.query_one(PacketList).focus()
        self.build_index()

    def on_unmount(self) -> None:
        self.stop.set()

    @work(thread=True, exclusive=True, group="index")
    def build_index(self) -> None:
        for batch in self.cap.scan():
            if self.stop.is_set():
                return
            self.index.add_batch(batch)
            self.post_message(IndexProgress(False))
        self.index.done = True
        self.post_message(IndexProgress(True))

    def on_index_progress(self, message: IndexProgress) -> None:
        plist = self.query_one(PacketList)
        first = plist.rows == 0
        plist.sync()
        if first and plist.rows:
            plist.move_to(0)
        self.update_status()
        if message.done:
            for w in self.cap.warnings:
                self.notify(w, severity="warning", timeout=10)

    def update_status(self) -> None:
        n = len(self.index)
        text = f" {self.path}  Packets: {n:,}"
        if not self.index.done:
            total = max(self.index.total_bytes, 1)
            text += "  indexing " + progress_bar(self.index.bytes_done / total)
        if self.cap.warnings:
            text += "  ⚠ " + self.cap.warnings[0]
        self.query_one("#status", Static).update(text)

    def on_packet_list_selected(self, message: PacketList.Selected) -> None:
        if message.row >= len(self.index):
            return
        d = dissect(self.index, message.row)
        if d.layers and d.layers[-1].name in FALLBACK_LAYERS:
            d.layers += scapy_layers(self.index.packet_bytes(message.row), int(self.index.field("link", message.row)))
        self.current = d
        self.query_one(DetailTree).show(d)
        self.query_one(HexView).show(self.index.packet_bytes(message.row))

    def on_detail_tree_field_selected(self, message: DetailTree.FieldSelected) -> None:
        f = message.field
        self.query_one(HexView).highlight(f.start, f.length)

    def action_goto(self) -> None:
        box = self.query_one("#goto", Input)
        box.display = True
        box.value = ""
        box.focus()

    def action_cancel_goto(self) -> None:
        box = self.query_one("#goto", Input)
        if box.display:
            box.display = False
            self.query_one(PacketList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "goto":
            return
        text = event.value.strip()
        plist = self.query_one(PacketList)
        if not text.isdigit() or not 1 <= int(text) <= plist.rows:
            self.notify(f"No packet {text!r}: packets are 1..{plist.rows}", severity="error")
            return
        event.input.display = False
        plist.move_to(int(text) - 1)
        plist.focus()
