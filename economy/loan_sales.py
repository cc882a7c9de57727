"""Loan sales under redemption pressure (docs/ODD.md §7.7.6): a fund that must pay out more than its cash and
its bank line sells a vertical slice of its loan book (its AI loans and its other loans alike) to secondary buyers
(outside investors) at a discount.

The price follows the exponential inverse demand of Cifuentes, Ferrucci and Shin (2005): the marginal price of
the ``s``-th billion of carrying value sold in a quarter, market-wide, is ``(1 − b) · exp(−a · s / D)``
(``b = lenders.loan_sale_base_discount``, ``a = lenders.loan_sale_price_impact``,
``D = lenders.loan_market_depth_usd_bn_per_quarter``). Selling carrying value ``C`` after ``S`` has been sold this
quarter raises

    proceeds(S, C) = (1 − b) · D / a · (exp(−a S / D) − exp(−a (S + C) / D))

so the order in which funds sell does not change what they raise together, and every sale depresses the next.
The seller books carrying value less proceeds as a realised loss (the loss book's SALE lines), which counts
toward its loss-driven outflows and its stop-lending threshold: the fire-sale spiral of a run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from accounting.contracts import IS_DEBT, Status
from accounting.ledger import World
from economy import losses
from economy.losses import LossKind

if TYPE_CHECKING:
    from agents.private_credit import PrivateCreditFund
    from economy.model import CreditLoopModel


# below this a·x/D the closed forms lose digits to cancellation (and D/a overflows at a denormal price impact);
# the expm1/log1p forms used instead are exact there
SMALL = 1e-3


def _terms(model: CreditLoopModel) -> tuple[float, float, float]:
    """(price impact a, depth D, 1 − base discount) of the secondary loan market."""
    p = model.p.lenders
    return p.loan_sale_price_impact, p.loan_market_depth_usd_bn_per_quarter, 1.0 - p.loan_sale_base_discount


def proceeds(model: CreditLoopModel, sold_before: float, carrying: float) -> float:
    """What selling ``carrying`` of loans raises after ``sold_before`` has been sold this quarter."""
    a, depth, keep = _terms(model)
    if a <= 0:
        return keep * carrying
    x = a * carrying / depth
    if (
        x < SMALL
    ):  # the same integral written keep·c·e^(−a·s/D)·(1 − e^(−x))/x: no D/a to overflow at a tiny a
        ratio = -math.expm1(-x) / x if x > 0 else 1.0
        return keep * carrying * math.exp(-a * sold_before / depth) * ratio
    return (
        keep
        * depth
        / a
        * (math.exp(-a * sold_before / depth) - math.exp(-a * (sold_before + carrying) / depth))
    )


def carrying_for(model: CreditLoopModel, sold_before: float, need: float) -> float:
    """The carrying value to sell to raise ``need`` (inf if the market cannot absorb that much)."""
    a, depth, keep = _terms(model)
    if keep <= 0:
        return math.inf
    if a <= 0:
        return need / keep
    if need <= 0:
        return 0.0
    # in logs, so that neither e^(a·s/D) nor D/a overflows: grown = need·e^(a·s/D)/keep is what to sell at a
    # vanishing impact after s has been sold, z = (a/D)·grown; the market cannot raise ``need`` once z ≥ 1
    log_grown = math.log(need) - math.log(keep) + a * sold_before / depth
    log_z = math.log(a) - math.log(depth) + log_grown
    if log_z >= 0.0:
        return math.inf
    z = math.exp(log_z)
    if z < SMALL:  # −(D/a)·log(1 − z) written grown·(−log1p(−z)/z)
        grown = math.exp(log_grown) if log_grown < 709.0 else math.inf
        return grown * (-math.log1p(-z) / z if z > 0 else 1.0)
    left = math.exp(-a * sold_before / depth) - a * need / (keep * depth)
    return math.inf if left <= 0 else -depth / a * math.log(left) - sold_before


def sell_for(model: CreditLoopModel, fund: PrivateCreditFund, need: float) -> float:
    """Sell a pro-rata slice of ``fund``'s whole loan book, its AI loans and its other loans alike, to raise
    ``need`` (or everything, if it cannot); returns the proceeds."""
    ledger, c = model.ledger, model.ledger.contracts
    rows = c.of_creditor(fund.party)
    rows = rows[(c.status[rows] == Status.ACTIVE) & IS_DEBT[c.kind[rows]] & (c.principal[rows] > 1e-9)]
    carrying = c.principal[rows] - c.allowance[rows]
    other = max(float(ledger.other_assets[fund.party]), 0.0)
    book = float(carrying.sum()) + other
    if need <= 1e-9 or book <= 1e-9:
        return 0.0
    market = model.credit
    sell = min(carrying_for(model, market.loans_sold_q, need), book)
    if sell <= 1e-9:  # a need too small for the market's depth to resolve in floating point
        return 0.0
    share = sell / book
    raised = proceeds(model, market.loans_sold_q, sell)
    factor = raised / sell
    market.loans_sold_q += sell
    buyer = int(World.OUTSIDE_INVESTORS)
    if rows.size:
        prices = carrying * share * factor
        ledger.sell_claims(rows, share, buyer, prices)
        lost = carrying * share - prices
        losses.record(
            model, fund.party, lost, LossKind.SALE, debtor=c.debtor[rows], contract=rows, loop=c.loop[rows]
        )
        emptied = rows[c.principal[rows] <= 1e-9]
        if emptied.size:
            ledger.close(emptied, Status.MATURED)
    if other > 0:
        ledger.sell_other_assets(fund.party, buyer, other * share, other * share * factor)
        losses.record(model, fund.party, other * share * (1.0 - factor), LossKind.SALE)
    fund.record_credit_loss(sell - raised)
    model.losses_q += sell - raised  # a realised credit loss of the quarter, like a write-down
    model.log(
        "loan_sale",
        fund.name,
        f"{fund.name} sells {sell:.1f}bn of loans at {factor:.0%} of their carrying value to raise cash",
        "secondary buyers",
        raised,
    )
    return raised
