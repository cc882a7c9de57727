"""Issuer-specific credit risk (docs/ODD.md §7.12): a one-year default probability for every party, the issuer
spread it implies, and the lenders' expected-loss provisions.

The probability combines three ways a firm fails: its assets fall below its obligations (Merton), it runs out of
cash (liquidity), and its largest customer fails (concentration):

    PD = 1 − (1 − PD_Merton) (1 − PD_liquidity) (1 − h · PD_customer)

For a firm with equity value ``E`` (market value if listed, book equity otherwise) and debt-like obligations ``D``
(all its debt, on and off the balance sheet, finance leases, the guarantees it has given and the minimum payments of
the compute contracts it has to take), the asset value is ``V = E + D`` and the asset volatility

    σ_V = σ_E · E / V · (1 + k_c · h),      h = its largest customer's share of its revenue and backlog

(``σ_E = credit.equity_volatility_annual``, ``k_c = credit.concentration_volatility_weight``): a firm living off one
customer is riskier. Over ``T`` = 1 year,

    DD = (ln(V/D) + (r − σ_V²/2) T) / (σ_V √T),      PD = Φ(−DD)

The liquidity part compares a year of sources (cash, positive operating cash flow, the equity it could raise at its
caps) with a year of uses (scheduled debt service and compute fees, negative operating cash flow):
``PD_liquidity = Φ(−ln(sources / uses) / credit.coverage_dispersion)``. ``h · PD_customer`` is its largest customer's
share times that customer's PD; a sponsor's backlog includes its share of its project companies' (look-through). The firm borrows at its grade's market spread plus the expected loss ``LGD · PD``
(``credit.loss_given_default``).
A firm in default has PD = 1; one without obligations has PD = 0. The outside world never defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from accounting.contracts import IS_DEBT, Kind, Status

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def _liquidity_pd(model: CreditLoopModel, n: int) -> np.ndarray:
    """Φ(−ln(sources/uses)/σ_c) over the next year, from last quarter's flows and this quarter's dues."""
    ledger, m, cr, b = model.ledger, model.market, model.p.credit, model.p.behaviour
    sources, uses = np.zeros(n), np.zeros(n)
    dues = getattr(model, "_expected_dues", np.zeros(n))
    repay = getattr(model, "_expected_repay", np.zeros(n))
    mood = m.credit_mood()
    for f in model.firms:
        p = f.party
        if p >= dues.size:
            continue
        share = b.lab_equity_issue_max_share if f.cuts_compute_take else cr.equity_issue_max_share
        equity = 4.0 * share * m.value[p] * mood if f.listed else 0.0
        # a year of operating cash: last quarter's run-rate, or the contract's minimum receipts of the coming year
        # if larger (project lenders count a signed take-or-pay before the sites earn)
        operating = max(4.0 * f.operating_cash_q, 4.0 * model.contracted_revenue_q(p, within=4), 0.0)
        sources[p] = max(ledger.cash[p], 0.0) + operating + equity + f.other_liquidity()
        # interest and fees recur every quarter; principal falling due now is paid once, and an issuer with
        # access to the bond market rolls it over
        principal = 0.0 if model.credit.investment_grade(f) else repay[p]
        uses[p] = 4.0 * (dues[p] - repay[p]) + principal + 4.0 * max(-f.operating_cash_q, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.log(np.maximum(sources, 1e-12) / uses)
    return np.where(uses > 1e-9, ndtr(-ratio / cr.coverage_dispersion), 0.0)


def _commitments(model: CreditLoopModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per party: the minimum payments it still owes under compute contracts (as the customer), and its largest
    customer's share of its backlog and next four years of revenue and who that customer is (as the provider)."""
    c, n = model.ledger.contracts, model.ledger.n_parties
    rows = np.flatnonzero((c.view("status") == Status.ACTIVE) & (c.view("kind") == Kind.COMPUTE))
    owed = np.bincount(c.debtor[rows], c.notional[rows] * c.min_share[rows], n).astype(float)
    backlog = np.bincount(c.creditor[rows], c.notional[rows], n).astype(float)
    largest = np.zeros(n)
    top = np.full(n, -1, dtype=np.int64)
    by_pair: dict[tuple[int, int], float] = {}  # a provider has a handful of customers: a dict is enough
    for p, cu, v in zip(
        c.creditor[rows].tolist(), c.debtor[rows].tolist(), c.notional[rows].tolist(), strict=True
    ):
        by_pair[(p, cu)] = by_pair.get((p, cu), 0.0) + v
    sites = model.project_company
    if sites is not None and not sites.liquidated:
        # a sponsor answers for its project companies' customers as far as it owns them (look-through)
        share, sponsor = sites.sponsor_share(), sites.sponsor.party
        for (p, cu), v in list(by_pair.items()):
            if p == sites.party and share > 0:
                by_pair[(sponsor, cu)] = by_pair.get((sponsor, cu), 0.0) + share * v
                backlog[sponsor] += share * v
    for (p, cu), v in by_pair.items():
        if v > largest[p]:
            largest[p], top[p] = v, cu
    revenue = np.zeros(n)
    for f in model.firms:
        revenue[f.party] = max(16.0 * f.revenue_q, 0.0)  # four years at last quarter's rate
    with np.errstate(invalid="ignore", divide="ignore"):
        concentration = np.where(largest > 0, largest / (backlog + revenue), 0.0)
    return owed, concentration, top


def default_probabilities(model: CreditLoopModel) -> np.ndarray:
    """One-year Merton default probability of every party (0 for the outside world)."""
    ledger, c, cr = model.ledger, model.ledger.contracts, model.p.credit
    n = ledger.n_parties
    live = (c.view("status") == Status.ACTIVE) & IS_DEBT[c.view("kind")]
    # float even with no debt at all (numpy's bincount of no weights is integer)
    obligations = np.bincount(c.view("debtor")[live], c.view("principal")[live], n).astype(float)
    owed, concentration, top = _commitments(model)
    obligations += owed
    # guarantees given count as the guarantor's debt (as rating agencies add them)
    guarantees = (c.view("status") == Status.ACTIVE) & (c.view("kind") == Kind.GUARANTEE)
    obligations += np.bincount(c.view("debtor")[guarantees], c.view("notional")[guarantees], n)
    equity = np.where(model.market.value > 0, model.market.value, np.maximum(ledger.equity(), 0.0))
    v = equity + obligations
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = cr.equity_volatility_annual * np.where(v > 0, equity / v, 0.0)
        sigma = np.maximum(sigma * (1.0 + cr.concentration_volatility_weight * concentration), 1e-6)
        leverage = np.log(np.maximum(v, 1e-12) / np.maximum(obligations, 1e-12))
        dd = (leverage + model.market.reference_rate - sigma**2 / 2.0) / sigma
    merton = np.where(obligations > 1e-9, ndtr(-dd), 0.0)
    merton = np.where((obligations > 1e-9) & (equity <= 0), 1.0, merton)
    own = 1.0 - (1.0 - merton) * (1.0 - _liquidity_pd(model, n))
    for f in model.firms:
        if f.in_default or f.liquidated:
            own[f.party] = 1.0
    customer = np.where(top >= 0, own[np.maximum(top, 0)], 0.0)  # the customer's own risk, first round
    pd = 1.0 - (1.0 - own) * (1.0 - concentration * customer)
    for f in model.firms:
        if f.in_default or f.liquidated:
            pd[f.party] = 1.0
    pd[ledger.is_world] = 0.0
    return np.clip(np.nan_to_num(pd, nan=1.0), 0.0, 1.0)


def issuer_spread(model: CreditLoopModel, firm, *, investment_grade: bool | None = None) -> float:
    """The spread a firm borrows at: its grade's market spread plus its expected loss, LGD · PD."""
    m = model.market
    ig = model.credit.investment_grade(firm) if investment_grade is None else investment_grade
    base = m.ig_spread if ig else m.hy_spread
    return base + model.p.credit.loss_given_default * float(model.pd[firm.party])


def provisions(model: CreditLoopModel) -> None:
    """Lenders' expected-loss allowances on every live loan and claim: principal · PD(debtor) · LGD (a 12-month
    expected loss, IFRS 9 stage 1), booked through the ledger, so that a borrower's rising default risk cuts its
    lenders' capital before it defaults."""
    c = model.ledger.contracts
    rows = np.flatnonzero((c.view("status") == Status.ACTIVE) & IS_DEBT[c.view("kind")])
    if rows.size == 0:
        return
    target = c.principal[rows] * model.pd[c.debtor[rows]] * model.p.credit.loss_given_default
    model.ledger.provide(rows, target)
