"""Oracle: a leveraged builder of capacity for one dominant customer (OpenAI).

It builds toward a capacity target that includes the GW its compute contracts need (docs/ODD.md §7.5), funds it
through bank project loans kept in project companies (loop L2, reference + 2.5pp, 4 years), then bonds and equity,
and halts new sites as soon as its main customer pays short, before it runs out of cash itself. Rules: docs/ODD.md, "Agents: Oracle".
"""

from __future__ import annotations

from agents.builder import CapacityOwner


class Oracle(CapacityOwner):
    type_label = "leveraged builder"
    buys_vendor_systems = True  # Nvidia systems for its OCI and Stargate sites

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.squeezed_since = -1

    def decide(self) -> None:
        if self.liquidated:
            return
        m = self.model
        squeezed = m.customer_shortfall(self.party) > 1e-6
        if squeezed and self.squeezed_since < 0:
            self.squeezed_since = m.quarter
            m.log(
                "capex_cut",
                self.name,
                f"{self.name} halts its build-out: a customer pays short",
                "",
                self.capex_plan_q,
            )
        if not squeezed:
            self.squeezed_since = -1
        # squeezed: no new sites, only (part of) the refits of its own shells
        keep = m.p.behaviour.squeezed_capex_keep if squeezed else 1.0
        capex = self.plan_capex(refits_only=squeezed, keep=keep)
        order = (
            ("project_loans", "bonds", "equity")
            if m.p.circular.loop_l2_oracle_buildout
            else ("bonds", "equity")
        )
        self.invest_in_capacity(capex, order)

    def fund(self, need: float, order: tuple[str, ...]) -> float:
        raised = 0.0
        if "project_loans" in order:
            raised += self.model.credit.borrow_bank(
                self,
                need,
                spread=self.model.p.deals.project_loan_spread,
                tenor_q=4 * self.model.p.credit.loan_tenor_years,
                off_balance_sheet=True,
                loop=2,
                label="project loans through project companies",
            )
            order = tuple(o for o in order if o != "project_loans")
        return raised + super().fund(need - raised, order)

    def raise_liquidity(self, shortfall: float) -> float:
        """Short of cash to pay what is due: draw the revolving credit line from the banks."""
        d = self.model.p.deals
        got = self.model.credit.borrow_bank(
            self, shortfall, spread=d.revolver_spread, tenor_q=d.revolver_tenor_quarters, label="its revolver"
        )
        if got > 0:
            self.model.log(
                "revolver", self.name, f"{self.name} draws {got:.1f}bn on its revolver", "banks", got
            )
        return got
