"""Firms that own and sell AI capacity: the shared machinery of hyperscalers, Oracle, neoclouds and AI labs.

Buying capacity, the funding waterfall and the quarterly operating account live here; each type sets its own
capex target and funding order. Equations: docs/ODD.md, "Agents: capacity owners".
"""

from __future__ import annotations

import math

from accounting.contracts import Kind
from accounting.ledger import Flow, World
from agents.base import Firm, capacity_of, clip


class CapacityOwner(Firm):
    """A firm with data-centre capacity, AI revenue and a capex plan."""

    type_label = "capacity owner"
    loss_holder = "providers"  # its category in the loss book (economy/losses.py)
    buys_vendor_systems = False  # pays the chip vendor for all of its chips (whole systems), not its share
    builds_to_order = False  # builds capacity to a customer's design (it re-lets late and below market)

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, **kw)
        self.cal = calibration
        self.core_revenue0_q = 0.0  # set by the economy builder once AI revenue at the start is known
        self.price_multiplier = 1.0  # revenue per used GW relative to the market compute price
        self.capex_q = calibration.capex_usd_bn_per_year / 4.0
        self.capex_plan_q = (
            self.capex_q
        )  # last quarter's planned capex (the calibrated run-rate at the start)
        self.plan_history = [self.capex_q] * 4  # the last four quarters' plans, for year-on-year growth
        self.capex_growth = 0.0
        self.target_scale: float | None = None  # m_i of the capacity target, calibrated at the first decision
        self.expected_demand_level = 0.0  # set when demand at the start is known (calibrate_opening)
        self.expected_growth_base = model.p.demand.ai_growth_initial_annual
        self.expected_growth = self.expected_growth_base
        self.expected_growth0 = self.expected_growth_base
        self.cash_target = calibration.cash_usd_bn
        self.cut_last_quarter = False  # its capex was cut for lack of funding last quarter (logged once)
        self.funding_need_q = 0.0  # what this quarter's plan needed beyond the firm's own cash
        self.retail_gw = 0.0
        # capacity freed by a customer's default: (GW, quarter it re-lets from, quarter the discount ends, discount)
        self.stranded: list[tuple[float, int, int, float]] = []
        self.chip_vendor_share = model.p.technology.nvidia_share_of_chip_spend

    @property
    def capex_growth(self) -> float:
        """Planned annual capex growth. Rivals read it (``rival_capex_growth``), so it lives in a per-party
        column."""
        return float(self.model.firm_state.capex_growth[self.party])

    @capex_growth.setter
    def capex_growth(self, value: float) -> None:
        self.model.firm_state.ensure(self.party).capex_growth[self.party] = value

    # -- expectations ------------------------------------------------------------------------------------------
    def observe(self) -> None:
        """Holt's adaptive expectations of a growing series: the demand level
        L_t = L_{t-1} (1 + a_{t-1})^{1/4} + λ (D_t − L_{t-1} (1 + a_{t-1})^{1/4}), the growth
        a_t = a_{t-1} + λ (g_t − a_{t-1}); and g^e = a_t + w_S (S_t − S_0)."""
        m, b = self.model.market, self.model.p.behaviour
        step = self.expected_demand_level * (1.0 + max(self.expected_growth_base, -0.95)) ** 0.25
        self.expected_demand_level = step + b.expectation_adaptation * (self.model.demand_gw() - step)
        # firms read demand growth over the year, not one quarter's rate annualised (four times its noise)
        self.expected_growth_base += b.expectation_adaptation * (
            m.demand_growth_yoy - self.expected_growth_base
        )
        tilt = b.expectation_sentiment_weight * (
            m.sentiment_for_credit() - self.model.p.markets.initial_sentiment
        )
        self.expected_growth = self.expected_growth_base + tilt

    # -- the capital target (docs/ODD.md §7.5) ------------------------------------------------------------------
    def funding_rate(self) -> float:
        """Annual rate at which it funds new capacity: the reference rate plus its bond spread."""
        return self.model.market.reference_rate + self.model.credit.issuer_spread(self)

    def expected_demand(self) -> float:
        """D^e: demand it expects a build lag ahead (GW at the calibrated price)."""
        horizon = self.model.p.technology.build_lag_quarters
        return self.expected_demand_level * (1.0 + max(self.expected_growth, -0.95)) ** (horizon / 4.0)

    def market_target(self, have: float) -> float:
        """s_i · K^abs · q^ψ before its strategic premium: its share s_i of the capacity in service or on order a
        build lag ahead, applied to the capacity the market absorbs at the price that covers its funding cost,
        scaled by Tobin's q of new capacity at today's price and utilisation (a shortage raises it, a glut
        lowers it)."""
        ahead = self.model.capacity_ahead_gw
        share = have / ahead if ahead > 0 else 0.0
        rate = self.funding_rate()
        q = max(self.model.tobins_q(rate), 1e-6)
        absorbable = self.model.absorbable_gw(self.expected_demand(), rate)
        return share * absorbable * q**self.model.p.behaviour.capex_q_elasticity

    def adjustment_speed(self) -> float:
        """λ · exp(w_R (ḡ_rivals − g) − w_S Δs_IG − w_D max(0, drawdown − d0)), at most 1: how fast it closes the
        gap to its target, faster when rivals' capex grows faster than its own, slower when spreads have risen
        or its share price has fallen far from its peak (markets punish capex, E009)."""
        m, p = self.model.market, self.model.p
        b = p.behaviour
        rivals = self.model.rival_capex_growth(self)
        spread_rise = max(0.0, m.ig_spread - p.credit.ig_spread_annual)
        peak = m.value_peak[self.party]
        drawdown = 1.0 - m.value[self.party] / peak if peak > 0 else 0.0
        tilt = (
            b.capex_race_weight * (rivals - self.capex_growth)
            - b.capex_spread_weight * spread_rise
            - b.capex_drawdown_weight * max(0.0, drawdown - b.capex_drawdown_threshold)
        )
        return min(1.0, b.capacity_adjustment_speed * math.exp(clip(tilt, -5.0, 5.0)))

    def capacity_plan(self) -> tuple[float, float]:
        """(refit GW, new-site GW) the rule orders now: replacement of what retires a build lag ahead, plus
        partial adjustment to the target capacity K*_i = max((1 + μ_i) · market target, C_i) from the GW it will
        have then (C_i: the GW its compute contracts need then). μ_i, its strategic premium, is calibrated at its
        first decision so that the rule orders its calibrated capex run-rate."""
        m, p = self.model, self.model.p
        horizon = p.technology.build_lag_quarters
        have, retiring = m.gw_and_retiring_at_horizon(self.party, horizon)
        contracted = m.contracted_gw_at(self.party, m.quarter + horizon)
        market = self.market_target(have)
        speed = self.adjustment_speed()
        free = m.free_shell_gw(self.party)
        before = have + retiring  # what it would have a build lag ahead if that quarter's GPUs did not retire
        if self.target_scale is None:
            gw0 = self.gw_for(self.capex_plan_q, free)
            self.target_scale = max(0.0, (before + (gw0 - retiring) / speed) / market) if market > 0 else 1.0
        gw = max(0.0, retiring + speed * (max(self.target_scale * market, contracted) - before))
        refit = min(gw, free)
        return refit, gw - refit

    def gw_for(self, capex: float, free_shell_gw: float) -> float:
        """GW a capex budget buys: GPUs for free shells first (chips only), then new sites (chips and shells)."""
        t = self.model.p.technology
        refit = min(free_shell_gw, capex / t.chip_cost_usd_bn_per_gw)
        return refit + (capex - refit * t.chip_cost_usd_bn_per_gw) / self.cost_per_gw

    def plan_capex(self, *, refits_only: bool = False, keep: float = 1.0) -> float:
        """This quarter's planned capex: the rule's capex (``keep`` of it, refits only if so asked), approached
        from last quarter's plan at ``behaviour.capex_plan_adjustment`` (orders are placed quarters ahead)."""
        t, b = self.model.p.technology, self.model.p.behaviour
        refit, new = self.capacity_plan()
        rule = keep * (refit * t.chip_cost_usd_bn_per_gw + (0.0 if refits_only else new * self.cost_per_gw))
        prev = self.capex_plan_q
        # a halt (``keep`` < 1) cancels orders at once; otherwise orders move toward the rule gradually
        plan = rule if keep < 1.0 else prev + b.capex_plan_adjustment * (rule - prev)
        year_ago = self.plan_history.pop(0)
        self.plan_history.append(plan)
        # year-on-year growth of its plan (what rivals see; a quarter-on-quarter rate would echo every swing)
        self.capex_growth = clip(plan / year_ago - 1.0, -1.0, 3.0) if year_ago > 1e-9 else 0.0
        self.capex_plan_q = plan
        return plan

    # -- capacity ----------------------------------------------------------------------------------------------
    @property
    def cost_per_gw(self) -> float:
        t = self.model.p.technology
        return t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw

    def buy_gw(
        self,
        gw: float,
        *,
        chip_cost_per_gw: float | None = None,
        chip_seller: int | None = None,
        with_shell: bool = True,
        refit: bool = False,
    ) -> int:
        """Order ``gw`` of capacity: chips to Nvidia (its share) and other suppliers, shells to builders. A new
        site is ready after the build lag and waits for the grid; ``with_shell=False`` is a new site whose shell is
        leased (xAI's); a ``refit`` puts GPUs into a shell the firm already has, ready after the refit lag."""
        if gw <= 1e-9:
            return -1
        m, t = self.model, self.model.p.technology
        chips = gw * (t.chip_cost_usd_bn_per_gw if chip_cost_per_gw is None else chip_cost_per_gw)
        shell = gw * t.shell_cost_usd_bn_per_gw if with_shell and not refit else 0.0
        if chip_seller is None:
            chip_seller = m.nvidia.party if m.nvidia is not None else int(World.SUPPLIERS)
            vendor_chips = chips * self.chip_vendor_share
        else:
            vendor_chips = chips
        payments: dict[int, float] = {chip_seller: vendor_chips}
        other = chips - vendor_chips + shell
        if other > 0:
            payments[int(World.SUPPLIERS)] = payments.get(int(World.SUPPLIERS), 0.0) + other
        lag = t.refit_lag_quarters if refit else t.build_lag_quarters
        cid = m.ledger.buy_capacity(
            self.party,
            gw,
            chips,
            shell,
            m.quarter + lag,
            [(p, a) for p, a in payments.items() if a > 0],
            refit=refit,
        )
        m.record_chip_sale(chip_seller, self.party, vendor_chips)
        m.record_purchase(gw, chips + shell, refit)
        self.capex_q += chips + shell
        return cid

    def chip_spend(self, capex: float) -> float:
        """What of a capex budget goes on chips (:meth:`buy_capex` buys GPUs for free shells first)."""
        t = self.model.p.technology
        refit = min(self.model.free_shell_gw(self.party), capex / t.chip_cost_usd_bn_per_gw)
        return refit * t.chip_cost_usd_bn_per_gw + (capex - refit * t.chip_cost_usd_bn_per_gw) * (
            t.chip_cost_usd_bn_per_gw / self.cost_per_gw
        )

    def buy_capex(self, capex: float) -> list[int]:
        """Spend ``capex`` on GPUs for the firm's free shells first, then on new sites. Returns the cohorts."""
        t = self.model.p.technology
        refit = min(self.model.free_shell_gw(self.party), capex / t.chip_cost_usd_bn_per_gw)
        new = (capex - refit * t.chip_cost_usd_bn_per_gw) / self.cost_per_gw
        cohorts = [self.buy_gw(refit, refit=True), self.buy_gw(new)]
        return [c for c in cohorts if c >= 0]

    def strand(self, gw: float, relet_q: int, until_q: int, discount: float) -> None:
        """GW freed by a customer's default: idle until ``relet_q``, then sold ``discount`` below the market price
        until ``until_q``."""
        self.stranded.append((gw, relet_q, until_q, discount))

    def idle_gw(self, q: int) -> float:
        """GW standing idle this quarter, waiting to be re-let (they are not offered in the market)."""
        self.stranded = [s for s in self.stranded if s[2] > q]
        return sum(gw for gw, relet, _until, _d in self.stranded if q < relet)

    def relet_discount_gw(self, q: int) -> float:
        """Discount-weighted GW re-let below the market price this quarter."""
        return sum(gw * d for gw, relet, until, d in self.stranded if relet <= q < until)

    def gw(self) -> tuple[float, float]:
        return capacity_of(self.model, self.party)

    # -- the quarter's operating account -----------------------------------------------------------------------
    def core_revenue(self) -> float:
        g = self.model.p.demand.core_revenue_growth_annual
        return self.core_revenue0_q * (1.0 + g) ** (self.model.quarter / 4.0)

    def operate(self) -> None:
        """Revenue from core business and AI capacity in use; operating costs per GW and on core revenue."""
        if self.liquidated:
            return
        m = self.model
        energised, _ = self.gw()
        core = self.core_revenue()
        sold = max(self.retail_gw - (self.relet_discount_gw(m.quarter) if self.stranded else 0.0), 0.0)
        ai = self.price_multiplier * m.market.compute_price / 4.0 * m.market.utilisation * sold
        self.earn(core + ai)
        opex = (1.0 - self.cal.cash_margin) * core + self.gw_running_cost_q() * energised
        self.spend(opex)
        self.revenue_q = core + ai  # compute-contract income is added after settlement (book_contracts)
        self.ai_revenue_q = ai
        self.opex_q = opex
        self.operating_cash_q = self.revenue_q - opex

    def gw_running_cost_q(self) -> float:
        """Quarterly cost of running one energised GW: electricity plus operations."""
        m = self.model.p
        return (m.technology.electricity_usd_bn_per_gw_year + m.behaviour.ai_opex_usd_bn_per_gw_year) / 4.0

    def contract_revenue_q(self) -> float:
        return self.model.contract_revenue.get(self.party, 0.0)

    # -- funding ----------------------------------------------------------------------------------------------
    def cash_buffer(self) -> float:
        return self.model.p.behaviour.cash_floor_share * self.cash_target

    def funding_need(self, capex: float) -> float:
        """Cash this quarter's plan needs beyond what the firm has: capex, scheduled debt service and the
        buffer, less expected operating cash flow."""
        dues = self.model.scheduled_dues(self.party)
        return capex + dues + self.cash_buffer() - self.cash - max(self.operating_cash_q, 0.0)

    def fund(self, need: float, order: tuple[str, ...]) -> float:
        """Raise up to ``need`` through the channels in ``order``; returns what was raised."""
        raised = 0.0
        credit, m = self.model.credit, self.model
        for channel in order:
            left = need - raised
            if left <= 1e-6:
                break
            if channel == "bonds":
                raised += credit.issue_bond(self, left)
            elif channel == "spv" and m.p.circular.loop_l8_meta_spv:
                raised += credit.borrow_private(
                    self,
                    left,
                    Kind.SPV_FACILITY,
                    spread=m.market.ig_spread + m.p.deals.spv_premium,
                    tenor_q=4 * m.p.credit.spv_lease_years,
                    loop=8,
                    off_balance_sheet=True,
                )
            elif channel == "lease":
                raised += credit.open_finance_lease(self, left)
            elif channel == "equity":
                raised += credit.sell_equity(self, left)
        return raised

    def pay_out(self) -> None:
        """Buybacks and dividends from cash above the opening level, when nothing needs funding."""
        excess = self.cash - self.cash_target
        if excess > 0 and self.funding_need_q <= 0 and not self.in_default:
            self.ledger.pay(
                self.party,
                World.OUTSIDE_INVESTORS,
                excess * self.model.p.behaviour.payout_share,
                Flow.DIVIDEND,
            )

    def invest_in_capacity(self, desired_capex: float, order: tuple[str, ...]) -> float:
        """Fund and buy this quarter's planned capex; cut it to what could be funded (and plan on from there).
        An investment-grade firm borrows ``behaviour.capex_debt_share`` of its capex even with cash to hand
        (target leverage); what it still lacks it raises through its whole order, equity last."""
        m = self.model
        need = self.funding_need(desired_capex)
        self.funding_need_q = need
        debt_target = (
            m.p.behaviour.capex_debt_share * desired_capex if m.credit.investment_grade(self) else 0.0
        )
        debt_order = tuple(ch for ch in order if ch != "equity")
        raised = self.fund(max(need, debt_target), debt_order) if max(need, debt_target) > 0 else 0.0
        if need - raised > 1e-6 and "equity" in order:
            self.fund(need - raised, ("equity",))
        spendable = self.cash - self.model.scheduled_dues(self.party) - self.cash_buffer()
        capex = clip(desired_capex, 0.0, max(spendable, 0.0))
        cut = capex < 0.9 * desired_capex
        if capex < desired_capex - 1e-6:
            if cut and not self.cut_last_quarter:  # once when the cut starts, not every quarter it lasts
                self.model.log(
                    "capex_cut",
                    self.name,
                    f"{self.name} cuts capex to {capex:.1f}bn from a planned {desired_capex:.1f}bn "
                    "for lack of funding",
                    "",
                    desired_capex - capex,
                )
            self.capex_plan_q = capex  # orders cannot run ahead of funding: plan on from what was bought
        self.cut_last_quarter = cut
        self.buy_capex(capex)
        return capex

    def calibrate_opening(self, ai_revenue_q: float, contract_fees_q: float) -> None:
        """Split its calibrated revenue into AI revenue (at the opening price and utilisation, plus the compute
        fees it earns) and core revenue; opening operating cash flow at its calibrated margin."""
        self.core_revenue0_q = max(
            0.0, self.cal.revenue_usd_bn_per_year / 4.0 - ai_revenue_q - contract_fees_q
        )
        self.expected_demand_level = self.model.demand_gw()
        self.revenue_q = self.cal.revenue_usd_bn_per_year / 4.0
        self.operating_cash_q = self.cal.cash_margin * self.revenue_q
        self.opex_q = self.revenue_q - self.operating_cash_q
        if self.buys_vendor_systems:
            self.chip_vendor_share = 1.0
