"""The journal: one line per payment (quarter, payer, payee, amount, flow, contract), and what flows are.

Flows below ``Flow.PRINCIPAL`` are *income-type*: they move retained earnings on both sides as well as cash.
Written only by :class:`accounting.ledger.Ledger`; docs/ODD.md §2.6.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accounting.books import Table


class Flow(IntEnum):
    """What a journal line is. Income-type flows move retained earnings on both sides."""

    REVENUE = 0  # sale of goods or services (income to payee, expense to payer)
    OPEX = 1
    INTEREST = 2
    COMPUTE_FEE = 4  # take-or-pay invoice
    BACKSTOP = 5
    REVENUE_SHARE = 6
    DIVIDEND = 7  # distribution to shareholders
    SRT_PREMIUM = 8
    HEDGE = 9  # short / protection settlement
    DEFAULT_COST = 10  # what a default costs its estate (advisers, lost value): Rogers-Veraart default costs
    GUARANTEE = 11  # a guarantor pays a defaulted beneficiary
    PRINCIPAL = 20  # balance-sheet flows from here on: no P&L effect
    DRAWDOWN = 21
    EQUITY_PURCHASE = 22
    CAPACITY_PURCHASE = 23
    ASSET_SALE = 24
    CAPITAL_CONTRIBUTION = 25
    REDEMPTION = 26
    WARRANT_EXERCISE = 27
    LOAN_SALE = 28  # a creditor sells (part of) a loan to another holder


PNL_FLOWS = frozenset(f for f in Flow if f < Flow.PRINCIPAL)
PNL_CODES = frozenset(int(f) for f in PNL_FLOWS)


class Journal(Table):
    def __init__(self, capacity: int = 4096):
        super().__init__(
            {
                "quarter": np.int16,
                "payer": np.int32,
                "payee": np.int32,
                "amount": np.float64,
                "flow": np.int8,
                "contract": np.int32,
            },
            capacity,
        )

    def line(self, quarter: int, payer: int, payee: int, amount: float, flow: int, contract: int) -> None:
        """One line, written in place (the scalar path of ``extend``: a payment is the hottest posting)."""
        i = self.n
        if i + 1 > self._cap:
            self._grow(i + 1)
        w = self._mut
        w.quarter[i] = quarter
        w.payer[i] = payer
        w.payee[i] = payee
        w.amount[i] = amount
        w.flow[i] = flow
        w.contract[i] = contract
        self.n = i + 1

    def relabel_last(self, count: int, flow: int) -> None:
        """Give the last ``count`` lines another flow (a posting booked through a generic payment)."""
        self._mut.flow[max(0, self.n - count) : self.n] = flow
