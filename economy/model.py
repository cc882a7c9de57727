"""The creditloop model: a Mesa 3.5 model of the AI-infrastructure boom, its circular financing and its unwind.

One step is one quarter (step 1 = 2025Q4). :meth:`CreditLoopModel.step` runs the phases of docs/ODD.md §3 in a
fixed order, each a function of the module of its mechanism, so results do not depend on the order in which
agents are activated except where firms compete for scarce credit (then the order is shuffled by the model's own
generator). This module holds the phases, the registry of firms and the queries agents make of the economy.
"""

from __future__ import annotations

import mesa
import numpy as np

from accounting import invariants
from accounting.books import PartyColumns
from accounting.contracts import IS_DEBT, Kind, Status
from accounting.ledger import Ledger, World
from agents.bank import Bank
from agents.builder import CapacityOwner
from agents.private_credit import PrivateCreditFund
from economy import (
    capital,
    compute_market,
    credit_risk,
    defaults,
    energy,
    leases,
    lifecycle,
    marks,
    settlement,
    shocks,
    systemic,
)
from economy.calibration import calibrate_revenue
from economy.circularity import CircularityTracker
from economy.collect import make_collector
from economy.credit_market import CreditMarket
from economy.events import EventLog, quarter_label
from economy.initialisation import build_agents, open_books
from economy.losses import LossBook
from economy.market import Market
from economy.metrics import quarter_metrics
from economy.opening_deals import scripted_deals
from economy.population import add_population
from params.schema import Parameters

# events that report a sum of money at one decimal: below 0.05bn they would read "0.0bn"
FLOW_EVENTS = frozenset(
    {"bond", "bank_loan", "private_credit", "lease", "revolver", "vendor_equity", "loan_sale", "guarantee",
     "claim", "impairment", "collateral", "equity", "backstop", "risk_transfer", "estate"}
)  # fmt: skip
WORLD_NAMES = ["end customers", "outside investors", "suppliers", "Treasury", "AMD"]


class CreditLoopModel(mesa.Model):
    """The calibrated AI-financing economy. ``params`` comes from :func:`params.loader.resolve`;
    ``collect_agents=False`` skips the per-agent series (sweeps that only need model series). ``collector``:
    ``"datacollector"`` (Mesa's DataCollector, which the app reads while it runs) or ``"lean"`` (preallocated
    arrays, the CLI's and the sweeps' path; economy/collect.py); both give the same frames."""

    def __init__(
        self,
        params: Parameters | None = None,
        *,
        rng: int | None = None,
        scenario: str = "baseline",
        collect_agents: bool = True,
        collector: str = "datacollector",
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
        self.loss_book = LossBook()
        self.firms: list = []
        self.firm_by_party: dict[int, object] = {}
        self.firms_by_name: dict[str, object] = {}
        self.funds: list[PrivateCreditFund] = []
        self.banks: list[Bank] = []
        self.nvidia = None
        self.project_company = None  # the Stargate sites (loop L2), if any
        self.firm_state = PartyColumns(
            appetite=np.float64, liquidated=np.bool_, capex_growth=np.float64, funding_shortfall=np.float64
        )
        self._groups: dict[str, object] = {}
        self.reset_quarter_accumulators()
        self.defaults_total = 0
        self.losses_total = 0.0
        self.retail_gw_total = 0.0
        self.compute_rows = np.zeros(0, dtype=np.int64)
        self.pd = np.zeros(self.ledger.n_parties)  # one-year default probabilities (economy/credit_risk.py)
        build_agents(self)
        add_population(self)
        self.market.resize(self.ledger.n_parties)
        open_books(self)
        self._builders = self.agents.select(lambda a: isinstance(a, CapacityOwner))
        self.refresh_caches()
        calibrate_revenue(self)
        self.pd = credit_risk.default_probabilities(self)
        # the lowest bank capital ratio, from the opening books on (its fall is a run's bank capital drop)
        self.bank_ratio_path = [min((b.capital_ratio() for b in self.banks), default=float("nan"))]
        self.default_costs_total = 0.0
        if self.p.run.check_invariants:
            invariants.check(self.ledger)
        self.metrics: dict[str, float] = {}
        self.collect_agents = collect_agents
        self.debtrank_cache = np.full(self.ledger.n_parties, np.nan)
        self.datacollector = make_collector(collector, self.p.run.quarters, collect_agents)
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

    def lenders(self) -> list:
        """The funds, then the banks (the order in which they decide and close their quarter)."""
        return self.firm_group("lenders", lambda: [*self.funds, *self.banks])

    def firms_by_template(self, template: str) -> list:
        """The firms modelled on a calibrated firm (the firm itself, and synthetic look-alikes)."""
        return self.firm_group(
            f"template {template}", lambda: [f for f in self.firms if f.template == template]
        )

    def log(self, kind: str, actor: str, text: str, counterparty: str = "", amount: float = 0.0) -> None:
        """Write an event; money flows too small to show at one decimal (0.0bn) are not events."""
        if kind in FLOW_EVENTS and abs(amount) < 0.05:
            return
        self.events.add(max(self.quarter, 0), kind, actor, text, counterparty, amount)

    @property
    def label(self) -> str:
        return quarter_label(max(self.quarter, 0))

    # -- caches and queries used by the agents --------------------------------------------------------------------
    def reset_quarter_accumulators(self) -> None:
        self.contract_revenue: dict[int, float] = {}
        self.shortfall_by_provider: dict[int, float] = {}
        self.equity_raised_q: dict[int, float] = {}
        self.compute_fees_paid: dict[int, float] = {}
        self.defaults_q = 0
        self.losses_q = 0.0
        self.ordered_gw_q = 0.0
        self.new_defaulters: list[int] = []
        self.default_costs_q = 0.0
        self.retired_gw_q = 0.0
        self.retired_gw_by_party: dict[int, float] = {}
        self.replacement_capex_q = 0.0
        self.market.disposed_gw_q = 0.0

    def refresh_caches(self) -> None:
        """Per-party sums the agents read many times a quarter: debt (all, on balance sheet), lending,
        protection, cash at this point and energised GW."""
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

    def demand_gw(self) -> float:
        """AI demand for compute this quarter, in GW at the calibrated price."""
        return self.demand0_gw * self.market.demand_index

    def contracted_gw_at(self, provider: int, quarter: int) -> float:
        """GW a provider must deliver under compute contracts running in ``quarter``."""
        c = self.ledger.contracts
        rows = c.of_creditor(provider)
        running = (
            (c.status[rows] == Status.ACTIVE)
            & (c.kind[rows] == Kind.COMPUTE)
            & (c.start_q[rows] <= quarter)
            & (c.maturity_q[rows] > quarter)
        )
        return float(c.gw[rows][running].sum())

    def contracted_revenue_q(self, provider: int, within: int | None = None) -> float:
        """A quarter's revenue under the provider's compute contracts running now or starting within ``within``
        quarters (all of them if None), at their contracted prices and take-or-pay minimums."""
        c, q = self.ledger.contracts, self.quarter
        rows = c.of_creditor(provider)
        mine = (c.status[rows] == Status.ACTIVE) & (c.kind[rows] == Kind.COMPUTE) & (c.maturity_q[rows] > q)
        if within is not None:
            mine &= c.start_q[rows] <= q + within
        return float((c.price[rows] * c.gw[rows] * c.min_share[rows])[mine].sum())

    def tobins_q(self, funding_rate_annual: float) -> float:
        """Tobin's q of a new GW at today's rental margin (economy/capital.py)."""
        m = self.market
        margin = m.compute_price * m.utilisation - capital.running_cost(self)
        return capital.tobins_q(self, funding_rate_annual, margin)

    def absorbable_gw(self, expected_demand_gw: float, funding_rate_annual: float) -> float:
        return capital.absorbable_gw(self, expected_demand_gw, funding_rate_annual)

    def free_shell_gw(self, party: int) -> float:
        return capital.free_shell_gw(self, party)

    def gw_at_horizon(self, party: int, horizon_q: int) -> float:
        """GW of GPUs the firm will have in service or on order ``horizon_q`` quarters ahead, from what it has."""
        return capital.gw_ahead(self, self.ledger.capacity.index("owner").rows(party), horizon_q)

    def gw_and_retiring_at_horizon(self, party: int, horizon_q: int) -> tuple[float, float]:
        """(GW in service or on order ``horizon_q`` quarters ahead, GW of it retiring in that quarter)."""
        return capital.gw_ahead_and_retiring(self, self.ledger.capacity.index("owner").rows(party), horizon_q)

    def record_purchase(self, gw: float, capex: float, refit: bool) -> None:
        """A firm ordered ``gw`` of GPUs for ``capex`` (a refit of a freed shell is replacement capex)."""
        self.ordered_gw_q += gw
        if refit:
            self.replacement_capex_q += capex

    def record_chip_sale(self, seller: int, buyer: int, amount: float) -> None:
        if amount <= 0:
            return
        if self.nvidia is not None and seller == self.nvidia.party:
            self.nvidia.record_sale(amount)
        if seller == self.nvidia.party or seller == World.AMD:
            self.circularity.sale(seller, buyer, amount)

    # -- one quarter: the phases of docs/ODD.md §3 ------------------------------------------------------------
    def step(self) -> None:
        self.start_quarter()  # 1
        self.environment()  # 2-8
        self.observe()  # 9
        self.decide()  # 10-13
        compute_market.operate(self)  # 14: markets
        new_defaults = self.settle()  # 15-16
        defaults.resolve(self, new_defaults)  # 17
        lifecycle.end_contracts(self)  # 18
        marks.mark(self)  # 19
        self.end_quarter()  # 20-22
        self.check_invariants()
        self.collect()

    def start_quarter(self) -> None:
        """Clock and resets: last quarter's customer shortfalls are kept for the builders; firms reset."""
        self.quarter = self.steps - 1
        self.ledger.quarter = self.quarter
        self._last_shortfall = self.shortfall_by_provider
        self.reset_quarter_accumulators()
        for f in self.firms:
            f.begin_quarter()

    def environment(self) -> None:
        """What everyone will observe: shocks, AI demand, spreads, credit-market capacity, grid connections, SPV
        lease ends, caches, the provisional compute allocation and everyone's scheduled dues."""
        shocks.apply(self)
        capital.retire(self)  # at the economic life in force (a shock may just have shortened it)
        self.market.advance_demand(self.quarter)
        self.market.update_spreads()
        self.credit.begin_quarter()
        energy.energise(self)
        leases.spv_lease_ends(self)  # before the caches and expected dues: a walk-away changes both
        self.refresh_caches()
        self.pd = credit_risk.default_probabilities(self)  # what lenders price new credit on this quarter
        # capacity in service or on order a build lag ahead, as every firm sees it before anyone orders
        cap = self.ledger.capacity
        self.capacity_ahead_gw = capital.gw_ahead(
            self, np.arange(cap.n), self.p.technology.build_lag_quarters
        )
        compute_market.allocate(self)  # provisional: invoices firms will plan for
        d = settlement.quarter_dues(self)
        n = self.ledger.n_parties
        self._expected_dues = d.per_payer(n)
        self._expected_repay = np.bincount(d.payer, d.repay, n)
        self._expected_fees = d.per_payer(n, self.ledger.contracts.view("kind") == Kind.COMPUTE)

    def observe(self) -> None:
        """Agents form expectations; the rivals' capex growth is snapshotted before anyone decides."""
        self.agents.do("observe")
        self._rival_growth = self.firm_state.capex_growth.copy()

    def decide(self) -> None:
        """Lenders set their appetite, the vendor its willingness to invest, the 2025Q4 deals are booked, and
        capacity owners (in random order) set capex, raise funding and buy capacity."""
        for lender in self.lenders():
            lender.decide()
        if self.nvidia is not None:
            self.nvidia.decide()
        scripted_deals(self)
        self._builders.shuffle_do("decide")

    def settle(self) -> list[int]:
        """Settlement, then every firm books what its compute contracts and backstops paid."""
        new = settlement.settle(self)
        self.new_defaulters = new
        for f in self.firms:
            f.book_contracts(
                self.contract_revenue.get(f.party, 0.0), self.compute_fees_paid.get(f.party, 0.0)
            )
        return new

    def end_quarter(self) -> None:
        """Lenders' investor flows and payouts, the vendor's payout, sentiment, default memory, prices, totals,
        the circularity index and the quarter's model series."""
        for lender in self.lenders():
            lender.end_quarter()
        if self.nvidia is not None:
            self.nvidia.end_quarter()
        m = self.market
        sector_debt = float(self.debt_cache.sum())
        loss_share = self.losses_q / sector_debt if sector_debt > 0 else 0.0
        expected = float(np.mean([f.expected_growth for f in self.capacity_owners()]))
        m.update_sentiment(expected, loss_share)
        m.default_share += loss_share
        m.recover_prices()
        self.defaults_total += self.defaults_q
        self.losses_total += self.losses_q
        self.default_costs_total += self.default_costs_q
        if self.banks:
            self.bank_ratio_path.append(min(b.capital_ratio() for b in self.banks))
        self.circularity_index = self.circularity.end_quarter()
        self.refresh_caches()
        self.metrics = quarter_metrics(self)

    def check_invariants(self) -> None:
        if self.p.run.check_invariants:
            invariants.check(self.ledger)

    def collect(self) -> None:
        if self.collect_agents:  # the agents' DebtRank, on the books as the quarter ends
            self.debtrank_cache = systemic.debtranks(self)
        self.datacollector.collect(self)
        if self.quarter + 1 >= self.p.run.quarters:
            self.running = False
