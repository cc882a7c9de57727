"""The end of contracts (docs/ODD.md §7.10): repaid debt and expired executory contracts are closed, risk
transfers and equity shorts are settled in cash at maturity, and compute contracts that expire next quarter are
renewed between going concerns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import IS_DEBT, IS_EXECUTORY, IS_HEDGE, Kind, Status
from accounting.journal import Flow

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def end_contracts(model: CreditLoopModel) -> None:
    c, q, ledger = model.ledger.contracts, model.quarter, model.ledger
    live = c.view("status") == Status.ACTIVE
    debt = IS_DEBT[c.view("kind")]
    repaid = np.flatnonzero(live & debt & (c.view("principal") <= 1e-9))
    ledger.write_down(repaid, c.principal[repaid])  # rounding dust, through the ledger
    executory = live & IS_EXECUTORY[c.view("kind")]
    expired = np.flatnonzero(executory & (c.view("maturity_q") <= q))
    ledger.close(np.concatenate([repaid, expired]), Status.MATURED)
    # risk transfer and hedges end at maturity: what the position is worth is settled in cash, then closed
    hedges = np.flatnonzero(live & IS_HEDGE[c.view("kind")] & (c.view("maturity_q") <= q))
    if hedges.size:
        ledger.cash_settle(hedges, c.value[hedges].copy(), Flow.HEDGE)
        ledger.close(hedges, Status.MATURED)
        for r in hedges:
            holder = ledger.names[c.creditor[r]]
            what = Kind(int(c.kind[r])).name.lower().replace("_", " ")
            model.log("hedge_end", holder, f"{holder}'s {what} matures", "outside investors", 0.0)
    expiring = np.flatnonzero(executory & (c.view("maturity_q") == q + 1) & (c.view("kind") == Kind.COMPUTE))
    renew_compute(model, expiring)


def premium(model: CreditLoopModel, row: int) -> float:
    """A compute contract's price over the market's price when it was signed: what a renewal or a re-signing
    keeps. (Scaling the old price by today's market over the opening market would compound at every renewal.)"""
    c = model.ledger.contracts
    signed = float(c.market_price[row]) or model.p.demand.compute_price_usd_bn_per_gw_year / 4.0
    return float(c.price[row]) / signed if signed > 0 else 1.0


def renew_compute(model: CreditLoopModel, rows: np.ndarray) -> None:
    """An expiring compute contract is renewed for ``deals.compute_renewal_quarters`` at today's market price
    times the contract's premium over the market when it was signed (:func:`premium`), for the GW the customer
    still needs at today's utilisation, if both sides are going concerns."""
    c, m = model.ledger.contracts, model.market
    term = model.p.deals.compute_renewal_quarters
    scale = min(1.0, m.utilisation / model.p.demand.initial_utilisation)
    market = m.compute_price / 4.0
    for r in rows:
        provider, customer = model.firm_by_party[int(c.creditor[r])], model.firm_by_party[int(c.debtor[r])]
        if customer.excluded or customer.liquidated or provider.liquidated or scale <= 0:
            continue
        gw, price = float(c.gw[r]) * scale, premium(model, int(r)) * market
        model.ledger.open_contract(
            Kind.COMPUTE,
            provider.party,
            customer.party,
            notional=gw * price * term,
            gw=gw,
            price=price,
            market_price=market,
            min_share=float(c.min_share[r]),
            start_q=int(c.maturity_q[r]),
            maturity_q=int(c.maturity_q[r]) + term,
            loop=int(c.loop[r]),
        )
        model.log(
            "renewal",
            customer.name,
            f"{customer.name} renews {gw:.2f} GW of compute with {provider.name} "
            f"for {term / 4:g} years at {4 * price:.1f}bn per GW-year",
            provider.name,
            gw * price * term,
        )
