"""Growing captures in the browser: a live capture, a pipe (ftptui -r -) or a file another
program is writing (--follow-file).

BrowserScreen holds a GrowingCapture, which follows the source as it grows (batches indexed in
a worker, posted as IndexProgress like a file's), makes the capture part of the status bar and
carries out the capture keys (start/stop, a new capture filter, restart).  What it needs of the
screen is the LiveHost protocol below.
"""
from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from ..capture.live import LiveCapture
from ..capture.reader import CaptureFile, open_capture
from ..capture.spool import IDLE, GrowingSource, StreamSpool, follow, open_growing
from ..dfilter.compile import Filter
from ..errors import CaptureError, FtptuiError
from ..store.index import PacketIndex
from ..text import safe
from .confirm import ConfirmDialog
from .failures import Guarded, log_path, report
from .messages import IndexProgress, IndexRun, SourceFull, SourceIdle
from .packet_list import PacketList
from .plain import plain

STATUS_EVERY = 0.5  # seconds between status bar refreshes of a live capture's counters
LIVE_ACTIONS = {"toggle_capture", "capture_filter", "restart_capture"}
LIVE_BINDINGS = [
    Binding("ctrl+e", "toggle_capture", "Start/Stop", id="browser.capture_toggle"),
    Binding("ctrl+k", "capture_filter", "Capture filter", id="browser.capture_filter"),
    # Wireshark's Capture › Restart; Ctrl+L stays the terminal's redraw
    Binding("ctrl+r", "restart_capture", "Restart", id="browser.capture_restart"),
]


# --- dialogs ---------------------------------------------------------------------------------------
class CaptureFilterDialog(Guarded, ModalScreen):
    """Asks for a capture filter (libpcap syntax).  `accept(text)` checks it and returns what to
    dismiss with; a CaptureError (libpcap's message, no privileges, no libpcap) is shown here and
    the dialog stays, so an invalid filter is never applied.  Esc cancels (dismisses None)."""

    DEFAULT_CSS = """
    CaptureFilterDialog { align: center middle; }
    #capfilter { width: 90; max-width: 95%; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    #capfilter-input { margin: 1 0 0 0; }
    #capfilter Label { width: 100%; }
    #capfilter-msg { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="capfilter.cancel")]

    def __init__(self, title: str, value: str, accept):
        super().__init__()
        self.title_text, self.value, self.accept = title, value, accept

    def compose(self):
        with Vertical(id="capfilter"):
            yield Label(plain(self.title_text), id="capfilter-title")
            yield Input(self.value, placeholder="capture filter, e.g. tcp port 21 (empty: every packet)",
                        id="capfilter-input")
            yield Label("", id="capfilter-msg")
            yield Label("Enter starts capturing with it · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.focus()
        box.cursor_position = len(box.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            result = self.accept(event.value.strip())
        except FtptuiError as e:
            self.query_one("#capfilter-msg", Label).update(plain(e))
            self.app.bell()
            return
        except Exception as e:  # never let a bug in checking take the app down
            report(self.app, e, "Checking the capture filter failed", quiet=True)
            self.query_one("#capfilter-msg", Label).update(plain(f"{type(e).__name__}: {e} (details in {log_path()})"))
            return
        self.dismiss(result)


class LiveHost(Protocol):
    """What GrowingCapture needs of the screen it serves (BrowserScreen)."""
    app: App
    index: PacketIndex
    cap: CaptureFile
    flt: Filter | None
    failed: Filter | None
    view_end: int
    stop: threading.Event

    @property
    def packet_list(self) -> PacketList: ...
    def notify(self, message: str, **kwargs: Any) -> None: ...
    def post_message(self, message: Any) -> bool: ...
    def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
    def set_interval(self, interval: float, callback: Any) -> Any: ...
    def update_status(self) -> None: ...
    def status_tail(self, text: Text) -> Text: ...
    def clear_details(self) -> None: ...
    def stop_filter_job(self) -> None: ...
    def follow_ftp(self) -> Any: ...
    def captured_anew(self) -> None: ...


class GrowingCapture:
    """The browser's growing source: following it, its status, and the capture keys."""

    def __init__(self, host: LiveHost, source: GrowingSource, cap: CaptureFile | None):
        self.host = host
        self.source = source
        self.live = source if isinstance(source, LiveCapture) else None
        self.generation = self.live.generation if self.live else 0
        self.old_caps: list[CaptureFile] = []  # closed with the screen: a worker may still read one
        self.run: IndexRun | None = None
        self._error_shown: str | None = None
        if cap is None:
            cap = open_capture(source.path, source.display_name) if self.live else open_growing(source)
        self.cap = cap

    # --- following the source -------------------------------------------------------------------
    def start(self) -> None:
        self.host.packet_list.live = True
        self.run = IndexRun(self.host.cap, self.host.index)
        self._follow(self.run)
        self.host.set_interval(STATUS_EVERY, self.tick)

    def _follow(self, run: IndexRun) -> None:
        self.host.run_worker(lambda: self._index_as_it_grows(run), thread=True, group="index")

    def _index_as_it_grows(self, run: IndexRun) -> None:
        """In a worker: index batches as they arrive; IndexProgress after each."""
        host, live = self.host, self.live
        try:
            for batch in follow(run.cap, self.source, run.stop, restartable=live is not None):
                if run.stop.is_set() or host.stop.is_set():
                    return
                if batch is IDLE:  # a live capture that stopped: it may be started again
                    host.post_message(SourceIdle(run, False))
                    continue
                if not run.index.add_batch(batch):  # --max-packets reached
                    run.index.done = True
                    host.post_message(IndexProgress(True))
                    host.post_message(SourceFull(run))
                    return
                host.post_message(IndexProgress(False))
            if live is None and not (run.stop.is_set() or host.stop.is_set()):
                run.index.done = True  # the stream ended (or the followed file was closed)
                host.post_message(IndexProgress(True))
                host.post_message(SourceIdle(run, True))
        except Exception as e:  # a bug in a decoder must not stop the app; say why the list stopped
            report(host.app, e, "Reading the capture failed (the list stops growing)")

    # called by the screen's handlers, after its own work
    def index_progress(self) -> None:
        self.new_rows_changed()

    def packet_selected(self) -> None:  # following stopped or resumed: "+N new" changes
        self.new_rows_changed()
        self.host.update_status()

    def source_idle(self, message: SourceIdle) -> None:
        if message.run is not self.run:
            return
        self.host.update_status()
        if len(self.host.index):
            self.host.follow_ftp()  # label the FTP data connections by the follower, once per idle spell

    def source_full(self, message: SourceFull) -> None:
        if message.run is self.run and self.live is not None and self.live.running:
            self.live.stop()
        self.host.update_status()

    def tick(self) -> None:
        """The status bar's counters, and a live capture's failure said once."""
        self.host.update_status()
        error = self.live.error if self.live else self.source.error
        if error and error != self._error_shown:
            self._error_shown = error
            self.host.notify(error, severity="error", timeout=10)

    def close(self) -> None:
        """The screen goes away: stop following; a live capture stops and its spool goes."""
        if self.run is not None:
            self.run.stop.set()
        try:
            self.source.close()
        except Exception as e:  # closing must not turn quitting into a crash; logged
            report(self.host.app, e, quiet=True)

    # --- the status bar ---------------------------------------------------------------------------
    def status_text(self) -> Text:
        host = self.host
        n = len(host.index)
        plist = host.packet_list
        shown = plist.rows
        text = Text(" ")
        if self.live is not None:
            s = self.live.stats()
            if s.running:
                text.append("● capturing", style="bold green")
            else:
                text.append("■ stopped", style="bold red")
            text.append(plain(f" on {', '.join(s.interfaces)}"))
            text.append(plain(f"  Capture filter: {s.capture_filter or '(none)'}"))
            text.append(f"  Captured: {s.packets:,}")
            text.append(f"  Dropped: {'?' if s.dropped is None else format(s.dropped, ',')}")
            text.append(f"  {s.pps:,.1f} pkt/s")
            text.append(f"  Displayed: {shown:,} of {n:,}")
        else:
            text.append(safe(self.source.display_name))
            text.append(f"  Packets: {n:,}  Displayed: {shown:,} of {n:,}")
            if n:
                text.append(f" ({shown / n * 100:.1f}%)")
            if host.index.done or self.source.finished:
                ended = "stream ended" if isinstance(self.source, StreamSpool) else "stopped following"
                error = self.source.error
                text.append(plain("  " + ended + (f": {error}" if error else ""), style="bold"))
            elif isinstance(self.source, StreamSpool):
                text.append(plain(f"  reading {self.source.display_name}", style="bold"))
            else:
                text.append("  following the file (tail -f)", style="bold")
        if not plist.following and plist.new_rows:
            text.append(f"  +{plist.new_rows:,} new (End follows)", style="bold reverse")
        return host.status_tail(text)

    def new_rows_changed(self) -> None:
        """Show "+N new" on the list's border too, where the eye is."""
        plist = self.host.packet_list
        plist.border_subtitle = (f"+{plist.new_rows:,} new · End follows"
                                 if plist.live and not plist.following and plist.new_rows else "")

    # --- the capture keys -------------------------------------------------------------------------
    def toggle_capture(self) -> None:
        live, host = self.live, self.host
        if live is None:
            return
        if live.running:
            live.stop()
            host.notify("Capture stopped (Ctrl+E starts it again)", timeout=3)
        else:
            try:
                live.start()
            except CaptureError as e:
                host.notify(str(e), severity="error", timeout=10)
                return
            self._error_shown = None
            host.notify("Capturing", timeout=2)
        host.update_status()

    def ask_capture_filter(self) -> None:
        live = self.live
        if live is None:
            return
        title = (f"Capture filter for {live.display_name} (libpcap syntax): the capture restarts "
                 "with it, and the packets captured so far are cleared")
        self.host.app.push_screen(CaptureFilterDialog(title, live.capture_filter, self._set_capture_filter),
                                  self._capture_filter_set)

    def _set_capture_filter(self, text: str) -> str:
        assert self.live is not None
        self.live.set_filter(text)  # checked first: an invalid filter raises and is not applied
        return text

    def _capture_filter_set(self, text: str | None) -> None:
        if text is None:
            return
        self.restart(start=True)
        self.host.notify(f"Capturing with the capture filter {text!r}" if text else "Capturing every packet",
                         timeout=3)

    def ask_restart(self) -> None:
        """Drop the packets captured so far and go on capturing into an empty capture; asks
        first when there are packets (they are gone for good, even from a -w file)."""
        if self.live is None:
            return
        n = len(self.host.index)
        if not n:
            self.restart(start=False)
            return
        where = f" and {self.live.path} starts afresh" if self.live.keeps_file else ""
        self.host.app.push_screen(
            ConfirmDialog(f"Restart the capture? The {n:,} packets captured so far are dropped{where}.",
                          [("y", "restart", "restart"), ("enter", "restart", "restart")]),
            self._restart_answered)

    def _restart_answered(self, answer) -> None:
        if answer:
            self.restart(start=False)

    def unsaved_packets(self, saved: int) -> int:
        """Packets quitting would throw away: a live capture or a pipe spooled to a temporary
        file (no -w), beyond the `saved` that "save as" wrote whole."""
        if getattr(self.source, "keeps_file", True):
            return 0
        return max(0, len(self.host.index) - saved)

    def restart(self, start: bool) -> None:
        """Clear: a new, empty spool and index (the capture keeps running if it was); with
        `start`, capture afterwards even if it was stopped."""
        live = self.live
        assert live is not None
        try:
            live.clear()
            if start and not live.running:
                live.start()
        except CaptureError as e:
            self.host.notify(str(e), severity="error", timeout=10)
        if live.generation != self.generation:
            self._switch_spool()
        self.host.update_status()

    def _switch_spool(self) -> None:
        """Follow the live capture's new spool with a new, empty index."""
        live, host = self.live, self.host
        assert live is not None
        host.stop_filter_job()
        if self.run is not None:
            self.run.stop.set()
        self.old_caps.append(host.cap)
        self.generation = live.generation
        host.cap = open_capture(live.path, live.display_name)
        host.index = PacketIndex(host.cap)
        host.view_end, host.failed = 0, None
        host.captured_anew()
        plist = host.packet_list
        plist.set_index(host.index, None if host.flt is None else np.zeros(0, dtype=np.int64))
        host.clear_details()
        self.new_rows_changed()
        self.run = IndexRun(host.cap, host.index)
        self._follow(self.run)
