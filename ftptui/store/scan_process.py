"""Scan a capture file in a forked process, so the browser's interpreter only indexes.

Walking the records and pulling header columns out of their bytes (`index.scan`) is more than
half of indexing and needs no earlier packet; in the browser it also competed with the UI thread
for the interpreter.  A child forked before the UI starts (no other thread can then hold a lock
the child would need) does it and sends each `Scanned` batch, without its bytes, through a pipe;
the browser's indexing thread adds them (`PacketIndex.build(scanned=...)`).  What the walk
learns about the file (warnings, pcapng interface names and custom blocks, time precision) goes
with each batch, so the parent's `CaptureFile` ends up as if it had scanned the file itself.

The child ends with the parent: a write to a pipe nobody reads fails (and a hang-up's SIGHUP
reaches the whole process group).  It never writes to the terminal.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..capture.reader import CaptureFile
from ..errors import CaptureError
from ..forking import before_fork, read_message, reuse_freed_memory, widen_pipe, write_message
from .index import Scanned, scan


def _cap_state(cap: CaptureFile, sent: dict[str, int]) -> dict[str, Any]:
    """What the walk added to `cap` since the last call (`sent` counts what went before)."""
    state: dict[str, Any] = {}
    if len(cap.warnings) > sent.get("warnings", 0):
        state["warnings"] = cap.warnings[sent.get("warnings", 0):]
        sent["warnings"] = len(cap.warnings)
    if len(cap.custom_blocks) > sent.get("custom_blocks", 0):
        state["custom_blocks"] = list(cap.custom_blocks.items())[sent.get("custom_blocks", 0):]
        sent["custom_blocks"] = len(cap.custom_blocks)
    if len(cap.if_names) != sent.get("if_names", 0):
        state["if_names"] = dict(cap.if_names)
        sent["if_names"] = len(cap.if_names)
    state["ts_digits"] = cap.ts_digits
    return state


def _apply_state(cap: CaptureFile, state: dict[str, Any]) -> None:
    cap.warnings.extend(state.get("warnings", ()))
    cap.custom_blocks.update(state.get("custom_blocks", ()))
    cap.if_names.update(state.get("if_names", {}))
    cap.ts_digits = state["ts_digits"]


class ScanProcess:
    """A child process scanning `cap` from its start; `batches()` receives what it finds."""

    def __init__(self, cap: CaptureFile):
        self.cap = cap
        read_end, write_end = os.pipe()
        widen_pipe(read_end)
        before_fork()
        self.pid = os.fork()
        if self.pid == 0:  # the child
            os.close(read_end)
            _child(cap, write_end)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb", buffering=1 << 20)
        self._lock = threading.Lock()
        self.stopped = False  # stop() was called: the pipe's end is no error
        self._reaped = False
        # messages read from the pipe as soon as they come (None: its end), so the child never
        # waits for the indexer to take its previous batch
        self._received: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        threading.Thread(target=self._drain, name="scan-pipe", daemon=True).start()

    @classmethod
    def start(cls, cap: CaptureFile) -> ScanProcess | None:
        """A scanning child for `cap`, or None where forking is not safe (another thread is
        running: it could hold a lock the child needs) or possible."""
        if threading.active_count() > 1 or not hasattr(os, "fork") or not cap.path:
            return None
        try:
            return cls(cap)
        except OSError:
            return None

    def batches(self) -> Iterator[Scanned]:
        """The child's batches in file order, `cap` updated before each; ends at the file's end
        or when stopped.  Raises CaptureError if the child failed or died.  One reader only."""
        try:
            while True:
                received = self._receive()
                if received is None:
                    if self.stopped:
                        return
                    raise CaptureError(f"{self.cap.display_name}: the scanning process ended unexpectedly")
                kind, payload, state = received
                _apply_state(self.cap, state)
                if kind == "end":
                    return
                if kind == "error":
                    raise CaptureError(f"{self.cap.display_name}: {payload}")
                yield payload
        finally:
            self.stop()
            self._reap()

    def _receive(self) -> tuple[str, Any, dict[str, Any]] | None:
        """The next message, None at the end of the pipe."""
        message = self._received.get()
        return pickle.loads(message) if message else None

    def _drain(self) -> None:
        """Read the pipe to its end (the pipe's own thread)."""
        try:
            while (message := read_message(self._pipe)) is not None:
                self._received.put(message)
        except OSError:
            pass
        finally:
            self._pipe.close()
            self._received.put(None)

    def stop(self) -> None:
        """Kill the child if it still runs (from any thread): the reader then sees the pipe end."""
        with self._lock:
            if not self.stopped and not self._reaped:
                self.stopped = True
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _reap(self) -> None:
        with self._lock:
            if not self._reaped:
                self._reaped = True
                os.waitpid(self.pid, 0)


def _child(cap: CaptureFile, fd: int) -> None:
    """The child's whole life: scan, send, exit without running the parent's exit handlers."""
    status = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):  # nothing of the child's may reach the terminal
            os.dup2(devnull, std)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # nor Python's streams, whatever they were
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):  # not the parent's handlers: end
            signal.signal(sig, signal.SIG_DFL)
        reuse_freed_memory()
        out = os.fdopen(fd, "wb")
        sent: dict[str, int] = {}

        def send(kind: str, payload: Any = None) -> None:
            write_message(out, pickle.dumps((kind, payload, _cap_state(cap, sent)), protocol=pickle.HIGHEST_PROTOCOL))

        try:
            for batch in cap.scan():
                scanned = scan(batch)
                send("batch", dataclasses.replace(scanned, batch=dataclasses.replace(batch, buf=b"")))
        except Exception as e:  # noqa: BLE001 - any failure becomes the parent's one-line error
            send("error", str(e) or type(e).__name__)
        else:
            send("end")
    except BaseException:  # noqa: BLE001 - the parent is gone (broken pipe) or killed us
        status = 1
    finally:
        os._exit(status)
