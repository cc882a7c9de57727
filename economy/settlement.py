"""Settlement (docs/ODD.md §7.8): the quarter's obligations are paid, cleared when someone is short.

Everything due under contracts (coupons, amortisation, maturities, margin calls, compute invoices, backstop
purchases, SRT premiums) and every operating bill a firm could not pay when it fell due is gathered into one
obligations network. If every firm can pay, all is paid in full; otherwise firms short of cash first try to raise
liquidity (their ``raise_liquidity`` hook) and then the network is cleared (greatest Eisenberg-Noe clearing
vector, :func:`accounting.obligations.recovery_rates`), each creditor receiving its debtor's recovery rate on what
it is owed. Firms that pay short are in default; :mod:`economy.defaults` resolves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind
from accounting.journal import Flow
from accounting.ledger import World
from accounting.obligations import dues, pay_dues, recovery_rates

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def quarter_dues(model: CreditLoopModel):
    """What every contract pays this quarter (:func:`accounting.obligations.dues`)."""
    return dues(model.ledger.contracts, model.quarter, model.market.reference_rate)


def settle(model: CreditLoopModel) -> list[int]:
    """Pay everything due, clearing the network if anyone is short. Returns the parties that newly defaulted."""
    ledger = model.ledger
    c, n = ledger.contracts, ledger.n_parties
    d = quarter_dues(model)
    total = d.income + d.repay
    rows = np.flatnonzero(total > 0)
    # operating bills a firm could not pay when they fell due join the quarter's obligations (to suppliers)
    bills = np.zeros(n)
    column = model.firm_state.funding_shortfall[:n]
    bills[: column.size] = column
    if rows.size == 0 and not bills.any():
        return []
    payer, payee, amount = d.payer[rows], d.payee[rows], total[rows]
    owed = np.bincount(payer, amount, n) + bills
    agent = ~ledger.is_world
    short = np.flatnonzero(agent & (owed > ledger.cash + 1e-9))
    for party in short:
        firm = model.firm_by_party.get(int(party))
        if firm is not None and not firm.in_default:
            firm.raise_liquidity(float(owed[party] - ledger.cash[party]))
    if short.size:
        # raising liquidity can change the book (loans sold to new holders, lines drawn): settle what is due now
        d = quarter_dues(model)
        total = d.income + d.repay
        rows = np.flatnonzero(total > 0)
        payer, payee, amount = d.payer[rows], d.payee[rows], total[rows]
    credit = model.p.credit
    recovery = recovery_rates(
        ledger, payer, payee, amount, bills, alpha=credit.default_cost_alpha, beta=credit.default_cost_beta
    )
    billed = np.flatnonzero(bills)
    if billed.size:
        ledger.pay_many(billed, int(World.SUPPLIERS), bills[billed] * recovery[billed], Flow.OPEX)
        for i in billed:
            model.firm_by_party[int(i)].funding_shortfall = 0.0
    rate = recovery[payer]
    paid_income, _ = pay_dues(ledger, d, rows, rate)
    _record_flows(model, rows, c.kind[rows], payer, payee, paid_income, rate, d.income[rows])
    new = [
        int(i)
        for i in np.flatnonzero(agent & (recovery < 1.0 - 1e-9))
        if not ledger.defaulted[i] or not model.firm_by_party[int(i)].in_default
    ]
    for i in new:
        ledger.record_default(i)
        firm = model.firm_by_party[i]
        firm.in_default = True
        # what its estate did not pass on is the cost of the default (Rogers-Veraart): paid away to advisers
        cost = float(ledger.cash[i])
        if cost > 1e-9 and (credit.default_cost_alpha < 1.0 or credit.default_cost_beta < 1.0):
            ledger.pay(i, int(World.SUPPLIERS), cost, Flow.DEFAULT_COST)
            model.default_costs_q += cost
        model.log(
            "default",
            firm.name,
            f"{firm.name} defaults: it pays {recovery[i]:.0%} of the {owed[i]:.1f}bn it owes this quarter",
            "",
            float(owed[i]),
        )
    return new


def _record_flows(model, rows, kinds, payer, payee, paid, rate, invoiced) -> None:
    """Circularity, providers' contract revenue and words for short payments. Sums per party are bincounts in
    settlement order (the order the per-row loop added them in); only short payments and backstop purchases,
    which are logged, are walked one by one."""
    compute = kinds == Kind.COMPUTE
    backstop = (kinds == Kind.BACKSTOP) & (paid > 0)
    _accumulate(model.compute_fees_paid, payer[compute], paid[compute], ordered=False)
    earning = compute | backstop
    _accumulate(model.contract_revenue, payee[earning], paid[earning])
    # compute fees are sales by the provider (payee); backstop purchases are funding from the guarantor (payer)
    model.circularity.record(
        compute[earning],
        np.where(compute, payee, payer)[earning],
        np.where(compute, payer, payee)[earning],
        paid[earning],
    )
    names = model.ledger.names
    short = compute & (rate < 1.0 - 1e-9)
    for i in np.flatnonzero(short | backstop):
        a, b, amount = int(payer[i]), int(payee[i]), float(paid[i])
        if compute[i]:
            shortfall = float(invoiced[i] - paid[i])
            model.shortfall_by_provider[b] = model.shortfall_by_provider.get(b, 0.0) + shortfall
            model.log(
                "short_payment",
                names[a],
                f"{names[a]} pays {rate[i]:.0%} of its {names[b]} invoice",
                names[b],
                shortfall,
            )
        else:
            model.log(
                "backstop",
                names[a],
                f"{names[a]} buys {amount:.2f}bn of {names[b]}'s unsold capacity under its backstop",
                names[b],
                amount,
            )


def _accumulate(totals: dict[int, float], parties: np.ndarray, amounts: np.ndarray, *, ordered=True) -> None:
    """``totals[p] += amount`` for each pair in order: each party's sum is a bincount (which adds in row order,
    from zero, as a loop would); parties already present are added to one payment at a time. New parties enter
    the dictionary in order of first appearance (``ordered``, where something sums its values) or of party."""
    m = parties.size
    if m == 0:
        return
    parties = parties.astype(np.int64)
    size = int(parties.max()) + 1
    sums = np.bincount(parties, amounts, size)
    if ordered:
        first = np.full(size, m, dtype=np.int64)
        np.minimum.at(first, parties, np.arange(m))
        present = np.flatnonzero(first < m)
        order = present[np.argsort(first[present])].tolist()
    else:
        order = np.flatnonzero(np.bincount(parties, minlength=size)).tolist()
    if totals and any(p in totals for p in order):
        for p in order:
            if p in totals:
                for amount in amounts[parties == p].tolist():
                    totals[p] += amount
            else:
                totals[p] = float(sums[p])
        return
    totals.update(zip(order, sums[order].tolist(), strict=True))
