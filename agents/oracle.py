"""Oracle: a leveraged builder of capacity for one dominant customer (OpenAI).

It builds toward a capacity target that includes the GW its compute contracts need (docs/ODD.md §7.5) and funds it
with bonds and equity. With loop L2 its Stargate sites for OpenAI sit in project companies it sponsors
(agents/project_company.py: its equity and a limited guarantee). It halts new sites as soon as a customer pays
short, before it runs out of cash itself. Rules: docs/ODD.md, "Agents: Oracle".
"""

from __future__ import annotations

from agents.builder import CapacityOwner


class Oracle(CapacityOwner):
    type_label = "leveraged builder"
    buys_vendor_systems = True  # Nvidia systems for its OCI and Stargate sites
    builds_to_order = True  # the Stargate sites are built for OpenAI

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.squeezed_since = -1

    def decide(self) -> None:
        if self.liquidated:
            return
        m = self.model
        sites = m.project_company
        mine = [self.party] + ([sites.party] if sites is not None and sites.sponsor is self else [])
        squeezed = sum(m.customer_shortfall(p) for p in mine) > 1e-6  # its own customers or its sites
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
        self.invest_in_capacity(capex, ("bonds", "equity"))

    def look_through_revenue_q(self) -> float:
        """Its share of its project companies' revenue: the market values Oracle on the OpenAI contract its sites
        carry (proportionate consolidation), so the contract's loss reaches Oracle's share price and spread."""
        sites = self.model.project_company
        if sites is None or sites.sponsor is not self or sites.liquidated:
            return 0.0
        return sites.sponsor_share() * sites.revenue_q

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
