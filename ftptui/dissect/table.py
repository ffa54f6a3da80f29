"""Dissector tables, as Wireshark has them: which decoder gets a TCP or UDP payload.

A decoder is registered by port (Wireshark's `dissector_add_uint("udp.port", 53, ...)`), by
content (a heuristic dissector: the payload's first bytes), or for every payload (a conversation
dissector, such as FTP-DATA, that knows its own connections).  Entries are tried in the order they
were added; the first that claims the payload decodes it.  The same table tells the display
filter where a protocol can possibly be (`candidates`), so a decoder and the filter's shortcut
cannot disagree, and it is where "Decode As" changes a port's decoder.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store.columns import ETH_IPV4, ETH_IPV6, PROTO_TCP
from ..store.prefix import payload_prefix
from ..store.rows import RowColumns


@dataclass(slots=True)
class Payload:
    """One transport payload being decoded: data[p:end] of the packet in ctx."""
    ctx: Any
    p: int
    end: int
    data: bytes
    sport: int
    dport: int
    stream: int = -1  # tcp.stream (-1 for UDP)
    paylen: int = 0   # the payload's length on the wire (TCP: may exceed what was captured)


@dataclass(frozen=True)
class Dissector:
    name: str  # the protocol's filter name
    decode: Callable[[Payload], bool | None]  # False: not its after all, try the next one
    ports: frozenset[int] = frozenset()
    heuristic: Callable[[bytes], bool] | None = None  # claims a payload on any port by its bytes
    # the heuristic over an (n, 8) array of payloads' first bytes, for filters: a superset of it
    first_bytes: Callable[[np.ndarray], np.ndarray] | None = None
    fields: tuple[str, ...] = ()  # other protocols whose fields it fills (mdns: dns.*)
    # for a conversation dissector (no ports, no heuristic): the index rows it may decode, as a
    # function of the filter's columns; None: any payload
    candidates: Callable[[Any], np.ndarray] | None = None

    def claims(self, payload: Payload) -> bool:
        if self.ports:
            if payload.sport in self.ports or payload.dport in self.ports:
                return True
            return self.heuristic is not None and self.heuristic(payload.data)
        return self.heuristic is None or self.heuristic(payload.data)

    @property
    def protocols(self) -> tuple[str, ...]:
        return (self.name, *self.fields)


class DissectorTable:
    """The decoders of one transport's payloads ("tcp" or "udp"), in the order they are tried."""

    def __init__(self, transport: str, fallback: Callable[[Payload], None]):
        self.transport = transport
        self.entries: list[Dissector] = []
        self.fallback = fallback  # what nothing claims: tshark's data dissector

    def add(self, dissector: Dissector) -> Dissector:
        self.entries.append(dissector)
        return dissector

    def dispatch(self, payload: Payload) -> str | None:
        """Decode the payload with the first entry that claims it; its name (None: fallback)."""
        for entry in self.entries:
            if entry.claims(payload) and entry.decode(payload) is not False:
                return entry.name
        self.fallback(payload)
        return None

    def entry_rows(self, entry: Dissector, c: RowColumns) -> np.ndarray:
        """Rows of c where this table may hand a payload to the entry (a superset: by port,
        by the heuristic's test of the first bytes, or the entry's own candidates)."""
        if entry.candidates is not None:
            return np.asarray(entry.candidates(c))
        base = _payload(c, self.transport)
        if not entry.ports and entry.heuristic is None:
            return base
        hit = _port(c, entry.ports) if entry.ports else np.zeros(len(c.rows), dtype=bool)
        if entry.heuristic is not None:
            idx = np.nonzero(base & ~hit)[0]
            if entry.first_bytes is None:
                hit[idx] = True
            elif len(idx):
                hit[idx] = entry.first_bytes(payload_prefix(c.index, c.rows[idx]))
        return np.asarray(base & hit)

    def may_claim(self, c: RowColumns) -> np.ndarray:
        """Rows of c whose payload some entry may claim (the others go to the fallback)."""
        out = np.zeros(len(c.rows), dtype=bool)
        for entry in self.entries:
            out |= self.entry_rows(entry, c)
        return out

    def for_protocol(self, protocol: str) -> list[Dissector]:
        """The entries that can put `protocol`'s fields in a packet."""
        return [e for e in self.entries if protocol in e.protocols]

    def protocols(self) -> set[str]:
        return {p for e in self.entries for p in e.protocols}


def _payload(c: RowColumns, transport: str) -> np.ndarray:
    """Rows with a payload for the table: TCP segments with data; any IP packet for UDP's
    (a superset: UDP inside ICMP errors too)."""
    if transport == "tcp":
        return np.asarray(c.transport(PROTO_TCP) & (c.col("paylen") > 0))
    et = c.col("ethertype")
    return np.asarray((et == ETH_IPV4) | (et == ETH_IPV6))


def _port(c: RowColumns, ports: frozenset[int]) -> np.ndarray:
    hit = np.zeros(len(c.rows), dtype=bool)
    for p in ports:
        hit |= (c.col("sport") == p) | (c.col("dport") == p)
    return hit
