"""Evaluate filter tests on the index's columns, for whole arrays of packets at once.

The index keeps a few header fields per packet (addresses, ports, flags, lengths, times), so a
test on those fields needs no dissection: `tcp.port == 21` over a million packets is a few numpy
comparisons.  Rows where the columns might not tell the whole story (IP packets that are not plain
TCP/UDP: ICMP errors quote inner headers, tunnels, fragments, truncated headers) are returned as
"unsure" and the caller decides them by dissecting.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dissect.ftp import data_streams
from ..store.columns import ETH_ARP, ETH_IPV4, ETH_IPV6, FTP_PORT, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP
from ..store.rows import RowColumns
from ..streams.analysis import FLAG_FIELDS, NO_SUBDISSECTOR, TcpAnalysis, tcp_analysis
from .compile import Compiler, Value, kind_only
from .fields import lookup
from .literals import Network
from .parser import BitAnd, Compare, Exists, FieldRef, Literal, Member, Node

LINK_ETHERNET = 1
ETH_RARP = 0x8035


@dataclass
class Occurrence:
    present: np.ndarray        # bool per row
    values: np.ndarray | None  # per row (uint/int arrays; (n, 2) uint64 for IPv6), None for protocols


class Columns(RowColumns):
    """The index columns for a set of rows, and the fields they can answer."""

    def unsure(self) -> np.ndarray:
        """IP rows whose tree may differ from the columns: ICMP errors (their quoted headers add a
        second ip.src, tcp.port, ...) and IP packets that are neither plain TCP, UDP nor ICMP
        (tunnels, fragments, truncated or bad headers)."""
        et = self.col("ethertype")
        ip = (et == ETH_IPV4) | (et == ETH_IPV6)
        proto = self.col("ipproto")
        icmp = ((proto == PROTO_ICMP) | (proto == PROTO_ICMPV6)) & (self.col("l4off") >= 0)
        plain = self.transport(PROTO_TCP) | self.transport(PROTO_UDP) | (icmp & ~self.quoting())
        return np.asarray(ip & ~plain)

    def addr(self, which: str, v6: bool) -> np.ndarray:
        """IPv4 addresses as numbers, or IPv6 ones as (n, 2) uint64 high and low halves (rows of
        the other family give whatever: the callers mask them out)."""
        if not v6:
            return self.col(which).astype(np.uint64)
        rows = self.index.v6.raw(which)[np.where(self.ip6(), self.col(which), 0)]
        return rows.view(">u8").astype(np.uint64)

    def rel_time(self) -> np.ndarray:
        return self.col("ts") - (self.index.first_ts or 0)

    def delta_time(self) -> np.ndarray:
        ts = self.index.cols.raw("ts")
        prev = np.maximum(self.rows - 1, 0)
        return np.asarray(ts[self.rows] - ts[prev])


Mask = Callable[[Columns], np.ndarray]  # rows of a Columns: a mask, or one value each
Occurrences = Callable[[Columns], list[Occurrence]]


def ftp_data_present(c: Columns) -> np.ndarray:
    """TCP payload of a data connection the FTP linker knows (the decoder's own rule), except the
    segments tshark gives no application layer (retransmissions, keep-alives: see analysis)."""
    streams = np.fromiter(data_streams(c.index), dtype=np.int64)
    port21 = (c.col("sport") == FTP_PORT) | (c.col("dport") == FTP_PORT)
    mask = c.transport(PROTO_TCP) & (c.col("paylen") > 0) & ~port21 & np.isin(c.col("stream"), streams)
    for k in np.nonzero(mask)[0].tolist():
        seq_ack = tcp_analysis(c.index, int(c.rows[k]))
        if seq_ack is not None and seq_ack.flags & NO_SUBDISSECTOR:
            mask[k] = False
    return np.asarray(mask)


def _field_table() -> dict[str, tuple[str, Occurrences]]:
    """name -> (kind, occurrences(Columns) -> [Occurrence])."""
    def one(mask: Mask, values: Mask | None = None) -> Occurrences:
        return lambda c: [Occurrence(mask(c), None if values is None else values(c))]

    def ports(proto: int, which: str) -> Occurrences:
        names = {"src": ("sport",), "dst": ("dport",), "both": ("sport", "dport")}[which]
        return lambda c: [Occurrence(c.transport(proto), c.col(n).astype(np.int64)) for n in names]

    def addrs(v6: bool, names: tuple[str, ...]) -> Occurrences:
        mask: Mask = Columns.ip6 if v6 else Columns.ip4
        return lambda c: [Occurrence(mask(c), c.addr(n, v6)) for n in names]

    def flag(bit: int) -> Occurrences:
        return one(lambda c: c.transport(PROTO_TCP), lambda c: ((c.col("tcpflags") >> bit) & 1).astype(np.int64))

    tcp: Mask = lambda c: c.transport(PROTO_TCP)  # noqa: E731
    udp: Mask = lambda c: c.transport(PROTO_UDP)  # noqa: E731
    everything: Mask = lambda c: np.ones(len(c.rows), dtype=bool)  # noqa: E731
    table: dict[str, tuple[str, Occurrences]] = {
        "frame": ("bytes", one(everything)),
        "frame.number": ("int", one(everything, lambda c: c.rows.astype(np.int64) + 1)),
        "frame.len": ("int", one(everything, lambda c: c.col("origlen").astype(np.int64))),
        "frame.cap_len": ("int", one(everything, lambda c: c.col("caplen").astype(np.int64))),
        "frame.time_relative": ("time", one(everything, Columns.rel_time)),
        "frame.time_delta": ("time", one(everything, Columns.delta_time)),
        "frame.time_epoch": ("time", one(everything, lambda c: c.col("ts"))),
        "eth": ("bytes", one(lambda c: c.col("link") == LINK_ETHERNET)),
        "arp": ("bytes", one(lambda c: np.isin(c.col("ethertype"), (ETH_ARP, ETH_RARP)))),  # RARP too
        "ip": ("bytes", one(Columns.ip4)),
        "ip.src": ("ipv4", addrs(False, ("src",))),
        "ip.dst": ("ipv4", addrs(False, ("dst",))),
        "ip.addr": ("ipv4", addrs(False, ("src", "dst"))),
        "ip.proto": ("int", one(Columns.ip4, lambda c: c.col("ipproto").astype(np.int64))),
        "ipv6": ("bytes", one(Columns.ip6)),
        "ipv6.src": ("ipv6", addrs(True, ("src",))),
        "ipv6.dst": ("ipv6", addrs(True, ("dst",))),
        "ipv6.addr": ("ipv6", addrs(True, ("src", "dst"))),
        "tcp": ("bytes", one(tcp)),
        "tcp.srcport": ("int", ports(PROTO_TCP, "src")),
        "tcp.dstport": ("int", ports(PROTO_TCP, "dst")),
        "tcp.port": ("int", ports(PROTO_TCP, "both")),
        "tcp.stream": ("int", one(tcp, lambda c: c.col("stream").astype(np.int64))),
        "tcp.len": ("int", one(tcp, lambda c: c.col("paylen").astype(np.int64))),
        "tcp.seq_raw": ("int", one(tcp, lambda c: c.col("seq").astype(np.int64))),
        "tcp.ack_raw": ("int", one(tcp, lambda c: c.col("ack").astype(np.int64))),
        "tcp.window_size_value": ("int", one(tcp, lambda c: c.col("win").astype(np.int64))),
        "tcp.flags": ("int", one(tcp, lambda c: c.col("tcpflags").astype(np.int64))),
        "ftp-data": ("bytes", one(ftp_data_present)),
        "udp": ("bytes", one(udp)),
        "udp.srcport": ("int", ports(PROTO_UDP, "src")),
        "udp.dstport": ("int", ports(PROTO_UDP, "dst")),
        "udp.port": ("int", ports(PROTO_UDP, "both")),
        "udp.stream": ("int", one(udp, lambda c: c.col("ustream").astype(np.int64))),
    }
    for bit, name in enumerate(("fin", "syn", "reset", "push", "ack", "urg", "ece", "cwr", "ae")):
        table[f"tcp.flags.{name}"] = ("bool", flag(bit))
    # tcp.analysis flags: one pass over every stream (streams/analysis.py), then a mask
    def analysis_flag(name: str) -> Mask:
        def mask(c: Columns) -> np.ndarray:
            every = c.index.derived(TcpAnalysis).all().matches(name)
            assert every is not None  # a flag field: matches() knows it
            return np.asarray(every[c.rows])
        return mask

    for name in list(FLAG_FIELDS) + ["tcp.analysis"]:
        table[name] = ("bytes", one(analysis_flag(name)))
    return table


FIELDS = _field_table()


# Fields the columns always get right, whatever the packet (no "unsure" rows).
CERTAIN = {"frame", "frame.number", "frame.len", "frame.cap_len", "frame.time_relative", "frame.time_delta",
           "frame.time_epoch", "eth", "arp", "tcp.analysis", *FLAG_FIELDS}


def vector_field(node: Node) -> tuple[str, Literal | None] | None:
    """The column-backed field a leaf test reads, with its bit mask if any, else None."""
    if isinstance(node, FieldRef) and _plain(node):
        return node.name, None
    if isinstance(node, BitAnd) and isinstance(node.left, FieldRef) and _plain(node.left) \
            and isinstance(node.right, Literal):
        return node.left.name, node.right
    return None


def _plain(node: Node) -> bool:
    """A field reference the columns hold (not field#n, not ${field})."""
    return isinstance(node, FieldRef) and node.name in FIELDS and node.layer is None and not node.reference


def leaf_operand(node: Node) -> Node | None:
    """For a leaf test that the columns can answer, its field operand; else None."""
    if isinstance(node, Exists):
        return node.operand if vector_field(node.operand) else None
    if isinstance(node, Member):
        return node.operand if _has_values(node.operand) else None
    if isinstance(node, Compare) and node.op not in ("contains", "matches"):
        if _has_values(node.left) and isinstance(node.right, Literal):
            return node.left
        if _has_values(node.right) and isinstance(node.left, Literal):
            return node.right
    return None


def _has_values(node: Node) -> bool:
    """A column-backed field whose values the columns hold: a protocol ("ip", "tcp": kind
    bytes) is only known to be there, so comparing its bytes needs the packet."""
    found = vector_field(node)
    return found is not None and (found[1] is not None or FIELDS[found[0]][0] != "bytes")


def evaluate(node: Node, c: Columns) -> np.ndarray:
    """Boolean mask over c.rows for a leaf test accepted by leaf_operand (unsure rows included
    as computed from the columns; the caller re-checks c.unsure() rows)."""
    operand = leaf_operand(node)
    found = vector_field(operand) if operand is not None else None
    assert operand is not None and found is not None, "evaluate() is for tests leaf_operand() accepts"
    name, mask_lit = found
    kind, occurrences_of = FIELDS[name]
    occs = occurrences_of(c)
    compiler = Compiler(set())
    if mask_lit is not None:
        bitmask = compiler.constant(mask_lit, _kind("int", name))
        occs = [Occurrence(o.present, o.values & bitmask) for o in occs]
        kind = "int"
    any_present = np.zeros(len(c.rows), dtype=bool)
    for o in occs:
        any_present |= o.present
    if isinstance(node, Exists):
        if mask_lit is None:
            return any_present
        return _any(occs, lambda v: v != 0)
    if isinstance(node, Member):
        consts: list[Any] = []
        for item in node.items:
            if isinstance(item, tuple):
                lo, hi = (compiler.constant(x, _kind(kind, name)) for x in item)
                consts.append((lo, hi))
            else:
                consts.append(compiler.constant(item, _kind(kind, name)))

        def inside(v: np.ndarray) -> np.ndarray:
            hit = np.zeros(len(v), dtype=bool)
            for cst in consts:
                if isinstance(cst, tuple):
                    hit |= (_cmp(v, ">=", cst[0])) & (_cmp(v, "<=", cst[1]))
                else:
                    hit |= _eq(v, cst)
            return hit
        hits = _any(occs, inside)
        return any_present & ~hits if node.negated else hits
    assert isinstance(node, Compare)
    op = node.op
    lit = node.right if operand is node.left else node.left
    if operand is node.right:
        op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
    const = compiler.constant(lit, _kind(kind, name if mask_lit is None else ""))
    if op == "==":
        return _any(occs, lambda v: _eq(v, const))
    if op == "!=":
        return np.asarray(any_present & ~_any(occs, lambda v: _eq(v, const)))
    if op == "===":
        bad = _any(occs, lambda v: ~_eq(v, const))
        return np.asarray(any_present & ~bad)
    if op == "!==":
        return _any(occs, lambda v: ~_eq(v, const))
    return _any(occs, lambda v: _cmp(v, op, const))


def _kind(kind: str, name: str = "") -> Value:
    """A Value naming only a kind (and the field, for its value strings): what a literal is
    converted to."""
    return Value(kind, kind_only, lookup(name) if name else None)


def _any(occs: list[Occurrence], test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = np.zeros(len(occs[0].present), dtype=bool)
    for o in occs:
        if o.values is None:
            continue
        out |= o.present & test(o.values)
    return out


def _eq(v: np.ndarray, const: Any) -> np.ndarray:
    if isinstance(const, Network):
        shift = const.bits - const.prefix
        if const.bits == 32:
            return np.asarray((v >> np.uint64(shift)) == np.uint64(const.value >> shift))
        return _v6_prefix_eq(v, const.value, const.prefix)
    if v.ndim == 2:
        return _v6_prefix_eq(v, const, 128)
    return np.asarray(v == const)


def _v6_prefix_eq(v: np.ndarray, value: int, prefix: int) -> np.ndarray:
    hi, lo = np.uint64(value >> 64), np.uint64(value & (2**64 - 1))
    if prefix <= 64:
        s = np.uint64(64 - prefix)
        return (v[:, 0] >> s) == (hi >> s) if prefix else np.ones(len(v), dtype=bool)
    s = np.uint64(128 - prefix)
    return np.asarray((v[:, 0] == hi) & ((v[:, 1] >> s) == (lo >> s)))


def _cmp(v: np.ndarray, op: str, const: Any) -> np.ndarray:
    if isinstance(const, Network):
        const = const.value
    if v.ndim == 2:  # IPv6 ordering: high half first
        hi, lo = np.uint64(const >> 64), np.uint64(const & (2**64 - 1))
        gt = (v[:, 0] > hi) | ((v[:, 0] == hi) & (v[:, 1] > lo))
        eq = (v[:, 0] == hi) & (v[:, 1] == lo)
        return np.asarray({">": gt, ">=": gt | eq, "<": ~(gt | eq), "<=": ~gt}[op])
    if v.dtype == np.uint64:
        const = np.uint64(max(const, 0)) if const >= 0 else None
        if const is None:  # a negative constant against unsigned values
            return np.full(len(v), op in (">", ">="))
    return np.asarray({">": v > const, ">=": v >= const, "<": v < const, "<=": v <= const}[op])
