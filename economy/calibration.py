"""Opening calibration of the operating accounts (docs/ODD.md §5.3): each firm's calibrated revenue is split into
AI revenue at the opening compute price and utilisation (plus the compute fees it earns) and core revenue, by
the firm's own ``calibrate_opening``; the chip vendor's revenue not explained by the modelled buyers' opening chip
purchases is its outside revenue; every corporate's opening fundamental value is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from economy import compute_market

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def calibrate_revenue(model: CreditLoopModel) -> None:
    model.quarter = 0
    compute_market.allocate(model)
    d = model.p.demand
    c = model.ledger.contracts
    rows = model.compute_rows
    # demand at the start: the calibrated utilisation of the capacity in service
    model.demand0_gw = d.initial_utilisation * model.retail_gw_total
    fees = np.bincount(c.creditor[rows], c.due[rows], model.ledger.n_parties)
    for f in model.capacity_owners():
        ai = d.compute_price_usd_bn_per_gw_year / 4.0 * d.initial_utilisation * f.retail_gw
        f.calibrate_opening(ai, fees[f.party])
    if model.nvidia is not None:
        t = model.p.technology
        chips = t.chip_cost_usd_bn_per_gw / (t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw)
        bought = sum(
            f.cal.capex_usd_bn_per_year * chips * f.chip_vendor_share for f in model.capacity_owners()
        )
        model.nvidia.calibrate_opening(bought)
    for f in model.lenders():
        f.operating_cash_q = 0.0
    for f in model.corporates():
        f.growth0 = d.ai_growth_initial_annual if f.ai_heavy else d.core_revenue_growth_annual
        model.market.fundamental_start[f.party] = f.fundamental(record=False)
    model.quarter = -1
