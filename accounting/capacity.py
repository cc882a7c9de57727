"""Data-centre capacity cohorts: one row per (owner, purchase) of GW (docs/ODD.md §2.5).

A cohort is bought whole, waits for its build lag, then for a grid connection, and earns only once energised.
Its GPU and shell book values are the owner's real assets; only :mod:`accounting.ledger` writes them.
"""

from __future__ import annotations

import numpy as np

from accounting.books import Table


class CapacityBook(Table):
    """Data-centre capacity cohorts: one row per (owner, vintage) purchase of GW."""

    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "owner": np.int32,
                "vintage_q": np.int16,
                "ready_q": np.int16,  # quarter the shell is built and can be energised
                "gw": np.float64,
                "energised": np.bool_,
                "gpu_cost": np.float64,
                "shell_cost": np.float64,
                "gpu_book": np.float64,
                "shell_book": np.float64,
                "active": np.bool_,
            },
            capacity,
        )

    def book_value(self) -> np.ndarray:
        return self.view("gpu_book") + self.view("shell_book")
