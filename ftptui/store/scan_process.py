"""Scan a capture file in forked processes, so the browser's interpreter only indexes.

Walking the records and pulling header columns out of their bytes (`index.scan`) is more than
half of indexing and needs no earlier packet; in the browser it also competed with the UI thread
for the interpreter.  Two children forked before the UI starts (no other thread can then hold a
lock a child would need) do it: the walker walks the file and scans every third batch itself,
and hands the others (their record offsets, not their bytes) to a helper, which reads those
bytes again and scans them.  Each sends its `Scanned` batches, without their bytes, through a
pipe of its own; the browser's indexing thread takes them in file order from both and adds them
(`PacketIndex.build(scanned=...)`).  What the walk learns about the file (warnings, pcapng
interface names and custom blocks, time precision) goes with each batch, so the parent's
`CaptureFile` ends up as if it had scanned the file itself.

A gated scan (the browser's) sends its first batch and then waits until `go()`: on two cores
the walk slowed Textual's import (the first rows) by a quarter, and the helper makes up for the
wait.  The children end with the parent: a write to a pipe nobody reads fails, the gate opens
when the parent's end of it closes (and a hang-up's SIGHUP reaches the whole process group).
They never write to the terminal.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

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
    cap.ts_digits = state.get("ts_digits", cap.ts_digits)


WALKER, HELPER = 0, 1
SHARE = 3  # the walker scans batches 0, 3, 6, ... itself (it also walks them all); the helper the rest


def owner(k: int) -> int:
    """Which child scans batch k."""
    return WALKER if k % SHARE == 0 else HELPER


class ScanProcess:
    """Children scanning `cap` from its start; `batches()` receives what they find."""

    def __init__(self, cap: CaptureFile, gated: bool = False):
        """`gated`: the walker waits after its first batch until go() (or the parent's end)."""
        self.cap = cap
        walker_out, helper_out, work, gate = os.pipe(), os.pipe(), os.pipe(), os.pipe()
        for read_end, _ in (walker_out, helper_out, work):
            widen_pipe(read_end)
        before_fork()
        self.pids: list[int] = []
        self.pids.append(os.fork())
        if self.pids[-1] == 0:
            _close(walker_out[0], helper_out[0], helper_out[1], work[0], gate[1])
            _run_child(lambda: _walk(cap, walker_out[1], work[1], gate[0] if gated else None))
        self.pids.append(os.fork())
        if self.pids[-1] == 0:
            _close(walker_out[0], walker_out[1], helper_out[0], work[1], gate[0], gate[1])
            _run_child(lambda: _help(cap, work[0], helper_out[1]))
        _close(walker_out[1], helper_out[1], work[0], work[1], gate[0])
        self._gate = gate[1]
        if not gated:
            self.go()
        self._lock = threading.Lock()
        self.stopped = False  # stop() was called: the pipes' end is no error
        self._reaped = False
        # each child's messages read from its pipe as soon as they come (None: its end), so a
        # child never waits for the indexer to take its previous batch
        self._received: list[queue.SimpleQueue[bytes | None]] = []
        for who, (read_end, _) in enumerate((walker_out, helper_out)):
            self._received.append(queue.SimpleQueue())
            pipe = os.fdopen(read_end, "rb", buffering=1 << 20)
            threading.Thread(target=self._drain, args=(pipe, self._received[who]), name="scan-pipe",
                             daemon=True).start()

    @classmethod
    def start(cls, cap: CaptureFile, gated: bool = False) -> ScanProcess | None:
        """Scanning children for `cap`, or None where forking is not safe (another thread is
        running: it could hold a lock a child needs) or possible."""
        if threading.active_count() > 1 or not hasattr(os, "fork") or not cap.path:
            return None
        try:
            return cls(cap, gated)
        except OSError:
            return None

    def go(self) -> None:
        """Let a gated walker go on past its first batch."""
        if self._gate >= 0:
            os.close(self._gate)
            self._gate = -1

    def batches(self) -> Iterator[Scanned]:
        """The batches in file order, `cap` updated before each; ends at the file's end or when
        stopped.  Raises CaptureError if a child failed or died.  One reader only."""
        try:
            k = 0
            while True:
                who = owner(k)
                received = self._receive(who)
                if received is None and who == HELPER:
                    # the helper ends when the walker hands it nothing more: the walker's own
                    # end (or error) comes next, unless the helper died under way
                    received = self._receive(WALKER)
                    if received is not None and received[0] == "batch":
                        received = None
                if received is None:
                    if self.stopped:
                        return
                    raise CaptureError(f"{self.cap.display_name}: the scanning process ended unexpectedly")
                kind, payload, state = received
                _apply_state(self.cap, state)
                if kind == "end" and payload != k:  # batches the helper took and never sent: it died
                    raise CaptureError(f"{self.cap.display_name}: the scanning process ended unexpectedly")
                if kind == "end":
                    return
                if kind == "error":
                    raise CaptureError(f"{self.cap.display_name}: {payload}")
                yield payload
                k += 1
        finally:
            self.stop()
            self._reap()

    def _receive(self, who: int) -> tuple[str, Any, dict[str, Any]] | None:
        """The next message from a child, None at the end of its pipe."""
        message = self._received[who].get()
        return pickle.loads(message) if message else None

    @staticmethod
    def _drain(pipe: BinaryIO, received: queue.SimpleQueue[bytes | None]) -> None:
        """Read a pipe to its end (its own thread)."""
        try:
            while (message := read_message(pipe)) is not None:
                received.put(message)
        except OSError:
            pass
        finally:
            pipe.close()
            received.put(None)

    def stop(self) -> None:
        """Kill the children that still run (from any thread): the reader then sees the pipes end."""
        with self._lock:
            if not self.stopped and not self._reaped:
                self.stopped = True
                self.go()
                for pid in self.pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    def _reap(self) -> None:
        with self._lock:
            if not self._reaped:
                self._reaped = True
                for pid in self.pids:
                    os.waitpid(pid, 0)


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


def _send(out: BinaryIO, kind: str, payload: Any, state: dict[str, Any]) -> None:
    write_message(out, pickle.dumps((kind, payload, state), protocol=pickle.HIGHEST_PROTOCOL))


def _without_bytes(scanned: Scanned) -> Scanned:
    return dataclasses.replace(scanned, batch=dataclasses.replace(scanned.batch, buf=b""))


def _walk(cap: CaptureFile, out_fd: int, work_fd: int, gate: int | None) -> None:
    """The walker: every batch's records, scanned here (batches 0, 3, ...) or by the helper."""
    out, work = os.fdopen(out_fd, "wb"), os.fdopen(work_fd, "wb")
    sent: dict[str, int] = {}
    count = 0
    try:
        for k, batch in enumerate(cap.scan()):
            count = k + 1
            state = _cap_state(cap, sent)
            if owner(k) == WALKER:
                _send(out, "batch", _without_bytes(scan(batch)), state)
            else:  # the helper reads the same bytes again: only where they are goes through the pipe
                _send(work, "batch", (dataclasses.replace(batch, buf=b""), len(batch.buf)), state)
            if k == 0 and gate is not None:
                os.read(gate, 1)  # until the parent's go() (its end of the gate closed)
    except Exception as e:  # noqa: BLE001 - any failure becomes the parent's one-line error
        work.close()
        _send(out, "error", str(e) or type(e).__name__, _cap_state(cap, sent))
    else:
        work.close()
        _send(out, "end", count, _cap_state(cap, sent))  # (the parent checks it has them all)


def _help(cap: CaptureFile, work_fd: int, out_fd: int) -> None:
    """The helper: the batches the walker hands over, read again and scanned."""
    work, out = os.fdopen(work_fd, "rb", buffering=1 << 20), os.fdopen(out_fd, "wb")
    try:
        while (message := read_message(work)) is not None:
            _, (batch, size), state = pickle.loads(message)
            scanned = scan(dataclasses.replace(batch, buf=cap.read(batch.base, size)))
            _send(out, "batch", _without_bytes(scanned), state)
    except Exception as e:  # noqa: BLE001 - as the walker's
        _send(out, "error", str(e) or type(e).__name__, {})


def _run_child(body: Callable[[], None]) -> None:
    """A child's whole life: `body`, then exit without running the parent's exit handlers."""
    status = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):  # nothing of the child's may reach the terminal
            os.dup2(devnull, std)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # nor Python's streams, whatever they were
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):  # not the parent's handlers: end
            signal.signal(sig, signal.SIG_DFL)
        reuse_freed_memory()
        body()
    except BaseException:  # noqa: BLE001 - the parent is gone (broken pipe) or killed us
        status = 1
    finally:
        os._exit(status)
