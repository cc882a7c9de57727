"""Private-credit funds (Blue Owl, PIMCO, Apollo and synthetic funds).

A fund lends investor money to AI borrowers (SPV facilities, GPU-backed loans, high-yield bonds) up to a target
share of its capital, with an appetite that follows the mood; investor money flows in with the yield pick-up over
investment grade and out with realised losses, redemptions capped by a gate; the fund stops new lending once its
losses pass a threshold. Rules: docs/ODD.md, "Agents: private-credit funds".
"""

from __future__ import annotations

import numpy as np

from accounting.contracts import IS_DEBT, Status
from accounting.ledger import World
from agents.base import clip
from agents.lender import Lender


class PrivateCreditFund(Lender):
    type_label = "private-credit fund"

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, calibration, **kw)
        self.stressed = False
        self.redemption_queue = 0.0
        self.gated = False

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
        room = p.fund_target_ai_share * capital - self.ai_exposure()
        self.appetite = clip(room * self.model.market.credit_mood(), 0.0, max(self.cash, 0.0))

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
        loss_rate = self.losses_q / max(self.ai_exposure() + self.losses_q, 1e-9)
        flow = capital * (
            p.fund_flow_yield_sensitivity * pickup / 4.0 - p.fund_flow_loss_sensitivity * loss_rate
        )
        flow *= m.market.credit_mood() if flow > 0 else 1.0
        if flow > 0:
            m.ledger.contribute(World.OUTSIDE_INVESTORS, self.party, flow)
        else:
            self.redemption_queue += -flow
        gate = p.fund_redemption_gate * capital
        pay = min(self.redemption_queue, gate, max(self.cash, 0.0))
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
