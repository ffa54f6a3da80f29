"""Command-line actions for live and growing captures (called from cli.main.main):

    ftptui -i IFACE [-f BPF] [-c N] [-w FILE]              the browser on a live capture
    ftptui -r - [-w FILE]                                  the browser on a stream (keys from the terminal)
    ftptui -r FILE --follow-file                           the browser on a file still being written
    ftptui -D                                              list interfaces as tshark -D
    ftptui -i IFACE [-f BPF] --print [-Y F] [-c N] [-w FILE] print packets as they arrive
    ftptui -r - --print [-Y F] [-c N] [-w FILE]            a pcap/pcapng stream on stdin
    ftptui -r FILE --follow-file --print                   a file still being written (tail -f)

Lines are the same as `ftptui -r FILE --print` (PacketIndex + dissect + tshark_line); Ctrl-C
(or SIGTERM) ends the capture cleanly: packets already captured are written and printed, and the
-w file is a complete capture.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading

from ..capture.spool import follow
from ..errors import FtptuiError, print_error
from .batch import batch_command, compile_display_filter
from .browser import start_browser


def handles_live(args, path: str | None) -> bool:
    """Is this command line one of ours?"""
    return bool(args.list_interfaces or args.interface or args.follow_file or path == "-"
                or args.count or args.capture_filter or args.write)


def run_live(args, path: str | None) -> int:
    if args.list_interfaces:
        from ..capture.live import interface_lines
        for line in interface_lines():
            print(line)
        return 0
    other = [flag for flag, on in (("--ftp", args.ftp), ("--conv", args.conv), ("--follow", args.follow),
                                   ("--export-objects", args.export_objects), ("--diagram", args.diagram)) if on]
    if args.interface:
        if path:
            raise FtptuiError("give either -i (capture) or -r (read), not both")
        if other:
            raise FtptuiError(f"{other[0]} needs a capture file: capture with -w FILE first")
        if not args.print_list:
            return ui_live(args)
        return print_live(args)
    if args.capture_filter:
        raise FtptuiError("a capture filter (-f) needs an interface to capture on (-i IFACE)")
    if not path:
        raise FtptuiError("-c and -w need a capture: -i IFACE, or -r FILE")
    if other:
        if path != "-":
            raise FtptuiError(f"{other[0]} reads a whole capture: without --follow-file")
        return batch_on_stream(args)
    if args.write and path != "-":
        raise FtptuiError("-w saves a live capture (-i) or a stream read from standard input (-r -)")
    if not args.print_list:
        if args.count:  # the browser reads a whole stream or file; only a live capture stops at -c
            raise FtptuiError("-c works with --print, or with -i in the browser")
        return ui_stream(args, path)
    return print_stream(args, path)


def batch_on_stream(args) -> int:
    """`-r -` with --ftp, --conv, --follow, --export-objects or --diagram: the stream read to its
    end into a file (-w FILE, or a temporary one), then the command on that file, as tshark does
    with `-r - -z ...`."""
    if os.isatty(0):
        raise FtptuiError("standard input is a terminal: pipe a capture into it, e.g. "
                          "tcpdump -U -w - | ftptui -r - --ftp")
    if args.count:
        raise FtptuiError("-c works with --print, or with -i in the browser")
    chosen = batch_command(args)
    assert chosen is not None  # (run_live saw one of its options)
    command = chosen[1]
    with tempfile.TemporaryDirectory(prefix="ftptui-stdin-") as spool_dir:
        spooled = args.write or os.path.join(spool_dir, "stdin.pcap")
        with open(spooled, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        return command(spooled, args)


class _Interrupt:
    """SIGINT, SIGTERM and SIGHUP (the terminal went away) set an event instead of raising in the middle of a batch."""

    def __init__(self):
        self.event = threading.Event()
        self.old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                self.old[sig] = signal.signal(sig, lambda *_: self.event.set())
        return self.event

    def __exit__(self, *exc):
        for sig, handler in self.old.items():
            signal.signal(sig, handler)


class _Printer:
    """Prints the new rows of a growing index as tshark lines."""

    def __init__(self, cap, flt, out=None):
        from ..dissect.packet import dissect
        from ..render.tshark import tshark_line
        from ..store.index import PacketIndex
        self.index = PacketIndex(cap)
        self.run = None
        if flt is not None:
            from ..dfilter.apply import FilterRun
            self.run = FilterRun(self.index, flt)
        self.dissect, self.line = dissect, tshark_line
        self.out = out or sys.stdout
        self.done = 0

    def add(self, batch, limit: int = 0) -> bool:
        """Index a batch and print its rows; False once `limit` packets have been read."""
        index = self.index
        room = index.add_batch(batch)
        end = len(index) if not limit else min(len(index), limit)
        rows = range(self.done, end) if self.run is None else self.run.rows(self.done, end).tolist()
        write = self.out.write
        for i in rows:
            write(self.line(self.run.dissection(i) if self.run else self.dissect(index, i)) + "\n")
        self.out.flush()
        self.done = end
        return room and (not limit or end < limit)


def _follow(cap, source, printer: _Printer, stop: threading.Event, limit: int = 0, on_stop=None) -> None:
    """Print batches as the source grows, until it finishes, `limit` packets, or `stop`
    (then `on_stop()` may finish the source, and what it wrote is still printed)."""
    for batch in follow(cap, source, stop, poll=0.2):
        if not printer.add(batch, limit):
            return
    if stop.is_set() and on_stop is not None:
        on_stop()
        for batch in follow(cap, source, poll=0.2):
            if not printer.add(batch, limit):
                return


def _warnings(cap) -> int:
    for w in cap.warnings:
        print_error(w)
    return 2 if cap.warnings else 0


def print_live(args) -> int:
    from ..capture.live import LiveCapture
    from ..capture.reader import open_capture

    flt = compile_display_filter(args.display_filter)
    names = [n for spec in args.interface for n in spec.split(",") if n]
    live = LiveCapture(names, args.capture_filter or "", spool_path=args.write, count=args.count or 0)
    try:
        with _Interrupt() as stop:
            live.start()
            print_error(f"Capturing on {', '.join(repr(n) for n in live.stats().interfaces)}", prefix="")
            cap = open_capture(live.path, live.display_name)
            try:
                _follow(cap, live, _Printer(cap, flt), stop, on_stop=live.stop)
            finally:
                live.stop()
                cap.close()
        stats = live.stats()
        n, d = stats.packets, stats.dropped or 0
        print_error(f"{n} packet{'' if n == 1 else 's'} captured", prefix="")
        if d:
            print_error(f"{d} packet{'' if d == 1 else 's'} dropped by the kernel", prefix="")
        if stats.error:
            raise FtptuiError(stats.error)
        return 0
    finally:
        live.close()


def print_stream(args, path: str) -> int:
    from ..capture.spool import FileSource, Finished, GrowingSource, StreamSpool, open_growing

    flt = compile_display_filter(args.display_filter)
    source: GrowingSource
    if path == "-":
        source = StreamSpool(0, path=args.write).start()
    elif args.follow_file:
        source = FileSource(path)
    else:
        source = Finished(path)  # -c on a plain file
    with source, _Interrupt() as stop, open_growing(source, stop) as cap:
        _follow(cap, source, _Printer(cap, flt), stop, limit=args.count or 0)
        if source.error:
            raise FtptuiError(source.error)
        return _warnings(cap) if source.finished else 0


# --- the browser on a growing capture ---------------------------------------------------------------
def ui_live(args) -> int:
    """`ftptui -i IFACE [-f BPF]`: the browser on a live capture.  The interface and the filter
    are checked and the capture started before the UI is drawn, so every problem (unknown
    interface, invalid filter, no privileges) is one line on stderr and exit status 2."""
    from ..capture.live import LiveCapture

    names = [n for spec in args.interface for n in spec.split(",") if n]
    live = LiveCapture(names, args.capture_filter or "", spool_path=args.write, count=args.count or 0)
    try:
        live.start()  # (what is wrong with the interface or the filter is said before the terminal)
        return start_browser(source=live, display_filter=args.display_filter)
    finally:
        live.close()


def _wait_for_header(source):
    """open_growing, saying on stderr what it waits for when the header is slow to come."""
    from ..capture.spool import open_growing

    timer = threading.Timer(1.0, lambda: print_error(f"waiting for a capture on {source.display_name}…"))
    timer.daemon = True
    timer.start()
    try:
        return open_growing(source)
    finally:
        timer.cancel()


def ui_stream(args, path: str) -> int:
    """`ftptui -r -` (a pcap/pcapng stream on standard input, the keys from the terminal) and
    `ftptui -r FILE --follow-file`: the browser on a capture that grows as it arrives."""
    from ..capture.spool import FileSource, GrowingSource, StreamSpool, stdin_from_tty

    source: GrowingSource
    if path == "-":
        if os.isatty(0):
            raise FtptuiError("standard input is a terminal: pipe a capture into it, e.g. "
                              "tcpdump -U -w - | ftptui -r -")
        source = StreamSpool(stdin_from_tty(), path=args.write).start()
    else:
        source = FileSource(path)
    with source:
        return start_browser(source=source, cap=_wait_for_header(source), display_filter=args.display_filter)
