"""The end of an SPV lease term (loop L8): the sponsor renews the lease or walks away from the campus.

Meta leases its Hyperion campus from the SPV for an initial term with extension options and guarantees the SPV's
lenders a residual value (E011, E012); the SPV's bonds run to 2049, so they are serviced only while the sponsor
keeps renewing. At the end of every term (``credit.spv_lease_years`` after signing) the sponsor renews while it
still uses its capacity, i.e. while last quarter's utilisation is at least ``credit.spv_renewal_min_utilisation``.
Otherwise it walks away:

- it hands the campus back: the GW the SPV financed (outstanding principal / shell cost per GW, at most what it
  owns) leave its books pro rata from its cohorts at distressed prices, GPUs included, which it no longer needs
  (the GW sold feed the fire-sale discount like any forced sale);
- the SPV's lenders get the campus value ``V`` (the shell part of that sale) and the guarantee
  ``G = min(RVG, principal − V)``; the rest, ``principal − V − G``, is their loss (written down, booked as a
  credit loss);
- ``V + G`` fall due in this quarter's settlement (the facility matures now), so a sponsor that cannot pay
  defaults through the ordinary clearing and default resolution.

Only bullet facilities take part (the opening Hyperion bonds, guaranteed at ``credit.spv_residual_value_guarantee``
of their principal); later SPV facilities amortise within their lease term (``agents/builder.py``), so nothing is
left to guarantee at its end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind
from accounting.ledger import World
from economy import defaults

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def spv_lease_ends(model: CreditLoopModel) -> None:
    """Renew or walk away from every guaranteed SPV lease whose term ends this quarter."""
    c, p, q = model.ledger.contracts, model.p, model.quarter
    term = 4 * p.credit.spv_lease_years
    if q < term:  # no lease signed at quarter 0 or later has reached the end of a term
        return
    rows = c.active(Kind.SPV_FACILITY)
    # bullet facilities whose bonds still run past now (after a walk-away they mature at once)
    rows = rows[~c.amortising[rows] & (c.principal[rows] > 1e-9) & (c.maturity_q[rows] > q)]
    age = q - c.start_q[rows].astype(np.int64)
    rows = rows[(age > 0) & (age % term == 0)]
    utilisation = model.market.utilisation
    for party in np.unique(c.debtor[rows]):
        sponsor = model.firm_by_party.get(int(party))
        if sponsor is None or sponsor.liquidated:
            continue
        own = rows[c.debtor[rows] == party]
        lenders = ", ".join(model.ledger.names[int(x)] for x in np.unique(c.creditor[own]))
        principal = float(c.principal[own].sum())
        if utilisation >= p.credit.spv_renewal_min_utilisation:
            model.log(
                "spv_lease",
                sponsor.name,
                f"{sponsor.name} renews its SPV lease for {term / 4:g} years (utilisation {utilisation:.0%})",
                lenders,
                principal,
            )
            continue
        _walk_away(model, sponsor, own, lenders)


def _walk_away(model: CreditLoopModel, sponsor, rows: np.ndarray, lenders: str) -> None:
    c, cap, p, q = model.ledger.contracts, model.ledger.capacity, model.p, model.quarter
    principal = c.principal[rows].copy()
    total = float(principal.sum())
    cohorts = cap.index("owner").rows(sponsor.party)
    cohorts = cohorts[cap.active[cohorts]]
    owned = float(cap.gw[cohorts].sum())
    gw = min(total / p.technology.shell_cost_usd_bn_per_gw, owned)
    campus = 0.0
    if gw > 0:
        share = gw / owned
        haircut = p.credit.default_recovery_haircut
        for cohort, price in zip(cohorts, defaults.distressed_prices(model, cohorts), strict=True):
            campus += float(cap.shell_book[cohort]) * share * (1.0 - haircut)
            model.ledger.sell_capacity(int(cohort), int(World.SUPPLIERS), float(price) * share, share)
        model.market.fire_sale(gw, model.installed_gw())
    value = min(campus, total)
    guarantee = min(float(c.residual_guarantee[rows].sum()), total - value)
    loss = total - value - guarantee
    if loss > 1e-9:
        defaults.write_off(model, rows, principal * (loss / total))
    model.ledger.reschedule(rows, q)  # V + G are due in this quarter's settlement
    model.log(
        "spv_walk_away",
        sponsor.name,
        f"{sponsor.name} walks away from its SPV lease: hands back {gw:.2f} GW, owes {value:.1f}bn for the "
        f"campus and {guarantee:.1f}bn under its residual-value guarantee; the lenders lose {loss:.1f}bn",
        lenders,
        guarantee,
    )
