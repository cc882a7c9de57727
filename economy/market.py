"""Markets and environment: AI demand, the compute price, credit conditions, sentiment, equity valuations, GPU
second-hand prices and the grid. Equations: docs/ODD.md, "Submodel: markets".

State that every agent observes lives here; firm-specific valuations are arrays indexed by ledger party.
"""

from __future__ import annotations

import math

import numpy as np

from params.schema import Parameters


class Market:
    def __init__(self, p: Parameters, n_parties: int, rng: np.random.Generator):
        self.p = p
        self.rng = rng
        d, c, m = p.demand, p.credit, p.markets
        self.demand_index = 1.0  # A_t, AI end-demand relative to the start
        self.demand_growth = d.ai_growth_initial_annual  # realised annualised growth last quarter
        self.demand_growth_yoy = d.ai_growth_initial_annual  # realised growth over the last four quarters
        # log demand index of the last four quarters (before the start: the opening trend)
        self._log_demand = [-k / 4.0 * math.log1p(d.ai_growth_initial_annual) for k in (4, 3, 2, 1)]
        self.growth_shift = 0.0  # scenario shift of trend growth (1/year)
        self.growth_shift_until = -1
        self.utilisation = d.initial_utilisation
        # demand at the calibrated price over the capacity on the market: above 1 capacity is short whatever the
        # price; utilisation alone cannot say it, since a glut's low price also sells out the capacity (§7.1)
        self.demand_over_capacity = d.initial_utilisation
        self.compute_price = d.compute_price_usd_bn_per_gw_year
        self.reference_rate = c.reference_rate_annual
        self.spread_shock = 0.0  # log multiplier of spreads from scenario shocks
        self.sentiment = m.initial_sentiment
        self.ig_spread = c.ig_spread_annual
        self.hy_spread = c.hy_spread_annual
        self.default_share = 0.0  # share of sector debt that defaulted (decays)
        self.gpu_economic_life_years = p.technology.gpu_economic_life_years
        self.fire_sale_discount = 0.0
        self.disposed_gw_q = 0.0  # GW of GPUs sold out of the economy this quarter (forced sales)
        self.grid_multiplier = 1.0
        self.grid_credit = 0.0  # GW of grid connections carried over (negative: overdrawn)
        self.amd_price = p.circular.amd_share_price_usd
        # equity valuations, by party (0 for parties without listed/private equity)
        self.value = np.zeros(n_parties)
        self.value_prev = np.zeros(n_parties)
        self.value_start = np.zeros(n_parties)
        self.value_peak = np.zeros(n_parties)
        self.fundamental_start = np.ones(n_parties)
        self.equity_index = 1.0
        self.equity_return = 0.0

    def resize(self, n_parties: int) -> None:
        grow = n_parties - self.value.size
        if grow > 0:
            for name in ("value", "value_prev", "value_start", "value_peak"):
                setattr(self, name, np.append(getattr(self, name), np.zeros(grow)))
            self.fundamental_start = np.append(self.fundamental_start, np.ones(grow))

    # -- AI demand ---------------------------------------------------------------------------------------------
    def trend_growth(self, q: int) -> float:
        d = self.p.demand
        decay = 0.5 ** ((q / 4.0) / d.ai_growth_halflife_years)
        g = d.ai_growth_longrun_annual + (d.ai_growth_initial_annual - d.ai_growth_longrun_annual) * decay
        return g + (self.growth_shift if q <= self.growth_shift_until else 0.0)

    def advance_demand(self, q: int) -> None:
        """log A_t = log A_{t-1} + g_t/4 - sigma^2/8 + (sigma/2) eps_t (a quarterly step of annual vol sigma)."""
        sigma = self.p.demand.ai_demand_volatility_annual
        g = self.trend_growth(q)
        shock = sigma * 0.5 * float(self.rng.standard_normal())
        step = math.log1p(g) / 4.0 - sigma**2 / 8.0 + shock
        self.demand_index *= math.exp(step)
        self.demand_growth = math.expm1(4.0 * step)
        year_ago = self._log_demand.pop(0)
        self._log_demand.append(math.log(self.demand_index))
        self.demand_growth_yoy = math.expm1(self._log_demand[-1] - year_ago)

    def clear_compute(self, demand_gw: float, retail_gw: float, price_floor: float) -> None:
        """Tatonnement (docs/ODD.md §7.1): demand at last quarter's price over the normal use of capacity sets the
        price's move; the price stays within [floor, max multiple x P0]; utilisation is what is demanded at the
        new price, at most all of it. ``demand_gw`` is demand at the calibrated price P0."""
        d = self.p.demand
        p0, u_n, eta = d.compute_price_usd_bn_per_gw_year, d.initial_utilisation, d.compute_demand_elasticity
        if retail_gw <= 0:
            self.utilisation = 1.0
            self.demand_over_capacity = 0.0  # nothing on the market: no ratio (reported as 0)
            return
        self.demand_over_capacity = demand_gw / retail_gw
        wanted = demand_gw * (self.compute_price / p0) ** (-eta)
        excess = wanted / (u_n * retail_gw)
        price = self.compute_price * excess**d.price_adjustment_speed
        self.compute_price = min(max(price, min(price_floor, p0)), d.compute_price_max_multiple * p0)
        self.utilisation = min(1.0, demand_gw * (self.compute_price / p0) ** (-eta) / retail_gw)

    # -- credit ------------------------------------------------------------------------------------------------
    def sentiment_for_credit(self) -> float:
        """With loop L9 off, credit, capex, the vendor and valuations see a constant mood: prices do not feed back."""
        return self.sentiment if self.p.circular.loop_l9_reflexivity else self.p.markets.initial_sentiment

    def update_spreads(self) -> None:
        c = self.p.credit
        gap = self.p.markets.initial_sentiment - self.sentiment_for_credit()
        mood = math.exp(c.spread_sentiment_elasticity * gap + self.spread_shock)
        self.ig_spread = (
            c.ig_spread_annual * mood
            + c.spread_default_sensitivity * self.default_share * c.ig_default_spread_share
        )
        self.hy_spread = c.hy_spread_annual * mood + c.spread_default_sensitivity * self.default_share

    def credit_mood(self) -> float:
        """Multiplier of credit-market capacity: 1 at the start, falling with sentiment and defaults."""
        c = self.p.credit
        s = self.sentiment_for_credit() / max(self.p.markets.initial_sentiment, 1e-9)
        return max(0.0, min(c.mood_max, s)) * max(0.0, 1.0 - c.mood_default_sensitivity * self.default_share)

    # -- sentiment ---------------------------------------------------------------------------------------------
    def update_sentiment(self, expected_growth: float, loss_share: float) -> None:
        """S_t = S_{t-1} + w_R r_t + w_G (g_t - g^e) - w_L losses/debt - m (S_{t-1} - S_0), clipped to [0, 1]."""
        m = self.p.markets
        surprise = self.demand_growth_yoy - expected_growth  # growth over the year, as firms read it
        s = (
            self.sentiment
            + m.sentiment_return_weight * self.equity_return
            + m.sentiment_surprise_weight * surprise * 0.25
            - m.sentiment_loss_weight * loss_share
            # back to its calibrated level: without news the baseline's mood stays what it was in 2025
            - m.sentiment_mean_reversion * (self.sentiment - m.initial_sentiment)
        )
        self.sentiment = min(1.0, max(0.0, s))

    # -- valuations --------------------------------------------------------------------------------------------
    def update_valuations(self, fundamentals: np.ndarray, listed: np.ndarray, impaired: np.ndarray) -> None:
        """log V_t = log V_{t-1} + k (log V*_t - log V_{t-1}) + mu (log V_{t-1} - log V_{t-2}),
        V*_t = V_0 * F_t / F_0 * exp(b (S_t - S_0)); impaired (defaulted) firms keep a small share of V*. New equity
        lifts V at once (post-money) and is then worth only what the fundamentals say: cash raised and burnt
        does not stay in the price."""
        m = self.p.markets
        idx = np.flatnonzero(listed)
        if idx.size == 0:
            return
        f = np.maximum(fundamentals[idx], 1e-6) / self.fundamental_start[idx]
        # with loop L9 off the equity market is not reflexive either: prices follow fundamentals, without the
        # mood or momentum traders chasing returns
        reflexive = self.p.circular.loop_l9_reflexivity
        mood = math.exp(
            m.valuation_sentiment_elasticity * (self.sentiment_for_credit() - m.initial_sentiment)
        )
        target = self.value_start[idx] * f * mood
        target = np.where(impaired[idx], m.defaulter_value_share * target, target)
        v, v_prev = self.value[idx], self.value_prev[idx]
        log_v = np.log(np.maximum(v, 1e-9))
        # momentum traders chase a capped return (a firm re-listed from near zero does not explode)
        cap = m.momentum_cap_log
        momentum = np.clip(log_v - np.log(np.maximum(v_prev, 1e-9)), -cap, cap)
        chase = m.valuation_momentum if reflexive else 0.0
        new = log_v + m.valuation_adjustment_speed * (np.log(target) - log_v) + chase * momentum
        new_v = np.exp(new)
        new_v = np.where(impaired[idx], np.minimum(new_v, target), new_v)
        self.value_prev[idx] = v
        self.value[idx] = new_v
        self.value_peak[idx] = np.maximum(self.value_peak[idx], new_v)
        old_total = v.sum()
        self.equity_return = float(new_v.sum() / old_total - 1.0) if old_total > 0 else 0.0
        self.equity_index = float(new_v.sum() / self.value_start[idx].sum())
        self.amd_price = self.p.circular.amd_share_price_usd * mood

    # -- GPUs (their values: economy/capital.py) ----------------------------------------------------------------
    def fire_sale(self, gw_sold: float, gw_installed: float) -> None:
        """Dumping GPUs depresses second-hand prices (linear impact, capped at ``fire_sale_discount_max``)."""
        self.disposed_gw_q += gw_sold
        if gw_installed > 0 and gw_sold > 0:
            impact = self.p.technology.fire_sale_price_impact * gw_sold / gw_installed
            self.fire_sale_discount = min(
                self.p.technology.fire_sale_discount_max, self.fire_sale_discount + impact
            )

    def recover_prices(self) -> None:
        half = self.p.technology.fire_sale_recovery_quarters
        self.fire_sale_discount *= 0.5 ** (1.0 / half)
        self.default_share *= self.p.markets.default_memory

    # -- energy ------------------------------------------------------------------------------------------------
    def grid_budget(self) -> float:
        return self.p.energy.grid_gw_per_quarter * self.grid_multiplier + self.grid_credit
