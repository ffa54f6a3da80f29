"""UDP conversations numbered as tshark's `udp.stream`: by address/port pair, in order of
first appearance (UDP has no connection set-up, so a pair keeps its number for the whole file)."""
from __future__ import annotations

import numpy as np

from .tcp_streams import assign_ids, conversation_keys

PROTO_UDP = 17


class UdpStreams:
    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        self.count = 0

    def update(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """udp.stream per packet of one batch (-1 where the packet is not UDP)."""
        stream = np.full(len(cols["ipproto"]), -1, dtype=np.int32)
        udp = np.nonzero((cols["ipproto"] == PROTO_UDP) & (cols["l4off"] >= 0))[0]
        if len(udp):
            keys, _ = conversation_keys(cols, udp)
            stream[udp], self.count = assign_ids(self.ids, self.count, keys)
        return stream
