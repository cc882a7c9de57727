"""The common base of every firm in creditloop: a Mesa agent tied to one ledger party.

A firm never writes balances: it reads its books through the ledger and acts through the ledger, the credit
market and contracts. Decision rules of each type are in the sibling modules and in docs/ODD.md ("Agents").
"""

from __future__ import annotations

import mesa

from accounting.journal import Flow
from accounting.ledger import World


class Firm(mesa.Agent):
    """A firm: one ledger party plus the state its decision rules remember.

    ``model`` is the economy (:class:`economy.model.CreditLoopModel`); agents reach it only at run time, through
    its ledger, markets and credit market, so this layer imports nothing from the economy. The economy calls the
    phase methods and hooks below; each type overrides what it does differently (defaults: do nothing)."""

    type_label = "firm"
    loss_holder = "other"  # its category in the loss book (economy/losses.py)
    listed = True  # has an equity market value
    ai_heavy = False  # its revenue growth priced in at the start is AI demand growth, not core growth
    cuts_compute_take = False  # it may take only the take-or-pay minimum of its compute contracts

    def __init__(
        self,
        model: mesa.Model,
        name: str,
        *,
        synthetic: bool = False,
        template: str | None = None,
        size: float = 1.0,
    ):
        super().__init__(model)
        self.name = name
        self.synthetic = synthetic
        self.template = template or name  # the calibrated firm this one is modelled on (itself if calibrated)
        self.size = size  # its size relative to the template (population mode draws it; 1 if calibrated)
        known = model.ledger.party_of(name)
        self.party = model.ledger.add_party(name) if known is None else known
        model.register_party(self)
        self.in_default = False
        self.liquidated = False
        self.excluded_until = -1
        self.revenue_q = 0.0  # last quarter's revenue (all lines)
        self.ai_revenue_q = 0.0
        self.opex_q = 0.0
        self.capex_q = 0.0
        self.operating_cash_q = 0.0
        self.funding_shortfall = 0.0
        self.restructurings = 0
        self.revenue_history: list[float] = []
        self.growth0 = 0.0  # revenue growth priced in at the start (set by the economy builder)

    # -- state kept in per-party arrays (so markets can select among thousands of firms without a loop) --------
    @property
    def liquidated(self) -> bool:
        return bool(self.model.firm_state.liquidated[self.party])

    @liquidated.setter
    def liquidated(self, value: bool) -> None:
        self.model.firm_state.ensure(self.party).liquidated[self.party] = value

    @property
    def funding_shortfall(self) -> float:
        """Operating bills not paid when due this quarter (USD bn); settlement adds them to what the firm owes."""
        return float(self.model.firm_state.funding_shortfall[self.party])

    @funding_shortfall.setter
    def funding_shortfall(self, value: float) -> None:
        self.model.firm_state.ensure(self.party).funding_shortfall[self.party] = value

    @property
    def appetite(self) -> float:
        """A lender's room for new AI loans this quarter (USD bn); zero for firms that do not lend."""
        return float(self.model.firm_state.appetite[self.party])

    @appetite.setter
    def appetite(self, value: float) -> None:
        self.model.firm_state.ensure(self.party).appetite[self.party] = value

    # -- read the books ----------------------------------------------------------------------------------------
    @property
    def ledger(self):
        return self.model.ledger

    @property
    def cash(self) -> float:
        return float(self.ledger.cash[self.party])

    @property
    def debt(self) -> float:
        return float(self.model.debt_cache[self.party])

    @property
    def debt_on_balance_sheet(self) -> float:
        return float(self.model.debt_on_bs_cache[self.party])

    @property
    def equity(self) -> float:
        return float(self.ledger.paid_in[self.party] + self.ledger.retained[self.party])

    @property
    def valuation(self) -> float:
        return float(self.model.market.value[self.party])

    @property
    def credit_spread(self) -> float:
        """The spread it would borrow at now: its grade's market spread plus LGD x its default probability."""
        return self.model.credit.issuer_spread(self)

    @property
    def debtrank(self) -> float:
        """Its DebtRank this quarter: the share of the agents' equity the others lose if it defaults."""
        return float(self.model.debtrank_cache[self.party])

    @property
    def excluded(self) -> bool:
        return self.in_default or self.model.quarter < self.excluded_until

    def balance_sheet(self) -> dict[str, float]:
        return self.ledger.balance_sheet(self.party)

    def net_leverage(self) -> float:
        """Net reported debt over annualised operating cash flow (inf when cash flow is not positive), both as
        of the start of the quarter, so that money raised this quarter does not flatter it."""
        net = self.debt_on_balance_sheet - float(self.model.cash_cache[self.party])
        ocf = 4.0 * self.operating_cash_q
        if net <= 0:
            return 0.0
        return net / ocf if ocf > 0 else float("inf")

    # -- acting through the ledger -----------------------------------------------------------------------------
    def earn(self, amount: float, payer: int = World.END_CUSTOMERS, flow: Flow = Flow.REVENUE) -> None:
        if amount > 0:
            self.ledger.pay(payer, self.party, amount, flow)

    def spend(self, amount: float, payee: int = World.SUPPLIERS, flow: Flow = Flow.OPEX) -> float:
        """Pay an operating cost; if cash is short, pay what there is (the rest becomes a funding shortfall)."""
        paid = float(min(max(amount, 0.0), max(self.cash, 0.0)))
        if paid > 0:
            self.ledger.pay(self.party, payee, paid, flow)
        self.funding_shortfall += max(amount, 0.0) - paid
        return paid

    def book_contracts(self, received: float, paid: float) -> None:
        """Add what compute contracts and backstops paid this quarter to the operating account."""
        self.revenue_q += received
        self.ai_revenue_q += received
        self.operating_cash_q += received - paid

    def fundamental(self, *, record: bool = True) -> float:
        """What the equity market values: annualised revenue, scaled by how its growth compares with the
        growth priced in at the start (a growth-adjusted multiple: F = R x (1+g)/(1+g0)).
        ``record`` appends this quarter's revenue to the history (once a quarter, at the marks)."""
        history = self.revenue_history if record else [*self.revenue_history]
        history.append(4.0 * (self.revenue_q + self.look_through_revenue_q()))
        if len(history) > 5:
            history.pop(0)
        growth = history[-1] / history[0] - 1.0 if history[0] > 0 and len(history) == 5 else self.growth0
        premium = (1.0 + min(max(growth, -0.9), 2.0)) / (1.0 + self.growth0)  # growth read within -90%..+200%
        return max(history[-1] * premium, 1e-3)

    def sell_everything(self) -> None:
        """In liquidation: sell what the estate can sell beyond its capacity (nothing, for most firms)."""

    def other_liquidity(self) -> float:
        """A year of liquidity beyond cash and operating cash flow that its lenders count (0 for most firms)."""
        return 0.0

    def look_through_revenue_q(self) -> float:
        """Revenue of unlisted affiliates the market counts as the firm's own (a sponsor's project companies)."""
        return 0.0

    # -- phases (overridden by types) ---------------------------------------------------------------------------
    def begin_quarter(self) -> None:
        """Reset the quarter's flows; a firm restructured last quarter leaves default (it stays barred from
        credit until ``excluded_until``)."""
        self.capex_q = 0.0
        self.funding_shortfall = 0.0
        # a closed firm earns and spends nothing: its last quarter's flows do not carry on
        if self.liquidated:
            self.revenue_q = self.ai_revenue_q = self.opex_q = self.operating_cash_q = 0.0
        elif self.in_default and self.model.quarter > 0:
            self.in_default = False

    def observe(self) -> None:
        pass

    def decide(self) -> None:
        pass

    def operate(self) -> None:
        pass

    def end_quarter(self) -> None:
        pass

    # -- hooks the economy calls (defaults for firms that do nothing there) -------------------------------------
    def raise_liquidity(self, shortfall: float) -> float:
        """Short of cash for what falls due in settlement: raise what it can at once. Returns what it raised."""
        return 0.0

    def compute_terminated(
        self, provider: int, gw: float, premium: float, min_share: float, loop: int
    ) -> None:
        """One of its compute contracts (as the customer) was terminated in its default."""

    def record_credit_loss(self, amount: float) -> None:
        """A credit loss on a claim it holds (lenders remember them)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


def capacity_of(model, party: int) -> tuple[float, float]:
    """(energised GW, GW waiting for power or under construction) owned by a party. Reads only the party's own
    cohorts (an index by owner), in book order, so the sums equal the full-book masked sums."""
    cap = model.ledger.capacity
    rows = cap.index("owner").rows(party)
    gw = cap.gw[rows]
    own = cap.active[rows]
    on = cap.energised[rows]
    energised = float(gw[own & on].sum())
    pending = float(gw[own & ~on].sum())
    return energised, pending


def clip(x: float, lo: float, hi: float) -> float:
    """``np.clip`` for one number (same result, NaN included), without numpy's per-call overhead."""
    return float(min(max(x, lo), hi))
