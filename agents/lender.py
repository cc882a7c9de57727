"""What banks and private-credit funds share as lenders: an appetite for new AI loans set each quarter, the
credit losses they remember, their AI exposure (the principal of the debt they hold) and a valuation at book
equity (they are not listed). New loans are shared among lenders by one syndication path
(:meth:`economy.credit_market.CreditMarket.syndicate`). docs/ODD.md §7.7.6-7.7.7.
"""

from __future__ import annotations

from agents.base import Firm


class Lender(Firm):
    type_label = "lender"
    listed = False

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, **kw)
        self.cal = calibration
        self.appetite = 0.0
        self.losses_q = 0.0
        self.losses_cum = 0.0

    def ai_exposure(self) -> float:
        """Principal of the AI debt it holds (USD bn), as of the last cache refresh."""
        return float(self.model.lending_cache[self.party])

    def prepare_cash(self, amount: float) -> None:
        """About to lend ``amount``: make sure the cash is there (a fund calls committed capital)."""

    def record_credit_loss(self, amount: float) -> None:
        self.losses_q += amount
        self.losses_cum += amount

    def fundamental(self) -> float:
        return max(self.equity, 1e-3)
