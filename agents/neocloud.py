"""Neoclouds (CoreWeave and synthetic look-alikes): GPU clouds funded by GPU-backed private credit.

A neocloud builds toward a capacity target that includes its contracted backlog (docs/ODD.md §7.5), borrows
against the GPUs it buys (loan-to-value
covenant, margin calls), sells compute under take-or-pay contracts, and relies on Nvidia's backstop for unsold
capacity until it ends. Rules: docs/ODD.md, "Agents: neoclouds".
"""

from __future__ import annotations

from accounting.contracts import Kind, Status
from agents.builder import CapacityOwner


class Neocloud(CapacityOwner):
    type_label = "neocloud"
    ai_heavy = True
    buys_vendor_systems = True  # GPU clouds buy Nvidia systems
    builds_to_order = True  # clusters built to a contracted customer's specification

    def decide(self) -> None:
        if self.liquidated:
            return
        self.invest_with_gpu_loans(self.plan_capex())

    def invest_with_gpu_loans(self, desired: float) -> float:
        """Borrow against the GPUs it buys (``behaviour.gpu_loan_advance_rate`` of their cost), fund the rest
        with bonds and equity, buy what it can and secure the loans on the GPUs bought."""
        m, b = self.model, self.model.p.behaviour
        spread = (
            m.p.deals.gpu_loan_spread_contracted
            if m.contracted_gw(self.party, within=0) > 0
            else m.p.deals.gpu_loan_spread_other
        )
        need = self.funding_need(desired)
        loan = 0.0
        if need > 0:
            loan = m.credit.borrow_private(
                self,
                min(need, b.gpu_loan_advance_rate * self.chip_spend(desired)),
                Kind.GPU_LOAN,
                spread=spread,
                tenor_q=round(4 * b.gpu_loan_tenor_years),
                ltv_max=b.gpu_loan_ltv_max,
            )
            self.fund(need - loan, ("bonds", "equity"))
        spendable = self.cash - m.scheduled_dues(self.party) - self.cash_buffer()
        capex = min(desired, max(spendable, 0.0))
        cut = capex < 0.9 * desired
        if cut:
            if not self.cut_last_quarter:  # once when the cut starts, not every quarter it lasts
                m.log(
                    "capex_cut",
                    self.name,
                    f"{self.name} cuts capex to {capex:.1f}bn from {desired:.1f}bn",
                    "",
                    desired - capex,
                )
            self.capex_plan_q = capex
        self.cut_last_quarter = cut
        excess = loan - b.gpu_loan_advance_rate * self.chip_spend(capex)
        if excess > 1e-9:
            # the GPUs bought fall short of what the loan was sized for: prepay so the advance rate holds
            self.prepay_new_gpu_loans(excess)
        cohorts = self.buy_capex(capex)
        if loan > 0:
            m.credit.secure_new_gpu_loans(self, cohorts)
        return capex

    def prepay_new_gpu_loans(self, amount: float) -> None:
        c, q = self.model.ledger.contracts, self.model.quarter
        rows = c.of_debtor(self.party)  # the firm's own rows, in book order (per-debtor index)
        rows = rows[
            (c.kind[rows] == Kind.GPU_LOAN) & (c.start_q[rows] == q) & (c.status[rows] == Status.ACTIVE)
        ]
        principal = c.principal[rows]
        amount = min(amount, float(principal.sum()), max(self.cash, 0.0))
        if amount > 0:
            self.model.ledger.repay(rows, principal / principal.sum() * amount)
