"""Population mode (model/population.py): synthetic firms around the calibrated ones keep every accounting
identity, are reproducible per seed, come in the numbers asked for with about ten contracts each, and leave the
calibrated economy untouched when the counts are zero."""

from __future__ import annotations

import functools

import mesa
import numpy as np
import pandas as pd
import pytest

from accounting import invariants
from accounting.contracts import Kind, Status
from agents.ai_lab import AILab
from agents.bank import Bank
from agents.hyperscaler import Hyperscaler
from agents.neocloud import Neocloud
from agents.private_credit import PrivateCreditFund
from economy.model import CreditLoopModel
from economy.runner import agent_frame, model_frame
from params.loader import build_parameters

COUNTS = {"neoclouds": 400, "ai_labs": 300, "hyperscalers": 100, "funds": 100, "banks": 100}  # 1,000 firms
CLASSES = {
    "neoclouds": Neocloud,
    "ai_labs": AILab,
    "hyperscalers": Hyperscaler,
    "funds": PrivateCreditFund,
    "banks": Bank,
}
QUARTERS = 4


def params(**extra):
    return build_parameters({**{f"population.{k}": v for k, v in COUNTS.items()}, **extra})


@functools.cache
def run(seed: int, quarters: int = QUARTERS) -> CreditLoopModel:
    model = CreditLoopModel(params(**{"run.quarters": 29}), rng=seed, scenario="population")
    for _ in range(quarters):
        model.step()  # invariants.check runs at the end of every quarter (run.check_invariants is on)
    return model


@functools.cache
def opening(seed: int) -> CreditLoopModel:
    return CreditLoopModel(params(), rng=seed)


def test_the_population_has_the_firms_and_contracts_asked_for():
    model = opening(7)
    synthetic = [f for f in model.firms if f.synthetic]
    assert len(synthetic) == sum(COUNTS.values())
    for kind, cls in CLASSES.items():
        assert sum(1 for f in synthetic if type(f) is cls) == COUNTS[kind], kind
    assert len(model.agents) == len(model.firms) == sum(COUNTS.values()) + 17  # plus the calibrated economy
    # about twenty contracts per synthetic firm at the opening: loans, bonds, compute contracts, stakes; a
    # neocloud's opening GPU-backed loans are one row per lender and vintage of its GPUs in service
    n = model.ledger.contracts.n
    assert 15_000 <= n <= 23_000, n
    kinds = np.bincount(model.ledger.contracts.view("kind"), minlength=len(Kind))
    for kind in (Kind.BOND, Kind.BANK_LOAN, Kind.GPU_LOAN, Kind.COMPUTE, Kind.EQUITY_STAKE):
        assert kinds[kind] >= 300, kind.name
    # every synthetic firm has a counterparty: neoclouds borrow, banks lend, labs rent or own capacity
    c = model.ledger.contracts
    for f in synthetic:
        assert c.of_creditor(f.party).size + c.of_debtor(f.party).size > 0, f.name


def test_synthetic_firms_are_scaled_copies_of_their_templates():
    model = opening(7)
    p = model.p
    sizes = np.array([f.size for f in model.firms if f.synthetic])
    assert np.median(sizes) == pytest.approx(p.population.scale, rel=0.15)
    assert np.std(np.log(sizes)) == pytest.approx(p.population.size_dispersion, rel=0.15)
    templates = {f.template for f in model.firms if f.synthetic}
    assert templates == {
        "CoreWeave",
        "xAI",
        "Anthropic",
        "Meta",
        "Microsoft",
        "Alphabet",
        "Amazon",
        "Blue Owl",
        "PIMCO",
        "Apollo",
        "JPMorgan",
        "MUFG",
        "Deutsche Bank",
    }
    cw = model.firm("Neocloud 0001")
    assert cw.cal.cash_margin == p.coreweave.cash_margin  # ratios are the template's
    assert cw.cal.revenue_usd_bn_per_year == pytest.approx(
        min(max(p.coreweave.revenue_usd_bn_per_year * cw.size, 0.0), 2000.0)
    )
    assert model.firm("Neocloud 0001") is not model.firm("CoreWeave")
    # opening balance sheets come out at each synthetic firm's calibrated book equity and cash
    for f in [f for f in model.firms if f.synthetic and isinstance(f, Hyperscaler | Neocloud | AILab)][:200]:
        sheet = f.balance_sheet()
        assert sheet["cash"] == pytest.approx(f.cal.cash_usd_bn, rel=1e-9, abs=1e-12), f.name
        assert sheet["equity"] == pytest.approx(f.cal.book_equity_usd_bn, rel=1e-9, abs=1e-9), f.name
    for f in [f for f in model.firms if f.synthetic and isinstance(f, PrivateCreditFund)]:
        # paid-in capital plus what its investors have committed and not yet been called for
        assert f.equity + f.uncalled == pytest.approx(f.cal.capital_usd_bn, rel=1e-9), f.name
        assert f.cash >= 0.0, f.name


def test_invariants_hold_at_a_thousand_agents():
    model = run(3)
    assert model.quarter == QUARTERS - 1
    invariants.check(model.ledger)  # once more, explicitly
    c = model.ledger.contracts
    assert c.n > 10_000
    assert (c.view("status") == Status.ACTIVE).sum() > 10_000
    frame = model_frame(model)
    assert len(frame) == QUARTERS
    assert np.isfinite(frame.select_dtypes("number").to_numpy(dtype=float)).all()
    # synthetic firms took part: they borrowed, invested and were paid under their contracts
    synthetic = [f for f in model.firms if f.synthetic]
    assert sum(f.capex_q for f in synthetic) > 0
    assert sum(model.contract_revenue.get(f.party, 0.0) for f in synthetic) > 0
    new_loans = (c.view("start_q") >= 0) & np.isin(c.view("debtor"), [f.party for f in synthetic])
    assert new_loans.sum() > 100
    # new loans are syndicated among at most population.counterparties lenders
    gpu = (c.view("kind") == Kind.GPU_LOAN) & (c.view("start_q") == 1)
    per_borrower = np.bincount(c.view("debtor")[gpu])
    assert per_borrower.max() <= model.p.population.counterparties


def test_population_runs_are_deterministic_per_seed():
    a, b, other = run(11), CreditLoopModel(params(), rng=11, scenario="population"), run(12)
    for _ in range(QUARTERS):
        b.step()
    pd.testing.assert_frame_equal(model_frame(a), model_frame(b))
    pd.testing.assert_frame_equal(agent_frame(a), agent_frame(b))
    pd.testing.assert_frame_equal(a.events.frame(), b.events.frame())
    assert a.ledger.contracts.n == b.ledger.contracts.n
    np.testing.assert_array_equal(a.ledger.cash, b.ledger.cash)
    assert [f.size for f in a.firms] == [f.size for f in b.firms]
    assert [f.size for f in a.firms] != [f.size for f in other.firms]


def test_counts_of_zero_are_the_calibrated_economy():
    calibrated = CreditLoopModel(build_parameters({}), rng=1)
    assert not any(f.synthetic for f in calibrated.firms)
    assert len(calibrated.firms) == 17  # 16 firms and the Oracle project companies
    # building the calibrated economy draws no random number: the generator is where Mesa left it
    assert calibrated.rng.bit_generator.state == mesa.Model(rng=1).rng.bit_generator.state


def test_a_single_kind_deals_with_the_calibrated_firms():
    model = CreditLoopModel(build_parameters({"population.neoclouds": 20}), rng=2)
    calibrated = {f.party for f in model.firms if not f.synthetic}
    c = model.ledger.contracts
    for f in (f for f in model.firms if f.synthetic):
        lenders = {int(c.creditor[r]) for r in c.of_debtor(f.party) if c.kind[r] == Kind.GPU_LOAN}
        assert lenders and lenders <= calibrated  # the calibrated funds lend when there are no synthetic ones
    for _ in range(2):
        model.step()
