"""AI labs (OpenAI, xAI, Anthropic and synthetic look-alikes): the hub of the circular deals.

A lab sells AI to end customers with the compute it rents (take-or-pay contracts) and owns (Nvidia and AMD GW),
burns cash, and funds itself with equity: vendor equity per GW (Nvidia, loop L1), warrants on its chip supplier
(AMD, L3), strategic investors and outside investors at a valuation that follows its revenue and the mood. When
money runs short it first slows its own chip purchases, then takes only the minimum of its compute contracts;
when it still cannot pay, it defaults and clearing decides who loses what. Rules: docs/ODD.md, "Agents: AI labs".
"""

from __future__ import annotations

import math

from accounting.contracts import Kind, Status
from accounting.journal import Flow
from accounting.ledger import World
from agents.builder import CapacityOwner
from params.schema import loop_on


class AILab(CapacityOwner):
    type_label = "AI lab"
    ai_heavy = True
    cuts_compute_take = True

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.revenue0_q = self.cal.revenue_usd_bn_per_year / 4.0
        self.take_share = 1.0
        self.revenue_factor = 1.0  # a revenue shock's multiplier of its price this quarter (1: none)
        # a share of its revenue it pays a partner (OpenAI to Microsoft, loop L5), set by the opening books
        self.revenue_share = 0.0
        self.revenue_share_payee = -1
        self.nvidia_gw_bought = 0.0
        self.amd_gw_bought = 0.0
        self.plans_nvidia = False  # OpenAI's LOI with Nvidia (E066)
        self.plans_amd = False  # OpenAI's deal with AMD (E108)
        self.chip_scale = 1.0  # share of the planned chips bought last time
        # (provider, GW, premium over the market price when signed, minimum share, loop) of compute contracts
        # terminated in a default
        self.terminated_compute: list[tuple[int, float, float, float, int]] = []

    # -- operating account ---------------------------------------------------------------------------------------
    def non_compute_costs(self, revenue: float) -> float:
        """Staff, research and sales costs grow with revenue at an elasticity below one."""
        b = self.model.p.behaviour
        base = (1.0 - self.cal.cash_margin) * self.revenue0_q
        if self.revenue0_q <= 0:  # no calibrated revenue: no revenue-driven costs to scale
            return base
        # base · (revenue / revenue0)^e written as (1 − margin) · revenue0^(1−e) · revenue^e: the same number,
        # without the overflow of the ratio when the calibrated revenue is tiny
        e = b.lab_opex_scale_elasticity
        scale = math.exp((1.0 - e) * math.log(self.revenue0_q) + e * math.log(max(revenue, 1e-9)))
        return (1.0 - self.cal.cash_margin) * scale

    def operate(self) -> None:
        if self.liquidated:
            return
        m = self.model
        energised, _ = self.gw()
        price = self.price_multiplier * self.revenue_factor
        revenue = price * m.market.compute_price / 4.0 * m.market.utilisation * self.retail_gw
        self.earn(revenue)
        opex = self.non_compute_costs(revenue) + self.gw_running_cost_q() * energised
        self.spend(opex)
        if self.revenue_share > 0:
            share = self.revenue_share * revenue
            self.spend(share, self.revenue_share_payee, Flow.REVENUE_SHARE)
            opex += share
        self.revenue_q = revenue
        self.ai_revenue_q = revenue
        self.opex_q = opex
        self.operating_cash_q = revenue - opex

    def burn_q(self) -> float:
        """Cash burn per quarter: operating costs plus compute contract fees less revenue."""
        return max(0.0, self.opex_q + self.model.compute_fees_due(self.party) - self.revenue_q)

    def cash_buffer(self) -> float:
        return self.model.p.behaviour.lab_cash_buffer_quarters * self.burn_q()

    # -- decisions ---------------------------------------------------------------------------------------------
    def planned_gw(self) -> tuple[float, float]:
        """GW of Nvidia and AMD chips planned this quarter (OpenAI's deals; zero for other labs)."""
        c, q = self.model.p.circular, self.model.quarter
        nvidia = amd = 0.0
        if self.plans_nvidia and q >= c.openai_first_nvidia_quarter:
            cap_gw = c.nvidia_openai_max_usd_bn / max(c.nvidia_equity_per_gw_usd_bn, 1e-9)
            nvidia = max(0.0, min(c.openai_nvidia_gw_per_quarter, cap_gw - self.nvidia_gw_bought))
        if self.plans_amd and q >= c.openai_first_nvidia_quarter:
            amd = max(0.0, min(c.amd_gw_total / 16.0, c.amd_gw_total - self.amd_gw_bought))
        return nvidia, amd

    def decide(self) -> None:
        if self.liquidated:
            return
        m, c, t, b = self.model, self.model.p.circular, self.model.p.technology, self.model.p.behaviour
        nvidia_gw, amd_gw = self.planned_gw()
        # demand signal: a lab slows its own build-out when the market has idle capacity
        slow = max(0.0, min(1.0, m.market.utilisation / m.p.demand.initial_utilisation)) ** 2
        nvidia_gw *= slow
        amd_gw *= slow
        self.resign_terminated_compute()
        # vendor equity comes with the GW (loop L1); without it the lab must fund the chips itself
        vendor = 0.0
        if (
            nvidia_gw > 0
            and m.nvidia is not None
            and loop_on(m.p, "loop_l1_nvidia_openai")
            and m.nvidia.will_invest_in(self)
        ):
            room = max(c.nvidia_openai_max_usd_bn - m.nvidia.invested_openai, 0.0)
            vendor = min(room, c.nvidia_equity_per_gw_usd_bn * nvidia_gw, max(m.nvidia.cash, 0.0))
        cost = nvidia_gw * (t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw) + amd_gw * (
            c.amd_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw
        )
        need = self.funding_need(cost - vendor)
        if need > 0:
            self.raise_equity(need)
        spendable = self.cash - m.scheduled_dues(self.party) - self.cash_buffer() * b.lab_chip_buffer_share
        scale = 1.0 if cost <= 0 else max(0.0, min(1.0, (spendable + vendor) / cost))
        if vendor * scale > 0:
            # Nvidia pays in for the GW actually bought (equity-for-purchases)
            got = m.credit.invest(
                m.nvidia, self, vendor * scale, loop=1, why=f"for {nvidia_gw * scale:.2f} GW of its chips"
            )
            m.nvidia.invested_openai += got
        if cost > 0 and (scale < 0.999) != (self.chip_scale < 0.999):
            text = (
                f"buys only {scale:.0%} of its planned chips"
                if scale < 0.999
                else "buys all its planned chips"
            )
            m.log("capex_cut", self.name, f"{self.name} {text}", "", cost * (1 - scale))
        if cost > 0:
            self.chip_scale = scale
        if nvidia_gw * scale > 1e-9:
            self.buy_gw(nvidia_gw * scale, chip_seller=m.nvidia.party if m.nvidia else int(World.SUPPLIERS))
            self.nvidia_gw_bought += nvidia_gw * scale
        if amd_gw * scale > 1e-9:
            self.buy_gw(amd_gw * scale, chip_cost_per_gw=c.amd_cost_usd_bn_per_gw, chip_seller=int(World.AMD))
            self.amd_gw_bought += amd_gw * scale
            self.vest_warrants(amd_gw * scale)
        # take-or-pay: take only the minimum when the cash would not last the buffer
        short = self.cash - m.scheduled_dues(self.party) < b.lab_take_cut_buffer_share * self.cash_buffer()
        new_share = c.take_or_pay_min_share if short else 1.0
        if new_share != self.take_share:
            verb = (
                "cuts its compute take to the take-or-pay minimum"
                if short
                else "takes its full compute again"
            )
            m.log("take_or_pay", self.name, f"{self.name} {verb}", "", 0.0)
        self.take_share = new_share

    def resign_terminated_compute(self) -> None:
        """A lab whose compute contracts were terminated in a default signs new, smaller ones once it is back in
        good standing: ``behaviour.lab_resign_gw_share`` of the GW, for ``deals.compute_renewal_quarters``, at
        today's market price times each contract's premium over the market when it was signed, with the same
        providers."""
        m = self.model
        if not self.terminated_compute or self.excluded:
            return
        market = m.market.compute_price / 4.0
        term = m.p.deals.compute_renewal_quarters
        for provider, gw, premium, min_share, loop in self.terminated_compute:
            firm = m.firm_by_party.get(provider)
            if firm is None or firm.liquidated:
                continue
            gw, price = m.p.behaviour.lab_resign_gw_share * gw, premium * market
            m.ledger.open_contract(
                Kind.COMPUTE,
                provider,
                self.party,
                notional=gw * price * term,
                gw=gw,
                price=price,
                market_price=market,
                min_share=min_share,
                start_q=m.quarter,
                maturity_q=m.quarter + term,
                loop=loop,
            )
            m.log(
                "renewal",
                self.name,
                f"{self.name} signs {gw:.2f} GW of compute with {firm.name} again, for {term / 4:g} "
                f"years at {4 * price:.1f}bn per GW-year",
                firm.name,
                gw * price * term,
            )
        self.terminated_compute = []

    def raise_equity(self, need: float) -> float:
        m = self.model
        cap = m.p.behaviour.lab_equity_issue_max_share * m.market.value[self.party] * m.market.credit_mood()
        amount = min(need, cap)
        if amount <= 0 or self.in_default:
            return 0.0
        m.credit._dilute(self, amount)
        m.ledger.contribute(World.OUTSIDE_INVESTORS, self.party, amount)
        m.log(
            "equity",
            self.name,
            f"{self.name} raises {amount:.1f}bn from outside investors at a "
            f"{m.market.value[self.party]:.0f}bn valuation",
            "outside investors",
            amount,
        )
        return amount

    def vest_warrants(self, gw: float) -> None:
        """AMD warrants vest with the GW bought (loop L3)."""
        m, c = self.model, self.model.p.circular
        if not (c.circular_financing and c.loop_l3_amd_warrants):
            return
        book = m.ledger.contracts
        for cid in self._live_warrants():
            if book.unvested[cid] > 0:
                vest = min(book.unvested[cid], c.amd_warrant_shares_m * gw / max(c.amd_gw_total, 1e-9))
                m.ledger.vest(cid, vest)

    def _live_warrants(self) -> list[int]:
        """Active warrants the lab holds, in book order (from the per-creditor index)."""
        book = self.model.ledger.contracts
        rows = book.of_creditor(self.party)
        return rows[(book.kind[rows] == Kind.WARRANT) & (book.status[rows] == Status.ACTIVE)].tolist()

    def raise_liquidity(self, shortfall: float) -> float:
        """Short of cash for what is due: exercise vested warrants and sell the shares, then sell equity."""
        m = self.model
        got = 0.0
        book = m.ledger.contracts
        for cid in self._live_warrants():
            if book.value[cid] > 0:
                value = m.ledger.exercise(cid)
                m.circularity.provide(int(World.AMD), self.party, value)
                m.log(
                    "warrant",
                    self.name,
                    f"{self.name} exercises AMD warrants and sells the shares for {value:.1f}bn",
                    "AMD",
                    value,
                )
                got += value
        if got < shortfall:
            got += self.raise_equity(shortfall - got)
        return got

    def compute_terminated(
        self, provider: int, gw: float, premium: float, min_share: float, loop: int
    ) -> None:
        """Remember the terms, to sign smaller contracts with the same provider once back in good standing."""
        self.terminated_compute.append((provider, gw, premium, min_share, loop))

    def calibrate_opening(self, ai_revenue_q: float, contract_fees_q: float) -> None:
        """Its price multiplier makes its first-quarter revenue match the calibration; opening opex are its
        non-compute costs."""
        # below a dollar a quarter the lab has no capacity to speak of: no multiplier can calibrate it, and a
        # huge one would turn its first real GW into unbounded revenue
        self.price_multiplier = (
            self.cal.revenue_usd_bn_per_year / 4.0 / ai_revenue_q if ai_revenue_q > 1e-9 else 1.0
        )
        self.revenue_q = self.cal.revenue_usd_bn_per_year / 4.0
        self.opex_q = self.non_compute_costs(self.revenue_q)
        self.operating_cash_q = self.revenue_q - self.opex_q
