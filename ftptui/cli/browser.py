"""Starting the browser: the one place the command line imports the UI (late, so batch
commands never load Textual)."""
from __future__ import annotations


def start_browser(path: str | None = None, source=None, cap=None) -> int:
    """Run the browser on a capture file, or on a growing source (live capture, pipe, file being
    written) whose capture `cap` is already open; returns the exit status."""
    from ..ui.app import FtptuiApp
    from ..ui.hangup import run_app

    app = FtptuiApp(path) if source is None else FtptuiApp(source=source, cap=cap)
    return run_app(app)
