"""What every forked helper process needs: its parent prepared, and wide pipes back."""
from __future__ import annotations

import gc
import sys


def before_fork() -> None:
    """Nothing buffered twice, and the objects made so far out of the collector's reach, so
    that a child's collections do not copy every page it shares with its parent."""
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()


def widen_pipe(fd: int) -> None:
    """A pipe as big as Linux allows (1 MB by default, not 64 kB): a child goes on with its
    next message while the parent still reads one (and reads it in fewer calls)."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass
