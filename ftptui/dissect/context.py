"""What the decoders share while they dissect one packet."""
from __future__ import annotations

from ..store.index import PacketIndex
from ..streams.analysis import AllAnalysis
from .raw import Packet
from .tree import Dissection


class Context:
    """The packet (its index row, bytes and growing tree) and what outer layers found."""

    def __init__(self, index: PacketIndex, i: int, d: Dissection, pkt: Packet, every: AllAnalysis | None = None):
        self.index, self.i, self.d, self.pkt = index, i, d, pkt
        self.every = every  # the whole capture's TCP analysis flags, when the caller has them
        self.net_src: bytes | None = None  # raw address bytes of the network layer
        self.net_dst: bytes | None = None
        self.ttl = 0
        self.proto_end = len(pkt.data)  # where the network payload ends (IP total length)
        self.cut = False  # the capture holds less than the network layer's length says
