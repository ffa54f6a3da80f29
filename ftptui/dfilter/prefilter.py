"""Which packets can make a leaf test true, told without dissecting them.

A test on `ftp.request.command` can only be true where the FTP decoder runs, which is a TCP
segment with payload to or from port 21.  These masks are supersets of where each protocol's
decoder runs, derived from the dissector tables that decide it (ftptui/dissect/app.py), so
dissecting only those rows gives the same answer.  A test that a text field holds a string
(`http.host contains "example"`) can further only be true in packets whose bytes hold it: see
`needles`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..dissect.app import TCP, UDP
from ..dissect.http import HEADERS
from ..store.columns import ETH_ARP, ETH_IPV4, ETH_IPV6, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP
from .compile import Compiler, Value, kind_only
from .fields import lookup
from .parser import BitAnd, Call, Compare, Exists, FieldRef, Literal, Member, Node, Slice
from .vector import Columns

Mask = Callable[[Columns], np.ndarray]  # the rows (of a Columns) where something may be


def _ip(c: Columns) -> np.ndarray:
    et = c.col("ethertype")
    return np.asarray((et == ETH_IPV4) | (et == ETH_IPV6))


def _from_tables(protocol: str) -> Mask:
    def mask(c: Columns) -> np.ndarray:
        out = np.zeros(len(c.rows), dtype=bool)
        for table in (TCP, UDP):
            for entry in table.for_protocol(protocol):
                out |= table.entry_rows(entry, c)
        return out
    return mask


# Protocols decoded from a TCP/UDP payload alone (the dissector tables), whose fields a filter can
# read from dissect_payload without the link, IP and transport layers.
APPLICATION = TCP.protocols() | UDP.protocols()

# protocol -> mask over Columns rows where its decoder may run (absent: no restriction known)
MAY_HAVE: dict[str, Mask] = {
    **{name: _from_tables(name) for name in APPLICATION},
    "tcp": lambda c: _ip(c) & ((c.col("ipproto") == PROTO_TCP) | c.quoting()),
    "udp": lambda c: _ip(c) & ((c.col("ipproto") == PROTO_UDP) | c.quoting()),
    "ip": lambda c: _ip(c),
    "ipv6": lambda c: _ip(c),
    "icmp": lambda c: _ip(c) & (c.col("ipproto") == PROTO_ICMP),
    "icmpv6": lambda c: _ip(c) & (c.col("ipproto") == PROTO_ICMPV6),
    "arp": lambda c: np.isin(c.col("ethertype"), (ETH_ARP, 0x8035)),  # RARP is decoded as arp
}


def required_protocols(node: Node) -> set[str]:
    """Protocols that must be in a packet for this leaf test to be true (empty: unknown)."""
    if isinstance(node, Exists):
        return _operand_protocols(node.operand)
    if isinstance(node, Member):
        return set() if node.negated and not _operand_protocols(node.operand) else _operand_protocols(node.operand)
    if isinstance(node, Compare):
        return _operand_protocols(node.left) | _operand_protocols(node.right)
    return set()


def _operand_protocols(node: Node) -> set[str]:
    if isinstance(node, FieldRef):
        fdef = lookup(node.name)
        return {fdef.protocol} if fdef else set()
    if isinstance(node, (Slice,)):
        return _operand_protocols(node.operand)
    if isinstance(node, BitAnd):
        return _operand_protocols(node.left)
    if isinstance(node, Call) and node.name != "count":
        return set().union(*(_operand_protocols(a) for a in node.args)) if node.args else set()
    return set()


def application_only(node: Node) -> bool:
    """Every field the leaf test reads belongs to an application protocol (and it needs one)."""
    names = [n.name for n in field_refs(node)]
    protos = {fdef.protocol for n in names if (fdef := lookup(n)) is not None}
    return bool(names) and protos <= APPLICATION and bool(required_protocols(node))


def field_refs(node: Node) -> Iterator[FieldRef]:
    if isinstance(node, FieldRef):
        yield node
    for child in vars(node).values():
        for c in (child if isinstance(child, list) else [child]):
            if isinstance(c, Node):
                yield from field_refs(c)


def candidates(node: Node, cols: Columns) -> np.ndarray:
    """Mask over cols.rows of the packets where the leaf test may be true."""
    mask = np.ones(len(cols.rows), dtype=bool)
    for proto in required_protocols(node):
        fn = MAY_HAVE.get(proto)
        if fn is not None:
            mask &= fn(cols)
    return mask


# Text fields whose value is the packet's bytes under the field, or a part of them, decoded
# (UTF-8 with replacement, cut at a NUL): each run of ASCII characters in the value is in those
# bytes.  So a value holding an ASCII string means the packet's bytes hold it.  Not so for
# decoded or built values: DNS names (length bytes on the wire, not dots), http.file_data
# (decompressed), http.request.full_uri (host + URI).  tests/test_dfilter_bytes.py checks the
# property on every capture of tests/data.
LITERAL_FIELDS = frozenset({
    "ftp.request.command", "ftp.request.arg", "ftp.response.arg",
    "http.request.method", "http.request.uri", "http.request.version", "http.response.version",
    "http.response.phrase", "http.request.line", "http.response.line", *HEADERS.values()})


def needles(node: Node) -> list[bytes] | None:
    """Byte strings one of which a packet's bytes must hold for this leaf test to be true
    (`field contains s`, `field == s`, `field in {s, t}` on a LITERAL_FIELDS field, with ASCII
    constants), or None when no such list is known."""
    items: list[object]  # constants; a range in a set is refused below
    if isinstance(node, Compare) and node.op in ("contains", "==", "==="):
        operand, items = node.left, [node.right]
    elif isinstance(node, Member) and not node.negated:
        operand, items = node.operand, list(node.items)
    else:
        return None
    fdef = lookup(operand.name) if isinstance(operand, FieldRef) else None
    if (fdef is None or fdef.name not in LITERAL_FIELDS or fdef.kind != "string"
            or not isinstance(operand, FieldRef) or operand.reference):
        return None
    out = []
    for item in items:
        if not isinstance(item, Literal):
            return None
        text = Compiler(set()).constant(item, Value("string", kind_only, fdef))
        if not (isinstance(text, str) and text and text.isascii()):
            return None
        out.append(text.encode("ascii"))
    return out
