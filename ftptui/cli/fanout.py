"""Text made chunk by chunk in forked worker processes, written out in chunk order.

The batch packet list spends nearly all its time in Python, one row at a time, so one process
uses one core.  Forked after the capture is indexed and analysed, each worker inherits that
state (copy-on-write) and makes every n-th chunk; the parent only copies their output to
stdout, in order, as it comes: the first lines are out long before the last are made.
"""
from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO, TextIO, TypeVar

from ..errors import FtptuiError
from ..forking import before_fork, read_message, widen_pipe, write_message

C = TypeVar("C")
R = TypeVar("R")


def worker_count(chunks: int) -> int:
    """Workers worth forking: one per core, none (work in this process) without fork or with
    a single chunk."""
    if not hasattr(os, "fork") or chunks < 2:
        return 0
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
               chunks)


def write_in_order(chunks: Sequence[C], make: Callable[[C], str], out: TextIO,
                   workers: int | None = None) -> None:
    """out.write(make(chunk)) for every chunk, in order; with several workers each makes every
    n-th chunk in a forked process.  An error in a worker stops the output with its message."""
    n = worker_count(len(chunks)) if workers is None else workers
    if n < 2:
        for chunk in chunks:
            out.write(make(chunk))
        return
    before_fork()
    pipes: list[BinaryIO] = []
    pids: list[int] = []
    try:
        for w in range(n):
            r, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: its own chunks, each as length + bytes
                os.close(r)
                for other in pipes:  # (the earlier workers' ends: only the parent reads them)
                    other.close()
                _work(wfd, (chunks[k] for k in range(w, len(chunks), n)), make)
            os.close(wfd)
            widen_pipe(r)
            pipes.append(os.fdopen(r, "rb", buffering=1 << 20))
            pids.append(pid)
        raw = _utf8_bytes_of(out)
        for k in range(len(chunks)):
            data = read_message(pipes[k % n])
            if data is None:
                raise FtptuiError("a worker process stopped before its part of the output was made")
            if raw is not None:
                raw.write(data)
            else:
                out.write(data.decode("utf-8", "surrogateescape"))
    finally:
        for f in pipes:
            f.close()
        for pid in pids:
            _stop(pid)


def _utf8_bytes_of(out: TextIO) -> BinaryIO | None:
    """The byte stream under a UTF-8 text stream (flushed), to copy the workers' bytes to as
    they are; None for any other stream."""
    raw = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    if raw is None or encoding != "utf8" or getattr(out, "errors", "strict") not in ("strict", "surrogateescape"):
        return None
    out.flush()
    return raw


def _work(fd: int, chunks: Iterable[C], make: Callable[[C], str | bytes]) -> None:
    code = 0
    pipe = os.fdopen(fd, "wb")
    try:
        for chunk in chunks:
            made = make(chunk)
            write_message(pipe, made if isinstance(made, bytes) else made.encode("utf-8", "surrogateescape"))
    except (BrokenPipeError, KeyboardInterrupt):  # the parent stopped reading, or Ctrl+C: it says why
        pass
    except BaseException as e:  # noqa: BLE001 - the parent sees the pipe end early and stops
        print(f"ftptui: {type(e).__name__}: {e}", file=sys.stderr)
        sys.stderr.flush()  # before the pipe closes, and os._exit() flushes nothing
        code = 1
    finally:
        try:
            pipe.close()
        finally:
            os._exit(code)


def _stop(pid: int) -> None:
    """Reap a worker; one still working (the reader stopped early) is killed first."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass


def in_child(work: Callable[[], R]) -> Callable[[], R]:
    """Start work() in a forked process (at once, in this one without fork); the function
    returned waits for its (pickled) result."""
    if not hasattr(os, "fork"):
        done = work()
        return lambda: done
    before_fork()
    r, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _work(wfd, [None], lambda _: pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
    os.close(wfd)

    def result() -> R:
        try:
            with os.fdopen(r, "rb", buffering=1 << 20) as pipe:
                data = read_message(pipe)
        finally:
            _stop(pid)
        if data is None:
            raise FtptuiError("a worker process stopped before its part of the work was done")
        return pickle.loads(data)
    return result
