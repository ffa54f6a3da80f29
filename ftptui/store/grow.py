"""Append-only numpy columns that readers on another thread can index safely."""
from __future__ import annotations

from typing import Any

import numpy as np


class Columns:
    """A table of equal-length numpy columns that grows by doubling.

    The writer fills new rows first and publishes them by raising `n` afterwards, so a reader
    that only looks at rows below `n` never sees half-written data, even while the arrays are
    being replaced by bigger ones.
    """

    def __init__(self, dtypes: dict[str, tuple[Any, tuple[int, ...]]], capacity: int = 4096):
        self._arrays = {name: np.zeros((capacity, *shape), dtype=dt) for name, (dt, shape) in dtypes.items()}
        self.n = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name][: self.n]

    def raw(self, name: str) -> np.ndarray:
        """The whole backing array (valid below n): cheap single-row access."""
        return self._arrays[name]

    @property
    def capacity(self) -> int:
        return len(next(iter(self._arrays.values())))

    def reserve(self, rows: int) -> None:
        """Make room for `rows` rows at once (a good guess saves the copies of doubling, which
        briefly need old and new arrays together)."""
        if rows <= self.capacity:
            return
        grown = {}
        for name, arr in self._arrays.items():
            new = np.zeros((rows, *arr.shape[1:]), dtype=arr.dtype)
            new[: self.n] = arr[: self.n]
            grown[name] = new
        self._arrays = grown

    def append(self, values: dict[str, np.ndarray]) -> None:
        count = len(next(iter(values.values())))
        need = self.n + count
        if need > self.capacity:
            cap = self.capacity
            while cap < need:
                cap *= 2
            self.reserve(cap)
        for name, arr in self._arrays.items():
            arr[self.n:need] = values[name]
        self.n = need

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays.values())
