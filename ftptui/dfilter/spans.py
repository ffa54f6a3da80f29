"""Leaf tests that read nothing but a packet's bytes: `frame` and `tcp.payload`.

`frame contains "admin"` needs no dissection: the frame field is the packet's captured bytes,
and the TCP payload's place in a plain TCP packet follows from the index columns and two header
bytes.  A test on those fields runs on a PacketView that holds just them (PacketView.of_ranges),
on bytes read in big chunks; `contains` with a constant searches whole chunks at once.  Rows
whose payload the columns cannot place (the "unsure" rows, odd headers) are dissected instead.
"""
from __future__ import annotations

import numpy as np

from ..store import prefix
from ..store.columns import ETH_IPV4, PROTO_TCP
from ..store.index import PacketIndex
from .compile import Compiler
from .parser import Compare, FieldRef, Literal, Node
from .prefilter import field_refs
from .vector import Columns

FIELDS = ("frame", "tcp.payload")


def fields_read(node: Node) -> set[str] | None:
    """The fields a leaf test reads, when all of them are ones placed here (else None)."""
    refs = list(field_refs(node))
    if refs and all(r.name in FIELDS and r.layer is None and not r.reference for r in refs):
        return {r.name for r in refs}
    return None


def contained(node: Node) -> tuple[str, bytes] | None:
    """(field, bytes) for a `field contains constant` leaf on one of FIELDS, else None."""
    if not (isinstance(node, Compare) and node.op == "contains" and isinstance(node.left, FieldRef)
            and isinstance(node.right, Literal) and fields_read(node) is not None):
        return None
    compiler = Compiler(set())
    needle = compiler.constant(node.right, compiler.value(node.left))  # bytes, as the test has it
    return (node.left.name, needle) if isinstance(needle, bytes) and needle else None


class Ranges:
    """Where each of `names` lies in each row's bytes: ranges[name] = (starts, stops), offsets in
    the packet, start == stop where the packet does not have the field; `known` marks the rows
    this holds for (the others are to be dissected)."""

    def __init__(self, index: PacketIndex, rows: np.ndarray, names: set[str]):
        caplen = index.cols.raw("caplen")[rows].astype(np.int64)
        self.known = np.ones(len(rows), dtype=bool)
        self.ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {"frame": (np.zeros(len(rows), np.int64), caplen)}
        if "tcp.payload" in names:
            self.ranges["tcp.payload"] = self._tcp_payload(index, rows, caplen)

    def _tcp_payload(self, index: PacketIndex, rows: np.ndarray, caplen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The dissector's tcp.payload (dissect/transport.py): from the end of the TCP header to
        the end the IP header gives (its total or payload length), cut at the captured bytes;
        there when that is not empty.  Unsure rows (tunnels, ICMP errors quoting TCP...), a TCP
        header under 20 bytes or not all captured (the dissector stops there) and an IPv4 total
        length of 0 (segmentation offload: the dissector takes the captured length) are left to
        dissection."""
        c = Columns(index, rows)
        start = np.zeros(len(rows), np.int64)
        stop = np.zeros(len(rows), np.int64)
        self.known &= ~c.unsure()
        tcp = np.nonzero(self.known & c.transport(PROTO_TCP))[0]
        if not len(tcp):
            return start, stop
        sub = rows[tcp]
        l4 = c.col("l4off")[tcp].astype(np.int64)
        hdr = (prefix.gather(index, sub, l4 + 12, 1)[:, 0] >> 4).astype(np.int64) * 4
        l3 = c.col("l3off")[tcp].astype(np.int64)
        v4 = c.col("ethertype")[tcp] == ETH_IPV4
        total = prefix.gather(index, sub, l3 + 2, 2).astype(np.int64)
        tso = v4 & (total[:, 0] * 256 + total[:, 1] == 0)
        self.known[tcp[(hdr < 20) | (l4 + hdr > caplen[tcp]) | tso]] = False
        # the columns' paylen is the IP header's length minus the headers (possibly negative: 0)
        end = np.minimum(l4 + hdr + c.col("paylen")[tcp].astype(np.int64), caplen[tcp])
        start[tcp] = l4 + hdr
        stop[tcp] = np.maximum(end, l4 + hdr)
        return start, stop
