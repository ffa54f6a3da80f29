"""What must be undone however ftptui ends (a normal exit, a hangup, a signal): a half-written
file removed, a named temporary spool deleted.  Each is registered while it is needed and
forgotten after; run_all() runs what is left, once, at exit or from the hangup watcher."""
from __future__ import annotations

import atexit
import itertools
import threading
from collections.abc import Callable

_pending: dict[int, Callable[[], object]] = {}
_lock = threading.Lock()
_tokens = itertools.count()


def on_exit(undo: Callable[[], object]) -> int:
    """Run `undo()` when ftptui ends, unless forgotten first; returns the token for forget()."""
    with _lock:
        token = next(_tokens)
        _pending[token] = undo
    return token


def forget(token: int) -> None:
    with _lock:
        _pending.pop(token, None)


def run_all() -> None:
    """Run every pending undo (each once; one failing does not stop the others)."""
    with _lock:
        todo = list(_pending.values())
        _pending.clear()
    for undo in todo:
        try:
            undo()
        except Exception:  # noqa: BLE001 - ending anyway: the next undo matters more than this error
            pass


atexit.register(run_all)
