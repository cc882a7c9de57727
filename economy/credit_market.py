"""The credit and equity markets firms fund themselves in: IG and high-yield bonds, private credit (SPVs,
GPU-backed loans), bank loans, equity issues and vendor stakes. Every deal is a contract opened through the
ledger. Rules: docs/ODD.md, "Submodel: funding".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind, Status
from accounting.ledger import World
from economy import credit_risk, loan_sales

if TYPE_CHECKING:
    from agents.base import Firm
    from economy.model import CreditLoopModel


# the vendor-equity loops an arm's-length counterfactual refinances with outside equity (docs/ODD.md §7.14)
ARM_LENGTH_LOOPS = frozenset({1, 4, 5, 6, 7})


class CreditMarket:
    def __init__(self, model: CreditLoopModel):
        self.model = model
        self.ig_left = 0.0
        self.hy_left = 0.0
        self.issued_ig_q = 0.0
        self.issued_hy_q = 0.0
        self.loans_sold_q = (
            0.0  # carrying value of loans sold in the secondary market this quarter (price impact)
        )
        self._lender_parties: dict[str, np.ndarray] = {}

    def _lenders(self, which: str, lenders: list) -> tuple[np.ndarray, np.ndarray]:
        """The appetite of the funds or banks (in their list order) and which of them can lend now."""
        parties = self._lender_parties.get(which)
        if parties is None or parties.size != len(lenders):
            parties = self._lender_parties[which] = np.array([f.party for f in lenders], dtype=np.int64)
        state = self.model.firm_state
        appetite = state.appetite[parties]
        return appetite, np.flatnonzero((appetite > 0) & ~state.liquidated[parties])

    def _counterparties(self, able: np.ndarray, appetite: np.ndarray) -> np.ndarray:
        """Population mode: a loan is shared by at most ``population.counterparties`` lenders, those with the most
        room (kept in list order). The calibrated economy's three funds and three banks all take part."""
        from economy.population import enabled

        k = self.model.p.population.counterparties
        if able.size <= k or not enabled(self.model):
            return able
        room = appetite[able]
        kth = np.partition(room, room.size - k)[room.size - k]  # the k-th largest appetite
        above = room > kth
        ties = np.flatnonzero(room == kth)[: k - int(above.sum())]  # ties go to the earlier lenders
        above[ties] = True
        return able[above]

    def begin_quarter(self) -> None:
        c, mood = self.model.p.credit, self.model.market.credit_mood()
        self.ig_left = c.bond_market_usd_bn_per_quarter * mood
        self.hy_left = c.hy_market_usd_bn_per_quarter * mood
        self.issued_ig_q = self.issued_hy_q = self.loans_sold_q = 0.0

    # -- credit standards --------------------------------------------------------------------------------------
    def issuer_spread(self, firm: Firm) -> float:
        """Its grade's market spread plus its expected loss (economy/credit_risk.py)."""
        return credit_risk.issuer_spread(self.model, firm, investment_grade=self.investment_grade(firm))

    def expected_loss_premium(self, firm: Firm) -> float:
        """LGD x PD: what lenders add to a contracted spread for this borrower's own risk."""
        return self.model.p.credit.loss_given_default * float(self.model.pd[firm.party])

    def creditworthy(self, firm: Firm) -> bool:
        """Lenders extend new credit only to firms that are not in default or shut out after one, have
        positive book equity, net leverage within the high-yield limit and a default probability lenders will
        still price (``credit.max_lending_pd``: above it they ration instead)."""
        c = self.model.p.credit
        return (
            not firm.excluded
            and firm.equity > 0
            and firm.net_leverage() <= c.hy_max_net_leverage
            and float(self.model.pd[firm.party]) <= c.max_lending_pd
        )

    # -- bonds -------------------------------------------------------------------------------------------------
    def investment_grade(self, firm: Firm) -> bool:
        return not firm.excluded and firm.net_leverage() <= self.model.p.credit.ig_max_net_leverage

    def issue_bond(
        self, firm: Firm, amount: float, *, tenor_years: int | None = None, extra_spread: float = 0.0
    ) -> float:
        """IG issuers sell to the bond market (outside investors); high-yield issuers sell to private funds."""
        if amount <= 0 or not self.creditworthy(firm):
            return 0.0
        m, ledger = self.model, self.model.ledger
        tenor_q = 4 * (tenor_years or m.p.credit.bond_tenor_years)
        if self.investment_grade(firm):
            take = min(amount, self.ig_left)
            if take <= 0:
                return 0.0
            self.ig_left -= take
            self.issued_ig_q += take
            coupon = (
                m.market.reference_rate + m.market.ig_spread + self.expected_loss_premium(firm) + extra_spread
            )
            ledger.open_contract(
                Kind.BOND,
                World.OUTSIDE_INVESTORS,
                firm.party,
                principal=take,
                cash=take,
                maturity_q=m.quarter + tenor_q,
                fixed_rate=coupon,
            )
            m.log(
                "bond",
                firm.name,
                f"{firm.name} sells {take:.1f}bn of IG bonds at {coupon:.2%}",
                "bond market",
                take,
            )
            return take
        take = min(amount, self.hy_left)
        got = self.syndicate(
            "funds",
            firm,
            take,
            Kind.BOND,
            fixed_rate=m.market.reference_rate
            + m.market.hy_spread
            + self.expected_loss_premium(firm)
            + extra_spread,
            tenor_q=min(tenor_q, m.p.credit.hy_bond_max_tenor_quarters),
        )
        self.hy_left -= got
        self.issued_hy_q += got
        if got > 0:
            m.log(
                "bond",
                firm.name,
                f"{firm.name} sells {got:.1f}bn of high-yield bonds to private credit",
                "private credit",
                got,
            )
        return got

    # -- private credit ----------------------------------------------------------------------------------------
    def syndicate(
        self,
        which: str,
        firm: Firm,
        amount: float,
        kind: Kind,
        *,
        tenor_q: int,
        **terms,
    ) -> float:
        """Lend ``amount`` (at most what the lenders have room for) to a creditworthy firm, one contract per
        lender, pro rata to each lender's appetite: ``which`` is "funds" or "banks". Returns what was lent."""
        m = self.model
        lenders = m.funds if which == "funds" else m.banks
        all_appetite, able = self._lenders(which, lenders)
        if amount <= 0 or able.size == 0 or not self.creditworthy(firm):
            return 0.0
        able = self._counterparties(able, all_appetite)
        appetite = all_appetite[able]
        total = min(amount, float(appetite.sum()))
        shares = appetite / appetite.sum() * total
        for j, share in zip(able, shares, strict=True):
            if share <= 1e-9:
                continue
            lender = lenders[j]
            lender.prepare_cash(share)
            m.ledger.open_contract(
                kind,
                lender.party,
                firm.party,
                principal=share,
                cash=share,
                maturity_q=m.quarter + tenor_q,
                **terms,
            )
            lender.appetite -= share
        return total

    def borrow_private(
        self,
        firm: Firm,
        amount: float,
        kind: Kind,
        *,
        spread: float,
        tenor_q: int,
        loop: int = 0,
        off_balance_sheet: bool = False,
        **terms,
    ) -> float:
        """Floating-rate private credit: an SPV facility (off balance sheet) or a GPU-backed loan."""
        got = self.syndicate(
            "funds",
            firm,
            amount,
            kind,
            tenor_q=tenor_q,
            spread=spread + self.expected_loss_premium(firm),
            floating=True,
            amortising=True,
            loop=loop,
            off_balance_sheet=off_balance_sheet,
            **terms,
        )
        if got > 0:
            what = "an off-balance-sheet SPV facility" if kind is Kind.SPV_FACILITY else "a GPU-backed loan"
            self.model.log(
                "private_credit",
                firm.name,
                f"{firm.name} raises {got:.1f}bn in {what} at reference + {spread:.2%}",
                "private credit",
                got,
            )
        return got

    def secure_new_gpu_loans(self, firm: Firm, cohorts) -> None:
        """Secure this quarter's new GPU loans of a borrower on the capacity cohort(s) they financed; with several
        cohorts every loan is split across them pro rata to the cohorts' GPU cost."""
        ledger, c = self.model.ledger, self.model.ledger.contracts
        cohorts = [int(k) for k in np.atleast_1d(cohorts) if k >= 0]
        if not cohorts:
            return
        rows = c.of_debtor(firm.party)
        rows = rows[
            (c.kind[rows] == Kind.GPU_LOAN)
            & (c.collateral[rows] < 0)
            & (c.status[rows] == Status.ACTIVE)
            & (c.start_q[rows] == self.model.quarter)
        ]
        cost = ledger.capacity.gpu_cost[cohorts]
        if len(cohorts) == 1 or cost.sum() <= 0:
            ledger.secure(rows, cohorts[0])
            return
        shares = cost / cost.sum()
        for row in rows.tolist():
            left, home = 1.0, cohorts[0]  # the row keeps what is left and is secured on ``home`` at the end
            for cohort, share in zip(cohorts[1:], shares[1:].tolist(), strict=True):
                if share <= 1e-12:  # a cohort without GPU cost secures nothing
                    continue
                if share >= left * (1.0 - 1e-12):  # the rest of the loan (the cohorts before cost nothing)
                    home = cohort
                    break
                ledger.secure(ledger.split(row, share / left), cohort)
                left -= share
            ledger.secure(row, home)

    # -- leases ------------------------------------------------------------------------------------------------
    def open_finance_lease(self, firm: Firm, amount: float) -> float:
        """Finance leases from outside lessors (data-centre developers), drawn from the same IG investor pool."""
        m = self.model
        take = min(amount, self.ig_left)
        if take <= 0 or firm.excluded:
            return 0.0
        self.ig_left -= take
        m.ledger.open_contract(
            Kind.FINANCE_LEASE,
            World.OUTSIDE_INVESTORS,
            firm.party,
            principal=take,
            cash=take,
            maturity_q=m.quarter + 4 * m.p.credit.lease_years,
            fixed_rate=m.market.reference_rate
            + m.market.ig_spread
            + m.p.deals.lease_premium
            + self.expected_loss_premium(firm),
            amortising=True,
        )
        m.log(
            "lease",
            firm.name,
            f"{firm.name} signs {take:.1f}bn of data-centre finance leases",
            "lessors",
            take,
        )
        return take

    # -- banks -------------------------------------------------------------------------------------------------
    def borrow_bank(
        self,
        firm: Firm,
        amount: float,
        *,
        spread: float,
        tenor_q: int,
        off_balance_sheet: bool = False,
        amortising: bool = False,
        loop: int = 0,
        label: str = "a bank loan",
    ) -> float:
        m = self.model
        total = self.syndicate(
            "banks",
            firm,
            amount,
            Kind.BANK_LOAN,
            tenor_q=tenor_q,
            spread=spread + self.expected_loss_premium(firm),
            floating=True,
            amortising=amortising,
            off_balance_sheet=off_balance_sheet,
            loop=loop,
        )
        if total > 0:
            m.log(
                "bank_loan",
                firm.name,
                f"{firm.name} borrows {total:.1f}bn from banks ({label})",
                "banks",
                total,
            )
        return total

    # -- the secondary loan market -------------------------------------------------------------------------------
    def sell_loans(self, fund: Firm, need: float) -> float:
        """A fund sells a slice of its loans to raise ``need`` (economy/loan_sales.py); returns the proceeds."""
        return loan_sales.sell_for(self.model, fund, need)

    # -- equity ------------------------------------------------------------------------------------------------
    def _dilute(self, issuer: Firm, amount: float) -> float:
        """Post-money: existing stakes shrink by V/(V+amount); returns the new investor's fraction."""
        m = self.model
        # a listed issuer sells at its market value, an unlisted one (a project company) at its book equity
        v = max(m.market.value[issuer.party] if issuer.listed else issuer.equity, 1e-6)
        c = m.ledger.contracts
        m.ledger.dilute(c.stakes_in(issuer.party), v / (v + amount))
        if issuer.listed:
            for arr in (m.market.value, m.market.value_prev):
                arr[issuer.party] += amount
        m.equity_raised_q[issuer.party] = m.equity_raised_q.get(issuer.party, 0.0) + amount
        return amount / (v + amount)

    def sell_equity(self, firm: Firm, amount: float, *, buyer: str = "outside investors") -> float:
        """Sell new shares to outside investors through an at-the-market programme: at most
        ``credit.equity_issue_max_share`` of market value a quarter (times the credit mood), only while the firm
        is not in default and its price holds above ``1 − credit.equity_issue_max_drawdown`` of its peak."""
        m, c = self.model, self.model.p.credit
        value, peak = m.market.value[firm.party], m.market.value_peak[firm.party]
        if amount <= 0 or firm.in_default or value < (1.0 - c.equity_issue_max_drawdown) * peak:
            return 0.0
        take = float(min(amount, c.equity_issue_max_share * value * m.market.credit_mood()))
        if take < 0.005:  # less than 5 million: not worth a programme
            return 0.0
        self._dilute(firm, take)
        m.ledger.contribute(World.OUTSIDE_INVESTORS, firm.party, take)
        m.log(
            "equity",
            firm.name,
            f"{firm.name} raises {take:.2f}bn through an at-the-market share programme",
            buyer,
            take,
        )
        return take

    def invest(self, investor: Firm, issuer: Firm, amount: float, *, loop: int = 0, why: str = "") -> float:
        """An agent buys new shares of another agent (vendor equity): an EQUITY_STAKE contract. In the arm's-length
        counterfactual a vendor deal's money comes from outside investors instead (same amount, time and
        valuation): the issuer's cash is the same, the vendor keeps its cash and holds no stake."""
        m = self.model
        amount = float(min(amount, max(investor.cash, 0.0)))
        if amount <= 0 or issuer.in_default:
            return 0.0
        if m.p.circular.arm_length and loop in ARM_LENGTH_LOOPS:
            self._dilute(issuer, amount)
            m.ledger.contribute(World.OUTSIDE_INVESTORS, issuer.party, amount)
            m.log(
                "equity",
                issuer.name,
                f"outside investors put {amount:.1f}bn into {issuer.name} at arm's length, in place of "
                f"{investor.name}{' ' + why if why else ''}",
                "outside investors",
                amount,
            )
            return amount
        fraction = self._dilute(issuer, amount)
        m.ledger.open_contract(
            Kind.EQUITY_STAKE, investor.party, issuer.party, cash=amount, fraction=fraction, loop=loop
        )
        m.circularity.provide(investor.party, issuer.party, amount)
        m.log(
            "vendor_equity",
            investor.name,
            f"{investor.name} invests {amount:.1f}bn in {issuer.name}{' ' + why if why else ''}",
            issuer.name,
            amount,
        )
        return amount
