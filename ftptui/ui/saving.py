"""Save as (w, Ctrl+S) and marks (m), for every capture the browser shows: the dialog, and
writing the chosen packets in a worker (a growing capture keeps growing meanwhile)."""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Protocol

import numpy as np
from textual.app import App
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

from ..capture.reader import CaptureFile
from ..capture.writer import format_for, write_capture
from ..dfilter.compile import Filter
from ..errors import FtptuiError
from ..store.index import PacketIndex
from ..text import safe
from .failures import Guarded, report
from .messages import Saved
from .packet_list import PacketList

WHICH = ("all", "displayed", "marked")


class SaveDialog(Guarded, ModalScreen):
    """Save as: which packets (all / displayed / marked), the format (pcap / pcapng) and the
    file name; Enter in the name saves, Tab moves between the choices, Esc cancels.  Dismisses
    (which, format, path) or None."""

    DEFAULT_CSS = """
    SaveDialog { align: center middle; }
    #save { width: 90; max-width: 95%; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    #save RadioSet { width: 100%; }
    #save-path { margin: 1 0 0 0; }
    #save Label { width: 100%; }
    #save-msg { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    def __init__(self, counts: dict[str, int], path: str, which: str = "all"):
        super().__init__()
        self.counts, self.path, self.which = counts, path, which

    def compose(self):
        fmt = format_for(self.path)
        with Vertical(id="save"):
            yield Label("Save packets as", id="save-title")
            with RadioSet(id="save-which"):
                for w in WHICH:
                    yield RadioButton(f"{w.capitalize()} packets ({self.counts.get(w, 0):,})",
                                      value=w == self.which, id=f"save-{w}")
            with RadioSet(id="save-format"):
                yield RadioButton("pcap", value=fmt == "pcap", id="save-pcap")
                yield RadioButton("pcapng", value=fmt == "pcapng", id="save-pcapng")
            yield Input(self.path, placeholder="file name", id="save-path")
            yield Label("", id="save-msg")
            yield Label("Enter saves · Tab: which packets, format · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        box = self.query_one("#save-path", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @property
    def chosen_which(self) -> str:
        return WHICH[max(0, self.query_one("#save-which", RadioSet).pressed_index)]

    @property
    def chosen_format(self) -> str:
        return ("pcap", "pcapng")[max(0, self.query_one("#save-format", RadioSet).pressed_index)]

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id != "save-format":
            return
        box = self.query_one("#save-path", Input)
        stem, ext = os.path.splitext(box.value)
        if ext.lower() in (".pcap", ".pcapng"):
            box.value = f"{stem}.{self.chosen_format}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        which = self.chosen_which
        msg = self.query_one("#save-msg", Label)
        if not path:
            msg.update("Type a file name")
            return
        if not self.counts.get(which):
            msg.update("No packets are marked: m marks the selected packet" if which == "marked"
                       else f"There are no {which} packets to save")
            self.app.bell()
            return
        self.dismiss((which, format_for(path, self.chosen_format), path))


def default_save_name(source_name: str, fmt: str) -> str:
    base = os.path.splitext(os.path.basename(source_name))[0] if os.path.exists(source_name) else "capture"
    return f"{base or 'capture'}-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"


class SaveHost(Protocol):
    """What saving needs of the screen it serves (BrowserScreen)."""
    app: App
    index: PacketIndex
    cap: CaptureFile
    path: str
    flt: Filter | None
    stop: threading.Event
    growing: bool

    @property
    def packet_list(self) -> PacketList: ...
    def notify(self, message: str, **kwargs: Any) -> None: ...
    def post_message(self, message: Any) -> bool: ...
    def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
    def update_status(self) -> None: ...


class SaveAs:
    """The browser's "save as" and marks."""

    def __init__(self, host: SaveHost):
        self.host = host
        self.saved_packets = 0  # packets of the current capture written whole (all packets)

    def mark(self) -> None:
        plist = self.host.packet_list
        frame = plist.current_frame
        if frame is None:
            self.host.app.bell()
            return
        plist.toggle_mark(frame)
        self.host.update_status()

    def ask(self) -> None:
        host = self.host
        plist = host.packet_list
        n = len(host.index)
        counts = {"all": n, "displayed": plist.rows, "marked": len(plist.marked)}
        name = "" if host.growing else host.path
        which = "marked" if plist.marked else ("displayed" if host.flt is not None else "all")
        fmt = "pcapng" if host.cap.format == "pcapng" else "pcap"
        host.app.push_screen(SaveDialog(counts, default_save_name(name, fmt), which), self._chosen)

    def _chosen(self, choice) -> None:
        if not choice:
            return
        which, fmt, path = choice
        host = self.host
        plist = host.packet_list
        if which == "all":
            frames = np.arange(len(host.index), dtype=np.int64)
        elif which == "displayed":
            frames = (np.arange(plist.rows, dtype=np.int64) if plist.frames is None
                      else plist.frames[:plist.rows].copy())
        else:
            frames = np.asarray(sorted(plist.marked), dtype=np.int64)
        host.notify(f"Saving {len(frames):,} packets to {safe(path)}…", timeout=2)
        index = host.index
        host.run_worker(lambda: self._write(index, frames, path, fmt, which), thread=True, group="save")

    def _write(self, index, frames: np.ndarray, path: str, fmt: str, which: str) -> None:
        """In a worker: write the packets; a Saved message says how it went."""
        host = self.host
        try:
            n = write_capture(index, frames, path, fmt, stop=host.stop)
            if which == "all" and index is host.index:
                self.saved_packets = max(self.saved_packets, len(frames))
        except FtptuiError as e:
            host.post_message(Saved(f"Could not save: {e}", error=True))
        except Exception as e:  # never crash on a save
            report(host.app, e, "Saving failed")
        else:
            left = len(frames) - n
            extra = f" ({left} custom blocks left out)" if left else ""
            host.post_message(Saved(f"Saved {n:,} {which} packets as {fmt} to "
                                    f"{os.path.abspath(os.path.expanduser(path))}{extra}"))
