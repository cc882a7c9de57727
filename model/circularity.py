"""The circularity index: the share of chip and compute revenue paid with money the seller itself provided.

Every time a seller funds a buyer (vendor equity, backstop payments, warrant proceeds from the chip supplier)
the amount is remembered per (seller, buyer) pair; when that buyer later pays the seller for chips or compute,
the payment counts as circular up to what is still remembered (first in, first out). docs/ODD.md,
"Circularity index".
"""

from __future__ import annotations

from collections import defaultdict


class CircularityTracker:
    def __init__(self):
        self.provided: dict[tuple[int, int], float] = defaultdict(float)
        self.sales_q = 0.0
        self.circular_q = 0.0
        self.sales_total = 0.0
        self.circular_total = 0.0

    def provide(self, seller: int, buyer: int, amount: float) -> None:
        if amount > 0:
            self.provided[(seller, buyer)] += amount

    def sale(self, seller: int, buyer: int, amount: float) -> None:
        """A buyer pays a seller for chips or compute."""
        if amount <= 0:
            return
        key = (seller, buyer)
        circular = min(amount, self.provided.get(key, 0.0))
        if circular > 0:
            self.provided[key] -= circular
        self.sales_q += amount
        self.circular_q += circular

    def end_quarter(self) -> float:
        """Index for the quarter just ended; resets the quarter's counters."""
        index = self.circular_q / self.sales_q if self.sales_q > 0 else 0.0
        self.sales_total += self.sales_q
        self.circular_total += self.circular_q
        self.sales_q = self.circular_q = 0.0
        return index
