"""Starting the browser: the one place the command line imports the UI (late, so batch
commands never load Textual)."""
from __future__ import annotations

import os
import sys
import threading

from ..errors import CaptureError
from ..macnames import resolve_mac
from ..store.scan_process import ScanProcess

# How long a lone Esc waits to be told from the start of an escape sequence (Textual reads it
# when imported; its default is 100 ms, which every Esc would cost).  A terminal or tmux sends a
# sequence in one write; on a link that splits them, set ESCDELAY=100 or more.
ESCDELAY_MS = "25"
# How long a thread holds the interpreter before one waiting gets it (Python's default: 5 ms).
# Workers (indexing, filters, drawing) run Python for seconds; at 5 ms each hand-over the UI
# thread waited up to 5 ms every time it needed the lock, several times a frame.
SWITCH_INTERVAL = 0.001


def start_browser(path: str | None = None, source=None, cap=None) -> int:
    """Run the browser on a capture file, or on a growing source (live capture, pipe, file being
    written) whose capture `cap` is already open; returns the exit status."""
    os.environ.setdefault("ESCDELAY", ESCDELAY_MS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    scanner = _start_scanning(path) if source is None and path else None
    if scanner is not None:
        # the first packet's tree names its MAC addresses: load the vendor table (0.1 s) while
        # Textual is imported, not on the first paint (after the fork: a thread then is safe)
        threading.Thread(target=resolve_mac, args=(bytes(6),), name="mac-names", daemon=True).start()
    from ..ui.app import FtptuiApp
    from ..ui.hangup import run_app

    app = FtptuiApp(path, scanner=scanner) if source is None else FtptuiApp(source=source, cap=cap)
    return run_app(app)


def _start_scanning(path: str) -> ScanProcess | None:
    """Start scanning the file in a child process now, before Textual loads and starts its
    threads (forking is safe while this is the only thread); None if it cannot open (the app
    then reports why) or cannot fork."""
    from ..capture import open_capture
    try:
        cap = open_capture(path)
    except CaptureError:
        return None
    scanner = ScanProcess.start(cap)
    if scanner is None:
        cap.close()
    return scanner
