"""The index's columns for a set of rows, and which of those rows have which layers: what the
display filter's vectorised tests and the dissector tables' "where can this protocol be" masks
read, without dissecting."""
from __future__ import annotations

import numpy as np

from .columns import ETH_IPV4, ETH_IPV6
from .index import PacketIndex


class RowColumns:
    """The index columns for a set of rows (each read once)."""

    def __init__(self, index: PacketIndex, rows: np.ndarray):
        self.index, self.rows = index, rows
        self._cache: dict[str, np.ndarray] = {}

    def col(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self.index.cols.raw(name)[self.rows]
        return self._cache[name]

    def ip4(self) -> np.ndarray:
        return np.asarray((self.col("ethertype") == ETH_IPV4) & (self.col("l3off") >= 0))

    def ip6(self) -> np.ndarray:
        return np.asarray((self.col("ethertype") == ETH_IPV6) & (self.col("l3off") >= 0))

    def transport(self, proto: int) -> np.ndarray:
        return np.asarray((self.col("ipproto") == proto) & (self.col("l4off") >= 0) & (self.col("tcpflags") != 0xF000))

    def quoting(self) -> np.ndarray:
        """Rows that are ICMP errors quoting another packet's IP and transport headers."""
        return np.isin(self.rows, np.asarray(self.index.quoting, dtype=np.int64))
