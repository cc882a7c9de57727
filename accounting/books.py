"""Structure-of-arrays storage: growable numpy columns for contracts, capacity cohorts and the journal.

The books hold state; only :mod:`accounting.ledger` writes into them. Every column a book exposes is a read-only
view (``book.principal[i] = x`` raises ``ValueError: assignment destination is read-only``); the ledger writes
through the book's private writable columns (``book._mut``). Rows are never deleted (a matured or defaulted
contract keeps its row with a status), so row ids stay valid as journal references.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def read_only(array: np.ndarray) -> np.ndarray:
    """A view of ``array`` that refuses writes (the memory is shared: writes through ``array`` show through)."""
    view = array.view()
    view.flags.writeable = False
    return view


class Table:
    """A set of equally long numpy columns that grows by doubling."""

    def __init__(self, columns: dict[str, np.dtype | type], capacity: int = 64):
        self._dtypes = {name: np.dtype(dt) for name, dt in columns.items()}
        self._cap = capacity
        self.n = 0
        self._indexes: dict[str, RowIndex] = {}
        self._mut = SimpleNamespace()  # the writable columns: for the ledger only
        for name, dt in self._dtypes.items():
            self._set_column(name, np.zeros(capacity, dtype=dt))

    def _set_column(self, name: str, array: np.ndarray) -> None:
        setattr(self._mut, name, array)
        setattr(self, name, read_only(array))

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        for name in self._dtypes:
            old = getattr(self._mut, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            self._set_column(name, new)
        self._cap = cap

    def append(self, **values) -> int:
        """Add one row; columns not given are zero. Returns the row id."""
        if self.n + 1 > self._cap:
            self._grow(self.n + 1)
        i = self.n
        mut = self._mut
        for name, value in values.items():
            getattr(mut, name)[i] = value
        self.n += 1
        return i

    def extend(self, count: int, **columns) -> np.ndarray:
        """Add ``count`` rows at once (columns given as arrays or scalars). Returns their ids."""
        if self.n + count > self._cap:
            self._grow(self.n + count)
        ids = np.arange(self.n, self.n + count)
        mut = self._mut
        for name, values in columns.items():
            getattr(mut, name)[self.n : self.n + count] = values
        self.n += count
        return ids

    def view(self, name: str) -> np.ndarray:
        """The live part of a column (a read-only view, not a copy)."""
        return getattr(self, name)[: self.n]

    def column_names(self) -> tuple[str, ...]:
        return tuple(self._dtypes)

    def index(self, key: str) -> RowIndex:
        """Rows grouped by the value of a key column that never changes after a row is added (a contract's
        creditor or debtor, a cohort's owner). Built incrementally, so a lookup costs O(rows of that key)."""
        idx = self._indexes.get(key)
        if idx is None:
            idx = self._indexes[key] = RowIndex(self, key)
        return idx

    def columns(self) -> dict[str, np.ndarray]:
        return {name: self.view(name).copy() for name in self._dtypes}

    def _restore(self, n: int, columns: dict[str, np.ndarray]) -> None:
        """Put back a copy taken by :meth:`columns` (benchmarks replay one quarter). Rows added since can be cut
        only from a table without row indexes (the journal): an index would keep pointing at them."""
        if n < self.n and self._indexes:
            raise ValueError("cannot cut rows from an indexed table")
        for name, values in columns.items():
            getattr(self._mut, name)[: values.size] = values
        self.n = n


class PartyColumns:
    """Per-party state of the firms that the model reads for all firms at once (a lender's appetite, whether a
    firm is liquidated, its capex growth), so that markets select among thousands of firms without a Python
    loop. The firms' attributes are properties over these columns. Grows as parties are added. This is agents'
    decision state, not accounts: the firms write it through their own properties."""

    def __init__(self, **columns: type):
        self._dtypes = {name: np.dtype(dt) for name, dt in columns.items()}
        for name, dt in self._dtypes.items():
            setattr(self, name, np.zeros(0, dtype=dt))

    def ensure(self, party: int) -> PartyColumns:
        """Make room for ``party`` (doubling), and return self."""
        size = getattr(self, next(iter(self._dtypes))).size
        if party >= size:
            grow = max(party + 1, 2 * size) - size
            for name, dt in self._dtypes.items():
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(grow, dtype=dt)]))
        return self


class RowIndex:
    """Row ids of a :class:`Table` per value of one key column, in increasing order (the order of a boolean mask
    over the whole column), so per-party sums over them equal the full-array masked sums bit for bit."""

    def __init__(self, table: Table, key: str):
        self._table = table
        self._key = key
        self._rows: dict[int, list[int]] = {}
        self._arrays: dict[int, np.ndarray] = {}
        self._seen = 0

    def _catch_up(self) -> None:
        n = self._table.n
        if self._seen == n:
            return
        keys = getattr(self._table, self._key)[self._seen : n].tolist()
        rows, arrays = self._rows, self._arrays
        for i, k in enumerate(keys, self._seen):
            lst = rows.get(k)
            if lst is None:
                rows[k] = [i]
            else:
                lst.append(i)
            arrays.pop(k, None)
        self._seen = n

    def rows(self, value: int) -> np.ndarray:
        """Row ids whose key equals ``value`` (read-only)."""
        self._catch_up()
        value = int(value)
        arr = self._arrays.get(value)
        if arr is None:
            arr = self._arrays[value] = read_only(np.array(self._rows.get(value, ()), dtype=np.int64))
        return arr
