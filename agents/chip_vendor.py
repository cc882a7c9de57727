"""Nvidia: the chip vendor that finances its own demand (loops L1, L4, L7).

It sells chips (to the modelled firms, who pay it in their capacity purchases, and to the rest of the world),
pays its cost of goods and operating costs, invests equity in customers per GW they deploy, and honours its
capacity backstop for CoreWeave. It stops investing when its own valuation or its customers' credit turns.
Rules: docs/ODD.md, "Agents: Nvidia".
"""

from __future__ import annotations

from accounting.journal import Flow
from accounting.ledger import World
from agents.base import Firm


class ChipVendor(Firm):
    type_label = "chip vendor"
    loss_holder = "vendors"  # its category in the loss book (economy/losses.py)
    ai_heavy = True

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, **kw)
        self.cal = calibration
        self.outside_revenue0_q = 0.0  # set by the economy builder: revenue not from modelled buyers
        self.chip_sales_q = 0.0
        self.cash_target = calibration.cash_usd_bn
        self.invested_openai = 0.0
        self.willing = True

    def begin_quarter(self) -> None:
        super().begin_quarter()
        self.chip_sales_q = 0.0

    def record_sale(self, amount: float) -> None:
        """Chips sold to a modelled buyer this quarter (paid in the buyer's capacity purchase)."""
        self.chip_sales_q += amount

    def calibrate_opening(self, bought_per_year: float) -> None:
        """Its revenue not explained by the modelled buyers' opening chip purchases is outside revenue; opening
        operating cash flow at its calibrated margin."""
        self.outside_revenue0_q = max(0.0, self.cal.revenue_usd_bn_per_year - bought_per_year) / 4.0
        self.revenue_q = self.cal.revenue_usd_bn_per_year / 4.0
        self.operating_cash_q = self.cal.cash_margin * self.revenue_q

    def decide(self) -> None:
        """Keep investing while its share price holds near its peak, the mood holds and the customer
        is not in default (the unwinding path of the digest: "Nvidia might not make further investments")."""
        m, b = self.model.market, self.model.p.behaviour
        peak = m.value_peak[self.party]
        was = self.willing
        self.willing = (
            m.value[self.party] >= b.vendor_min_value_share * peak
            and m.sentiment_for_credit() >= b.vendor_min_sentiment
            and not self.in_default
        )
        if was and not self.willing and self.model.p.circular.circular_financing:
            self.model.log("vendor_stop", self.name, f"{self.name} stops investing in its customers", "", 0.0)

    def will_invest_in(self, customer: Firm) -> bool:
        return self.willing and not customer.excluded

    def operate(self) -> None:
        m = self.model
        outside = (
            self.outside_revenue0_q * m.market.demand_index**m.p.technology.nvidia_outside_revenue_elasticity
        )
        self.earn(outside)
        revenue = outside + self.chip_sales_q
        cost = (1.0 - self.cal.cash_margin) * revenue
        self.spend(cost)
        self.revenue_q = revenue
        self.ai_revenue_q = revenue
        self.opex_q = cost
        self.operating_cash_q = revenue - cost

    def end_quarter(self) -> None:
        """Pay out cash above its opening level (dividends and buybacks)."""
        excess = self.cash - self.cash_target
        if excess > 0 and not self.in_default:
            self.ledger.pay(
                self.party,
                World.OUTSIDE_INVESTORS,
                excess * self.model.p.behaviour.payout_share,
                Flow.DIVIDEND,
            )
