"""The capital cycle (docs/ODD.md §7.1, §7.5): GPU values from the PV of the rental margin, retirement at the
economic life with the shell kept for refits, the tatonnement price, and scenario-level checks over seeds 1-5."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.invariants import check
from accounting.journal import Flow
from accounting.ledger import Ledger
from economy import capital
from economy.market import Market
from economy.model import CreditLoopModel
from economy.runner import run_simulation
from params.loader import build_parameters, resolve
from params.schema import Parameters, Shock

SEEDS = range(1, 6)


def test_the_annuity_is_the_sum_of_its_discount_factors():
    for rate, n in ((0.08, 14), (0.0, 5), (0.3, 1)):
        assert capital.annuity(rate, n) == pytest.approx(sum((1 + rate / 4) ** -k for k in range(1, n + 1)))


def test_a_new_gpu_is_worth_its_cost_at_2025_conditions_and_its_value_follows_the_margin():
    model = CreditLoopModel(rng=1)
    d, c, t = model.p.demand, model.p.credit, model.p.technology
    r0 = c.reference_rate_annual + c.hy_spread_annual
    m0 = d.compute_price_usd_bn_per_gw_year * d.initial_utilisation - capital.running_cost(model)
    life = 4 * t.gpu_economic_life_years  # 14 quarters
    assert capital.value_ratio(model, m0, r0, 0.0) == pytest.approx(1.0)
    assert capital.value_ratio(model, m0 / 2, r0, 0.0) == pytest.approx(
        0.5
    )  # half the margin, half the value
    assert capital.value_ratio(model, 0.0, r0, 0.0) == 0.0  # no margin, no value
    # age 2 (before the retirement window): A(r0, 12) / A(r0, 14) by hand
    by_hand = sum((1 + r0 / 4) ** -k for k in range(1, 13)) / sum((1 + r0 / 4) ** -k for k in range(1, 15))
    assert capital.value_ratio(model, m0, r0, 2.0) == pytest.approx(by_hand)
    # inside the window (life 14, window 4: retirements from age 12 to 16) a survivor has (16 - a) / 2 left
    assert capital.remaining_life(model, np.array([13.0]))[0] == pytest.approx(1.5)
    assert capital.remaining_life(model, np.array([4.0]))[0] == pytest.approx(life - 4.0)
    # q = 1 at 2025 conditions for a firm funded at the 2025 rate; the user-cost price is then the 2025 price
    assert capital.tobins_q(model, r0, m0) == pytest.approx(1.0)
    assert capital.user_cost_price(model, r0) == pytest.approx(d.compute_price_usd_bn_per_gw_year)
    assert capital.user_cost_price(model, r0 + 0.02) > d.compute_price_usd_bn_per_gw_year  # dearer funding


def test_retirement_writes_off_the_gpus_and_keeps_the_shell_for_a_refit():
    ledger = Ledger(["end customers", "outside investors", "suppliers", "Treasury", "AMD"])
    owner = ledger.add_party("Cloud")
    ledger.open_balance_sheet(owner, cash=100.0)
    cohort = ledger.buy_capacity(owner, 1.0, 35.0, 15.0, ready_q=0, sellers=[(2, 50.0)])
    ledger.energise([cohort])
    ledger.depreciate(np.array([5.0]), np.array([1.0]))  # book 30 + 14
    retained = float(ledger.retained[owner])
    gw = ledger.retire([cohort], [0.25])  # a quarter of the GPUs: 0.25 GW, 7.5 of book written off
    assert gw[0] == pytest.approx(0.25)
    assert ledger.retained[owner] == pytest.approx(retained - 7.5)
    cap = ledger.capacity
    assert cap.gw[cohort] == pytest.approx(0.75) and cap.gpu_book[cohort] == pytest.approx(22.5)
    assert cap.shell_gw[cohort] == 1.0 and cap.shell_book[cohort] == pytest.approx(14.0)
    ledger.retire([cohort], [1.0])
    assert cap.gw[cohort] == 0.0 and cap.active[cohort]  # the shell stays
    refit = ledger.buy_capacity(owner, 1.0, 35.0, 0.0, ready_q=1, sellers=[(2, 35.0)], refit=True)
    assert cap.refit[refit] and cap.shell_gw[refit] == 0.0
    check(ledger)
    ledger.retire([refit], [1.0])  # a refit has no shell of its own: once its GPUs go, it is closed
    assert not cap.active[refit]
    check(ledger)
    assert not (ledger.journal.view("flow") == Flow.ASSET_SALE).any()  # retirement is a write-off, not a sale


def test_the_compute_price_moves_toward_clearing_within_its_bounds():
    p = Parameters()
    d = p.demand
    market = Market(p, 8, np.random.default_rng(0))
    p0, u_n = d.compute_price_usd_bn_per_gw_year, d.initial_utilisation
    market.clear_compute(u_n * 100.0, 100.0, 2.0)  # demand at normal use: nothing moves
    assert market.compute_price == pytest.approx(p0) and market.utilisation == pytest.approx(u_n)
    assert market.demand_over_capacity == pytest.approx(u_n)
    market.clear_compute(1.2 * u_n * 100.0, 100.0, 2.0)  # 20% excess: P = P0 * 1.2^0.5, u = 1 (rationed)
    assert market.compute_price == pytest.approx(p0 * 1.2**0.5)
    assert market.utilisation == 1.0
    assert market.demand_over_capacity == pytest.approx(1.2 * u_n)  # 1.14: short at the calibrated price
    market.compute_price = p0
    market.clear_compute(0.5 * u_n * 100.0, 100.0, 2.0)  # a glut: the price falls, utilisation with it
    assert market.compute_price == pytest.approx(p0 * 0.5**0.5)
    assert market.utilisation == pytest.approx(0.5 * u_n * 0.5**-0.5)  # demand rises as the price falls
    # a glut the price has cleared: demand at P0 is 62% of capacity, the price stands at 0.64 P0 (seed 5 of the
    # baseline in 2031Q1): the capacity is 97% sold, utilisation says 'full', the ratio says 'glut'
    market.compute_price = 0.64 * p0
    market.clear_compute(0.62 * 100.0, 100.0, 2.0)
    assert market.utilisation == pytest.approx(min(1.0, 0.62 / (0.64 * (0.62 / (0.64 * u_n)) ** 0.5)))
    assert market.utilisation > 0.95 and market.demand_over_capacity == pytest.approx(0.62)
    market.compute_price = p0
    market.clear_compute(100 * u_n * 100.0, 100.0, 2.0)
    assert market.compute_price == pytest.approx(d.compute_price_max_multiple * p0)  # bounded above
    market.clear_compute(1e-6, 100.0, 2.0)
    assert market.compute_price == pytest.approx(2.0)  # and below, at the running cost


def _frames(scenario: str) -> list:
    _, params = resolve(scenario)
    return [run_simulation(params, s, scenario=scenario, agents=False).model_frame for s in SEEDS]


def test_capacity_is_bought_retired_and_disposed_of_in_the_books_and_the_price_signals_scarcity():
    for f in _frames("baseline"):
        gpu, ordered = f["gpu_gw"].to_numpy(), f["ordered_gw"].to_numpy()
        retired, disposed = f["retired_gw"].to_numpy(), f["disposed_gw"].to_numpy()
        np.testing.assert_allclose(gpu[1:], gpu[:-1] + ordered[1:] - retired[1:] - disposed[1:], atol=1e-9)
        assert (retired[8:] > 0).all() and f["replacement_capex"].iloc[8:].sum() > 0
        debt = f[[c for c in f.columns if c.startswith("debt_") and "balance" not in c]].sum(axis=1)
        assert debt.iloc[8] > debt.iloc[0]  # the build-out is debt-financed
    bull, glut = _frames("bull"), _frames("revenue_disappoints")
    assert all(f["compute_price"].max() > 10.0 for f in bull)  # a shortage earns a scarcity rent
    assert all(f["compute_price"].min() < 10.0 for f in glut)  # a glut does not
    # demand at the calibrated price over capacity tells the two apart where utilisation cannot: the bull is
    # short (above 1) in most quarters (90-100% in seeds 1-5), the glut below 1 on average once its shock has hit
    # (0.63-0.73 from 2027Q4; it recovers to 1.05-1.07 at the end in two seeds)
    assert all((f["demand_over_capacity"] > 1.0).mean() > 0.5 for f in bull)
    assert all(f["demand_over_capacity"].iloc[8:].mean() < 1.0 for f in glut)


def test_a_demand_shock_lowers_gpu_values_beyond_ageing_and_trips_more_covenants():
    shock = Shock(kind="ai_demand_level", quarter=4, size=-0.5)
    overrides = {"run.quarters": 12}
    for seed in (1, 2, 3):
        calm = run_simulation(build_parameters(overrides), seed)
        hit = run_simulation(build_parameters(overrides, (shock,)), seed)
        after = slice(5, 12)
        assert (
            hit.model_frame["utilisation"].iloc[after] < calm.model_frame["utilisation"].iloc[after]
        ).any()
        assert (
            hit.model_frame["gpu_price_index"].iloc[after].mean()
            < calm.model_frame["gpu_price_index"].iloc[after].mean() - 0.05
        )

        def calls(r):
            ev = r.events
            return float(ev[(ev["kind"] == "margin_call") & (ev["quarter"] >= 4)]["amount_usd_bn"].sum())

        assert calls(hit) > calls(calm)


def test_a_renewed_compute_contract_keeps_its_premium_over_the_market_and_does_not_compound():
    """Hand case: an opening contract priced at premium π over the opening market P0 is renewed twice while the
    market stands at 2·P0: both renewals are priced π · 2·P0 (scaling the old price by P/P0 at every renewal
    gave π · 4·P0 the second time, and grew without bound when a lab defaulted and re-signed every quarter)."""
    from accounting.contracts import Kind
    from economy import lifecycle

    m = CreditLoopModel(Parameters(), rng=1)
    c, p0_q = m.ledger.contracts, m.p.demand.compute_price_usd_bn_per_gw_year / 4.0
    row = int(m.ledger.contracts.active(Kind.COMPUTE)[0])
    premium = float(c.price[row]) / p0_q
    assert float(c.market_price[row]) == pytest.approx(p0_q)
    m.market.compute_price = 2.0 * m.p.demand.compute_price_usd_bn_per_gw_year
    lifecycle.renew_compute(m, np.array([row]))
    first = c.n - 1
    assert float(c.price[first]) == pytest.approx(premium * 2.0 * p0_q)
    assert float(c.market_price[first]) == pytest.approx(2.0 * p0_q)
    lifecycle.renew_compute(m, np.array([first]))
    second = c.n - 1
    assert second == first + 1
    assert float(c.price[second]) == pytest.approx(premium * 2.0 * p0_q)


def test_the_capacity_a_build_lag_ahead_and_what_retires_in_that_quarter_by_hand():
    """Life 14 quarters, window 4: GPUs retire uniformly from age 12 to 16. A cohort of 2 GW aged 11 has at age 15
    a quarter left (0.5 GW) and loses (S(14) - S(15)) * 2 = (0.5 - 0.25) * 2 = 0.5 GW in that quarter; a cohort on
    order (ready in 2 quarters) is all there and retires nothing."""
    m = CreditLoopModel(Parameters(), rng=1)
    m.quarter = 0
    party = m.firm("Meta").party
    old = m.ledger.open_capacity(
        party, 2.0, gpu_cost=70.0, shell_cost=30.0, gpu_book=10.0, shell_book=20.0, vintage_q=-11, ready_q=-11
    )
    new = m.ledger.open_capacity(
        party, 1.0, gpu_cost=35.0, shell_cost=15.0, gpu_book=35.0, shell_book=15.0, vintage_q=-2, ready_q=2
    )
    ahead, retiring = capital.gw_ahead_and_retiring(m, np.array([old, new]), 4)
    assert ahead == pytest.approx(0.5 + 1.0)
    assert retiring == pytest.approx(0.5)
    assert capital.gw_ahead(m, np.array([old, new]), 4) == pytest.approx(ahead)


def test_at_its_target_a_firm_orders_exactly_what_retires_a_build_lag_ahead_and_nothing_in_a_deep_glut():
    """Replacement plus partial adjustment (docs/ODD.md §7.5): with the capacity it would have a build lag ahead
    (before that quarter's retirements) equal to its target, the rule orders the GPUs that retire then, one for
    one; with a target far below what it has, it orders nothing, not even replacement."""
    m = CreditLoopModel(Parameters(), rng=1)
    for _ in range(9):  # the opening vintages are inside their retirement window a build lag ahead
        m.step()
    f = m.firm("Alphabet")
    horizon = m.p.technology.build_lag_quarters
    have, retiring = m.gw_and_retiring_at_horizon(f.party, horizon)
    assert retiring > 0.05
    f.target_scale = (have + retiring) / f.market_target(have)
    refit, new = f.capacity_plan()
    assert refit + new == pytest.approx(retiring, rel=1e-9)
    f.target_scale = 0.2 * have / f.market_target(have)
    assert sum(f.capacity_plan()) == 0.0


def test_the_project_company_spreads_its_contract_over_a_construction_programme_and_is_never_late():
    """The Oracle-OpenAI contract: 4.5 GW in 8 equal phases from 2027Q1 (quarter 5), build lag 4. The last phase
    (quarter 12) must be ordered by quarter 8, so at quarter 0 the programme orders 4.5 / 9 = 0.5 GW (nothing is
    due a build lag ahead yet); in every later quarter what it has on order covers what the contract needs a
    build lag ahead, unless its funding was cut (its sponsor could not put in its equity)."""
    m = CreditLoopModel(Parameters(), rng=1)
    sites = m.project_company
    m.quarter = 0
    refit, new = sites.capacity_plan()
    assert refit == 0.0 and new == pytest.approx(0.5)
    m.quarter = -1
    horizon = m.p.technology.build_lag_quarters
    on_time = 0
    for _ in range(12):
        m.step()
        cut = any(e.kind == "capex_cut" and e.actor == sites.name for e in m.events.events)
        covered = (
            m.gw_at_horizon(sites.party, horizon)
            >= m.contracted_gw_at(sites.party, m.quarter + horizon) - 1e-9
        )
        assert covered or cut, m.quarter
        on_time += covered
    assert on_time >= 6  # seed 1: on time until its sponsor's funding is squeezed in 2027Q3


def test_the_first_simulated_quarter_continues_the_calibrated_flows():
    """Issue 11: in the baseline, 2025Q4 -> 2026Q1 aggregate capex and Nvidia's revenue each move by less than
    10% (seeds 1-5)."""
    for f in _frames("baseline"):
        capex, nvidia = f["capex"].to_numpy(), f["nvidia_revenue"].to_numpy()
        assert abs(capex[1] / capex[0] - 1.0) < 0.10
        assert abs(nvidia[1] / nvidia[0] - 1.0) < 0.10


def test_capex_holds_where_capacity_is_short_and_the_bull_keeps_building():
    """Issue 11's capex check where capacity is short. A shortage is demand at the calibrated price at or above
    0.99 of the capacity on offer (``demand_over_capacity``): utilisation alone cannot tell one, since a glut the
    price has cleared sells out too (ODD §7.1, §8). In such quarters of the baseline, capex stays at 0.6 or more of
    its peak so far (seeds 1-5: 1.00 in each of the three seeds with such a quarter; over seeds 1-20 it holds in
    11 of 13, ODD §8). The bull scenario ends above the baseline and within 50% of its own peak (0.97-1.00)."""
    short_quarters = 0
    for f, bull in zip(_frames("baseline"), _frames("bull"), strict=True):
        capex = f["capex"].to_numpy()
        short = f["demand_over_capacity"].to_numpy() >= 0.99
        short_quarters += int(short.sum())
        assert (capex[short] >= 0.6 * np.maximum.accumulate(capex)[short]).all()
        end = bull["capex"].to_numpy()
        assert end[-1] > capex[-1] and end[-1] >= 0.5 * end.max()
    assert short_quarters > 0  # the check has quarters to look at
