"""Hypothesis: random sequences of contracts, payments, price moves and defaults keep every identity, and the
model keeps them over random parameters."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.contracts import Kind
from accounting.invariants import check
from accounting.ledger import Flow, Ledger, World
from economy.model import CreditLoopModel
from params.loader import build_parameters
from params.schema import parameter_specs

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


NUMERIC = [
    s
    for s in parameter_specs()
    if s.type is float
    and s.group in ("demand", "credit", "lenders", "markets", "technology", "energy", "behaviour")
]


@st.composite
def random_parameters(draw):
    chosen = draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=6, unique_by=lambda s: s.name))
    overrides = {s.name: draw(st.floats(min_value=s.lo, max_value=s.hi, allow_nan=False)) for s in chosen}
    overrides["run.quarters"] = 10
    overrides["circular.circular_financing"] = draw(st.booleans())
    return overrides


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_parameters(), st.integers(min_value=0, max_value=2**31 - 1))
def test_the_model_keeps_every_identity_over_random_parameters(overrides, seed):
    model = CreditLoopModel(build_parameters(overrides), rng=seed)
    while model.running:
        model.step()  # check(ledger) runs inside every quarter
    check(model.ledger)
    assert np.isfinite(model.market.value).all()
