"""Banks (JPMorgan, MUFG, Deutsche Bank and synthetic banks).

A bank lends to AI borrowers (syndicated project loans, revolvers) while its capital ratio stays above the
minimum and its AI book below a concentration limit; losses cut its capital; it can shed risk through synthetic
risk transfer (paying a premium for protection) and hedge with a short AI-equity position (loop L10).
Rules: docs/ODD.md, "Agents: banks".
"""

from __future__ import annotations

from accounting.contracts import Kind
from accounting.journal import Flow
from accounting.ledger import World
from agents.base import clip
from agents.lender import Lender


class Bank(Lender):
    type_label = "bank"
    loss_holder = "banks"  # its category in the loss book (economy/losses.py)

    def __init__(self, model, name, calibration, **kw):
        super().__init__(model, name, calibration, **kw)
        self.other_rwa = calibration.capital_usd_bn / calibration.capital_ratio
        self.lending_stopped = False
        self.hedged = False

    def rwa(self) -> float:
        """Risk-weighted assets: the book outside the model plus AI loans at 100%, less what SRT covers."""
        covered = self.model.protection_cache.get(self.party, 0.0)
        return self.other_rwa + max(self.ai_exposure() - covered, 0.0)

    def capital_ratio(self) -> float:
        return max(self.equity, 0.0) / max(self.rwa(), 1e-9)

    def decide(self) -> None:
        m, p = self.model, self.model.p.lenders
        ratio = self.capital_ratio()
        stopped = ratio < p.bank_min_capital_ratio
        if stopped != self.lending_stopped:
            text = (
                f"{self.name}'s capital ratio falls to {ratio:.1%}: it stops new lending"
                if stopped
                else f"{self.name} resumes lending at a {ratio:.1%} capital ratio"
            )
            m.log("lender_stop" if stopped else "lender_resume", self.name, text, "", 0.0)
        self.lending_stopped = stopped
        if stopped:
            self.appetite = 0.0
            return
        capital = max(self.equity, 0.0)
        by_ratio = capital / p.bank_min_capital_ratio - self.rwa()
        by_limit = p.bank_sector_limit * capital - self.ai_exposure()
        self.appetite = clip(min(by_ratio, by_limit) * m.market.credit_mood(), 0.0, max(self.cash, 0.0))
        self.manage_risk()

    def manage_risk(self) -> None:
        """Loop L10: near the concentration limit, buy SRT protection and (optionally) short AI equities."""
        m, p = self.model, self.model.p.lenders
        if not m.p.circular.loop_l10_risk_transfer or self.hedged:
            return
        exposure = self.ai_exposure()
        if exposure < p.hedge_trigger_share * p.bank_sector_limit * max(self.equity, 0.0) or exposure <= 0:
            return
        covered = p.srt_cover_share * exposure
        m.ledger.open_contract(
            Kind.RISK_TRANSFER,
            self.party,
            World.OUTSIDE_INVESTORS,
            notional=covered,
            maturity_q=m.quarter + p.hedge_quarters,
            fixed_rate=p.srt_premium_annual,
            loop=10,
        )
        text = f"{self.name} buys synthetic risk transfer on {covered:.1f}bn of AI loans"
        if p.short_hedge_share > 0:
            notional = p.short_hedge_share * exposure
            m.ledger.open_contract(
                Kind.EQUITY_SHORT,
                self.party,
                World.OUTSIDE_INVESTORS,
                notional=notional,
                maturity_q=m.quarter + p.hedge_quarters,
                price=m.market.equity_index,
                loop=10,
            )
            text += f" and shorts {notional:.1f}bn of AI equities"
        m.log("risk_transfer", self.name, text, "outside investors", covered)
        self.hedged = True

    def operate(self) -> None:
        """Net income from the business outside the model."""
        income = self.cal.net_income_usd_bn_per_year / 4.0
        if income >= 0:
            self.earn(income)
        else:
            self.spend(-income)
        self.revenue_q = income
        self.operating_cash_q = income

    def end_quarter(self) -> None:
        """Pay out capital above the opening ratio (buybacks and dividends)."""
        target = self.cal.capital_ratio * self.rwa()
        excess = self.equity - target
        if excess > 0 and not self.lending_stopped:
            pay = min(excess * self.model.p.lenders.bank_payout_share, max(self.cash, 0.0))
            if pay > 0:
                self.ledger.pay(self.party, World.OUTSIDE_INVESTORS, pay, Flow.DIVIDEND)
        self.losses_q = 0.0
