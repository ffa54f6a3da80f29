"""The main screen: packet list, detail tree and hex pane, with the index built in a worker."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from ..capture import open_capture
from ..dfilter.compile import Filter, compile_filter
from ..dfilter.errors import FilterError
from ..dfilter.prepare import PrepareError, combine, filter_for_field
from ..dissect.fallback import scapy_layers
from ..dissect.packet import dissect
from ..errors import FtptuiError
from ..macnames import resolve_mac
from ..store.index import PacketIndex
from ..streams.analysis import bounded
from ..text import safe
from . import messages
from .detail_tree import DetailTree
from .failures import Guarded, report
from .filter_bar import FilterBar, FilterMenu
from .hex_view import HexView
from .key_bar import KeyBar
from .live import LIVE_ACTIONS, LIVE_BINDINGS, GrowingCapture
from .messages import FilterDone, FilterJob, FilterProgress, FtpFollowed, IndexProgress, Saved, SourceFull, SourceIdle, StreamFollowed
from .packet_list import PacketList
from .plain import plain
from .saving import SaveAs
from .views import open_view

if TYPE_CHECKING:
    from .conversations_view import ConversationsScreen

# How long the indexer waits, after its first batch, for the UI thread to draw the first rows
FIRST_ROWS_WAIT = 0.5
REDRAW_EVERY = 0.25  # seconds between redraws of the list while packets are being indexed
FIRST_PAINT = 0.15  # seconds the first import of scapy waits for the native tree to be painted
# layers the fast decoders only summarise: the tree adds scapy's dissection below them
FALLBACK_LAYERS = {"http", "tls", "ssh", "dhcp", "dhcpv6", "ntp", "nbns", "ssdp", "igmp", "stp", "llc", "data"}


@dataclass
class SavedView:
    """The packet list's view before following a stream, restored when the follow view closes."""
    flt: Filter | None
    filter_text: str
    view_end: int
    frames: np.ndarray | None
    bar_text: str
    frame: int | None
    failed: Filter | None


def warm_up() -> None:
    """(A thread) Load what the first use of a view would otherwise load on the UI thread, each
    a twentieth to a fifth of a second: the MAC vendor table, the field registry (filters), and
    the follow, conversations and FTP views' modules (the FTP follower's extraction, the
    diagrams); the filters' runner (loaded by its worker otherwise).  A file's once it is
    indexed (half a second of CPU the indexing needs on two cores), a growing capture's at once."""
    from ..dfilter import apply  # noqa: F401
    from ..dfilter.fields import registry
    from . import conversations_view, follow_view, ftp_view  # noqa: F401

    resolve_mac(b"\0" * 6)
    registry()


def progress_bar(fraction: float, width: int = 20) -> str:
    filled = int(round(fraction * width))
    return "[" + "█" * filled + "░" * (width - filled) + f"] {fraction * 100:3.0f}%"


class BrowserScreen(Guarded, Screen):
    """The packet browser on a capture file (`source` a path), or on a growing capture: a
    LiveCapture, a StreamSpool (a pipe) or a FileSource (a file still being written), whose
    capture file `cap` may be open already (open_growing waits for its header otherwise)."""

    BINDINGS = [
        Binding("ctrl+g,colon", "goto", "Go to packet", id="browser.goto"),
        # priority: handled as the key arrives, so keys typed right after it (a paste, tmux
        # send-keys, a fast typist) already go to the bar; check_action turns it off in a text box
        Binding("slash", "focus_filter", "Filter", id="browser.filter", priority=True),
        Binding("F", "follow", "Follow stream", id="browser.follow"),
        Binding("C", "conversations", "Conversations", id="browser.conversations"),
        Binding("T", "ftp", "FTP sessions", id="browser.ftp"),
        Binding("D", "diagram", "Sequence diagram", id="browser.diagram"),
        Binding("escape", "cancel", "Cancel", show=False, id="browser.cancel"),
        Binding("tab", "next_pane(1)", "Next pane", show=False, id="browser.next_pane"),
        Binding("shift+tab", "next_pane(-1)", "Previous pane", show=False, id="browser.previous_pane"),
        *LIVE_BINDINGS,  # capture keys (live only)
        Binding("w,ctrl+s", "save", "Save as", id="browser.save"),
        Binding("m", "mark", "Mark", id="browser.mark"),
        Binding("q", "app.quit", "Quit", id="browser.quit"),
    ]

    def __init__(self, source, cap=None, scanner=None, display_filter=None):
        """`display_filter`: applied when the screen opens (-Y on the command line)."""
        super().__init__()
        self.initial_filter = display_filter
        self.growing_capture: GrowingCapture | None = None
        self.scanner = scanner  # a ScanProcess already scanning the file, or None: scan here
        if isinstance(source, str):
            # raises CaptureError before anything is drawn
            self.cap = scanner.cap if scanner is not None else open_capture(source)
            self.path = source
        else:
            self.growing_capture = GrowingCapture(self, source, cap)
            self.cap = self.growing_capture.cap
            self.path = source.display_name
        self.saver = SaveAs(self)
        self.index = PacketIndex(self.cap)
        self.stop = threading.Event()
        self.first_rows_drawn = threading.Event()  # the indexer waits for it after its first batch
        self.current = None
        self.current_bytes = b""
        self.current_incomplete = False  # its tree lacks the TCP analysis (still being made)
        self.following: tuple[str, int] | None = None  # the stream being put together for the follow view
        # the applied display filter (None: all packets) and how many index rows its view covers
        self.flt: Filter | None = None
        self.filter_text = ""
        self.view_end = 0
        self.job: FilterJob | None = None  # the filter run in the worker, if any
        self.failed: Filter | None = None  # an applied filter whose run on new packets raised
        self.conv_kind = "tcp"  # the conversation type last looked at
        self.index_drawn_at = 0.0  # when the list last took the packets indexed (monotonic)
        self.index_redraw: Timer | None = None  # a redraw put off by on_index_progress
        self.conversations_seen: ConversationsScreen | None = None  # the last one closed (kept tables)
        self.ftp_state: Any = None  # what the FTP view shows when it opens again (FtpViewState)

    def compose(self):
        yield FilterBar(id="filterbar")
        with Vertical(id="panes"):
            yield PacketList(self.index, on_select=self.show_packet, id="packets")
            with Horizontal(id="lower"):
                yield DetailTree(id="tree")
                yield HexView(id="hex")
        # the go-to box takes the status line's place: the panes keep their size (no new layout)
        yield Input(placeholder="Go to packet number", id="goto", compact=True)
        yield Static("", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_goto(False)
        self.query_one(PacketList).focus()
        if self.growing_capture is not None:
            threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
            self.growing_capture.start()
        else:
            self.build_index()
        if self.initial_filter:  # shown in the bar at once, applied with the first packets
            self.query_one(FilterBar).input.value = self.initial_filter

    def on_unmount(self) -> None:
        collector = getattr(self.app, "collector", None)
        if collector is not None:
            collector.release()
        self.stop.set()
        if self.scanner is not None:
            self.scanner.stop()
        if self.job is not None:
            self.job.stop.set()
        if self.growing_capture is not None:
            self.growing_capture.close()

    @work(thread=True, exclusive=True, group="index")
    def build_index(self) -> None:
        scanned = self.scanner.batches() if self.scanner is not None else None

        def progress(index: PacketIndex) -> None:
            self.post_message(IndexProgress(index.done))
            if not self.first_rows_drawn.is_set():
                # the first screenful: the UI thread draws it while this thread waits (else
                # indexing the batches the scanner has ready took the interpreter from it)
                self.first_rows_drawn.wait(FIRST_ROWS_WAIT)
                self.first_rows_drawn.set()
        try:
            self.index.build(self.stop, on_progress=progress, scanned=scanned)
        except FtptuiError as e:  # the scanning process died: what was indexed stays
            self.app.notify(str(e), severity="error", timeout=12)
            return
        if self.index.done:
            self.follow_ftp()

    @work(thread=True, exclusive=True, group="ftp")
    def follow_ftp(self) -> None:
        """Follow the FTP sessions once everything is indexed: data connections are then labelled
        by ftptui's own linking (right where tshark's port rules are not), so redraw the rows.
        Links only: reading and hashing every transfer (the FTP view's work, when it is asked
        for) kept the interpreter busy for seconds after a big capture opened."""
        from ..ftp.analysis import analyse
        index = self.index
        try:
            with index.lock:  # a growing capture's indexer waits (its packets wait in the spool)
                analyse(index, contents=False)
        except Exception as e:  # the browser works without it: the labels stay tshark's
            report(self.app, e, "FTP analysis failed")
            return
        self.post_message(FtpFollowed())

    def on_ftp_followed(self, message: "FtpFollowed") -> None:
        self.query_one(PacketList).forget_rows()

    def on_index_progress(self, message: IndexProgress) -> None:
        """New packets: the list and status take them at most every REDRAW_EVERY seconds (each
        redraw takes the GIL from the indexer), the first and the last at once."""
        now = time.monotonic()
        wait = self.index_drawn_at + REDRAW_EVERY - now
        if not message.done and wait > 0:
            if self.index_redraw is None:
                self.index_redraw = self.set_timer(wait, self._index_redraw_due)
            return
        if self.index_redraw is not None:
            self.index_redraw.stop()
            self.index_redraw = None
        self.show_indexed(message.done)

    def _index_redraw_due(self) -> None:
        self.index_redraw = None
        self.show_indexed(False)

    def show_indexed(self, done: bool) -> None:
        self.index_drawn_at = time.monotonic()
        plist = self.query_one(PacketList)
        if self.initial_filter and (len(self.index) or done):
            # as if typed once the first packets are in (kept out of the filter history): the
            # list then selects its first match as after any filter
            text, self.initial_filter = self.initial_filter, None
            self.apply_filter(text, remember=False)
        if self.flt is None and plist.rows == 0 and self.job is not None and self.job.kind == "apply":
            pass  # nothing shown yet and a filter coming: its rows, not all of them first
        elif self.flt is None:
            first = plist.rows == 0
            plist.sync()
            if first and plist.rows and not plist.live:  # a growing capture's list follows its end
                plist.move_to(0)
        else:
            self.extend_filter()
        self.update_status()
        if not self.first_rows_drawn.is_set():
            self.call_after_refresh(self.first_rows_drawn.set)
        if done:
            if self.growing_capture is None:  # (not sooner: it would take CPU from the indexing)
                threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
            collector = getattr(self.app, "collector", None)
            if collector is not None:
                collector.settle()  # the index and the screen live as long as the capture is open
            for w in self.cap.warnings:
                self.notify(w, severity="warning", timeout=10)
        if self.growing_capture is not None:
            self.growing_capture.index_progress()

    # --- a growing capture, save as, marks (see live.py, saving.py) ----------------------------------
    @property
    def growing(self) -> bool:
        return self.growing_capture is not None

    @property
    def live(self):
        """The LiveCapture being browsed, if any."""
        return self.growing_capture.live if self.growing_capture is not None else None

    @property
    def packet_list(self) -> PacketList:
        return self.query_one(PacketList)

    @property
    def saved_packets(self) -> int:
        return self.saver.saved_packets

    def captured_anew(self) -> None:
        """A live capture was restarted: nothing of the new one is saved yet."""
        self.saver.saved_packets = 0

    def unsaved_packets(self) -> int:
        """Packets quitting would throw away (see GrowingCapture.unsaved_packets)."""
        if self.growing_capture is None:
            return 0
        return self.growing_capture.unsaved_packets(self.saver.saved_packets)

    def on_source_idle(self, message: SourceIdle) -> None:
        if self.growing_capture is not None:
            self.growing_capture.source_idle(message)

    def on_source_full(self, message: SourceFull) -> None:
        if self.growing_capture is not None:
            self.growing_capture.source_full(message)

    def on_saved(self, message: Saved) -> None:
        self.notify(safe(message.text), severity="error" if message.error else "information",
                    timeout=10 if message.error else 6)

    def action_toggle_capture(self) -> None:
        if self.growing_capture is not None:
            self.growing_capture.toggle_capture()

    def action_capture_filter(self) -> None:
        if self.growing_capture is not None:
            self.growing_capture.ask_capture_filter()

    def action_restart_capture(self) -> None:
        if self.growing_capture is not None:
            self.growing_capture.ask_restart()

    def action_save(self) -> None:
        self.saver.ask()

    def action_mark(self) -> None:
        self.saver.mark()

    @property
    def displayed(self) -> int:
        return self.query_one(PacketList).rows

    def status_text(self) -> Text:
        if self.growing_capture is not None:
            return self.growing_capture.status_text()
        n = len(self.index)
        shown = self.displayed
        text = plain(f" {self.path}  Packets: {n:,}  Displayed: {shown:,} of {n:,}")
        if n:
            text.append(f" ({shown / n * 100:.1f}%)")
        if not self.index.done:
            total = max(self.index.total_bytes, 1)
            text.append("  indexing " + progress_bar(self.index.bytes_done / total))
        return self.status_tail(text)

    def status_tail(self, text: Text) -> Text:
        """What every status line ends with: marks, a running filter, the filter, a warning."""
        marked = self.query_one(PacketList).marked
        if marked:
            text.append(f"  Marked: {len(marked):,}")
        job = self.job
        if job is not None and job.kind == "apply":
            text.append("  filtering " + progress_bar(job.progress, 10) + " (Esc cancels)", style="bold")
        if self.flt is not None:
            text.append("  Filter: ")
            text.append(plain(self.filter_text, style="bold"))
        if self.cap.warnings:
            text.append(plain("  ⚠ " + self.cap.warnings[0]))
        return text

    def update_status(self) -> None:
        self.query_one("#status", Static).update(self.status_text(), layout=False)  # one line, always

    def show_packet(self, row: int, frame: int) -> None:
        """The list's cursor is on another packet: its tree and bytes."""
        if self.growing_capture is not None:
            self.growing_capture.packet_selected()
        if not 0 <= frame < len(self.index):
            return
        with bounded(self.query_one(PacketList).analysis_ready) as bound:
            d = dissect(self.index, frame)  # (without a long stream's TCP analysis: shown again with it)
        self.current_incomplete = bound.missing
        data = self.index.packet_bytes(frame)
        self.current = d
        self.current_bytes = data
        self.query_one(DetailTree).show(d)
        self.query_one(HexView).show(data)
        if d.layers and d.layers[-1].name in FALLBACK_LAYERS:
            self.add_scapy_layers(d, data, int(self.index.field("link", frame)))

    def on_tcp_analysis_ready(self, message: messages.TcpAnalysisReady) -> None:
        plist = self.query_one(PacketList)
        if self.current_incomplete and plist.current_frame is not None:
            self.show_packet(plist.cursor, plist.current_frame)

    @work(thread=True, exclusive=True, group="scapy")
    def add_scapy_layers(self, d, data: bytes, link: int) -> None:
        """scapy's layers below the native tree, made in a worker: importing scapy takes a
        second, and it is slow on big packets.  The tree shows the native fields meanwhile."""
        if "scapy.all" not in sys.modules:
            # the import holds the GIL most of the time: let the native tree be painted first
            time.sleep(FIRST_PAINT)
            if get_current_worker().is_cancelled:
                return
        self.post_message(messages.ScapyLayers(d, scapy_layers(data, link)))

    def on_scapy_layers(self, message: messages.ScapyLayers) -> None:
        if message.dissection is self.current and message.layers:
            self.current.layers += message.layers
            self.query_one(DetailTree).add_layers(message.layers)

    def clear_details(self) -> None:
        self.current = None
        self.current_bytes = b""
        self.query_one(DetailTree).clear()
        self.query_one(HexView).show(b"")

    def action_next_pane(self, step: int) -> None:
        """Tab / Shift+Tab cycle the list, tree and hex panes (the filter bar is reached with /)."""
        panes = [self.query_one(PacketList), self.query_one(DetailTree), self.query_one(HexView)]
        focused = self.app.focused
        k = panes.index(focused) + step if focused in panes else 0
        panes[k % len(panes)].focus()

    # --- display filter -------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action == "focus_filter":  # in the filter bar or the go-to box "/" is text
            return not isinstance(self.app.focused, Input)
        if action in LIVE_ACTIONS:
            return self.live is not None
        return super().check_action(action, parameters)

    def action_focus_filter(self) -> None:
        bar = self.query_one(FilterBar)
        # focus now, not after a refresh (Widget.focus defers it): keys typed or pasted right
        # after "/" must land in the bar, not on the list
        self.set_focus(bar.input)
        bar.input.cursor_position = len(bar.value)

    def on_filter_bar_apply(self, message: messages.Apply) -> None:
        self.apply_filter(message.text)
        self.query_one(PacketList).focus()

    def on_filter_bar_leave(self, message: messages.Leave) -> None:
        if message.cancel:
            self.cancel_filter()
        self.query_one(PacketList).focus()

    def apply_filter(self, text: str, remember: bool = True) -> bool:
        """Apply `text` (empty: show all packets).  The matching runs in a worker; the list keeps
        the previous view until it is done.  False (and an error notice) for an invalid filter.
        remember=False keeps it out of the filter history (the filter that following sets)."""
        text = text.strip()
        if not text:
            self.stop_filter_job()
            self.flt, self.filter_text, self.view_end = None, "", 0
            self._show_view(None)
            return True
        try:
            flt = compile_filter(text)
        except FilterError as e:
            self.notify(f"Invalid filter: {e.message}", severity="error")
            return False
        except Exception as e:  # a compiler bug must not take the browser down
            report(self.app, e, "The filter compiler failed")
            return False
        if remember:
            self.query_one(FilterBar).remember(text)
        self.stop_filter_job()
        self.job = FilterJob("apply", flt, text)
        self.run_filter(self.job, 0, len(self.index))
        self.update_status()
        return True

    def cancel_filter(self) -> bool:
        """Esc while a new filter is being applied: stop it and keep the previous view."""
        if self.job is None or self.job.kind != "apply":
            return False
        self.job.stop.set()
        return True

    def stop_filter_job(self) -> None:
        if self.job is not None:
            self.job.stop.set()
            self.job = None

    def extend_filter(self) -> None:
        """Run the applied filter over the packets indexed since its last run."""
        if (self.flt is None or self.flt is self.failed or self.job is not None
                or self.view_end >= len(self.index)):
            return
        self.job = FilterJob("extend", self.flt, self.filter_text)
        self.run_filter(self.job, self.view_end, len(self.index))

    @work(thread=True, exclusive=True, group="filter")
    def run_filter(self, job: FilterJob, start: int, end: int) -> None:
        from ..dfilter.apply import Cancelled, FilterRun  # (in the worker: not on the app's start)

        def progress(done: int, total: int) -> None:
            self.post_message(FilterProgress(job, done, total))

        try:
            if job.stop.is_set():
                raise Cancelled()
            frames = FilterRun(self.index, job.flt, stop=job.stop, on_progress=progress).rows(start, end)
            if job.stop.is_set():
                raise Cancelled()
        except Cancelled:
            self.post_message(FilterDone(job, start, end, cancelled=True))
        except Exception as e:  # a bug in a decoder must not leave the filter running forever
            report(self.app, e, "The filter failed")
            self.post_message(FilterDone(job, start, end, failed=True))
        else:
            self.post_message(FilterDone(job, start, end, frames))

    def on_filter_progress(self, message: FilterProgress) -> None:
        if message.job is self.job and message.total:
            message.job.progress = message.done / message.total
            self.update_status()

    def on_filter_done(self, message: FilterDone) -> None:
        job = message.job
        if job is not self.job:
            return  # a run that was replaced or stopped
        self.job = None
        if message.cancelled:
            if job.kind == "apply":
                self.notify("Filter cancelled; the previous view is kept.", timeout=3)
        elif message.failed:  # reported by the worker
            if job.kind == "extend":
                self.failed = job.flt  # do not retry it on every batch; the view stops growing
        elif job.kind == "apply":
            self.flt, self.filter_text, self.view_end = job.flt, job.text, message.end
            self._show_view(message.frames)
        else:
            plist = self.query_one(PacketList)
            first = plist.rows == 0
            plist.frames = np.concatenate([plist.frames, message.frames])
            self.view_end = message.end
            plist.sync()
            if first and plist.rows and not plist.live:
                plist.move_to(0)
        self.update_status()
        self.extend_filter()

    def _show_view(self, frames) -> None:
        plist = self.query_one(PacketList)
        plist.set_view(frames)
        if not plist.rows:
            self.clear_details()
        self.update_status()

    def on_detail_tree_filter_request(self, message: messages.FilterRequest) -> None:
        try:
            expr = filter_for_field(message.field, self.current_bytes)
        except PrepareError as e:
            self.notify(str(e), severity="error")
            return
        if message.mode == "menu":
            self.app.push_screen(FilterMenu(expr), lambda choice: self._filter_choice(expr, choice))
            return
        self.filter_on(expr, message.mode, message.how)

    def _filter_choice(self, expr: str, choice) -> None:
        if choice:
            self.filter_on(expr, *choice)

    def filter_on(self, expr: str, mode: str, how: str) -> None:
        """Apply or prepare `expr` combined with the bar's text, as Wireshark's menus do."""
        bar = self.query_one(FilterBar)
        text = combine(bar.value, expr, how)
        bar.set_text(text)
        if mode == "apply" and bar.state != "invalid":
            self.apply_filter(text)
            self.query_one(PacketList).focus()
        else:  # prepare, or a combination the current (invalid) text spoils: edit it in the bar
            self.action_focus_filter()

    def on_detail_tree_field_selected(self, message: messages.FieldSelected) -> None:
        f = message.field
        self.query_one(HexView).highlight(f.start, f.length)

    def show_goto(self, shown: bool) -> None:
        self.query_one("#goto", Input).display = shown
        self.query_one("#status", Static).display = not shown

    def action_goto(self) -> None:
        box = self.query_one("#goto", Input)
        self.show_goto(True)
        box.value = ""
        box.focus()

    def action_cancel(self) -> None:
        """Esc: stop a filter being applied or a stream being followed, and close the go-to box."""
        self.cancel_filter()
        if self.following is not None:
            self.following = None  # (its worker runs on; what it finds is dropped)
            self.update_status()
        if self.query_one("#goto", Input).display:
            self.show_goto(False)
            self.query_one(PacketList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "goto":
            return
        text = event.value.strip()
        plist = self.query_one(PacketList)
        n = len(self.index)
        if not text.isdigit() or not 1 <= int(text) <= n:
            self.notify(f"No packet {text!r}: packets are 1..{n}", severity="error")
            return
        row = plist.row_of(int(text) - 1)
        if row is None:
            self.notify(f"Packet {int(text)} isn't displayed: the filter {self.filter_text!r} hides it.",
                        severity="warning")
            return
        self.show_goto(False)
        plist.move_to(row)
        plist.focus()

    # --- follow stream and conversations ----------------------------------------------------------
    def action_follow(self) -> None:
        """Follow the TCP stream of the selected packet, else its UDP stream."""
        frame = self.query_one(PacketList).current_frame
        if frame is None:
            self.notify("No packet selected", severity="warning", timeout=3)
            return
        tcp = int(self.index.field("stream", frame))
        udp = int(self.index.field("ustream", frame))
        if tcp >= 0:
            self.follow_stream("tcp", tcp)
        elif udp >= 0:
            self.follow_stream("udp", udp)
        else:
            self.notify(f"Packet {frame + 1} is neither TCP nor UDP: there is no stream to follow",
                        severity="warning", timeout=4)

    def follow_stream(self, proto: str, number: int) -> None:
        self.following = (proto, number)
        self.load_stream(proto, number)
        self.set_timer(0.05, lambda: self._still_following(proto, number))

    def _still_following(self, proto: str, number: int) -> None:
        """A long stream takes a while to put together: say so (unless it was quick)."""
        if self.following == (proto, number):
            self.query_one("#status", Static).update(plain(f"following {proto.upper()} stream {number}… (Esc stops)"),
                                                     layout=False)

    @work(thread=True, exclusive=True, group="follow")
    def load_stream(self, proto: str, number: int) -> None:
        from ..streams.follow import follow_tcp, follow_udp
        stream = (follow_tcp if proto == "tcp" else follow_udp)(self.index, number)  # errors: failures.report
        self.post_message(StreamFollowed(stream))

    def on_stream_followed(self, message: StreamFollowed) -> None:
        wanted, self.following = self.following, None
        self.update_status()
        if wanted != (message.stream.proto, message.stream.number):
            return  # Esc stopped it, or another stream was asked for since
        if self.app.screen is not self:
            return  # a second follow request finished while the first one's view is open
        stream = message.stream
        if not stream.nodes:
            self.notify(f"{stream.proto.upper()} stream {stream.number} has no packets", severity="warning")
            return
        plist = self.query_one(PacketList)
        bar = self.query_one(FilterBar)
        saved = SavedView(self.flt, self.filter_text, self.view_end, plist.frames, bar.value,
                          plist.current_frame, self.failed)
        text = f"{stream.proto}.stream eq {stream.number}"
        bar.set_text(text)
        self.apply_filter(text, remember=False)  # as Wireshark does; closing the view restores the old one
        from .follow_view import FollowScreen  # (imported by the warm-up, not on the app's start)
        open_view(self.app, FollowScreen(stream, text), lambda frame: self._follow_closed(saved, frame))

    def _follow_closed(self, saved: SavedView, frame: int | None) -> None:
        """Put the previous filter and view back; select `frame` (Enter on a chunk) or the packet
        that was selected before."""
        self.stop_filter_job()
        plist = self.query_one(PacketList)
        self.flt, self.filter_text, self.view_end, self.failed = saved.flt, saved.filter_text, saved.view_end, saved.failed
        plist.set_view(saved.frames)
        self.query_one(FilterBar).set_text(saved.bar_text)
        target = frame if frame is not None else saved.frame
        if target is not None and plist.rows:
            row = plist.row_of(target)
            if row is None:
                row = plist.nearest_row(target)
                if frame is not None:
                    self.notify(f"Packet {frame + 1} isn't displayed: the filter {self.filter_text!r} hides it.",
                                severity="warning")
            plist.move_to(row)
        if not plist.rows:
            self.clear_details()
        plist.focus()
        self.update_status()
        self.extend_filter()

    def action_conversations(self) -> None:
        from .conversations_view import ConversationsScreen  # (as FollowScreen)
        screen = ConversationsScreen(self.index, self.conv_kind, self.conversations_seen)
        open_view(self.app, screen, lambda result: self._conversations_closed(screen, result))

    def action_diagram(self) -> None:
        """The selected packet's TCP stream as a sequence diagram."""
        from .diagram_view import DiagramScreen
        frame = self.query_one(PacketList).current_frame
        stream = int(self.index.field("stream", frame)) if frame is not None else -1
        if stream < 0:
            self.notify("Select a TCP packet: its stream is drawn", severity="warning", timeout=3)
            return
        open_view(self.app, DiagramScreen(self.index, stream))

    def action_ftp(self) -> None:
        from ..ftp.analysis import latest_analysis
        from .ftp_view import FtpScreen, FtpViewState
        if self.ftp_state is None:
            self.ftp_state = FtpViewState()
        before = latest_analysis(self.index)
        open_view(self.app, FtpScreen(self.index, self.ftp_state, growing=self.growing),
                  lambda result: self._ftp_closed(result, before))

    def _ftp_closed(self, result, analysis_before) -> None:
        """Carry out what the FTP view asked for: go to a packet, filter, or follow."""
        from ..ftp.analysis import latest_analysis
        if latest_analysis(self.index) is not analysis_before:  # a new analysis labels FTP-DATA rows
            self.query_one(PacketList).forget_rows()
        if not result:
            return
        if result[0] == "goto":
            self.select_frame(result[1])
        elif result[0] == "filter":
            self.query_one(FilterBar).set_text(result[1])
            self.apply_filter(result[1])
            self.query_one(PacketList).focus()
        elif result[0] == "follow":
            self.follow_stream(result[1], result[2])

    def select_frame(self, frame: int) -> None:
        """Select packet `frame` (0-based) in the list, or say why it is not displayed."""
        plist = self.query_one(PacketList)
        row = plist.row_of(frame)
        if row is None:
            self.notify(f"Packet {frame + 1} isn't displayed: the filter {self.filter_text!r} hides it.",
                        severity="warning")
            return
        plist.move_to(row)
        plist.focus()

    def _conversations_closed(self, screen: ConversationsScreen, result) -> None:
        self.conv_kind = screen.kind
        self.conversations_seen = screen
        if not result:
            return
        if result[0] == "filter":
            text = result[1]
            self.query_one(FilterBar).set_text(text)
            self.apply_filter(text)
            self.query_one(PacketList).focus()
        elif result[0] == "follow":
            self.follow_stream(result[1], result[2])
