"""End-of-quarter marks (docs/ODD.md, "Submodel: marks and covenants"): equity valuations, stakes, warrants and
shorts marked to market through the ledger; depreciation; GPU collateral values and LTV covenants (margin calls
fall due at the next settlement); impairment after a technology shock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind, Status
from accounting.ledger import World
from economy import capital, credit_risk, losses
from economy.losses import LossKind

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def mark(model: CreditLoopModel) -> None:
    """Valuations from each listed firm's fundamentals, then :func:`mark_contracts`."""
    market = model.market
    n = model.ledger.n_parties
    defaulted = np.array(model.new_defaulters, dtype=np.int64)
    before = market.value[defaulted].copy()  # before a liquidated firm's value is set to 0 below
    fundamentals = np.ones(n)
    listed = np.zeros(n, dtype=bool)
    impaired = np.zeros(n, dtype=bool)
    for firm in model.firms:
        if firm.listed and not firm.liquidated:
            fundamentals[firm.party] = firm.fundamental()
            listed[firm.party] = True
            impaired[firm.party] = firm.in_default
        elif firm.liquidated:
            market.value[firm.party] = 0.0
    market.update_valuations(fundamentals, listed, impaired)
    _shareholder_losses(model, defaulted, np.maximum(before - market.value[defaulted], 0.0))
    mark_contracts(model)
    # lenders provide for expected losses at the default risk the new valuations imply
    model.pd = credit_risk.default_probabilities(model)
    credit_risk.provisions(model)


def _shareholder_losses(model: CreditLoopModel, defaulted: np.ndarray, lost: np.ndarray) -> None:
    """The market value a firm sheds in the quarter it defaults, lost by its shareholders: each agent that holds
    a stake its fraction of it, the outside investors the rest."""
    c = model.ledger.contracts
    for party, amount in zip(defaulted.tolist(), lost.tolist(), strict=True):
        if amount <= 0:
            continue
        stakes = c.stakes_in(party)
        held = c.fraction[stakes]
        losses.record(
            model, c.creditor[stakes], amount * held, LossKind.EQUITY, debtor=party, contract=stakes,
            loop=c.loop[stakes],
        )  # fmt: skip
        outside = amount * max(1.0 - float(held.sum()), 0.0)
        losses.record(model, int(World.OUTSIDE_INVESTORS), outside, LossKind.EQUITY, debtor=party)


def equity_values(model: CreditLoopModel) -> np.ndarray:
    """What a share of each party is worth: its market value, or its book equity (at least 0) if not listed."""
    unlisted = np.zeros(model.ledger.n_parties, dtype=bool)
    for firm in model.firm_group("unlisted", lambda: [f for f in model.firms if not f.listed]):
        unlisted[firm.party] = True
    return np.where(unlisted, np.maximum(model.ledger.equity(), 0.0), model.market.value)


def mark_contracts(model: CreditLoopModel) -> None:
    """The vectorised half of the marks, once valuations are set: stakes, warrants and shorts revalued through
    the ledger, depreciation, and the LTV covenant of GPU-backed loans."""
    ledger, market, c = model.ledger, model.market, model.ledger.contracts
    live = c.view("status") == Status.ACTIVE
    kind = c.view("kind")
    stakes = np.flatnonzero(live & (kind == Kind.EQUITY_STAKE))
    ledger.revalue(stakes, c.fraction[stakes] * equity_values(model)[c.debtor[stakes]])
    warrants = np.flatnonzero(live & (kind == Kind.WARRANT))
    ledger.revalue(
        warrants, c.fraction[warrants] * np.maximum(market.amd_price - c.price[warrants], 0.0) / 1000.0
    )
    shorts = np.flatnonzero(live & (kind == Kind.EQUITY_SHORT))
    if shorts.size:
        ledger.revalue(shorts, c.notional[shorts] * (1.0 - market.equity_index / c.price[shorts]))

    _depreciate(model)
    _check_collateral(model)


def _depreciate(model: CreditLoopModel) -> None:
    t, cap, q = model.p.technology, model.ledger.capacity, model.quarter
    in_service = cap.view("active") & (cap.view("ready_q") <= q)
    gpu = np.where(in_service, cap.view("gpu_cost") / (4.0 * t.gpu_accounting_life_years), 0.0)
    shell = np.where(in_service, cap.view("shell_cost") / (4.0 * t.shell_life_years), 0.0)
    model.ledger.depreciate(gpu, shell)


def _check_collateral(model: CreditLoopModel) -> None:
    """LTV = principal / market value of the collateral GPUs; above the covenant the lender calls margin."""
    c, cap = model.ledger.contracts, model.ledger.capacity
    rows = np.flatnonzero(
        (c.view("status") == Status.ACTIVE) & (c.view("kind") == Kind.GPU_LOAN) & (c.view("collateral") >= 0)
    )
    rows = rows[cap.active[c.collateral[rows]]]
    if rows.size == 0:
        return
    # the covenant is on the loan as a whole: all lenders' rows secured by one cohort against its value
    cohorts, inverse = np.unique(c.collateral[rows], return_inverse=True)
    values = capital.gpu_market_values(model, cohorts)
    secured = np.bincount(inverse, c.principal[rows], cohorts.size)
    ltv_max = np.bincount(inverse, c.ltv_max[rows] * c.principal[rows], cohorts.size) / np.maximum(
        secured, 1e-12
    )
    shortfall = np.maximum(secured - ltv_max * values, 0.0)
    call = shortfall[inverse] * c.principal[rows] / np.maximum(secured[inverse], 1e-12)
    tripped = (call > 1e-9) & (c.margin_call[rows] <= 0)
    model.ledger.call_margin(rows, call)  # due at the next settlement
    # one event per debtor that trips: its tripped rows grouped in one stable sort (each group in row order, so
    # every sum adds what a mask over all rows would, in the same order), not a pass over all rows per debtor
    hit = np.flatnonzero(tripped)
    if hit.size == 0:
        return
    debtors = c.debtor[rows[hit]]
    order = np.argsort(debtors, kind="stable")
    hit, debtors = hit[order], debtors[order]
    starts = np.flatnonzero(np.r_[True, debtors[1:] != debtors[:-1]])
    for debtor, mine in zip(debtors[starts].tolist(), np.split(hit, starts[1:]), strict=True):
        mine_cohorts = np.unique(inverse[mine])
        ltv = secured[mine_cohorts].sum() / max(values[mine_cohorts].sum(), 1e-12)
        name = model.ledger.names[debtor]
        called = call[mine].sum()
        model.log(
            "margin_call",
            name,
            f"{name} trips the LTV covenant on {mine.size} GPU-backed loan(s) "
            f"(LTV {min(ltv, 9.99):.0%}{'+' if ltv > 9.99 else ''}): margin calls of {called:.2f}bn",
            "private credit",
            float(called),
        )


def impair_after_shock(model: CreditLoopModel) -> None:
    """A technology shock triggers impairment tests: GPU book values fall to market value."""
    cap = model.ledger.capacity
    active = np.flatnonzero(cap.view("active"))
    market = capital.gpu_market_values(model, active)
    excess = np.maximum(cap.gpu_book[active] - market, 0.0)
    if excess.sum() > 0:
        model.ledger.impair_capacity(active, excess)
        model.log(
            "impairment",
            "GPU owners",
            f"GPU owners impair {excess.sum():.1f}bn after the technology shock",
            "",
            float(excess.sum()),
        )
