"""Private-credit funds (Blue Owl, PIMCO, Apollo and synthetic funds).

A fund lends investor money to AI borrowers (SPV facilities, GPU-backed loans, high-yield bonds) up to a target
share of its capital, with an appetite that follows the mood; what it has not lent yet is committed, not held
(it calls capital from its investors as it lends); new commitments flow in with the yield pick-up over
investment grade and out with realised losses, redemptions capped by a gate; the fund stops new lending once its
losses pass a threshold. It keeps ``lenders.fund_liquid_share`` of its capital in cash (the rest of its non-AI
book is illiquid), so redemptions beyond its cash are met by drawing its back-leverage line from the banks and
then by selling loans at a discount (economy/loan_sales.py). Rules: docs/ODD.md, "Agents: private-credit funds".
"""

from __future__ import annotations

import numpy as np

from accounting.contracts import IS_DEBT, Kind, Status
from accounting.ledger import World
from agents.base import clip
from agents.lender import Lender


class PrivateCreditFund(Lender):
    type_label = "private-credit fund"
    loss_holder = "private_credit"  # its category in the loss book (economy/losses.py)

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, calibration, **kw)
        self.stressed = False
        self.redemption_queue = 0.0
        self.gated = False
        self.uncalled = 0.0  # investors' commitments not yet called (set at the opening)

    def decide(self) -> None:
        p = self.model.p.lenders
        capital = max(self.equity, 0.0)
        was = self.stressed
        self.stressed = self.losses_cum > p.fund_stress_loss_rate * max(capital + self.losses_cum, 1e-9)
        if self.stressed and not was:
            self.model.log(
                "lender_stop",
                self.name,
                f"{self.name} stops new AI lending after losses of {self.losses_cum:.1f}bn",
                "",
                self.losses_cum,
            )
        if self.stressed:
            self.appetite = 0.0
            return
        room = p.fund_target_ai_share * (capital + self.uncalled) - self.ai_exposure()
        spare = max(self.cash - self.cash_floor(), 0.0)
        self.appetite = clip(room * self.model.market.credit_mood(), 0.0, spare + self.uncalled)

    def prepare_cash(self, amount: float) -> None:
        """Dry powder is committed, not held: before lending beyond its spare cash the fund calls capital."""
        call = min(max(amount - (self.cash - self.cash_floor()), 0.0), self.uncalled)
        if call > 1e-9:
            self.model.ledger.contribute(World.OUTSIDE_INVESTORS, self.party, call)
            self.uncalled -= call

    def cash_floor(self) -> float:
        """The cash it keeps for redemptions and does not lend out."""
        return self.model.p.lenders.fund_liquid_share * max(self.equity, 0.0)

    def line_drawn(self) -> float:
        """What it owes the banks on its back-leverage line."""
        c = self.model.ledger.contracts
        rows = c.of_debtor(self.party)
        rows = rows[(c.status[rows] == Status.ACTIVE) & (c.kind[rows] == Kind.BANK_LOAN)]
        return float(c.principal[rows].sum())

    def draw_line(self, amount: float) -> float:
        """Borrow up to ``amount`` on its back-leverage line (at most the undrawn part), from banks with room."""
        m, p = self.model, self.model.p.lenders
        room = p.fund_credit_line_share * max(self.equity, 0.0) - self.line_drawn()
        if amount <= 1e-9 or room <= 1e-9:
            return 0.0
        return m.credit.borrow_bank(
            self,
            min(amount, room),
            spread=p.fund_credit_line_spread,
            tenor_q=4,
            label="its back-leverage line",
        )

    def raise_liquidity(self, shortfall: float) -> float:
        """Short of cash for what falls due (a line maturing): roll the line, then sell loans."""
        got = self.draw_line(shortfall)
        if shortfall - got > 1e-9:
            got += self.model.credit.sell_loans(self, shortfall - got)
        return got

    def sell_everything(self) -> None:
        """In liquidation its whole loan book is sold in the secondary market."""
        self.model.credit.sell_loans(self, float("inf"))

    def other_liquidity(self) -> float:
        """Its investors' uncalled commitments (what a subscription line is lent against) and a year of interest
        on its AI book."""
        return self.uncalled + self.interest_income_rate() * self.ai_exposure()

    def net_leverage(self) -> float:
        """A fund borrows against its net asset value: net debt over NAV (inf once NAV is gone)."""
        net = self.debt_on_balance_sheet - float(self.model.cash_cache[self.party])
        if net <= 0:
            return 0.0
        return net / self.equity if self.equity > 0 else float("inf")

    def interest_income_rate(self) -> float:
        """Yield of the fund's AI book (annual), for the investor-flow rule."""
        c = self.model.ledger.contracts
        rows = c.of_creditor(self.party)
        rows = rows[(c.status[rows] == Status.ACTIVE) & IS_DEBT[c.kind[rows]]]
        if rows.size == 0:
            return self.model.market.reference_rate + self.model.market.hy_spread
        rates = (
            c.fixed_rate[rows]
            + c.spread[rows]
            + np.where(c.floating[rows], self.model.market.reference_rate, 0)
        )
        return float(np.average(rates, weights=np.maximum(c.principal[rows], 1e-12)))

    def end_quarter(self) -> None:
        """Investor flows: in with yield pick-up and the mood, out with losses; redemptions gated."""
        m, p = self.model, self.model.p.lenders
        capital = max(self.equity, 0.0)
        pickup = self.interest_income_rate() - (m.market.reference_rate + m.market.ig_spread)
        # investors redeem on the fund's own return (Goldstein, Jiang & Ng 2017): the quarter's losses over the
        # capital they hit, not over the AI book, which makes a small loss on a run-off book look like a run
        loss_rate = self.losses_q / max(capital + self.losses_q, 1e-9)
        flow = capital * (
            p.fund_flow_yield_sensitivity * pickup / 4.0 - p.fund_flow_loss_sensitivity * loss_rate
        )
        flow *= m.market.credit_mood() if flow > 0 else 1.0
        if flow > 0:
            self.uncalled += flow  # new commitments, called when the fund lends
        else:
            self.redemption_queue += -flow
        gate = p.fund_redemption_gate * capital
        due = min(self.redemption_queue, gate)
        if due > self.cash:  # beyond its cash: the bank line first, then loan sales
            self.draw_line(due - self.cash)
        if due > self.cash:
            m.credit.sell_loans(self, due - self.cash)
        pay = min(due, max(self.cash, 0.0))
        if pay > 0:
            m.ledger.redeem(self.party, World.OUTSIDE_INVESTORS, pay)
            self.redemption_queue -= pay
            if self.redemption_queue > 1e-6 and pay >= gate - 1e-9 and not self.gated:
                self.gated = True
                m.log(
                    "gate",
                    self.name,
                    f"{self.name} gates redemptions: pays {pay:.1f}bn, "
                    f"{self.redemption_queue:.1f}bn still queued",
                    "outside investors",
                    pay,
                )
        if self.gated and self.redemption_queue <= 1e-6:
            self.gated = False
            m.log("gate", self.name, f"{self.name} has met all queued redemptions", "outside investors", 0.0)
        self.losses_q = 0.0
