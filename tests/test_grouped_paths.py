"""Grouped passes equal the per-debtor loops they replaced: the LTV covenant's margin-call events
(economy/marks.py: one stable sort of the tripped rows by debtor instead of a pass over every row per debtor); the
sparse DebtRank runs equal the dense-state rounds they replaced on stressed books."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package

from accounting.contracts import Kind, Status
from benchmarks.books import open_quarter, population_model
from economy import capital, marks


def per_debtor_collateral_check(model) -> None:
    """The covenant check as written before (the reference): a boolean mask over all rows per debtor."""
    c, cap = model.ledger.contracts, model.ledger.capacity
    rows = np.flatnonzero(
        (c.view("status") == Status.ACTIVE) & (c.view("kind") == Kind.GPU_LOAN) & (c.view("collateral") >= 0)
    )
    rows = rows[cap.active[c.collateral[rows]]]
    if rows.size == 0:
        return
    cohorts, inverse = np.unique(c.collateral[rows], return_inverse=True)
    values = capital.gpu_market_values(model, cohorts)
    secured = np.bincount(inverse, c.principal[rows], cohorts.size)
    ltv_max = np.bincount(inverse, c.ltv_max[rows] * c.principal[rows], cohorts.size) / np.maximum(
        secured, 1e-12
    )
    shortfall = np.maximum(secured - ltv_max * values, 0.0)
    call = shortfall[inverse] * c.principal[rows] / np.maximum(secured[inverse], 1e-12)
    tripped = (call > 1e-9) & (c.margin_call[rows] <= 0)
    model.ledger.call_margin(rows, call)
    for debtor in np.unique(c.debtor[rows[tripped]]):
        mine = tripped & (c.debtor[rows] == debtor)
        mine_cohorts = np.unique(inverse[mine])
        ltv = secured[mine_cohorts].sum() / max(values[mine_cohorts].sum(), 1e-12)
        name = model.ledger.names[debtor]
        model.log(
            "margin_call",
            name,
            f"{name} trips the LTV covenant on {int(mine.sum())} GPU-backed loan(s) "
            f"(LTV {min(ltv, 9.99):.0%}{'+' if ltv > 9.99 else ''}): margin calls of {call[mine].sum():.2f}bn",
            "private credit",
            float(call[mine].sum()),
        )


def test_grouped_margin_calls_equal_the_per_debtor_loop():
    models = []
    for check in (marks._check_collateral, per_debtor_collateral_check):
        model = population_model(400, seed=3)
        model.step()
        open_quarter(model, 1)
        model.market.fire_sale_discount = 0.9  # GPU values collapse: many debtors trip the covenant
        start = len(model.events)
        check(model)
        models.append((model, model.events.events[start:]))
    (grouped, a), (reference, b) = models
    assert len(a) > 20 and a == b
    assert np.array_equal(
        grouped.ledger.contracts.view("margin_call"), reference.ledger.contracts.view("margin_call")
    )


def test_a_single_loss_line_is_written_as_the_array_path_writes_it():
    from economy import losses
    from economy.losses import LossKind

    books = []
    for scalar in (True, False):
        model = population_model(100, seed=2)
        wrap = (lambda x: x) if scalar else (lambda x: np.array([x]))
        for i, amount in enumerate([1.25, 0.0, -3.5, 7]):
            losses.record(
                model, wrap(5 + i), wrap(amount), LossKind.WRITE_DOWN, debtor=wrap(9), contract=i, loop=3
            )
        books.append(
            {
                k: model.loss_book.view(k).copy()
                for k in ("quarter", "holder", "debtor", "contract", "loop", "kind", "amount")
            }
        )
    assert len(books[0]["amount"]) == 3
    for k in books[0]:
        assert books[0][k].dtype == books[1][k].dtype and np.array_equal(books[0][k], books[1][k]), k


def test_debtrank_seeds_in_chunks_equal_all_seeds_at_once(monkeypatch):
    from economy import systemic

    model = population_model(600, seed=4)
    model.step()
    model.market.value *= 0.3  # equity falls: distress travels further
    chunked = systemic.debtranks(model)
    monkeypatch.setattr(systemic, "SEED_CHUNK", 10**9)
    at_once = systemic.debtranks(model)
    monkeypatch.setattr(systemic, "SEED_CHUNK", 37)
    small = systemic.debtranks(model)
    assert np.isfinite(at_once).sum() > 600 and (at_once > 0).sum() > 100
    assert np.array_equal(chunked, at_once, equal_nan=True) and np.array_equal(small, at_once, equal_nan=True)


def test_sparse_debtrank_equals_the_dense_state_rounds_on_stressed_books():
    # The benchmark's stressed population quarter (1,000 firms, ~400 of them insolvent): every agent's DebtRank
    # from the sparse runs (accounting/debtrank.py: _debtrank_sparse) against the selective rounds over the dense
    # (seeds x firms) state they replaced (_debtrank_dense), chunk by chunk as economy/systemic.py runs them.
    from accounting import debtrank as dr
    from benchmarks.test_performance import stressed_model
    from economy import systemic

    model = stressed_model(1000)
    ranks = systemic.debtranks(model)
    agents = np.flatnonzero(~model.ledger.is_world)
    equity = model.ledger.equity()[agents]
    w = dr.impact_matrix(systemic.exposures(model)[agents][:, agents], equity)
    v, seeds, step = dr._relative_value(None, equity), np.arange(agents.size), systemic.SEED_CHUNK
    reference = [
        dr._debtrank_dense(w, equity, seeds[i : i + step], v, 1.0) for i in range(0, seeds.size, step)
    ]
    assert (equity <= 0).sum() > 100 and (ranks[agents] > 0).sum() > 100
    assert np.array_equal(ranks[agents], np.concatenate(reference))


# -- default resolution (economy/defaults.py) ------------------------------------------------------------------------
def per_contract_write_off(model, rows, amounts) -> None:
    """The write-off as written before (the reference): :func:`defaults.book_loss` one contract at a time."""
    from economy import defaults

    c = model.ledger.contracts
    amounts = np.minimum(np.asarray(amounts, dtype=float), c.principal[rows])
    for r, amount in zip(rows.tolist(), amounts.tolist(), strict=True):
        defaults.book_loss(model, r, amount)
    model.ledger.write_down(rows, amounts)


def per_cohort_seize_collateral(model, party: int) -> None:
    """The collateral seizure as written before (the reference): a mask and a price per cohort."""
    from accounting.ledger import World
    from economy import defaults

    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    sold_gw = 0.0
    rows = defaults._debt_rows(model, party)
    rows = rows[c.collateral[rows] >= 0]
    for cohort in np.unique(c.collateral[rows]):
        secured = rows[c.collateral[rows] == cohort]
        ledger.release_collateral(secured)
        if not cap.active[cohort] or cap.owner[cohort] != party:
            continue
        price = float(defaults.distressed_prices(model, np.array([cohort]))[0])
        sold_gw += float(cap.gw[cohort])
        ledger.sell_capacity(int(cohort), int(World.SUPPLIERS), price)
        claims = c.principal[secured]
        proceeds = min(price, float(claims.sum()), max(float(ledger.cash[party]), 0.0))
        if proceeds > 0:
            ledger.repay(secured, claims / claims.sum() * proceeds)
        lenders = ", ".join(sorted({ledger.names[i] for i in c.creditor[secured]}))
        model.log(
            "collateral",
            lenders,
            f"{lenders} seize and sell {ledger.names[party]}'s GPU collateral for "
            f"{price:.1f}bn against {claims.sum():.1f}bn of secured loans",
            ledger.names[party],
            price,
        )
    model.market.fire_sale(sold_gw, model.installed_gw())


def _stressed_books(agents: int, quarters: int) -> dict:
    """A stressed population economy (the benchmark's bust) after ``quarters``: every number it wrote, as bytes."""
    from benchmarks.books import MIX
    from benchmarks.test_performance import STRESS
    from economy.model import CreditLoopModel
    from params.loader import build_parameters

    counts = {f"population.{kind}": round(share * agents) for kind, share in MIX.items()}
    model = CreditLoopModel(build_parameters(counts, STRESS), rng=1, scenario="population")
    for _ in range(quarters):
        model.step()
    return _written(model)


def _calm_books(agents: int, quarters: int) -> dict:
    """A population economy without shocks (thousands of syndicated loans, funds calling capital)."""
    model = population_model(agents, seed=4)
    for _ in range(quarters):
        model.step()
    return _written(model)


def _written(model) -> dict:
    """Every number a model has written, as bytes: its series, accounts, books, journal, loss book and events."""
    from economy.losses import LossKind

    ledger = model.ledger
    out = {"series": model.datacollector.get_model_vars_dataframe().to_numpy(dtype=float).tobytes()}
    accounts = ("cash", "retained", "paid_in", "fin_assets", "fin_liabs", "real_assets")
    out |= {name: getattr(ledger, name).tobytes() for name in accounts}
    out |= {f"firm_state.{k}": getattr(model.firm_state, k).tobytes() for k in ("appetite", "liquidated")}
    for label, table in (
        ("contracts", ledger.contracts),
        ("capacity", ledger.capacity),
        ("journal", ledger.journal),
        ("losses", model.loss_book),
    ):
        out |= {f"{label}.{k}": v.tobytes() for k, v in table.columns().items()}
    out["events"] = repr(model.events.events)
    out["lines"] = (int(ledger.journal.n), int(model.loss_book.n), int(model.defaults_total))
    out["protection_lines"] = int((model.loss_book.view("kind") == int(LossKind.PROTECTION)).sum())
    return out


def test_grouped_default_resolution_equals_the_per_contract_path(monkeypatch):
    """The write-off (loss lines of unprotected creditors in one loss-book call) and the collateral seizure (every
    cohort priced at once) give the same series, balances, books, journal and events, bit for bit."""
    from economy import defaults

    grouped = _stressed_books(300, 5)
    monkeypatch.setattr(defaults, "write_off", per_contract_write_off)
    monkeypatch.setattr(defaults, "_seize_collateral", per_cohort_seize_collateral)
    reference = _stressed_books(300, 5)
    # defaults to resolve, and SRT claims among their losses
    assert reference["lines"][2] > 50 and reference["protection_lines"] > 0
    assert grouped.keys() == reference.keys()
    for key in reference:
        assert grouped[key] == reference[key], key


def test_postings_summed_over_the_parties_they_touch_equal_the_sums_over_every_party(monkeypatch):
    """With many parties the ledger sums a small posting over the parties it touches (found with a dict or with
    np.unique) instead of a bincount over all of them. Each way forced on every posting of a stressed and a calm
    300-firm economy gives the same series, accounts, books, journal and events, bit for bit."""
    from accounting import ledger

    full = _stressed_books(300, 4), _calm_books(300, 3)
    monkeypatch.setattr(ledger, "SMALL_BASE", -(10**9))  # every posting through the dict of touched parties
    by_dict = _stressed_books(300, 4), _calm_books(300, 3)
    monkeypatch.setattr(ledger, "SMALL_BASE", 10**9)  # every posting through np.unique
    monkeypatch.setattr(ledger, "COMPACT_MIN_PARTIES", 0)
    monkeypatch.setattr(ledger, "COMPACT_SPARSITY", 0)
    by_unique = _stressed_books(300, 4), _calm_books(300, 3)
    for compact in (by_dict, by_unique):
        for got, want in zip(compact, full, strict=True):
            assert got.keys() == want.keys()
            for key in want:
                assert got[key] == want[key], key
