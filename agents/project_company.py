"""Project companies (loop L2): the sites built for a sponsor's customer contract, as their own non-recourse party.

A project company owns the capacity it builds for the contract it carries (the Oracle-OpenAI take-or-pay: the
customer pays the project company), funds it with bank project loans up to ``deals.project_loan_to_cost`` of its
capex and the sponsor's equity for the rest, and borrows on the contract's cash flows rather than on a record of
earnings. The sponsor's support is explicit and limited: a guarantee of ``deals.sponsor_guarantee_share`` of the
project loans, called if the project company defaults. So when the customer cannot pay, the loss lands on the
project company's lenders (the banks) beyond the guarantee, and on the sponsor through its equity and its
guarantee, instead of being serviced by the sponsor's other business. docs/ODD.md §7.7.8.
"""

from __future__ import annotations

from accounting.contracts import Kind, Status
from agents.builder import CapacityOwner


class ProjectCompany(CapacityOwner):
    type_label = "project company"
    listed = False
    buys_vendor_systems = True  # Nvidia systems, as its sponsor
    builds_to_order = True  # sites built for one customer

    def __init__(self, model, name, calibration, *, sponsor, **kw):
        super().__init__(model, name, calibration, **kw)
        self.sponsor = sponsor

    def decide(self) -> None:
        if self.liquidated:
            return
        # a customer paying short stops new sites at once (what it still builds would be stranded)
        keep = 0.0 if self.model.customer_shortfall(self.party) > 1e-6 else 1.0
        self.invest_in_capacity(self.plan_capex(keep=keep), ("project_finance",))

    def begin_quarter(self) -> None:
        super().begin_quarter()
        self.term_out()

    def term_out(self) -> None:
        """A mini-perm: bullet project loans reaching their construction maturity while the contract stands and
        the project company is creditworthy are termed out, amortising to the end of its contracts (E055:
        interest-only in construction, then amortising). Otherwise they fall due and must be refinanced."""
        m, c = self.model, self.model.ledger.contracts
        rows = c.of_debtor(self.party)
        rows = rows[
            (c.status[rows] == Status.ACTIVE)
            & (c.kind[rows] == Kind.BANK_LOAN)
            & (c.maturity_q[rows] <= m.quarter)
            & ~c.amortising[rows]
        ]
        if rows.size == 0 or not m.credit.creditworthy(self):
            return
        mine = c.of_creditor(self.party)
        mine = mine[(c.status[mine] == Status.ACTIVE) & (c.kind[mine] == Kind.COMPUTE)]
        end = int(c.maturity_q[mine].max()) if mine.size else m.quarter
        if end <= m.quarter + 1:
            return
        m.ledger.term_out(rows, end)
        m.log(
            "bank_loan",
            self.name,
            f"{self.name}'s banks term out {float(c.principal[rows].sum()):.1f}bn of project loans to "
            f"quarter {end}",
            "banks",
            float(c.principal[rows].sum()),
        )

    def capacity_plan(self) -> tuple[float, float]:
        """(refit GW, new-site GW): a construction programme for its contracts. The GW the contracts need at
        their peak are ordered in equal parts from now to the last quarter that still meets the peak a build lag
        later (a developer keeps its crews busy rather than building each phase at the last moment), and never
        less than what the contracts need a build lag ahead (docs/ODD.md §7.7.8)."""
        m = self.model
        horizon = m.p.technology.build_lag_quarters
        have = m.gw_at_horizon(self.party, horizon)
        gw = max(0.0, m.contracted_gw_at(self.party, m.quarter + horizon) - have)
        peak_q, peak_gw = self.contract_peak(m.quarter + horizon)
        if peak_q > m.quarter + horizon:
            short = peak_gw - m.gw_at_horizon(self.party, peak_q - m.quarter)
            gw = max(gw, short / (peak_q - horizon - m.quarter + 1))
        refit = min(gw, m.free_shell_gw(self.party))
        return refit, gw - refit

    def contract_peak(self, first_q: int) -> tuple[int, float]:
        """(quarter, GW) of the most GW its compute contracts need at once from ``first_q`` on (the earliest such
        quarter): the phases of a contract start one after another, so the peak is where the last has started."""
        c = self.model.ledger.contracts
        rows = c.of_creditor(self.party)
        rows = rows[(c.status[rows] == Status.ACTIVE) & (c.kind[rows] == Kind.COMPUTE)]
        start, end, gw = c.start_q[rows], c.maturity_q[rows], c.gw[rows]
        starts = sorted({first_q, *(int(s) for s in start if s > first_q)})
        needs = [float(gw[(start <= q) & (end > q)].sum()) for q in starts]  # as ``contracted_gw_at``
        best = max(range(len(starts)), key=lambda i: (needs[i], -starts[i]))
        return starts[best], needs[best]

    def plan_capex(self, *, refits_only: bool = False, keep: float = 1.0) -> float:
        """The capex its contract needs now, not smoothed: the sites are scheduled by the contract."""
        t = self.model.p.technology
        refit, new = self.capacity_plan()
        self.capex_plan_q = keep * (refit * t.chip_cost_usd_bn_per_gw + new * self.cost_per_gw)
        return self.capex_plan_q

    def raise_liquidity(self, shortfall: float) -> float:
        """Short of cash for what falls due (a construction loan maturing, interest before the sites earn):
        the banks extend or term out the project loans while the contract stands (E055: 4 years plus two 1-year
        extensions), if the project company is still creditworthy."""
        m, d = self.model, self.model.p.deals
        got = m.credit.borrow_bank(
            self,
            shortfall,
            spread=d.project_loan_spread,
            tenor_q=4 * m.p.credit.loan_tenor_years,
            loop=2,
            label="an extension of its project loans",
        )
        self.guarantee(got)
        return got

    def fund(self, need: float, order: tuple[str, ...]) -> float:
        """Project finance, equity first: the sponsor puts up ``1 − deals.project_loan_to_cost`` of the need (raising
        it through its own order if its cash is short), then the banks lend the rest against the contract, in
        proportion to the equity that came in, ``deals.sponsor_guarantee_share`` of it guaranteed by the sponsor."""
        m, d = self.model, self.model.p.deals
        equity = 0.0
        sponsor = self.sponsor
        if not sponsor.excluded:
            want = (1.0 - d.project_loan_to_cost) * need

            def spare() -> float:  # what the sponsor can put in without missing its own payments
                return max(sponsor.cash - m.scheduled_dues(sponsor.party) - sponsor.cash_buffer(), 0.0)

            if want > spare():
                sponsor.fund(want - spare(), ("bonds", "equity"))
            equity = m.credit.invest(sponsor, self, min(want, spare()), loop=2, why="as sponsor equity")
        if equity <= 0:
            return 0.0
        loans = m.credit.borrow_bank(
            self,
            d.project_loan_to_cost / (1.0 - d.project_loan_to_cost) * equity,
            spread=d.project_loan_spread,
            tenor_q=4 * m.p.credit.loan_tenor_years,
            loop=2,
            label="project loans",
        )
        self.guarantee(loans)
        return loans + equity

    def guarantee(self, loans: float) -> None:
        """The sponsor guarantees ``deals.sponsor_guarantee_share`` of new project loans (a contingent claim)."""
        amount = self.model.p.deals.sponsor_guarantee_share * loans
        if amount > 0:
            self.model.ledger.open_contract(
                Kind.GUARANTEE,
                self.party,
                self.sponsor.party,
                notional=amount,
                maturity_q=self.model.quarter + 4 * self.model.p.credit.loan_tenor_years,
                loop=2,
            )

    def sponsor_share(self) -> float:
        """The fraction of the project company its sponsor owns (its live stakes; the rest is outside equity)."""
        c = self.model.ledger.contracts
        rows = c.of_debtor(self.party)
        rows = rows[
            (c.status[rows] == Status.ACTIVE)
            & (c.kind[rows] == Kind.EQUITY_STAKE)
            & (c.creditor[rows] == self.sponsor.party)
        ]
        return float(c.fraction[rows].sum())

    def net_leverage(self) -> float:
        """Project lenders size loans on the contract, not on past earnings: net debt over a year of the
        contract's minimum payments."""
        m = self.model
        net = self.debt - float(m.cash_cache[self.party])
        if net <= 0:
            return 0.0
        annual = 4.0 * m.contracted_revenue_q(self.party)
        return net / annual if annual > 0 else float("inf")
