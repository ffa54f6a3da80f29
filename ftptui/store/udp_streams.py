"""UDP conversations numbered as tshark's `udp.stream`: by address/port pair, in order of
first appearance (UDP has no connection set-up, so a pair keeps its number for the whole file)."""
from __future__ import annotations

import numpy as np

from .tcp_streams import KeyGroups, number

PROTO_UDP = 17


class UdpStreams:
    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        self.count = 0

    @staticmethod
    def groups(cols: dict[str, np.ndarray]) -> KeyGroups:
        """The batch's UDP packets grouped by conversation (update's input)."""
        return KeyGroups.of(cols, np.nonzero((cols["ipproto"] == PROTO_UDP) & (cols["l4off"] >= 0))[0])

    def update(self, cols: dict[str, np.ndarray], groups: KeyGroups) -> np.ndarray:
        """udp.stream per packet of one batch (-1 where the packet is not UDP)."""
        stream = np.full(len(cols["ipproto"]), -1, dtype=np.int32)
        if len(groups.rows):
            stream[groups.rows], self.count = number(self.ids, self.count, groups.uniq, groups.first, groups.inverse)
        return stream
