"""Hypothesis: random sequences of contracts, payments, price moves and defaults keep every identity, and the
model keeps them over random parameters."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accounting.contracts import Kind
from accounting.invariants import check
from accounting.ledger import Flow, Ledger, World
from cli.fuzz import non_finite
from economy.runner import run_simulation
from params import fuzz
from params.loader import ParameterError, build_parameters
from params.schema import SHOCK_KINDS, parameter_specs

WORLD = ["end customers", "outside investors", "suppliers", "Treasury", "AMD"]
N_FIRMS = 4

money = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
firm = st.integers(min_value=0, max_value=N_FIRMS - 1)
party = st.integers(min_value=0, max_value=N_FIRMS + len(WORLD) - 1)
operation = st.one_of(
    st.tuples(st.just("pay"), party, party, money),
    st.tuples(st.just("loan"), firm, firm, money),
    st.tuples(st.just("bond"), firm, money, st.integers(1, 40)),
    st.tuples(st.just("stake"), firm, firm, money),
    st.tuples(st.just("mark"), st.floats(min_value=0.0, max_value=5.0)),
    st.tuples(st.just("repay"), st.floats(min_value=0.0, max_value=1.0)),
    st.tuples(st.just("default"), firm, st.floats(min_value=0.0, max_value=1.0)),
    st.tuples(st.just("capacity"), firm, money),
    st.tuples(st.just("depreciate"), st.floats(min_value=0.0, max_value=0.5)),
    st.tuples(st.just("fire_sale"), st.floats(min_value=0.0, max_value=2.0)),
)


def apply(ledger: Ledger, op) -> None:
    base = len(WORLD)
    c = ledger.contracts
    kind = op[0]
    if kind == "pay":
        _, a, b, amount = op
        if a != b:
            ledger.pay(
                a,
                b,
                min(amount, max(ledger.cash[a], 0.0)) if not ledger.is_world[a] else amount,
                Flow.REVENUE,
            )
    elif kind == "loan" and op[1] != op[2]:
        _, lender, borrower, amount = op
        amount = min(amount, max(ledger.cash[base + lender], 0.0))
        ledger.open_contract(
            Kind.BANK_LOAN,
            base + lender,
            base + borrower,
            principal=amount,
            cash=amount,
            maturity_q=ledger.quarter + 8,
            spread=0.02,
            floating=True,
        )
    elif kind == "bond":
        _, issuer, amount, years = op
        ledger.open_contract(
            Kind.BOND,
            World.OUTSIDE_INVESTORS,
            base + issuer,
            principal=amount,
            cash=amount,
            maturity_q=4 * years,
            fixed_rate=0.05,
        )
    elif kind == "stake" and op[1] != op[2]:
        _, holder, issuer, amount = op
        amount = min(amount, max(ledger.cash[base + holder], 0.0))
        ledger.open_contract(Kind.EQUITY_STAKE, base + holder, base + issuer, cash=amount, fraction=0.01)
    elif kind == "mark":
        rows = c.active(Kind.EQUITY_STAKE)
        ledger.revalue(rows, c.value[rows] * op[1])
    elif kind == "repay":
        rows = np.flatnonzero(c.is_debt() & (c.view("principal") > 0))
        amounts = np.minimum(c.principal[rows] * op[1], np.maximum(ledger.cash[c.debtor[rows]], 0.0) / 4)
        keep = amounts > 0
        if keep.any():
            ledger.repay(rows[keep], amounts[keep])
    elif kind == "default":
        _, debtor, haircut = op
        rows = np.flatnonzero(c.is_debt() & (c.view("debtor") == base + debtor))
        if rows.size:
            ledger.record_default(base + debtor)
            ledger.settled(rows, np.full(rows.size, 0.1))  # a settlement that left 0.1 unpaid on each
            ledger.write_down(rows, c.principal[rows] * haircut)
    elif kind == "capacity":
        _, owner, amount = op
        amount = min(amount, max(ledger.cash[base + owner], 0.0))
        if amount > 0:
            ledger.buy_capacity(
                base + owner,
                amount / 50,
                0.7 * amount,
                0.3 * amount,
                ledger.quarter + 4,
                [(World.SUPPLIERS, amount)],
            )
    elif kind == "depreciate" and ledger.capacity.n:
        cap = ledger.capacity
        ledger.depreciate(cap.view("gpu_cost") * op[1], cap.view("shell_cost") * op[1] / 4)
    elif kind == "fire_sale" and ledger.capacity.n:
        cap = ledger.capacity
        live = np.flatnonzero(cap.view("active"))
        if live.size:
            i = int(live[0])
            ledger.sell_capacity(i, World.SUPPLIERS, float(cap.gpu_book[i] * op[1] / 2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=40), st.lists(money, min_size=N_FIRMS, max_size=N_FIRMS))
def test_random_sequences_of_postings_keep_every_identity(ops, cash):
    ledger = Ledger(WORLD)
    for i in range(N_FIRMS):
        p = ledger.add_party(f"F{i}")
        ledger.open_balance_sheet(p, cash=cash[i], other_assets=10.0)
    check(ledger)
    for step, op in enumerate(ops):
        ledger.quarter = step // 4
        apply(ledger, op)
        check(ledger)


@st.composite
def whole_schema(draw, quarters: int = 12):
    """Every parameter in its declared range (as params/fuzz.py draws them: the horizon and the population
    counts narrower, invariants on) and 0-3 shocks of any kind within its range and the horizon."""
    overrides = {}
    for s in parameter_specs():
        if s.type is bool:
            overrides[s.name] = draw(st.booleans())
        elif s.type is int:
            hi = min(int(s.hi), fuzz.POPULATION_MAX) if s.name in fuzz.POPULATION_COUNTS else int(s.hi)
            overrides[s.name] = draw(st.integers(int(s.lo), hi))
        else:
            overrides[s.name] = draw(st.floats(s.lo, s.hi, allow_nan=False, allow_infinity=False))
    overrides["run.quarters"] = draw(st.integers(1, quarters))
    overrides["run.check_invariants"] = True
    shocks = []
    for _ in range(draw(st.integers(0, 3))):
        kind = SHOCK_KINDS[draw(st.sampled_from(sorted(SHOCK_KINDS)))]
        size = draw(st.floats(kind.lo, kind.hi, exclude_min=kind.lo_open, allow_nan=False))
        shock = {
            "kind": kind.name,
            "quarter": draw(st.integers(0, overrides["run.quarters"] - 1)),
            "size": size,
        }
        if kind.windowed:
            shock["duration"] = draw(st.integers(1, 8))
        shocks.append(shock)
    return overrides, shocks


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(whole_schema(), st.integers(min_value=0, max_value=2**31 - 1))
def test_the_model_keeps_every_identity_and_stays_finite_over_the_whole_schema(draw, seed):
    """Every quarter the invariants hold (checked inside the step) and every output is finite; a combination
    the schema's rules refuse is skipped (hypothesis.assume), never a crash. The number of examples is the
    hypothesis profile's: 25 in the unit run, 1,000 with ``--hypothesis-profile=deep`` (tests/conftest.py)."""
    overrides, shocks = draw
    try:
        params = build_parameters(overrides, tuple(shocks))
    except ParameterError:
        assume(False)
    result = run_simulation(
        params, seed
    )  # run.check_invariants is on: every quarter's identities are checked
    assert non_finite(result) == []
