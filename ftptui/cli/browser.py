"""Starting the browser: the one place the command line imports the UI (late, so batch
commands never load Textual)."""
from __future__ import annotations

import os
import sys
import threading

from ..capture.reader import CaptureFile
from ..errors import FtptuiError
from ..macnames import resolve_mac
from ..store.scan_process import ScanProcess
from .batch import compile_display_filter

# How long a lone Esc waits to be told from the start of an escape sequence (Textual reads it
# when imported; its default is 100 ms, which every Esc would cost).  A terminal or tmux sends a
# sequence in one write; on a link that splits them, set ESCDELAY=100 or more.
ESCDELAY_MS = "25"
# How long a thread holds the interpreter before one waiting gets it (Python's default: 5 ms).
# Workers (indexing, filters, drawing) run Python for seconds; at 5 ms each hand-over the UI
# thread waited up to 5 ms every time it needed the lock, several times a frame.
SWITCH_INTERVAL = 0.001


STREAMS = ("standard input", "standard output", "standard error")


def need_terminal(fds: tuple[int, ...] = (0, 1, 2)) -> None:
    """The browser reads keys on fd 0 and draws on fd 2; with one of them, or standard output,
    not a terminal this is a script, which a UI would hang: say so instead (exit status 2)."""
    for fd in fds:
        try:
            tty = os.isatty(fd)
        except OSError:
            tty = False
        if not tty:
            raise FtptuiError(f"{STREAMS[fd]} is not a terminal: the browser needs one; to print "
                              "instead use --print, --ftp, --conv, --follow or --export-objects")


def start_browser(path: str | None = None, source=None, cap=None, display_filter: str | None = None) -> int:
    """Run the browser on a capture file, or on a growing source (live capture, pipe, file being
    written) whose capture `cap` is already open, with `display_filter` (checked) applied when it
    opens; returns the exit status.  What is wrong with the file is said before that there is
    no terminal."""
    from ..capture import open_capture

    opened = open_capture(path) if source is None and path else None
    if display_filter is not None:
        compile_display_filter(display_filter)  # a bad one: its one line, before the terminal's
    need_terminal()
    os.environ.setdefault("ESCDELAY", ESCDELAY_MS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    scanner = _start_scanning(opened) if opened is not None else None
    if scanner is not None:
        # the first packet's tree names its MAC addresses: load the vendor table (0.1 s) while
        # Textual is imported, not on the first paint (after the fork: a thread then is safe)
        threading.Thread(target=resolve_mac, args=(bytes(6),), name="mac-names", daemon=True).start()
    from ..ui.app import FtptuiApp
    from ..ui.hangup import run_app

    app = (FtptuiApp(path, scanner=scanner, display_filter=display_filter) if source is None
           else FtptuiApp(source=source, cap=cap, display_filter=display_filter))
    return run_app(app)


def _start_scanning(cap: CaptureFile) -> ScanProcess | None:
    """Start scanning the file in a child process now, before Textual loads and starts its
    threads (forking is safe while this is the only thread); None if it cannot fork (the
    browser then scans it itself)."""
    scanner = ScanProcess.start(cap)
    if scanner is None:
        cap.close()
    return scanner
