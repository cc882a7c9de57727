"""Structure-of-arrays storage: growable numpy columns for contracts, capacity cohorts and the journal.

The books hold state; only :mod:`model.ledger` writes balances into them. Rows are never deleted (a matured or
defaulted contract keeps its row with a status) so that row ids stay valid as journal references.
"""

from __future__ import annotations

import numpy as np


class Table:
    """A set of equally long numpy columns that grows by doubling."""

    def __init__(self, columns: dict[str, np.dtype | type], capacity: int = 64):
        self._dtypes = {name: np.dtype(dt) for name, dt in columns.items()}
        self._cap = capacity
        self.n = 0
        for name, dt in self._dtypes.items():
            setattr(self, name, np.zeros(capacity, dtype=dt))

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        for name in self._dtypes:
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def append(self, **values) -> int:
        """Add one row; columns not given are zero. Returns the row id."""
        if self.n + 1 > self._cap:
            self._grow(self.n + 1)
        i = self.n
        for name, value in values.items():
            getattr(self, name)[i] = value
        self.n += 1
        return i

    def extend(self, count: int, **columns) -> np.ndarray:
        """Add ``count`` rows at once (columns given as arrays or scalars). Returns their ids."""
        if self.n + count > self._cap:
            self._grow(self.n + count)
        ids = np.arange(self.n, self.n + count)
        for name, values in columns.items():
            getattr(self, name)[self.n : self.n + count] = values
        self.n += count
        return ids

    def view(self, name: str) -> np.ndarray:
        """The live part of a column (a view, not a copy)."""
        return getattr(self, name)[: self.n]

    def columns(self) -> dict[str, np.ndarray]:
        return {name: self.view(name).copy() for name in self._dtypes}
