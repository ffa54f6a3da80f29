"""Which packets can hold a protocol at all, told from the index columns without dissecting.

A test on `ftp.request.command` can only be true where the FTP decoder runs, which is a TCP
segment with payload to or from port 21.  These masks are supersets of where each protocol's
decoder (ftptui/dissect/app.py) runs, so dissecting only those rows gives the same answer.
"""
from __future__ import annotations

import numpy as np

from ..dissect.app import HTTP_METHODS, TLS_CONTENT
from ..store.columns import ETH_ARP, ETH_IPV4, ETH_IPV6, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP
from ..store.prefix import payload_prefix, startswith_any
from .fields import lookup
from .parser import BitAnd, Call, Compare, Exists, FieldRef, Member, Node, Slice
from .vector import ftp_data_present

DNS_PORTS = (53, 5353, 5355)


def _port(c, *ports):
    hit = np.zeros(len(c.rows), dtype=bool)
    for p in ports:
        hit |= (c.col("sport") == p) | (c.col("dport") == p)
    return hit


def _tcp_payload(c):
    return c.transport(PROTO_TCP) & (c.col("paylen") > 0)


def _by_prefix(test):
    """Rows with TCP payload whose first bytes pass `test(prefix array)`."""
    def mask(c):
        cand = _tcp_payload(c)
        out = np.zeros(len(c.rows), dtype=bool)
        idx = np.nonzero(cand)[0]
        out[idx] = test(payload_prefix(c.index, c.rows[idx]))
        return out
    return mask


def _http_start(prefix):
    return startswith_any(prefix, HTTP_METHODS + (b"HTTP/",))


def _tls_start(prefix):
    return np.isin(prefix[:, 0], list(TLS_CONTENT)) & (prefix[:, 1] == 3) & (prefix[:, 2] <= 4)


def _ip(c):
    et = c.col("ethertype")
    return (et == ETH_IPV4) | (et == ETH_IPV6)


# protocol -> mask over Columns rows where its decoder may run (absent: no restriction known)
MAY_HAVE = {
    "ftp": lambda c: _tcp_payload(c) & _port(c, 21),
    "ftp-data": ftp_data_present,  # exactly where the decoder labels FTP-DATA
    "http": _by_prefix(_http_start),
    "tls": _by_prefix(_tls_start),
    "ssh": lambda c: _tcp_payload(c),
    "dns": lambda c: _ip(c) & _port(c, *DNS_PORTS),
    "mdns": lambda c: _ip(c) & _port(c, 5353),
    "llmnr": lambda c: _ip(c) & _port(c, 5355),
    "tcp": lambda c: _ip(c) & ((c.col("ipproto") == PROTO_TCP) | c.quoting()),
    "udp": lambda c: _ip(c) & ((c.col("ipproto") == PROTO_UDP) | c.quoting()),
    "ip": lambda c: _ip(c),
    "ipv6": lambda c: _ip(c),
    "icmp": lambda c: _ip(c) & (c.col("ipproto") == PROTO_ICMP),
    "icmpv6": lambda c: _ip(c) & (c.col("ipproto") == PROTO_ICMPV6),
    "arp": lambda c: np.isin(c.col("ethertype"), (ETH_ARP, 0x8035)),  # RARP is decoded as arp
    "dhcp": lambda c: c.transport(PROTO_UDP) & _port(c, 67, 68),
    "ntp": lambda c: c.transport(PROTO_UDP) & _port(c, 123),
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


def _operand_protocols(node) -> set[str]:
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


# Protocols decoded from a TCP/UDP payload alone (ftptui/dissect/app.py), whose fields a filter can
# read from dissect_payload without the link, IP and transport layers.
APPLICATION = {"dns", "mdns", "llmnr", "http", "tls", "ssh", "ftp", "ftp-data", "dhcp", "ntp", "nbns", "ssdp",
               "data-text-lines"}


def application_only(node: Node) -> bool:
    """Every field the leaf test reads belongs to an application protocol (and it needs one)."""
    names = [n.name for n in _field_refs(node)]
    protos = {lookup(n).protocol for n in names if lookup(n)}
    return bool(names) and protos <= APPLICATION and bool(required_protocols(node))


def _field_refs(node):
    if isinstance(node, FieldRef):
        yield node
    for child in vars(node).values():
        for c in (child if isinstance(child, list) else [child]):
            if isinstance(c, Node):
                yield from _field_refs(c)


def candidates(node: Node, cols) -> np.ndarray:
    """Mask over cols.rows of the packets where the leaf test may be true."""
    mask = np.ones(len(cols.rows), dtype=bool)
    for proto in required_protocols(node):
        fn = MAY_HAVE.get(proto)
        if fn is not None:
            mask &= fn(cols)
    return mask
