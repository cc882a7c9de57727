"""Scenario shocks (docs/ODD.md §7.15): one handler per shock kind, in a registry keyed by the kinds the schema
declares (``params.schema.Shock.kind``; each kind's size range is checked there, before a run starts).

*Windowed* kinds act in every quarter of their window ``[quarter, quarter + duration)`` and are recomputed from
scratch each quarter: their handlers fold a shock into the quarter's :class:`Effects` (shifts add up, multipliers
multiply, the GPU life takes the shortest). *One-off* kinds act once, at their quarter, on the economy itself.
Every shock is logged at its quarter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from economy import marks
from params.schema import SHOCK_KINDS

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


@dataclass
class Effects:
    """The combined effect of the windowed shocks active this quarter."""

    growth_shift: float = 0.0  # added to trend AI demand growth (1/year)
    spread_shock: float = 0.0  # log multiplier of credit spreads
    rate_shift: float = 0.0  # added to the reference rate (1/year)
    grid_multiplier: float = 1.0  # grid connections per quarter
    gpu_life_years: float = math.inf  # GPU economic life (the shortest of the schema's and the shocks')
    openai_revenue_factor: float = 1.0  # OpenAI's price per GW, relative


@dataclass(frozen=True)
class Handler:
    windowed: bool
    apply: Callable  # windowed: (Effects, size) -> None; one-off: (model, size) -> None


def _demand_level(model: CreditLoopModel, size: float) -> None:
    model.market.demand_index *= math.exp(size)


def _sentiment(model: CreditLoopModel, size: float) -> None:
    m = model.market
    m.sentiment = min(1.0, max(0.0, m.sentiment + size))


def _fund_redemptions(model: CreditLoopModel, size: float) -> None:
    for fund in model.funds:
        fund.redemption_queue += size * max(fund.equity, 0.0)


def _add(field: str) -> Callable:
    def fold(effects: Effects, size: float) -> None:
        setattr(effects, field, getattr(effects, field) + size)

    return fold


def _scale(effects: Effects, size: float) -> None:
    effects.grid_multiplier *= size


def _shorter_life(effects: Effects, size: float) -> None:
    effects.gpu_life_years = min(effects.gpu_life_years, size)


def _revenue_shortfall(effects: Effects, size: float) -> None:
    effects.openai_revenue_factor *= max(0.0, 1.0 - size)


HANDLERS: dict[str, Handler] = {
    "ai_demand_level": Handler(False, _demand_level),
    "ai_demand_growth": Handler(True, _add("growth_shift")),
    "openai_revenue": Handler(True, _revenue_shortfall),
    "reference_rate": Handler(True, _add("rate_shift")),
    "spreads": Handler(True, _add("spread_shock")),
    "gpu_obsolescence": Handler(True, _shorter_life),
    "grid_capacity": Handler(True, _scale),
    "fund_redemptions": Handler(False, _fund_redemptions),
    "sentiment": Handler(False, _sentiment),
}


def apply(model: CreditLoopModel) -> None:
    """Recompute the windowed shocks for this quarter, fire the one-offs due now, and set the market state."""
    m, p, q = model.market, model.p, model.quarter
    effects = Effects(gpu_life_years=p.technology.gpu_economic_life_years)
    for s in p.shocks:
        handler = HANDLERS[s.kind]
        if handler.windowed and s.quarter <= q < s.quarter + s.duration:
            handler.apply(effects, s.size)
        if s.quarter != q:
            continue
        if not handler.windowed:
            handler.apply(model, s.size)
        model.log(
            "shock",
            "scenario",
            f"Shock: {s.kind.replace('_', ' ')} {s.size:g} ({SHOCK_KINDS[s.kind].unit})"
            + (f" for {s.duration} quarters" if s.duration > 1 else ""),
        )
    m.growth_shift, m.growth_shift_until = effects.growth_shift, q
    m.spread_shock = effects.spread_shock
    m.reference_rate = p.credit.reference_rate_annual + effects.rate_shift
    m.grid_multiplier = effects.grid_multiplier
    shortened = effects.gpu_life_years < m.gpu_economic_life_years
    m.gpu_economic_life_years = effects.gpu_life_years
    for lab in model.firms_by_template("OpenAI"):
        lab.revenue_factor = effects.openai_revenue_factor
    if shortened:
        marks.impair_after_shock(model)
