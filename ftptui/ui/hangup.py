"""The terminal going away ends ftptui within a second or two, whatever the app is doing.

When the SSH connection drops or tmux is killed, the kernel sends SIGHUP and the terminal starts
failing reads and writes.  Textual's shutdown then waits for its output thread to write frames
to a terminal that is gone, and a UI thread busy for seconds handles no signal at all; such
processes were found alive an hour later.  So a watcher thread of our own, which needs nothing
from the UI thread, acts on SIGHUP / SIGTERM (through the signal wakeup fd: the byte arrives even
while the UI thread is busy) and on the terminal hanging up (POLLHUP / POLLERR on it: a read
would fail with EIO): it asks the app to exit, runs ftptui's cleanups (ftptui.cleanup), and if
the process is still there after GRACE seconds, ends it with os._exit (or, should the UI thread
hold the interpreter lock in a long C call, faulthandler's watchdog thread, which needs none).  A live capture's child
stops by itself when its pipe from us closes, so a -w file is left complete.
"""
from __future__ import annotations

import faulthandler
import os
import select
import signal
import threading

from .. import cleanup

GRACE = 0.7  # seconds the app has to exit by itself
SIGNALS = (signal.SIGHUP, signal.SIGTERM)
HUNG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL


class HangupWatch:
    def __init__(self, app, terminal_fds=(0, 1)):
        self.app = app
        self.terminal_fds = [fd for fd in terminal_fds if _is_tty(fd)]
        self.code: int | None = None  # the exit status, once ending
        self._stop = threading.Event()
        self._old: dict = {}
        self._old_wakeup = -1
        self._pipe: tuple[int, int] | None = None

    def __enter__(self) -> "HangupWatch":
        """Start watching (from the main thread, before the app runs)."""
        r, w = os.pipe()
        os.set_blocking(w, False)
        self._pipe = (r, w)
        self._old_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        for sig in SIGNALS:
            # a Python handler is needed for the wakeup byte; the watcher does the work
            self._old[sig] = signal.signal(sig, _noted)
        threading.Thread(target=self._watch, name="ftptui-hangup", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        """The app has returned: stop watching (unless it is ending because of us: then the
        watcher's deadline stays, in case the interpreter's own shutdown hangs)."""
        if self.code is None:
            self._stop.set()
            signal.set_wakeup_fd(self._old_wakeup)
            for sig, handler in self._old.items():
                signal.signal(sig, handler)

    def _watch(self) -> None:
        assert self._pipe is not None  # made by __enter__ before the thread starts
        r, _ = self._pipe
        poller = select.poll()
        poller.register(r, select.POLLIN)
        for fd in self.terminal_fds:
            poller.register(fd, 0)  # POLLHUP / POLLERR / POLLNVAL are always reported
        while not self._stop.is_set():
            for fd, events in poller.poll(500):
                if fd == r:
                    got = [b for b in os.read(r, 64) if b in SIGNALS]
                    if got:
                        self.end(128 + got[0])
                        return
                elif events & HUNG_UP:
                    self.end(128 + signal.SIGHUP)
                    return

    def end(self, code: int) -> None:
        """Ask the app to exit; clean up; make sure the process ends within GRACE."""
        self.code = code
        loop = getattr(self.app, "loop", None)
        if loop is not None:
            try:
                loop.call_soon_threadsafe(lambda: self.app.exit(return_code=code))
            except RuntimeError:  # the loop has closed: os._exit below ends it
                pass
        # the last resort, in C: it needs no GIL, which a busy UI thread may hold
        faulthandler.dump_traceback_later(GRACE + 0.3, exit=True, file=_devnull())
        cleanup.run_all()
        self._stop.wait(GRACE)
        os._exit(code)


def _noted(signum, frame) -> None:
    """SIGHUP / SIGTERM in the main thread: nothing to do here, the watcher has the byte."""


def _devnull():
    return open(os.devnull, "w")


def _is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def run_app(app) -> int:
    """Run the Textual app with the hangup watch; its exit status."""
    with HangupWatch(app) as watch:
        app.run()
    return watch.code if watch.code is not None else (app.return_code or 0)
