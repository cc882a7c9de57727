"""The circularity index: the share of chip and compute revenue paid with money the seller itself provided.

Every time a seller funds a buyer (vendor equity, backstop payments, warrant proceeds from the chip supplier)
the amount is remembered per (seller, buyer) pair; when that buyer later pays the seller for chips or compute,
the payment counts as circular up to what is still remembered (first in, first out). docs/ODD.md,
"Circularity index".
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class CircularityTracker:
    def __init__(self):
        self.provided: dict[tuple[int, int], float] = defaultdict(float)
        self.sales_q = 0.0
        self.circular_q = 0.0
        self.sales_total = 0.0
        self.circular_total = 0.0
        self._pair_codes: tuple[int, np.ndarray, np.ndarray] | None = None

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

    def record(self, is_sale, sellers, buyers, amounts) -> None:
        """Row by row, :meth:`sale` where ``is_sale`` and :meth:`provide` elsewhere (arrays in settlement order),
        with the same result as the loop: sales add up in order, and only rows whose (seller, buyer) pair has
        funding on record (or gets some in this batch) are walked one by one."""
        is_sale = np.asarray(is_sale, dtype=bool)
        amounts = np.asarray(amounts, dtype=float)
        positive = amounts > 0
        sold = amounts[is_sale & positive]
        if sold.size:
            self.sales_q = float(np.add.accumulate(np.concatenate(([self.sales_q], sold)))[-1])
        funds = ~is_sale & positive
        if not (self.provided or funds.any()):
            return
        sellers = np.asarray(sellers, dtype=np.int64)
        buyers = np.asarray(buyers, dtype=np.int64)
        # pairs with funding on record or funded in this batch; a sale can be circular only for those
        pairs, codes = self._pairs()
        new = np.column_stack((sellers[funds], buyers[funds]))
        if new.size:
            pairs = np.concatenate((pairs, new))
            codes = np.sort(np.concatenate((codes, (new[:, 0] << 32) | new[:, 1])))
        span = int(max(sellers.max(initial=0), buyers.max(initial=0), pairs.max(initial=0))) + 1
        seller_funds = np.zeros(span, dtype=bool)
        buyer_funded = np.zeros(span, dtype=bool)
        seller_funds[pairs[:, 0]] = True
        buyer_funded[pairs[:, 1]] = True
        maybe = np.flatnonzero(is_sale & positive & seller_funds[sellers] & buyer_funded[buyers])
        wanted = (sellers[maybe] << 32) | buyers[maybe]
        at = np.minimum(np.searchsorted(codes, wanted), max(codes.size - 1, 0))
        walk = funds.copy()
        if codes.size:
            walk[maybe[codes[at] == wanted]] = True
        for i in np.flatnonzero(walk):
            key, amount = (int(sellers[i]), int(buyers[i])), amounts[i]
            if is_sale[i]:
                circular = min(amount, self.provided.get(key, 0.0))
                if circular > 0:
                    self.provided[key] -= circular
                    self.circular_q += circular
            else:
                self.provided[key] += amount

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The (seller, buyer) pairs with funding on record, as an array, and their sorted codes
        ``seller << 32 | buyer``. Cached: pairs are only ever added, never removed."""
        if self._pair_codes is None or self._pair_codes[0] != len(self.provided):
            pairs = np.array(list(self.provided), dtype=np.int64).reshape(-1, 2)
            self._pair_codes = (len(self.provided), pairs, np.sort((pairs[:, 0] << 32) | pairs[:, 1]))
        return self._pair_codes[1], self._pair_codes[2]

    def end_quarter(self) -> float:
        """Index for the quarter just ended; resets the quarter's counters."""
        index = self.circular_q / self.sales_q if self.sales_q > 0 else 0.0
        self.sales_total += self.sales_q
        self.circular_total += self.circular_q
        self.sales_q = self.circular_q = 0.0
        return index
