"""Books for the benchmarks: population economies of a given size, one quarter's accounting on them (the model's
own vectorised code), a snapshot to replay that quarter, and the bare-numpy floor of the same data movement.

The quarter's accounting is what every contract does in a quarter, once the firms have decided: dues (interest,
amortisation, maturities, margin calls, compute and backstop invoices, SRT premiums), settlement when every firm
can pay, marks of stakes, warrants and shorts, depreciation and the LTV covenant. It is measured on the opening
book of a population economy, in quarter 0, with every firm's cash topped up (from outside investors) to what it
owes, so that it is the same quarter each round and nobody defaults.
"""

from __future__ import annotations

import numpy as np

from accounting.contracts import IS_DEBT, IS_EXECUTORY, Kind, Status
from accounting.ledger import World
from economy import compute_market, marks, settlement
from economy.model import CreditLoopModel
from params.loader import build_parameters

# Share of each kind in a population of N synthetic firms (the calibrated 16 come on top). With the default
# population.counterparties this gives about ten contracts per firm.
MIX = {"neoclouds": 0.4, "ai_labs": 0.3, "hyperscalers": 0.1, "funds": 0.1, "banks": 0.1}


def population_parameters(agents: int, **overrides):
    """Parameters of a population economy with ``agents`` synthetic firms in the benchmark mix."""
    counts = {f"population.{kind}": round(share * agents) for kind, share in MIX.items()}
    return build_parameters({**counts, **overrides})


def population_model(agents: int, seed: int = 1, **overrides) -> CreditLoopModel:
    return CreditLoopModel(population_parameters(agents, **overrides), rng=seed, scenario="population")


def open_quarter(model: CreditLoopModel, quarter: int = 0) -> None:
    """Set the books up for one quarter's accounting: invoices of compute contracts for the quarter, and every
    firm holding at least what it owes (topped up by outside investors)."""
    model.quarter = model.ledger.quarter = quarter
    model.refresh_caches()
    compute_market.allocate(model)
    ledger = model.ledger
    owed = settlement.quarter_dues(model).per_payer(ledger.n_parties)
    short = np.flatnonzero(~ledger.is_world & (owed > ledger.cash - 1.0))
    for party in short:
        ledger.contribute(World.OUTSIDE_INVESTORS, int(party), float(owed[party] - ledger.cash[party] + 1.0))


def accounting(model: CreditLoopModel) -> None:
    """One quarter's accounting with the model's code: settlement (dues inside) and the contract marks."""
    settlement.settle(model)
    marks.mark_contracts(model)


class Snapshot:
    """Everything one quarter's accounting writes, so the same quarter can be replayed round after round: the
    ledger's accounts and books (through the ledger's own snapshot), the circularity tracker and the event log."""

    def __init__(self, model: CreditLoopModel):
        self.books = model.ledger.snapshot()
        circ = model.circularity
        self.circularity = (dict(circ.provided), circ.sales_q, circ.circular_q)
        self.events = len(model.events.events)

    def restore(self, model: CreditLoopModel) -> None:
        model.ledger.restore(self.books)
        circ = model.circularity
        provided, circ.sales_q, circ.circular_q = self.circularity
        circ.provided.clear()
        circ.provided.update(provided)
        del model.events.events[self.events :]
        model.reset_quarter_accumulators()


def floor_inputs(model: CreditLoopModel) -> dict:
    """The arrays the quarter's accounting reads, as views (no copy), for :func:`numpy_floor`."""
    ledger, c, cap, m = model.ledger, model.ledger.contracts, model.ledger.capacity, model.market
    t = model.p.technology
    return {
        **{name: c.view(name) for name in c.column_names()},
        **{f"cap_{name}": cap.view(name) for name in cap.column_names()},
        "n": ledger.n_parties,
        "q": model.quarter,
        "reference_rate": m.reference_rate,
        "market_value": m.value,
        "cash": ledger.cash,
        "gpu_life_q": 4.0 * t.gpu_accounting_life_years,
        "shell_life_q": 4.0 * t.shell_life_years,
        "economic_life_q": 4.0 * m.gpu_economic_life_years,
        "discount": m.fire_sale_discount,
    }


def numpy_floor(a: dict) -> tuple[np.ndarray, ...]:
    """The memory-bound floor: the same quarter's arithmetic over the same arrays with bare numpy and no
    bookkeeping (no journal, no per-kind postings, no dictionaries): dues, net cash per party, principal after
    repayment, stake marks, depreciation and the LTV margin calls. Returns new arrays; the books are untouched."""
    n, q = a["n"], a["q"]
    kind, live = a["kind"], a["status"] == Status.ACTIVE
    principal = a["principal"]
    debt = live & IS_DEBT[kind] & (a["start_q"] < q)
    rate = a["fixed_rate"] + a["spread"] + a["reference_rate"] * a["floating"]
    remaining = np.maximum(a["maturity_q"] - q + 1.0, 1.0)
    repay = np.where(debt & ((a["maturity_q"] <= q) | a["amortising"]), principal / remaining, 0.0)
    due = (
        np.where(debt, principal * rate * 0.25, 0.0)
        + repay
        + np.where(live & IS_EXECUTORY[kind], a["due"], 0.0)
    )
    cash = a["cash"] + np.bincount(a["creditor"], due, n) - np.bincount(a["debtor"], due, n)
    principal_after = principal - repay
    stake = live & (kind == Kind.EQUITY_STAKE)
    value = np.where(stake, a["fraction"] * a["market_value"][a["debtor"]], a["value"])
    fin_assets = np.bincount(a["creditor"], value - a["value"], n)
    in_service = a["cap_active"] & (a["cap_ready_q"] <= q)
    gpu_dep = np.where(in_service, a["cap_gpu_cost"] / a["gpu_life_q"], 0.0)
    shell_dep = np.where(in_service, a["cap_shell_cost"] / a["shell_life_q"], 0.0)
    real = np.bincount(a["cap_owner"], gpu_dep + shell_dep, n)
    age = q - a["cap_vintage_q"]
    market = a["cap_gpu_cost"] * np.clip(1.0 - age / a["economic_life_q"], 0.0, 1.0) * (1.0 - a["discount"])
    # the LTV covenant per collateral cohort (a syndicate's rows together), the call shared pro rata
    secured = np.flatnonzero(live & (kind == Kind.GPU_LOAN) & (a["collateral"] >= 0))
    cohort, weight = a["collateral"][secured], principal_after[secured]
    total = np.bincount(cohort, weight, market.size)
    ltv_max = np.bincount(cohort, weight * a["ltv_max"][secured], market.size) / np.maximum(total, 1e-12)
    shortfall = np.maximum(total - ltv_max * market, 0.0)
    call = shortfall[cohort] * weight / np.maximum(total[cohort], 1e-12)
    return cash, principal_after, value, fin_assets, real, call
