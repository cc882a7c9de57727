"""Hyperscalers (Meta, Microsoft, Alphabet, Amazon and synthetic look-alikes).

Each quarter a hyperscaler revises its expected AI demand growth, sets capex growth from its guidance and its
responses (expectations, rivals' capex, idle capacity, spreads, share price), funds it in its own order
(operating cash, IG bonds, off-balance-sheet SPVs or finance leases, equity) and buys capacity. Rules: docs/ODD.md,
"Agents: hyperscalers".
"""

from __future__ import annotations

from agents.builder import CapacityOwner

# Funding order after operating cash, by template (DEFAULTS.md, "Funding order"): Meta leans on SPVs (E012),
# Microsoft on finance leases (S022); Alphabet and Amazon are mostly self-funded and go to bonds first. A
# synthetic hyperscaler follows the order of the firm it is modelled on.
FUNDING_ORDER = {
    "Meta": ("bonds", "spv", "equity"),
    "Microsoft": ("bonds", "lease", "equity"),
}
DEFAULT_ORDER = ("bonds", "spv", "equity")


class Hyperscaler(CapacityOwner):
    type_label = "hyperscaler"

    def decide(self) -> None:
        if self.liquidated:
            return
        order = FUNDING_ORDER.get(self.template, DEFAULT_ORDER)
        self.invest_in_capacity(self.plan_capex(), order)
        self.pay_out()
