"""The capital stock (docs/ODD.md §7.5): GPUs by vintage that retire at their economic life, what a GW of them is
worth, and Tobin's q of new capacity.

**Age and retirement.** A cohort's GPUs age from the quarter they are ready for service (``ready_q``). Over the
last ``w = technology.retirement_window_quarters`` quarters of the economic life ``L`` (in force: an obsolescence
shock shortens it) they retire in equal parts, the last at age ``L``: their GW leave capacity and collateral,
their remaining book value is written off, and their powered shell stays for a refit
(:meth:`accounting.capacity.CapacityPostings.retire`).

**Value of GPUs.** One GW of GPUs of age ``a`` earns the rental margin ``m = P·u − c`` per GW-year (compute price
× utilisation − running cost) for the ``L − a`` quarters left of its economic life. Its value is the present value
of that margin relative to the same PV of a new GPU at the calibrated 2025 conditions, times its cost:

    V(a) = cost · (m / m0) · A(ρ, L − a) / A(ρ0, L0),     A(ρ, n) = Σ_{k=1..n} (1 + ρ/4)^−k

with ``m0 = P0·u0 − c`` and ``ρ0`` the 2025 rate. A new GPU was worth its cost in 2025 (the market's price of it
then); its value falls with age along the annuity; a glut (lower price or utilisation), higher rates or a shorter
life lower it and a shortage raises it. Second-hand (collateral, fire-sale) values use today's margin, the market
rate ``ρ = r + s_HY`` and the fire-sale discount.

**Tobin's q** of a new GW = (V(0) + shell cost) / (chip + shell cost), valued at the firm's own funding rate and
at today's margin (static price expectations: ODD §7.5, §8 say what a forward-looking margin was measured to
change). So q is 1 at 2025 conditions for a firm funded at ``ρ0``; a shortage raises it and a glut lowers it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def annuity(rate_annual: float, quarters) -> np.ndarray:
    """A(ρ, n) = Σ_{k=1..n} (1 + ρ/4)^−k for real n ≥ 0 (the closed form; n = 0 gives 0)."""
    n = np.maximum(np.asarray(quarters, dtype=float), 0.0)
    r = rate_annual / 4.0
    if abs(r) < 1e-12:
        return n
    return (1.0 - (1.0 + r) ** (-n)) / r


def running_cost(model: CreditLoopModel) -> float:
    """Cash cost of running one energised GW for a year: electricity and operations (USD bn/GW-year)."""
    p = model.p
    return p.technology.electricity_usd_bn_per_gw_year + p.behaviour.ai_opex_usd_bn_per_gw_year


def _opening_margin(model: CreditLoopModel) -> float:
    d = model.p.demand
    return max(d.compute_price_usd_bn_per_gw_year * d.initial_utilisation - running_cost(model), 1e-9)


def _opening_rate(model: CreditLoopModel) -> float:
    """The 2025 discount rate of GPU cash flows: the reference rate plus the high-yield spread."""
    c = model.p.credit
    return c.reference_rate_annual + c.hy_spread_annual


def life_quarters(model: CreditLoopModel) -> float:
    return 4.0 * model.market.gpu_economic_life_years


def ages(model: CreditLoopModel, cohorts) -> np.ndarray:
    """Quarters in service (0 for GPUs not yet ready)."""
    cap = model.ledger.capacity
    return np.maximum(model.quarter - cap.ready_q[cohorts].astype(float), 0.0)


def value_ratio(model: CreditLoopModel, margin: float, rate_annual: float, age_q) -> np.ndarray:
    """V(a) / cost at rental margin ``margin`` (USD bn/GW-year) and discount rate ``rate_annual``."""
    new_2025 = annuity(_opening_rate(model), 4.0 * model.p.technology.gpu_economic_life_years)
    relative = max(margin, 0.0) / _opening_margin(model)
    return relative * annuity(rate_annual, remaining_life(model, np.asarray(age_q, dtype=float))) / new_2025


def _window(model: CreditLoopModel) -> tuple[float, float]:
    """(first, last) age at which a vintage's GPUs retire: uniformly over a window of
    ``technology.retirement_window_quarters`` centred on the economic life (its mean), never before age 0."""
    life = life_quarters(model)
    half = min(float(model.p.technology.retirement_window_quarters), life) / 2.0
    return life - half, life + half


def remaining_life(model: CreditLoopModel, age_q: np.ndarray) -> np.ndarray:
    """Expected quarters of service left to a GPU of age ``age_q`` still in service: L − a before the window,
    half of what is left of the window inside it (retirement ages are uniform over the window)."""
    first, last = _window(model)
    return np.where(age_q < first, life_quarters(model) - age_q, np.maximum(last - age_q, 0.0) / 2.0)


def gpu_market_values(model: CreditLoopModel, cohorts=None) -> np.ndarray:
    """Second-hand value of the GPUs of every cohort (or of ``cohorts``): V(age) at today's margin and the market
    discount rate, after the fire-sale discount."""
    cap, m = model.ledger.capacity, model.market
    idx = np.arange(cap.n) if cohorts is None else np.asarray(cohorts, dtype=np.int64)
    margin = m.compute_price * m.utilisation - running_cost(model)
    ratio = value_ratio(model, margin, m.reference_rate + m.hy_spread, ages(model, idx))
    return cap.gpu_cost[idx] * ratio * (1.0 - m.fire_sale_discount)


def tobins_q(model: CreditLoopModel, funding_rate_annual: float, margin: float) -> float:
    """Tobin's q of a new GW for a firm that funds at ``funding_rate_annual``, at rental margin ``margin``."""
    t = model.p.technology
    gpu = t.chip_cost_usd_bn_per_gw * float(value_ratio(model, margin, funding_rate_annual, 0.0))
    return (gpu + t.shell_cost_usd_bn_per_gw) / (t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw)


def user_cost_price(model: CreditLoopModel, funding_rate_annual: float) -> float:
    """P*: the compute price at which a new GW funded at ``funding_rate_annual`` is worth its cost (q = 1) at
    normal utilisation: its margin must make up for a shorter life or a dearer funding than in 2025,
    m* = m0 · A(ρ0, L0) / A(ρ, L)."""
    t, d = model.p.technology, model.p.demand
    new_2025 = float(annuity(_opening_rate(model), 4.0 * t.gpu_economic_life_years))
    now = max(float(annuity(funding_rate_annual, life_quarters(model))), 1e-9)
    margin = _opening_margin(model) * new_2025 / now
    return (margin + running_cost(model)) / d.initial_utilisation


def absorbable_gw(model: CreditLoopModel, expected_demand_gw: float, funding_rate_annual: float) -> float:
    """K^abs: the capacity the market absorbs at normal utilisation at the user-cost price P* (inverse demand of
    §7.1): D^e / u_n · (P0 / P*)^η."""
    d = model.p.demand
    price = user_cost_price(model, funding_rate_annual)
    ratio = d.compute_price_usd_bn_per_gw_year / price
    return expected_demand_gw / d.initial_utilisation * ratio**d.compute_demand_elasticity


def _surviving(model: CreditLoopModel, age_q: np.ndarray) -> np.ndarray:
    """Share of a vintage still in service at ``age_q`` under the retirement window."""
    first, last = _window(model)
    if last <= first:
        return (age_q < last).astype(float)
    return np.clip((last - age_q) / (last - first), 0.0, 1.0)


def retire(model: CreditLoopModel) -> None:
    """Retire this quarter's share of every vintage in its retirement window (one log line per owner)."""
    cap = model.ledger.capacity
    model.retired_gw_q = 0.0
    model.retired_gw_by_party = {}
    live = np.flatnonzero(cap.view("active") & (cap.view("gw") > 0))
    if live.size == 0:
        return
    age = ages(model, live)
    before, now = _surviving(model, age - 1.0), _surviving(model, age)
    # what is still in service is the share `before` of the vintage; `now` of it should stay
    share = np.where(before > 0, 1.0 - now / np.maximum(before, 1e-12), 1.0)
    due = share > 1e-12
    if not due.any():
        return
    cohorts, share = live[due], share[due]
    owners = cap.owner[cohorts].copy()
    books = cap.gpu_book[cohorts] * np.minimum(share, 1.0)
    gw = model.ledger.retire(cohorts, share)
    model.retired_gw_q = float(gw.sum())
    for owner in np.unique(owners):
        mine = owners == owner
        name = model.ledger.names[owner]
        model.retired_gw_by_party[int(owner)] = float(gw[mine].sum())
        model.log(
            "retirement",
            name,
            f"{name} retires {gw[mine].sum():.2f} GW of GPUs at the end of their economic life "
            f"(writes off {books[mine].sum():.1f}bn of book value)",
            "",
            float(books[mine].sum()),
        )


def free_shell_gw(model: CreditLoopModel, party: int) -> float:
    """Powered shell GW an owner has without working GPUs in them (room for refits)."""
    cap = model.ledger.capacity
    rows = cap.index("owner").rows(party)
    live = cap.active[rows]
    shells = float(cap.shell_gw[rows][live & cap.energised[rows]].sum())
    used = float(cap.gw[rows][live & (cap.energised[rows] | cap.refit[rows])].sum())
    return max(shells - used, 0.0)


def gw_ahead(model: CreditLoopModel, rows: np.ndarray, horizon_q: int) -> float:
    """GW of the cohorts ``rows`` still in service ``horizon_q`` quarters ahead (what retires by then is gone)."""
    age, per_share = _in_service(model, rows)
    return float((per_share * _surviving(model, np.maximum(age + horizon_q, 0.0))).sum())


def gw_ahead_and_retiring(model: CreditLoopModel, rows: np.ndarray, horizon_q: int) -> tuple[float, float]:
    """(GW of the cohorts ``rows`` still in service ``horizon_q`` quarters ahead, GW of them that retire in that
    quarter): the capacity a build lag ahead and the replacement an order placed now must make for it."""
    age, per_share = _in_service(model, rows)
    then = _surviving(model, np.maximum(age + horizon_q, 0.0))
    before = _surviving(model, np.maximum(age + horizon_q - 1, 0.0))
    return float((per_share * then).sum()), float((per_share * np.maximum(before - then, 0.0)).sum())


def _in_service(model: CreditLoopModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ages of the live cohorts ``rows`` and their GW per unit of surviving share (0 for a cohort that has
    none left), so that GW at a later age is ``per_share × surviving share then``."""
    cap = model.ledger.capacity
    rows = rows[cap.active[rows] & (cap.gw[rows] > 0)]
    age = model.quarter - cap.ready_q[rows].astype(float)  # negative while not yet ready
    now = _surviving(model, np.maximum(age, 0.0))
    return age, np.where(now > 0, cap.gw[rows] / np.maximum(now, 1e-12), 0.0)


def fleet_weights(count: int, growth_annual: float, life_q: float) -> tuple[np.ndarray, np.ndarray]:
    """Ages (quarters) and shares of an opening fleet of ``count`` vintages spread over the economic life,
    whose additions grew at ``growth_annual`` (younger vintages are larger)."""
    ages_q = np.floor(np.arange(count) * life_q / count).astype(int)
    weights = (1.0 + growth_annual) ** (-ages_q / 4.0)
    return ages_q, weights / weights.sum()
