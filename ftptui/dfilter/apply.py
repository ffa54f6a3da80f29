"""Run a compiled filter over a packet index: columns where they can answer, dissection elsewhere.

The filter's tree is walked with a set of candidate rows.  `a and b` evaluates b only on the
rows a kept, `a or b` evaluates b only on the rows a did not take, so a cheap column test in front
of an expensive one (`tcp.port == 21 and ftp.request.command == "RETR"`) limits the dissection to
the packets that can still match.  Leaf tests on indexed fields are numpy masks; tests on the
packet's bytes alone (frame, tcp.payload) run on bytes read in big chunks (spans.py); everything
else dissects each candidate packet once (cached for the run).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from ..dissect.packet import dissect, dissect_payload
from ..dissect.tree import Dissection
from ..store import prefix
from ..store.index import PacketIndex
from . import prefilter, spans, vector
from .compile import Filter, PacketView
from .parser import Logic, Node

VIEW_CACHE = 4096
ROWS_AT_ONCE = 1 << 20


class Cancelled(Exception):
    """The filter run was stopped (Esc, or a newer filter)."""


class FilterRun:
    def __init__(self, index: PacketIndex, flt: Filter, stop: threading.Event | None = None,
                 on_progress: Callable[[int, int], object] | None = None, use_columns: bool = True):
        self.index, self.flt = index, flt
        self.use_columns = use_columns  # False: dissect every packet (a cross-check for tests)
        self.stop = stop
        self.on_progress = on_progress  # called with (packets tested, packets to test)
        self.views: OrderedDict[int, PacketView] = OrderedDict()
        self.span = self.chunk = (0, 1)  # the rows asked for, and those being tested

    def rows(self, start: int = 0, end: int | None = None) -> np.ndarray:
        """Indexes (0-based) of the packets in [start, end) that match, ascending.  Packets are
        taken ROWS_AT_ONCE at a time, which bounds the memory the column tests use."""
        end = len(self.index) if end is None else end
        parts = []
        self.span = (start, max(end - start, 1))
        for a in range(start, end, ROWS_AT_ONCE):
            self.chunk = (a, min(a + ROWS_AT_ONCE, end))
            parts.append(self.eval(self.flt.ast, np.arange(*self.chunk, dtype=np.int64)))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def eval(self, node: Node, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return rows
        if isinstance(node, Logic):
            if node.op == "not":
                return np.setdiff1d(rows, self.eval(node.args[0], rows), assume_unique=True)
            if node.op == "and":  # each test runs only on the rows the ones before kept
                for arg in node.args:
                    rows = self.eval(arg, rows)
                return rows
            taken = []  # "or": each test runs only on the rows none before took
            for arg in node.args:
                hit = self.eval(arg, rows)
                taken.append(hit)
                rows = np.setdiff1d(rows, hit, assume_unique=True)
            return np.sort(np.concatenate(taken))
        operand = vector.leaf_operand(node) if self.use_columns else None
        if operand is not None:
            cols = vector.Columns(self.index, rows)
            mask = vector.evaluate(node, cols)
            found = vector.vector_field(operand)
            if found is not None and found[0] in vector.CERTAIN:
                return np.asarray(rows[mask])
            unsure = cols.unsure()
            return np.union1d(rows[mask & ~unsure], self.slow(node, rows[unsure]))
        if not self.use_columns:
            return self.slow(node, rows)
        rows = rows[prefilter.candidates(node, vector.Columns(self.index, rows))]
        names = spans.fields_read(node)
        if names is not None:
            return self.on_bytes(node, rows, names)
        needles = prefilter.needles(node)
        if needles and len(rows):  # dissect only the packets holding one of the strings
            holding = np.zeros(len(rows), dtype=bool)
            caplen = self.index.cols.raw("caplen")[rows]
            for needle in needles:
                holding |= prefix.containing(self.index, rows, np.zeros(len(rows), np.int64), caplen, needle,
                                             on_run=lambda k: self.tick(k, len(rows), report=False))
            rows = rows[holding]
        return self.slow(node, rows)

    def on_bytes(self, node: Node, rows: np.ndarray, names: set[str]) -> np.ndarray:
        """A leaf test that reads only fields placed by spans.Ranges, on the packets' bytes; the
        rows the ranges cannot place are dissected."""
        placed = spans.Ranges(self.index, rows, names)
        known = rows[placed.known]
        ranges = {name: (a[placed.known], b[placed.known]) for name, (a, b) in placed.ranges.items() if name in names}
        found = spans.contained(node)
        if found is not None:  # one search per chunk instead of one per packet
            starts, stops = ranges[found[0]]
            keep = prefix.containing(self.index, known, starts, stops, found[1],
                                     on_run=lambda k: self.tick(k, len(known)))
        else:
            test = self.flt.leaves[id(node)]
            keep = np.zeros(len(known), dtype=bool)
            as_lists = {name: (a.tolist(), b.tolist()) for name, (a, b) in ranges.items()}
            data = prefix.packets(self.index, known, on_run=lambda k: self.tick(k, len(known)))
            for k, (i, raw) in enumerate(zip(known.tolist(), data)):
                view = PacketView.of_ranges(i + 1, raw, {name: (a[k], b[k]) for name, (a, b) in as_lists.items()})
                keep[k] = test(view)
        return np.union1d(known[keep], self.slow(node, rows[~placed.known]))

    def tick(self, k: int, n: int, report: bool = True) -> None:
        """k of the n rows being tested are done: stop if asked, report progress."""
        if self.stop is not None and self.stop.is_set():
            raise Cancelled()
        if report and self.on_progress and n:  # through this chunk as far as its rows go, in the whole span
            a, b = self.chunk
            self.on_progress(a - self.span[0] + (b - a) * k // n, self.span[1])

    def slow(self, node: Node, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return rows
        test = self.flt.leaves[id(node)]  # compiled with the filter
        keep = np.zeros(len(rows), dtype=bool)
        payload_only = np.zeros(len(rows), dtype=bool)
        if self.use_columns and prefilter.application_only(node):
            payload_only = ~vector.Columns(self.index, rows).unsure()
        for k, i in enumerate(rows.tolist()):
            keep[k] = test(self.payload_view(i) if payload_only[k] else self.view(i))
            if k % 2048 == 2047:
                self.tick(k + 1, len(rows))
        return rows[keep]

    def payload_view(self, i: int) -> PacketView:
        """The packet's application layer only (see dissect_payload); not cached, not printed."""
        full = self.views.get(i)
        if full is not None:
            return full
        return PacketView(dissect_payload(self.index, i), self.index.packet_bytes(i))

    def dissection(self, i: int) -> Dissection:
        """Packet i dissected (reusing the run's dissection when the filter needed one)."""
        v = self.views.get(i)
        return v.dissection if v is not None else dissect(self.index, i)

    def view(self, i: int) -> PacketView:
        v = self.views.get(i)
        if v is None:
            v = PacketView(dissect(self.index, i), self.index.packet_bytes(i))
            self.views[i] = v
            if len(self.views) > VIEW_CACHE:
                self.views.popitem(last=False)
        return v
