"""The creditloop model: a Mesa 3.5 model of the AI-infrastructure boom, its circular financing and its unwind.

One step is one quarter (step 1 = 2025Q4). The phases of a quarter are fixed, so results do not depend on the
order in which agents are activated except where firms compete for scarce credit (then the order is shuffled by
the model's own generator). Process overview: docs/ODD.md, "Process overview and scheduling".
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from accounting import invariants
from accounting.books import PartyColumns
from accounting.contracts import IS_DEBT, IS_EXECUTORY, IS_HEDGE, Kind, Status
from accounting.ledger import Flow, Ledger, World
from agents.bank import Bank
from agents.builder import CapacityOwner
from agents.private_credit import PrivateCreditFund
from economy import marks, settlement
from economy.circularity import CircularityTracker
from economy.credit_market import CreditMarket
from economy.events import EventLog, quarter_label
from economy.initialisation import build_agents, open_books, scripted_deals
from economy.leases import spv_lease_ends
from economy.market import Market
from economy.metrics import MODEL_SERIES, quarter_metrics
from params.schema import Parameters

WORLD_NAMES = ["end customers", "outside investors", "suppliers", "Treasury", "AMD"]
AGENT_SERIES = {
    "name": "name",
    "type": "type_label",
    "cash": "cash",
    "debt": "debt",
    "equity": "equity",
    "valuation": "valuation",
    "capex": "capex_q",
    "revenue": "revenue_q",
    "in_default": "in_default",
    "liquidated": "liquidated",
}


class CreditLoopModel(mesa.Model):
    """The calibrated AI-financing economy. ``params`` comes from :func:`params.loader.resolve`;
    ``collect_agents=False`` skips the per-agent series (sweeps that only need model series)."""

    def __init__(
        self,
        params: Parameters | None = None,
        *,
        rng: int | None = None,
        scenario: str = "baseline",
        collect_agents: bool = True,
    ):
        super().__init__(rng=rng)
        self.p = params if params is not None else Parameters()
        self.scenario_name = scenario
        self.seed = rng
        self.quarter = -1
        self.ledger = Ledger(WORLD_NAMES)
        self.market = Market(self.p, self.ledger.n_parties, self.rng)
        self.credit = CreditMarket(self)
        self.circularity = CircularityTracker()
        self.circularity_index = 0.0
        self.events = EventLog()
        self.firms: list = []
        self.firm_by_party: dict[int, object] = {}
        self.firms_by_name: dict[str, object] = {}
        self.funds: list[PrivateCreditFund] = []
        self.banks: list[Bank] = []
        self.nvidia = None
        self.microsoft = None
        self.firm_state = PartyColumns(
            appetite=np.float64, liquidated=np.bool_, capex_growth=np.float64, funding_shortfall=np.float64
        )
        self._groups: dict[str, object] = {}
        self._reset_quarter_accumulators()
        self.defaults_total = 0
        self.losses_total = 0.0
        self.retail_gw_total = 0.0
        build_agents(self)
        from economy.population import add_population

        add_population(self)
        self.market.resize(self.ledger.n_parties)
        open_books(self)
        self._builders = self.agents.select(lambda a: isinstance(a, CapacityOwner))
        self._refresh_caches()
        self._calibrate_revenue()
        self.demand0_gw = self.p.demand.initial_utilisation * self.retail_gw_total
        if self.p.run.check_invariants:
            invariants.check(self.ledger)
        self.metrics: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.metrics[k]) for k in MODEL_SERIES},
            agent_reporters=AGENT_SERIES if collect_agents else {},
        )
        self.running = True

    # -- registry ---------------------------------------------------------------------------------------------
    def register_party(self, firm) -> None:
        self.firms.append(firm)
        self.firm_by_party[firm.party] = firm
        self.firms_by_name[firm.name] = firm
        if isinstance(firm, PrivateCreditFund):
            self.funds.append(firm)
        elif isinstance(firm, Bank):
            self.banks.append(firm)

    def firm(self, name: str):
        return self.firms_by_name[name]

    def firm_group(self, name: str, build):
        """A list derived from ``self.firms``, rebuilt only when firms are added (read-only for callers)."""
        cached = self._groups.get(name)
        if cached is None or cached[0] != len(self.firms):
            cached = self._groups[name] = (len(self.firms), build())
        return cached[1]

    def capacity_owners(self) -> list[CapacityOwner]:
        """The firms that own capacity, in registration order (a cached list: do not modify it)."""
        return self.firm_group("owners", lambda: [f for f in self.firms if isinstance(f, CapacityOwner)])

    def corporates(self) -> list:
        """The firms that are not lenders, in registration order (a cached list: do not modify it)."""
        return self.firm_group(
            "corporates", lambda: [f for f in self.firms if not isinstance(f, PrivateCreditFund | Bank)]
        )

    def log(self, kind: str, actor: str, text: str, counterparty: str = "", amount: float = 0.0) -> None:
        self.events.add(max(self.quarter, 0), kind, actor, text, counterparty, amount)

    @property
    def label(self) -> str:
        return quarter_label(max(self.quarter, 0))

    # -- caches and queries used by the agents --------------------------------------------------------------------
    def _reset_quarter_accumulators(self) -> None:
        self.contract_revenue: dict[int, float] = {}
        self.shortfall_by_provider: dict[int, float] = {}
        self.equity_raised_q: dict[int, float] = {}
        self.compute_fees_paid: dict[int, float] = {}
        self.defaults_q = 0
        self.losses_q = 0.0

    def _refresh_caches(self) -> None:
        ledger, c = self.ledger, self.ledger.contracts
        n = ledger.n_parties
        live = c.view("status") == Status.ACTIVE
        debt = live & IS_DEBT[c.view("kind")]
        principal = c.view("principal")
        self.debt_cache = np.bincount(c.view("debtor")[debt], principal[debt], n)
        on_bs = debt & ~c.view("off_balance_sheet")
        self.debt_on_bs_cache = np.bincount(c.view("debtor")[on_bs], principal[on_bs], n)
        self.lending_cache = np.bincount(c.view("creditor")[debt], principal[debt], n)
        srt = live & (c.view("kind") == Kind.RISK_TRANSFER)
        self.protection_cache = {
            int(b): float(v) for b, v in zip(c.view("creditor")[srt], c.view("notional")[srt], strict=True)
        }
        cap = ledger.capacity
        on = cap.view("active") & cap.view("energised")
        self.cash_cache = ledger.cash.copy()
        self.energised_cache = np.bincount(cap.view("owner")[on], cap.view("gw")[on], n)

    def scheduled_dues(self, party: int) -> float:
        return float(self._expected_dues[party])

    def compute_fees_due(self, party: int) -> float:
        return float(self._expected_fees[party])

    def contracted_gw(self, provider: int, within: int) -> float:
        """GW a provider must deliver under compute contracts running now or starting within ``within``."""
        c, q = self.ledger.contracts, self.quarter
        rows = c.of_creditor(provider)  # the provider's own rows, in book order
        mine = (
            (c.status[rows] == Status.ACTIVE)
            & (c.kind[rows] == Kind.COMPUTE)
            & (c.start_q[rows] <= q + within)
            & (c.maturity_q[rows] > q)
        )
        return float(c.gw[rows][mine].sum())

    def customer_shortfall(self, provider: int) -> float:
        return self._last_shortfall.get(provider, 0.0)

    def rival_capex_growth(self, firm) -> float:
        """Mean capex growth of the other capacity owners of the firm's type, as planned last quarter (a snapshot
        taken before anyone decides, so the arms race does not depend on the order of activation)."""
        parties, position = self.firm_group("peers", self._peer_groups)[firm.type_label]
        i = position.get(firm.party)
        growth = self._rival_growth[parties]
        peers = growth if i is None else np.concatenate((growth[:i], growth[i + 1 :]))
        return float(np.mean(peers)) if peers.size else firm.capex_growth

    def _peer_groups(self) -> dict:
        groups: dict[str, list[int]] = {}
        for f in self.capacity_owners():
            groups.setdefault(f.type_label, []).append(f.party)
        return {
            label: (np.array(parties, dtype=np.int64), {p: i for i, p in enumerate(parties)})
            for label, parties in groups.items()
        }

    def installed_gw(self) -> float:
        return float(self.energised_cache.sum())

    def record_chip_sale(self, seller: int, buyer: int, amount: float) -> None:
        if amount <= 0:
            return
        if self.nvidia is not None and seller == self.nvidia.party:
            self.nvidia.chip_sales_q += amount
        if seller == self.nvidia.party or seller == World.AMD:
            self.circularity.sale(seller, buyer, amount)

    def attach_collateral(self, party: int, cohort: int) -> None:
        """Secure this quarter's new GPU loans of a borrower on the capacity cohort they financed."""
        if cohort < 0:
            return
        c = self.ledger.contracts
        rows = c.of_debtor(party)
        rows = rows[
            (c.kind[rows] == Kind.GPU_LOAN)
            & (c.collateral[rows] < 0)
            & (c.status[rows] == Status.ACTIVE)
            & (c.start_q[rows] == self.quarter)
        ]
        self.ledger.secure(rows, cohort)

    def open_finance_lease(self, firm, amount: float) -> float:
        """Finance leases from outside lessors (data-centre developers), drawn from the same IG investor pool."""
        take = min(amount, self.credit.ig_left)
        if take <= 0 or firm.excluded:
            return 0.0
        self.credit.ig_left -= take
        self.ledger.open_contract(
            Kind.FINANCE_LEASE,
            World.OUTSIDE_INVESTORS,
            firm.party,
            principal=take,
            cash=take,
            maturity_q=self.quarter + 4 * self.p.credit.lease_years,
            fixed_rate=self.market.reference_rate + self.market.ig_spread + self.p.deals.lease_premium,
            amortising=True,
        )
        self.log(
            "lease",
            firm.name,
            f"{firm.name} signs {take:.1f}bn of data-centre finance leases",
            "lessors",
            take,
        )
        return take

    # -- one quarter ---------------------------------------------------------------------------------------------
    def step(self) -> None:
        self.quarter = q = self.steps - 1
        self.ledger.quarter = q
        self._last_shortfall = self.shortfall_by_provider
        self._reset_quarter_accumulators()
        for f in self.firms:
            f.capex_q = 0.0
            f.funding_shortfall = 0.0
            if f.in_default and not f.liquidated and q > 0:
                f.in_default = False  # restructured last quarter; barred from credit until excluded_until
        if self.nvidia is not None:
            self.nvidia.chip_sales_q = 0.0
        self._apply_shocks(q)
        self.market.advance_demand(q)
        self.market.update_spreads()
        self.credit.begin_quarter()
        self._energise()
        spv_lease_ends(self)  # before the caches and expected dues: a walk-away changes both
        self._refresh_caches()
        self._allocate_compute()  # provisional: invoices firms will plan for
        d = settlement.dues(self)
        self._expected_dues = np.bincount(d["payer"], d["income"] + d["repay"], self.ledger.n_parties)
        compute = self.ledger.contracts.view("kind") == Kind.COMPUTE
        self._expected_fees = np.bincount(d["payer"][compute], d["income"][compute], self.ledger.n_parties)

        self.agents.do("observe")
        self._rival_growth = self.firm_state.capex_growth.copy()
        for lender in (*self.funds, *self.banks):
            lender.decide()
        if self.nvidia is not None:
            self.nvidia.decide()
        scripted_deals(self)
        self._builders.shuffle_do("decide")

        self._operate()
        new_defaults = settlement.settle(self)
        for f in self.firms:
            f.book_contracts(
                self.contract_revenue.get(f.party, 0.0), self.compute_fees_paid.get(f.party, 0.0)
            )
        settlement.resolve_defaults(self, new_defaults)
        self._close_finished()
        marks.mark(self)
        for lender in (*self.funds, *self.banks):
            lender.end_quarter()
        if self.nvidia is not None:
            self.nvidia.pay_out()
        self._end_quarter()

    def _apply_shocks(self, q: int) -> None:
        """Scenario shocks: windowed ones are recomputed each quarter, one-offs fire at their quarter."""
        m, p = self.market, self.p
        growth = spreads = rate = 0.0
        grid, life, openai = 1.0, p.technology.gpu_economic_life_years, 1.0
        for s in p.shocks:
            on = s.quarter <= q < s.quarter + s.duration
            if s.kind == "ai_demand_growth" and on:
                growth += s.size
            elif s.kind == "spreads" and on:
                spreads += s.size
            elif s.kind == "reference_rate" and on:
                rate += s.size
            elif s.kind == "grid_capacity" and on:
                grid *= s.size
            elif s.kind == "gpu_obsolescence" and on:
                life = min(life, s.size)
            elif s.kind == "openai_revenue" and on:
                openai *= max(0.0, 1.0 - s.size)
            if s.quarter != q:
                continue
            if s.kind == "ai_demand_level":
                m.demand_index *= math.exp(s.size)
            elif s.kind == "sentiment":
                m.sentiment = min(1.0, max(0.0, m.sentiment + s.size))
            elif s.kind == "fund_redemptions":
                for f in self.funds:
                    f.redemption_queue += s.size * max(f.equity, 0.0)
            self.log(
                "shock",
                "scenario",
                f"Shock: {s.kind.replace('_', ' ')} of {s.size:+g}"
                + (f" for {s.duration} quarters" if s.duration > 1 else ""),
            )
        m.growth_shift, m.growth_shift_until = growth, q
        m.spread_shock = spreads
        m.reference_rate = p.credit.reference_rate_annual + rate
        m.grid_multiplier = grid
        shortened = life < m.gpu_economic_life_years
        m.gpu_economic_life_years = life
        self.openai_revenue_factor = openai
        if shortened:
            marks.impair_after_shock(self)

    def _energise(self) -> None:
        """Connect ready capacity to the grid, oldest first, within this quarter's GW of connections."""
        cap, q = self.ledger.capacity, self.quarter
        waiting = np.flatnonzero(cap.view("active") & ~cap.view("energised") & (cap.view("ready_q") <= q))
        budget = self.market.grid_budget()
        if waiting.size == 0:
            self.market.grid_credit = 0.0
            return
        order = waiting[np.lexsort((waiting, cap.ready_q[waiting]))]
        # budget left before each cohort, subtracted one cohort at a time; connect until it is used up
        left = np.subtract.accumulate(np.concatenate(([budget], cap.gw[order])))
        used_up = np.flatnonzero(left[:-1] <= 0)
        k = int(used_up[0]) if used_up.size else order.size
        self.ledger.energise(order[:k])
        budget = left[k] if k else budget
        self.market.grid_credit = min(budget, 0.0)  # overdrawn connections delay the next quarter's

    def _allocate_compute(self) -> None:
        """Compute contracts: providers deliver pro rata to what they have energised; customers take all or the
        take-or-pay minimum; invoices = price x delivered GW x max(take, minimum). Sets the GW each firm sells to
        end customers (its retail capacity)."""
        c, q, n = self.ledger.contracts, self.quarter, self.ledger.n_parties
        rows = np.flatnonzero(
            (c.view("status") == Status.ACTIVE)
            & (c.view("kind") == Kind.COMPUTE)
            & (c.view("start_q") <= q)
            & (c.view("maturity_q") > q)
        )
        provider, customer = c.creditor[rows], c.debtor[rows]
        energised = self.energised_cache
        contracted = np.bincount(provider, c.gw[rows], n)
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(contracted > 0, np.minimum(1.0, energised / contracted), 0.0)
        delivered = c.gw[rows] * fill[provider]
        take_by_party = np.ones(n)
        for lab in self.firm_group("takers", lambda: [f for f in self.firms if hasattr(f, "take_share")]):
            take_by_party[lab.party] = lab.take_share
        take = take_by_party[customer]
        used = delivered * take
        self.ledger.invoice(rows, c.price[rows] * delivered * np.maximum(take, c.min_share[rows]))
        retail = energised - np.bincount(provider, used, n) + np.bincount(customer, used, n)
        for f in self.capacity_owners():
            f.retail_gw = 0.0 if f.liquidated else float(retail[f.party])
        self.retail_gw_total = float(sum(f.retail_gw for f in self.capacity_owners()))
        self._compute_rows = rows

    def _operate(self) -> None:
        self._allocate_compute()
        c = self.ledger.contracts
        rows = self._compute_rows
        self.ledger.run_down(rows, c.due[rows])  # the backlog falls by what is invoiced (paid or not)
        self.market.clear_compute(self.demand0_gw * self.market.demand_index, self.retail_gw_total)
        for r in c.active(Kind.BACKSTOP):
            if c.start_q[r] <= self.quarter <= c.maturity_q[r]:
                beneficiary = self.firm_by_party[int(c.creditor[r])]
                unsold = beneficiary.retail_gw * (1.0 - self.market.utilisation)
                due = min(c.notional[r], unsold * c.price[r])
                self.ledger.invoice(r, due)
                self.ledger.run_down(r, due)
        openai = self.firms_by_name.get("OpenAI")
        base = None
        if openai is not None:
            base = openai.price_multiplier
            openai.price_multiplier = base * self.openai_revenue_factor
        for f in self.firms:
            if not f.liquidated:
                f.operate()
        if openai is not None:
            openai.price_multiplier = base

    def _close_finished(self) -> None:
        c, q = self.ledger.contracts, self.quarter
        live = c.view("status") == Status.ACTIVE
        debt = IS_DEBT[c.view("kind")]
        repaid = np.flatnonzero(live & debt & (c.view("principal") <= 1e-9))
        self.ledger.write_down(repaid, c.principal[repaid])  # rounding dust, through the ledger
        executory = live & IS_EXECUTORY[c.view("kind")]
        expired = np.flatnonzero(executory & (c.view("maturity_q") <= q))
        self.ledger.close(np.concatenate([repaid, expired]), Status.MATURED)
        # risk transfer and hedges end at maturity: what the position is worth is settled in cash, then closed
        hedges = np.flatnonzero(live & IS_HEDGE[c.view("kind")] & (c.view("maturity_q") <= q))
        if hedges.size:
            self.ledger.cash_settle(hedges, c.value[hedges].copy(), Flow.HEDGE)
            self.ledger.close(hedges, Status.MATURED)
            for r in hedges:
                self.log(
                    "hedge_end",
                    self.ledger.names[c.creditor[r]],
                    f"{self.ledger.names[c.creditor[r]]}'s {Kind(int(c.kind[r])).name.lower().replace('_', ' ')} "
                    "matures",
                    "outside investors",
                    0.0,
                )
        expiring = np.flatnonzero(
            executory & (c.view("maturity_q") == q + 1) & (c.view("kind") == Kind.COMPUTE)
        )
        self._renew_compute(expiring)

    def _renew_compute(self, rows: np.ndarray) -> None:
        """An expiring compute contract is renewed for ``deals.compute_renewal_quarters`` at today's market
        price, for the GW the customer still needs at today's utilisation, if both sides are going concerns."""
        c, m = self.ledger.contracts, self.market
        term = self.p.deals.compute_renewal_quarters
        scale = min(1.0, m.utilisation / self.p.demand.initial_utilisation)
        price_ratio = m.compute_price / self.p.demand.compute_price_usd_bn_per_gw_year
        for r in rows:
            provider, customer = self.firm_by_party[int(c.creditor[r])], self.firm_by_party[int(c.debtor[r])]
            if customer.excluded or customer.liquidated or provider.liquidated or scale <= 0:
                continue
            gw, price = float(c.gw[r]) * scale, float(c.price[r]) * price_ratio
            self.ledger.open_contract(
                Kind.COMPUTE,
                provider.party,
                customer.party,
                notional=gw * price * term,
                gw=gw,
                price=price,
                min_share=float(c.min_share[r]),
                start_q=int(c.maturity_q[r]),
                maturity_q=int(c.maturity_q[r]) + term,
                loop=int(c.loop[r]),
            )
            self.log(
                "renewal",
                customer.name,
                f"{customer.name} renews {gw:.2f} GW of compute with {provider.name} "
                f"for {term / 4:g} years at {4 * price:.1f}bn per GW-year",
                provider.name,
                gw * price * term,
            )

    def _end_quarter(self) -> None:
        m = self.market
        sector_debt = float(self.debt_cache.sum())
        loss_share = self.losses_q / sector_debt if sector_debt > 0 else 0.0
        expected = float(np.mean([f.expected_growth for f in self.capacity_owners()]))
        m.update_sentiment(expected, loss_share)
        m.default_share += loss_share
        m.recover_prices()
        self.defaults_total += self.defaults_q
        self.losses_total += self.losses_q
        self.circularity_index = self.circularity.end_quarter()
        self._refresh_caches()
        self.metrics = quarter_metrics(self)
        if self.p.run.check_invariants:
            invariants.check(self.ledger)
        self.datacollector.collect(self)
        if self.quarter + 1 >= self.p.run.quarters:
            self.running = False

    # -- opening calibration ------------------------------------------------------------------------------------
    def _calibrate_revenue(self) -> None:
        """Split each firm's calibrated revenue into AI revenue (price x utilisation x retail GW, plus contract
        revenue) and core revenue; AI labs' price multipliers reproduce their revenue; Nvidia's revenue not from
        modelled buyers is its outside revenue."""
        self.quarter = 0
        self._allocate_compute()
        d = self.p.demand
        c = self.ledger.contracts
        rows = self._compute_rows
        fees = np.bincount(c.creditor[rows], c.due[rows], self.ledger.n_parties)
        for f in self.capacity_owners():
            ai = d.compute_price_usd_bn_per_gw_year / 4.0 * d.initial_utilisation * f.retail_gw
            if f.type_label == "AI lab":
                f.price_multiplier = f.cal.revenue_usd_bn_per_year / 4.0 / ai if ai > 0 else 1.0
                continue
            f.core_revenue0_q = max(0.0, f.cal.revenue_usd_bn_per_year / 4.0 - ai - fees[f.party])
            f.revenue_q = f.cal.revenue_usd_bn_per_year / 4.0
            f.operating_cash_q = f.cal.cash_margin * f.revenue_q
            f.opex_q = f.revenue_q - f.operating_cash_q
            if f.type_label in ("leveraged builder", "neocloud"):
                f.chip_vendor_share = 1.0  # they buy Nvidia systems
        for f in self.capacity_owners():
            if f.type_label == "AI lab":
                f.revenue_q = f.cal.revenue_usd_bn_per_year / 4.0
                f.opex_q = f.non_compute_costs(f.revenue_q)
                f.operating_cash_q = f.revenue_q - f.opex_q
        if self.nvidia is not None:
            t = self.p.technology
            chips = t.chip_cost_usd_bn_per_gw / (t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw)
            bought = sum(
                f.cal.capex_usd_bn_per_year * chips * f.chip_vendor_share for f in self.capacity_owners()
            )
            nv = self.nvidia
            nv.outside_revenue0_q = max(0.0, nv.cal.revenue_usd_bn_per_year - bought) / 4.0
            nv.revenue_q = nv.cal.revenue_usd_bn_per_year / 4.0
            nv.operating_cash_q = nv.cal.cash_margin * nv.revenue_q
        for f in self.funds + self.banks:
            f.operating_cash_q = 0.0
        for f in self.corporates():
            ai_heavy = f.type_label in ("AI lab", "neocloud", "chip vendor")
            f.growth0 = d.ai_growth_initial_annual if ai_heavy else d.core_revenue_growth_annual
            self.market.fundamental_start[f.party] = f.fundamental(record=False)
        self.quarter = -1
