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
    buys_vendor_systems = False  # pays the chip vendor for all of its chips (whole systems), not its share

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, **kw)
        self.cal = calibration
        self.core_revenue0_q = 0.0  # set by the economy builder once AI revenue at the start is known
        self.price_multiplier = 1.0  # revenue per used GW relative to the market compute price
        self.capex_q = calibration.capex_usd_bn_per_year / 4.0
        self.capex_desired_q = self.capex_q
        self.capex_growth = calibration.capex_growth_plan
        self.capex_growth_plan = calibration.capex_growth_plan
        self.expected_growth_base = model.p.demand.ai_growth_initial_annual
        self.expected_growth = self.expected_growth_base
        self.expected_growth0 = self.expected_growth_base
        self.cash_target = calibration.cash_usd_bn
        self.funding_need_q = 0.0  # what this quarter's plan needed beyond the firm's own cash
        self.retail_gw = 0.0
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
        """g^e = a_t + w_S (S_t - S_0), a_t = a_{t-1} + lambda (g_t - a_{t-1})."""
        m, b = self.model.market, self.model.p.behaviour
        self.expected_growth_base += b.expectation_adaptation * (m.demand_growth - self.expected_growth_base)
        tilt = b.expectation_sentiment_weight * (
            m.sentiment_for_credit() - self.model.p.markets.initial_sentiment
        )
        self.expected_growth = self.expected_growth_base + tilt

    def planned_capex_growth(self) -> float:
        """Annual capex growth: guidance (decaying) plus responses to expectations, rivals, idle capacity,
        credit spreads and the share price."""
        m, b, q = self.model.market, self.model.p.behaviour, self.model.quarter
        guidance = self.capex_growth_plan * 0.5 ** ((q / 4.0) / self.model.p.demand.ai_growth_halflife_years)
        rivals = self.model.rival_capex_growth(self)
        idle = max(0.0, self.model.p.demand.initial_utilisation - m.utilisation)
        spread_rise = max(0.0, m.ig_spread - self.model.p.credit.ig_spread_annual)
        peak = m.value_peak[self.party]
        drawdown = 1.0 - m.value[self.party] / peak if peak > 0 else 0.0
        g = (
            guidance
            + b.capex_expectation_weight * (self.expected_growth - self.expected_growth0)
            + b.capex_race_weight * (rivals - self.capex_growth)
            - b.capex_idle_weight * idle
            - b.capex_spread_weight * spread_rise
            - b.capex_drawdown_weight * max(0.0, drawdown - b.capex_drawdown_threshold)
        )
        return clip(g, -b.capex_max_cut_annual, b.capex_max_growth_annual)

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
    ) -> int:
        """Order ``gw`` of capacity: chips to Nvidia (its share) and other suppliers, shells to builders."""
        if gw <= 1e-9:
            return -1
        m, t = self.model, self.model.p.technology
        chips = gw * (t.chip_cost_usd_bn_per_gw if chip_cost_per_gw is None else chip_cost_per_gw)
        shell = gw * t.shell_cost_usd_bn_per_gw if with_shell else 0.0
        if chip_seller is None:
            chip_seller = m.nvidia.party if m.nvidia is not None else int(World.SUPPLIERS)
            vendor_chips = chips * self.chip_vendor_share
        else:
            vendor_chips = chips
        payments: dict[int, float] = {chip_seller: vendor_chips}
        other = chips - vendor_chips + shell
        if other > 0:
            payments[int(World.SUPPLIERS)] = payments.get(int(World.SUPPLIERS), 0.0) + other
        cid = m.ledger.buy_capacity(
            self.party,
            gw,
            chips,
            shell,
            m.quarter + t.build_lag_quarters,
            [(p, a) for p, a in payments.items() if a > 0],
        )
        m.record_chip_sale(chip_seller, self.party, vendor_chips)
        self.capex_q += chips + shell
        return cid

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
        ai = self.price_multiplier * m.market.compute_price / 4.0 * m.market.utilisation * self.retail_gw
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
        """Fund and buy this quarter's capex; cut it to what could be funded."""
        need = self.funding_need(desired_capex)
        self.funding_need_q = need
        if need > 0:
            self.fund(need, order)
        spendable = self.cash - self.model.scheduled_dues(self.party) - self.cash_buffer()
        capex = clip(desired_capex, 0.0, max(spendable, 0.0))
        if capex < desired_capex - 1e-6:
            if capex < 0.9 * desired_capex:
                self.model.log(
                    "capex_cut",
                    self.name,
                    f"{self.name} cuts capex to {capex:.1f}bn from a planned {desired_capex:.1f}bn "
                    "for lack of funding",
                    "",
                    desired_capex - capex,
                )
            self.capex_desired_q = capex  # re-plan from what could be funded
        self.buy_gw(capex / self.cost_per_gw)
        return capex

    def calibrate_opening(self, ai_revenue_q: float, contract_fees_q: float) -> None:
        """Split its calibrated revenue into AI revenue (at the opening price and utilisation, plus the compute
        fees it earns) and core revenue; opening operating cash flow at its calibrated margin."""
        self.core_revenue0_q = max(
            0.0, self.cal.revenue_usd_bn_per_year / 4.0 - ai_revenue_q - contract_fees_q
        )
        self.revenue_q = self.cal.revenue_usd_bn_per_year / 4.0
        self.operating_cash_q = self.cal.cash_margin * self.revenue_q
        self.opex_q = self.revenue_q - self.operating_cash_q
        if self.buys_vendor_systems:
            self.chip_vendor_share = 1.0

    def annual_growth_to_quarter(self, g: float) -> float:
        return math.pow(1.0 + g, 0.25)
