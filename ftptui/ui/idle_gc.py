"""Python's full garbage collections, run while nobody types.

A full (generation 2) collection walks every object the app holds: 30-40 ms with a capture and
a few views open, long enough to delay a key that lands on one (seen in the latency benchmark's
worst cases).  The automatic full collections are turned off while the UI runs (the young
generations still collect themselves, a millisecond or two each); the app runs one after a
second without input, once as many young collections have happened as would have triggered it,
and not twice within GAP seconds.
"""
from __future__ import annotations

import gc
import time

QUIET = 1.0  # seconds without a key or mouse event before a full collection may run
NEVER = 1 << 30
OVERDUE = 20  # ... but after this many times the usual wait it runs anyway (keys held down for minutes)
GAP = 10.0  # seconds at least between two full collections


class IdleCollector:
    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self.last_full = 0.0
        self.freeze_next = False
        self.saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        """Automatic full collections off (until stop())."""
        if self.saved is None:
            self.saved = gc.get_threshold()
            gc.set_threshold(self.saved[0], self.saved[1], NEVER)

    def stop(self) -> None:
        gc.unfreeze()
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None

    def settle(self) -> None:
        """The objects alive now will live as long as the capture is open (its index, the
        app's widgets): the next full collection also freezes what survives it, so that later
        ones walk only what was made since (60-80 ms with a big capture open, else)."""
        self.freeze_next = True

    def release(self) -> None:
        """The capture is closed: what was frozen may be collected again."""
        self.freeze_next = False
        gc.unfreeze()

    def input_seen(self) -> None:
        self.last_input = time.monotonic()

    def tick(self) -> bool:
        """Called now and then: a full collection if it is due and the user is quiet (True if
        one ran)."""
        if self.saved is None:
            return False
        now = time.monotonic()
        due = gc.get_count()[2]  # young collections since the last full one
        quiet = now - self.last_input >= QUIET
        # Python itself skips most full collections (not before a quarter more long-lived
        # objects): at most one in GAP seconds here, so a long quiet load is not slowed either
        if due < self.saved[2] or now - self.last_full < GAP:
            return False
        if not quiet and due < OVERDUE * self.saved[2]:
            return False
        gc.collect()
        if self.freeze_next:
            gc.freeze()
            self.freeze_next = False
        self.last_full = time.monotonic()
        return True
