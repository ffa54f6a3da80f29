"""The one place for errors nobody expected: a bug in a decoder, a worker or a widget.

The traceback goes to a log file in the state directory and the app shows one line that names
it; the app goes on.  Textual would otherwise exit (an exception in a worker or in a handler) or
stop the failing widget's message loop, which leaves it blank and deaf to keys.
"""
from __future__ import annotations

import os
import time
import traceback

from .state import state_file

MAX_LOG = 1 << 20  # the log is started afresh beyond this size


def log_path():
    return state_file("ftptui.log")


def write_log(error: BaseException) -> str | None:
    """Append the error's traceback to the log; its path, or None if it cannot be written."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "a" if path.exists() and path.stat().st_size < MAX_LOG else "w"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC), 0o600)
        with os.fdopen(fd, mode, encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            f.write("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    except OSError:
        return None
    return str(path)


def report(app, error: BaseException, doing: str = "", quiet: bool = False) -> None:
    """Log `error` and, unless `quiet`, say in one line what failed and where the details are.
    Safe to call from a worker thread."""
    path = write_log(error)
    if quiet or app is None:
        return
    where = f" (details in {path})" if path else ""
    app.notify(f"{doing or 'Internal error'}: {type(error).__name__}: {error}{where}", severity="error",
               timeout=12)


class Guarded:
    """Mixed into ftptui's app, screens and widgets: an exception raised by one of their handlers
    or actions is reported and they keep handling messages."""

    async def _dispatch_message(self, message):
        try:
            return await super()._dispatch_message(message)
        except Exception as error:  # the one catch-all: reported, not swallowed
            report(self.app, error)
            return None
