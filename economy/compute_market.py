"""The compute market (docs/ODD.md §7.1, §7.3): compute contracts delivered, the capacity backstop, the market
for the rest, and every firm's operating account.

Providers deliver their contracts pro rata to what they have energised; customers take all of it or, if they
cut their take (AI labs short of cash), the take-or-pay minimum, and are invoiced ``price x delivered GW x
max(take, minimum)``. Contracted GW move from the provider's retail capacity to the customer's. What every firm
has left is sold in one market for all sellers, which clears utilisation and the price (:class:`Market`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind, Status
from economy import capital

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def allocate(model: CreditLoopModel) -> None:
    """Invoices of the compute contracts running this quarter and the GW each firm sells to end customers (its
    retail capacity). Called before decisions (the invoices firms plan for) and again in the operating phase."""
    c, q, n = model.ledger.contracts, model.quarter, model.ledger.n_parties
    rows = np.flatnonzero(
        (c.view("status") == Status.ACTIVE)
        & (c.view("kind") == Kind.COMPUTE)
        & (c.view("start_q") <= q)
        & (c.view("maturity_q") > q)
    )
    provider, customer = c.creditor[rows], c.debtor[rows]
    energised = model.energised_cache
    contracted = np.bincount(provider, c.gw[rows], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(contracted > 0, np.minimum(1.0, energised / contracted), 0.0)
    delivered = c.gw[rows] * fill[provider]
    take_by_party = np.ones(n)
    for firm in model.firm_group("takers", lambda: [f for f in model.firms if f.cuts_compute_take]):
        take_by_party[firm.party] = firm.take_share
    take = take_by_party[customer]
    used = delivered * take
    model.ledger.invoice(rows, c.price[rows] * delivered * np.maximum(take, c.min_share[rows]))
    retail = energised - np.bincount(provider, used, n) + np.bincount(customer, used, n)
    for f in model.capacity_owners():
        # capacity waiting to be re-let after a customer's default is not offered
        idle = f.idle_gw(model.quarter) if f.stranded else 0.0
        f.retail_gw = 0.0 if f.liquidated else max(float(retail[f.party]) - idle, 0.0)
    model.retail_gw_total = float(sum(f.retail_gw for f in model.capacity_owners()))
    model.compute_rows = rows


def operate(model: CreditLoopModel) -> None:
    """The markets phase: compute re-allocated with the labs' new takes, backlogs run down by the invoices,
    the compute market cleared, backstop invoices set, and every firm's operating account."""
    allocate(model)
    c, ledger = model.ledger.contracts, model.ledger
    rows = model.compute_rows
    ledger.run_down(rows, c.due[rows])  # the backlog falls by what is invoiced (paid or not)
    # below the cash cost of running a GW, capacity is idled rather than sold
    model.market.clear_compute(model.demand_gw(), model.retail_gw_total, capital.running_cost(model))
    for r in c.active(Kind.BACKSTOP):
        if c.start_q[r] <= model.quarter <= c.maturity_q[r]:
            beneficiary = model.firm_by_party[int(c.creditor[r])]
            unsold = beneficiary.retail_gw * (1.0 - model.market.utilisation)
            due = min(c.notional[r], unsold * c.price[r])
            ledger.invoice(r, due)
            ledger.run_down(r, due)
    for f in model.firms:
        if not f.liquidated:
            f.operate()
