"""Growing captures in the browser: a live capture, a pipe (ftptui -r -) or a file another
program is writing (--follow-file).

BrowserScreen mixes in LiveBrowser, which follows the source as it grows (batches indexed in a
worker, posted as IndexProgress like a file's), adds the capture part of the status bar, the
capture keys (start/stop, restart with a new capture filter, clear) and, for every capture,
marking packets and "save as".  The dialogs are small modal screens.
"""
from __future__ import annotations

import os
import time

import numpy as np
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

from ..capture.live import LiveCapture
from ..capture.reader import CaptureFile, open_capture
from ..capture.spool import IDLE, StreamSpool, follow, open_growing
from ..capture.writer import format_for, write_capture
from ..dfilter.compile import Filter
from ..errors import CaptureError, FtptuiError
from ..store.index import PacketIndex
from ..text import safe
from .confirm import ConfirmDialog
from .failures import Guarded, log_path, report
from .messages import IndexProgress, IndexRun, Saved, SourceFull, SourceIdle
from .packet_list import PacketList
from .plain import plain

STATUS_EVERY = 0.5  # seconds between status bar refreshes of a live capture's counters
LIVE_ACTIONS = {"toggle_capture", "capture_filter", "restart_capture"}


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


# --- the browser's part ----------------------------------------------------------------------------
def default_save_name(source_name: str, fmt: str) -> str:
    base = os.path.splitext(os.path.basename(source_name))[0] if os.path.exists(source_name) else "capture"
    return f"{base or 'capture'}-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"


class LiveBrowser:
    """What BrowserScreen does for a growing source (see the module's docstring)."""

    LIVE_BINDINGS = [
        Binding("ctrl+e", "toggle_capture", "Start/Stop", id="browser.capture_toggle"),
        Binding("ctrl+k", "capture_filter", "Capture filter", id="browser.capture_filter"),
        # Wireshark's Capture › Restart; Ctrl+L stays the terminal's redraw
        Binding("ctrl+r", "restart_capture", "Restart", id="browser.capture_restart"),
        Binding("w,ctrl+s", "save", "Save as", id="browser.save"),
        Binding("m", "mark", "Mark", id="browser.mark"),
    ]

    saved_packets = 0  # packets of this capture written whole by "save as" (all packets)
    # set by _open_source
    source = None                  # None: a plain capture file
    flt: Filter | None = None      # the applied display filter (BrowserScreen's)
    failed: Filter | None = None   # an applied filter whose run on new packets raised (BrowserScreen's)
    live: LiveCapture | None = None
    run: IndexRun | None = None

    def _open_source(self, source, cap: CaptureFile | None) -> CaptureFile:
        """Open the capture file of a growing source (BrowserScreen.__init__)."""
        self.source = source
        self.live = source if isinstance(source, LiveCapture) else None
        self.generation = self.live.generation if self.live else 0
        self.old_caps: list[CaptureFile] = []
        self._error_shown: str | None = None
        if cap is None:
            cap = open_capture(source.path, source.display_name) if self.live else open_growing(source)
        return cap

    @property
    def growing(self) -> bool:
        return self.source is not None

    # --- following the source -------------------------------------------------------------------
    def start_following(self) -> None:
        plist = self.packet_list
        plist.live = True
        self.run = IndexRun(self.cap, self.index)
        self.follow_source(self.run)
        self.set_interval(STATUS_EVERY, self.tick)

    @property
    def packet_list(self) -> PacketList:
        return self.query_one(PacketList)

    @work(thread=True, group="index")
    def follow_source(self, run: IndexRun) -> None:
        live = self.live
        try:
            for batch in follow(run.cap, self.source, run.stop, restartable=live is not None):
                if run.stop.is_set() or self.stop.is_set():
                    return
                if batch is IDLE:  # a live capture that stopped: it may be started again
                    self.post_message(SourceIdle(run, False))
                    continue
                if not run.index.add_batch(batch):  # --max-packets reached
                    run.index.done = True
                    self.post_message(IndexProgress(True))
                    self.post_message(SourceFull(run))
                    return
                self.post_message(IndexProgress(False))
            if live is None and not (run.stop.is_set() or self.stop.is_set()):
                run.index.done = True  # the stream ended (or the followed file was closed)
                self.post_message(IndexProgress(True))
                self.post_message(SourceIdle(run, True))
        except Exception as e:  # a bug in a decoder must not stop the app; say why the list stopped
            report(self.app, e, "Reading the capture failed (the list stops growing)")

    # BrowserScreen's handlers of these run first (Textual calls each class's handler in the MRO)
    def on_index_progress(self, message) -> None:
        if self.growing:
            self.new_rows_changed()

    def on_packet_list_selected(self, message) -> None:
        if self.growing:  # following stopped or resumed: "+N new" changes
            self.new_rows_changed()
            self.update_status()

    def on_source_idle(self, message: SourceIdle) -> None:
        if message.run is not self.run:
            return
        self.update_status()
        if len(self.index):
            self.follow_ftp()  # label the FTP data connections by the follower, once per idle spell

    def on_source_full(self, message: SourceFull) -> None:
        if message.run is self.run and self.live is not None and self.live.running:
            self.live.stop()
        self.update_status()

    def tick(self) -> None:
        """The status bar's counters, and a live capture's failure said once."""
        self.update_status()
        error = self.live.error if self.live else getattr(self.source, "error", None)
        if error and error != self._error_shown:
            self._error_shown = error
            self.notify(error, severity="error", timeout=10)

    def close_source(self) -> None:
        """The screen goes away: stop following; a live capture stops and its spool goes."""
        if self.run is not None:
            self.run.stop.set()
        close = getattr(self.source, "close", None)
        if close is not None:
            try:
                close()
            except Exception as e:  # closing must not turn quitting into a crash; logged
                report(self.app, e, quiet=True)

    # --- the status bar ---------------------------------------------------------------------------
    def live_status_text(self) -> Text:
        n = len(self.index)
        plist = self.packet_list
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
            if self.index.done or self.source.finished:
                ended = "stream ended" if isinstance(self.source, StreamSpool) else "stopped following"
                error = getattr(self.source, "error", None)
                text.append(plain("  " + ended + (f": {error}" if error else ""), style="bold"))
            elif isinstance(self.source, StreamSpool):
                text.append(plain(f"  reading {self.source.display_name}", style="bold"))
            else:
                text.append("  following the file (tail -f)", style="bold")
        if not plist.following and plist.new_rows:
            text.append(f"  +{plist.new_rows:,} new (End follows)", style="bold reverse")
        return self.status_tail(text)

    def new_rows_changed(self) -> None:
        """Show "+N new" on the list's border too, where the eye is."""
        plist = self.packet_list
        plist.border_subtitle = (f"+{plist.new_rows:,} new · End follows"
                                 if plist.live and not plist.following and plist.new_rows else "")

    # --- keys -------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in LIVE_ACTIONS:
            return self.live is not None
        return True

    def action_toggle_capture(self) -> None:
        live = self.live
        if live is None:
            return
        if live.running:
            live.stop()
            self.notify("Capture stopped (Ctrl+E starts it again)", timeout=3)
        else:
            try:
                live.start()
            except CaptureError as e:
                self.notify(str(e), severity="error", timeout=10)
                return
            self._error_shown = None
            self.notify("Capturing", timeout=2)
        self.update_status()

    def action_capture_filter(self) -> None:
        live = self.live
        if live is None:
            return
        title = (f"Capture filter for {live.display_name} (libpcap syntax): the capture restarts "
                 "with it, and the packets captured so far are cleared")
        self.app.push_screen(CaptureFilterDialog(title, live.capture_filter, self._set_capture_filter),
                             self._capture_filter_set)

    def _set_capture_filter(self, text: str) -> str:
        self.live.set_filter(text)  # checked first: an invalid filter raises and is not applied
        return text

    def _capture_filter_set(self, text: str | None) -> None:
        if text is None:
            return
        self.restart_capture(start=True)
        self.notify(f"Capturing with the capture filter {text!r}" if text else "Capturing every packet", timeout=3)

    def action_restart_capture(self) -> None:
        """Drop the packets captured so far and go on capturing into an empty capture; asks
        first when there are packets (they are gone for good, even from a -w file)."""
        if self.live is None:
            return
        n = len(self.index)
        if not n:
            self.restart_capture(start=False)
            return
        where = f" and {self.live.path} starts afresh" if self.live.keeps_file else ""
        self.app.push_screen(ConfirmDialog(f"Restart the capture? The {n:,} packets captured so far are dropped{where}.",
                                           [("y", "restart", "restart"), ("enter", "restart", "restart")]),
                             lambda answer: answer and self.restart_capture(start=False))

    def unsaved_packets(self) -> int:
        """Packets quitting would throw away: a live capture or a pipe spooled to a temporary
        file (no -w), beyond what "save as" saved whole."""
        source = self.source
        if source is None or getattr(source, "keeps_file", True):
            return 0
        return max(0, len(self.index) - self.saved_packets)

    def restart_capture(self, start: bool) -> None:
        """Clear: a new, empty spool and index (the capture keeps running if it was); with
        `start`, capture afterwards even if it was stopped."""
        live = self.live
        try:
            live.clear()
            if start and not live.running:
                live.start()
        except CaptureError as e:
            self.notify(str(e), severity="error", timeout=10)
        if live.generation != self.generation:
            self._switch_spool()
        self.update_status()

    def _switch_spool(self) -> None:
        """Follow the live capture's new spool with a new, empty index."""
        live = self.live
        self._stop_job()
        if self.run is not None:
            self.run.stop.set()
        self.old_caps.append(self.cap)  # closed with the screen: a worker may still be reading it
        self.generation = live.generation
        self.cap = open_capture(live.path, live.display_name)
        self.index = PacketIndex(self.cap)
        self.saved_packets = 0
        self.view_end, self.failed = 0, None
        plist = self.packet_list
        plist.set_index(self.index, None if self.flt is None else np.zeros(0, dtype=np.int64))
        self.clear_details()
        self.new_rows_changed()
        self.run = IndexRun(self.cap, self.index)
        self.follow_source(self.run)

    def action_mark(self) -> None:
        plist = self.packet_list
        frame = plist.current_frame
        if frame is None:
            self.app.bell()
            return
        plist.toggle_mark(frame)
        self.update_status()

    def action_save(self) -> None:
        plist = self.packet_list
        n = len(self.index)
        counts = {"all": n, "displayed": plist.rows, "marked": len(plist.marked)}
        name = self.path if self.source is None else ""
        which = "marked" if plist.marked else ("displayed" if self.flt is not None else "all")
        fmt = "pcapng" if self.cap.format == "pcapng" else "pcap"
        self.app.push_screen(SaveDialog(counts, default_save_name(name, fmt), which), self._save_chosen)

    def _save_chosen(self, choice) -> None:
        if not choice:
            return
        which, fmt, path = choice
        plist = self.packet_list
        if which == "all":
            frames = np.arange(len(self.index), dtype=np.int64)
        elif which == "displayed":
            frames = (np.arange(plist.rows, dtype=np.int64) if plist.frames is None
                      else plist.frames[:plist.rows].copy())
        else:
            frames = np.asarray(sorted(plist.marked), dtype=np.int64)
        self.notify(f"Saving {len(frames):,} packets to {safe(path)}…", timeout=2)
        self.save_packets(self.index, frames, path, fmt, which)

    @work(thread=True, group="save")
    def save_packets(self, index, frames: np.ndarray, path: str, fmt: str, which: str) -> None:
        try:
            n = write_capture(index, frames, path, fmt, stop=self.stop)
            if which == "all" and index is self.index:
                self.saved_packets = max(self.saved_packets, len(frames))
        except FtptuiError as e:
            self.post_message(Saved(f"Could not save: {e}", error=True))
        except Exception as e:  # never crash on a save
            report(self.app, e, "Saving failed")
        else:
            left = len(frames) - n
            extra = f" ({left} custom blocks left out)" if left else ""
            self.post_message(Saved(f"Saved {n:,} {which} packets as {fmt} to "
                                    f"{os.path.abspath(os.path.expanduser(path))}{extra}"))

    def on_saved(self, message: Saved) -> None:
        self.notify(safe(message.text), severity="error" if message.error else "information",
                    timeout=10 if message.error else 6)
