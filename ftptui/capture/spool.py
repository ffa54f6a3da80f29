"""Growing captures: a pipe copied into a spool file, a file another program is writing, and the
loop that follows either (or a live capture, see live.py) batch by batch.

A growing source has `path` (the file to read), `display_name`, `finished` (no more data will
come), `error` (why it ended early, or None) and `wait(timeout)` (return when the file may have
grown or the source finished).  `open_growing(source)` opens its file once the capture header is
there; `follow(cap, source)` yields the Batches of new complete records as they arrive, for
PacketIndex.add_batch, until the source finishes (or `stop` is set).
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Protocol, TypeVar

from .. import cleanup
from ..errors import CaptureError
from .reader import GZIP_MAGIC, PCAP_MAGICS, PCAPNG_SHB, Batch, CaptureFile, open_capture

S = TypeVar("S", bound="ClosedOnExit")
POLL = 0.2  # seconds between looks at a file someone else writes (tail -f looks every second)
PROC_FD = os.path.isdir("/proc/self/fd")


class GrowingSource(Protocol):
    """What follow() and the browser need of a capture that grows: a pipe's spool, a file being
    written, a live capture (capture/live.py), or a file already complete (Finished)."""
    path: str  # the capture file to read
    display_name: str
    error: str | None  # why it ended early

    @property
    def finished(self) -> bool: ...  # no more data will come

    def wait(self, timeout: float | None = None) -> None: ...  # until it may have grown or finished

    def close(self) -> None: ...

    def __enter__(self) -> GrowingSource: ...

    def __exit__(self, *exc: object) -> None: ...


class ClosedOnExit:
    """`with source:` closes it (every growing source is one)."""

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class NamelessFile:
    """A temporary file that nothing in the file system names once it is made, so it cannot be
    left behind however ftptui ends (even killed).  `path` opens it, in this process and in
    children it is passed to (pass_fds): /proc/self/fd/N.  Without /proc (not Linux) it keeps
    its temporary name, deleted by close() or at exit."""

    def __init__(self, prefix: str, suffix: str = "", directory: str | None = None):
        self.fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        if PROC_FD:
            os.unlink(name)
            self.path, self._name, self._token = f"/proc/self/fd/{self.fd}", None, None
        else:
            self.path, self._name = name, name
            self._token = cleanup.on_exit(self._remove)

    def _remove(self) -> None:
        if self._name:
            try:
                os.unlink(self._name)
            except OSError:
                pass

    def close(self) -> None:
        """Give the file up (readers that opened `path` keep theirs)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._remove()
        if self._token is not None:
            cleanup.forget(self._token)
            self._token = None


class StreamSpool(ClosedOnExit):
    """Copies a stream (stdin, a pipe, a socket) into a spool file as it arrives, in a thread.

    `bytes_in` counts what has arrived; `finished` turns true at the end of the stream (the
    status bar's "stream ended")."""

    def __init__(self, fd: int = 0, display_name: str = "standard input", path: str | None = None,
                 directory: str | None = None):
        """`path`: copy into this file and keep it (-w FILE); by default a temporary spool
        (in `directory` or $TMPDIR) that close() deletes."""
        self.fd = fd
        self.display_name = display_name
        self._keep = self.keeps_file = path is not None
        self._spool: NamelessFile | None = None
        if path is None:
            self._spool = NamelessFile("ftptui-stdin-", ".cap", directory)
            self._out, self.path = os.dup(self._spool.fd), self._spool.path  # the copy closes _out
        else:
            try:
                self._out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except OSError as e:
                raise CaptureError(f"{path}: {e.strerror}") from None
            self.path = path
        self.bytes_in = 0
        self.finished = False
        self.error: str | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._copy, name="ftptui-stdin", daemon=True)

    def start(self) -> "StreamSpool":
        self._thread.start()
        return self

    def _copy(self) -> None:
        try:
            while not self._stop:
                data = os.read(self.fd, 1 << 20)
                if not data:
                    break
                view = memoryview(data)
                while view:
                    view = view[os.write(self._out, view):]
                with self._cond:
                    self.bytes_in += len(data)
                    self._cond.notify_all()
        except OSError as e:
            self.error = f"{self.display_name}: {e.strerror or e}"
        finally:
            os.close(self._out)
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> None:
        with self._cond:
            if not self.finished:
                self._cond.wait(timeout)

    def close(self) -> None:
        """Stop copying (at the next chunk) and give up the spool file (unless it is the user's:
        the thread may still be writing it, and it stays open until it ends)."""
        self._stop = True
        if self._spool is not None:
            self._spool.close()


class FileSource(ClosedOnExit):
    """A capture file that another program is still writing (tail -f): it never finishes by
    itself; close() (or the caller's stop event) ends the follow."""

    keeps_file = True  # the file is the user's

    def __init__(self, path: str, poll: float = POLL):
        self.path = self.display_name = path
        self.poll = poll
        self.error: str | None = None
        self._closed = threading.Event()
        try:
            self._size = os.path.getsize(path)
        except OSError as e:
            raise CaptureError(f"{path}: {e.strerror}") from None

    @property
    def finished(self) -> bool:
        return self._closed.is_set()

    def wait(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed.is_set():
            try:
                size = os.path.getsize(self.path)
            except OSError:
                size = self._size
            if size != self._size:
                self._size = size
                return
            left = self.poll if deadline is None else min(self.poll, deadline - time.monotonic())
            if left <= 0:
                return
            self._closed.wait(left)

    def close(self) -> None:
        self._closed.set()


def _header_size(head: bytes) -> int:
    """How many bytes open_capture needs to see before it can open a file starting with head."""
    if head in PCAP_MAGICS:
        return 24
    if head == PCAPNG_SHB:
        return 12
    return 4


def open_growing(source: GrowingSource, stop: threading.Event | None = None) -> CaptureFile:
    """Wait until the source's file holds a capture header (or the source finished), then open
    it.  Raises CaptureError as open_capture does ("not a capture file", "empty") and, for a
    gzip stream, waits for its end (gzip is unpacked whole, so it cannot be followed)."""
    while True:
        finished = source.finished
        try:
            with open(source.path, "rb") as f:
                head = f.read(24)
        except OSError as e:
            raise CaptureError(f"{source.display_name}: {e.strerror}") from None
        gzipped = head[:2] == GZIP_MAGIC
        if finished or (not gzipped and len(head) >= 4 and len(head) >= _header_size(head[:4])):
            break
        if stop is not None and stop.is_set():
            raise CaptureError(f"{source.display_name}: stopped before a capture header arrived")
        source.wait(POLL)
    if getattr(source, "error", None) and not head:
        raise CaptureError(source.error)
    return open_capture(source.path, source.display_name)


IDLE = None  # what follow() yields when a restartable source has stopped and all it wrote is read


def follow(cap: CaptureFile, source: GrowingSource, stop: threading.Event | None = None, poll: float = 0.5,
           restartable: bool = False) -> Iterator[Batch | None]:
    """The one loop that follows a growing capture: yield Batches of the records added to
    `cap`'s file as they arrive, until the source has finished (then a last pass reports a
    record cut short at the end, as scan() does) or `stop` is set.  A file already complete (a
    source whose `finished` is true) is read to its end.  A `restartable` source (a live
    capture in the browser, which can be started again) is followed past its end: each time it
    stops and everything it wrote has been read, IDLE is yielded once."""
    idle_said = False
    while True:
        finished = source.finished  # read before the pass, so the last pass sees all the data
        for batch in cap.tail(final=finished and not restartable):
            idle_said = False
            yield batch
        if stop is not None and stop.is_set():
            return
        if not finished:
            source.wait(poll)
        elif not restartable:
            return
        else:
            if not idle_said:
                idle_said = True
                yield IDLE
            if stop is not None:
                stop.wait(poll / 2)
            else:
                time.sleep(poll / 2)


class Finished(ClosedOnExit):
    """A source that is complete already: follow() on it reads a file once, like scan()."""

    def __init__(self, path: str):
        self.path = self.display_name = path
        self.finished = True
        self.error: str | None = None

    def wait(self, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass


def stdin_from_tty() -> int:
    """For the UI reading a capture from a pipe: move the pipe off fd 0 and put the terminal
    there instead, so Textual (which reads keys from sys.__stdin__, fd 0) gets the keyboard.
    Returns the pipe's new fd (give it to StreamSpool).  Raises CaptureError without a
    terminal (no /dev/tty: e.g. under cron)."""
    pipe = os.dup(0)
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError as e:
        os.close(pipe)
        raise CaptureError(f"reading a capture from standard input needs a terminal for the keys: "
                           f"/dev/tty: {e.strerror}") from None
    os.dup2(tty, 0)
    os.close(tty)
    sys.stdin = open(0, "r", closefd=False)
    return pipe
