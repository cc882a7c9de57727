"""The reference: one quarter's accounting written the straightforward way, one agent and one contract at a time.

This is what the model's vectorised code (:func:`economy.settlement.settle`, :func:`economy.marks.mark_contracts`)
does, restated as plain Python objects and loops, in the order a textbook would: for each contract, what falls
due (interest = principal x rate / 4 from the quarter after signing, principal at maturity, linear amortisation
before it, margin calls on GPU loans, compute and backstop invoices, SRT premiums), paid from debtor to creditor
when every firm can pay, with each posting on both balance sheets and in the journal; then each stake, warrant and
short marked to market, each capacity cohort depreciated, and each GPU-backed loan's LTV covenant checked.

It is kept as the yardstick of the benchmarks (``speedup_vs_reference``) and is tested to give the same numbers as
the model (``tests/test_reference_accounting.py``). It reads a snapshot of the model's books and never writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounting.contracts import DEBT_KINDS, Kind, Status
from accounting.ledger import ACCOUNTS, PNL_FLOWS, Flow
from economy import capital

DEBT = {int(k) for k in DEBT_KINDS}
INCOME_FLOW = {
    int(Kind.COMPUTE): Flow.COMPUTE_FEE,
    int(Kind.BACKSTOP): Flow.BACKSTOP,
    int(Kind.RISK_TRANSFER): Flow.SRT_PREMIUM,
}
TWO_SIDED = {int(Kind.WARRANT), int(Kind.RISK_TRANSFER), int(Kind.EQUITY_SHORT)}


@dataclass
class Party:
    name: str
    is_world: bool
    cash: float = 0.0
    real_assets: float = 0.0
    fin_assets: float = 0.0
    fin_liabs: float = 0.0
    other_assets: float = 0.0
    other_liabs: float = 0.0
    paid_in: float = 0.0
    retained: float = 0.0
    cash_at_open: float = 0.0
    # an unlisted issuer's shares are worth its book equity (at least 0), not a market value
    listed: bool = True


@dataclass
class Contract:
    kind: int
    status: int
    creditor: int
    debtor: int
    principal: float
    notional: float
    value: float
    fixed_rate: float
    spread: float
    floating: bool
    amortising: bool
    start_q: int
    maturity_q: int
    gw: float
    price: float
    market_price: float  # compute: the market price when signed (renewals only; not used in a quarter)
    min_share: float
    fraction: float
    unvested: float
    residual_guarantee: float
    margin_call: float
    ltv_max: float
    collateral: int
    off_balance_sheet: bool
    loop: int
    due: float
    past_due: float
    allowance: float  # the creditor's expected-loss provision against it (carrying = principal − allowance)


@dataclass
class Cohort:
    owner: int
    vintage_q: int
    ready_q: int
    gw: float
    energised: bool
    gpu_cost: float
    shell_cost: float
    gpu_book: float
    shell_book: float
    active: bool
    shell_gw: float
    refit: bool


@dataclass
class Market:
    """What the quarter's accounting reads from the markets."""

    quarter: int
    reference_rate: float
    value: list[float]  # equity market value by party
    amd_price: float
    equity_index: float
    gpu_accounting_life_years: float
    shell_life_years: float
    gpu_economic_life_years: float
    fire_sale_discount: float
    compute_price: float
    utilisation: float
    running_cost: float  # USD bn per GW-year
    discount_rate: float  # second-hand GPU market: reference + HY spread
    margin0: float  # the 2025 rental margin per GW-year
    annuity0: float  # A(2025 rate, 2025 economic life)


@dataclass
class Books:
    parties: list[Party]
    contracts: list[Contract]
    cohorts: list[Cohort]
    market: Market
    journal: list[tuple[int, int, float, int, int]] = field(
        default_factory=list
    )  # payer, payee, amount, flow, id
    compute_fees_paid: dict[int, float] = field(default_factory=dict)
    contract_revenue: dict[int, float] = field(default_factory=dict)


def books_of(model) -> Books:
    """A copy of the model's books as plain Python objects (numbers converted to Python floats and ints)."""
    ledger, c, cap, m = model.ledger, model.ledger.contracts, model.ledger.capacity, model.market
    parties = [
        Party(name, bool(ledger.is_world[i]), **{a: float(getattr(ledger, a)[i]) for a in ACCOUNTS})
        for i, name in enumerate(ledger.names)
    ]
    for firm in model.firms:
        parties[firm.party].listed = bool(firm.listed)
    columns = {name: c.view(name).tolist() for name in c.column_names()}
    contracts = [Contract(**{name: columns[name][i] for name in columns}) for i in range(c.n)]
    cap_columns = {name: cap.view(name).tolist() for name in cap.column_names()}
    cohorts = [Cohort(**{name: cap_columns[name][i] for name in cap_columns}) for i in range(cap.n)]
    t = model.p.technology
    market = Market(
        quarter=model.quarter,
        reference_rate=float(m.reference_rate),
        value=m.value.tolist(),
        amd_price=float(m.amd_price),
        equity_index=float(m.equity_index),
        gpu_accounting_life_years=t.gpu_accounting_life_years,
        shell_life_years=t.shell_life_years,
        gpu_economic_life_years=float(m.gpu_economic_life_years),
        fire_sale_discount=float(m.fire_sale_discount),
        compute_price=float(m.compute_price),
        utilisation=float(m.utilisation),
        running_cost=capital.running_cost(model),
        discount_rate=float(m.reference_rate + m.hy_spread),
        margin0=capital._opening_margin(model),
        annuity0=float(capital.annuity(capital._opening_rate(model), 4.0 * t.gpu_economic_life_years)),
    )
    return Books(parties, contracts, cohorts, market)


# -- one quarter ---------------------------------------------------------------------------------------------------
def quarter(books: Books) -> Books:
    """Run one quarter's accounting on ``books`` (in place) and return them."""
    settle(books)
    mark(books)
    depreciate(books)
    check_covenants(books)
    return books


def due(contract: Contract, market: Market) -> tuple[float, float, int, int]:
    """(income, principal repayment, payer, payee) of one contract this quarter."""
    q = market.quarter
    income = repay = 0.0
    payer, payee = contract.debtor, contract.creditor
    if contract.status != Status.ACTIVE:
        return 0.0, 0.0, payer, payee
    if contract.kind in DEBT and contract.start_q < q:
        rate = contract.fixed_rate + contract.spread + (market.reference_rate if contract.floating else 0.0)
        income = contract.principal * rate / 4.0
        if contract.maturity_q <= q:
            repay = contract.principal
        elif contract.amortising:
            repay = contract.principal / max(contract.maturity_q - q + 1.0, 1.0)
        if contract.kind == Kind.GPU_LOAN and contract.margin_call > 0:  # a margin call is due in full
            repay = min(contract.principal, max(repay, contract.margin_call))
    elif contract.kind in (Kind.COMPUTE, Kind.BACKSTOP):
        income = contract.due
    elif contract.kind == Kind.RISK_TRANSFER:
        income = contract.notional * contract.fixed_rate / 4.0
        payer, payee = contract.creditor, contract.debtor  # the protection buyer pays the premium
    return income, repay, payer, payee


def pay(books: Books, payer: int, payee: int, amount: float, flow: Flow, contract: int) -> None:
    if amount <= 0.0:
        return
    a, b = books.parties[payer], books.parties[payee]
    a.cash -= amount
    b.cash += amount
    if flow in PNL_FLOWS:
        a.retained -= amount
        b.retained += amount
    books.journal.append((payer, payee, amount, int(flow), contract))


def settle(books: Books) -> None:
    """Everything due is paid in full (the reference covers the quarter in which every firm can pay)."""
    owed: dict[int, float] = {}
    schedule = []
    for i, contract in enumerate(books.contracts):
        income, repay, payer, payee = due(contract, books.market)
        if income + repay > 0:
            schedule.append((i, income, repay, payer, payee))
            owed[payer] = owed.get(payer, 0.0) + income + repay
    for party, amount in owed.items():
        p = books.parties[party]
        if not p.is_world and amount > p.cash + 1e-9:
            raise ValueError(f"{p.name} cannot pay {amount} with {p.cash}: the reference covers full payment")
    for i, income, repay, payer, payee in schedule:
        contract = books.contracts[i]
        flow = Flow.INTEREST if contract.kind in DEBT else INCOME_FLOW[contract.kind]
        pay(books, payer, payee, income, flow, i)
        if repay > 0:
            pay(books, payer, payee, repay, Flow.PRINCIPAL, i)
            contract.principal = max(contract.principal - repay, 0.0)
            books.parties[contract.creditor].fin_assets -= repay
            books.parties[contract.debtor].fin_liabs -= repay
            # a provision larger than what is still owed is released back to the creditor's earnings
            released = max(contract.allowance - contract.principal, 0.0)
            if released > 0:
                contract.allowance -= released
                books.parties[contract.creditor].fin_assets += released
                books.parties[contract.creditor].retained += released
        if contract.kind == Kind.GPU_LOAN:
            contract.margin_call = 0.0  # the margin call is met
        contract.due = 0.0
        if contract.kind == Kind.COMPUTE:
            books.compute_fees_paid[payer] = books.compute_fees_paid.get(payer, 0.0) + income
            books.contract_revenue[payee] = books.contract_revenue.get(payee, 0.0) + income
        elif contract.kind == Kind.BACKSTOP and income > 0:
            books.contract_revenue[payee] = books.contract_revenue.get(payee, 0.0) + income


def revalue(books: Books, contract: Contract, new_value: float) -> None:
    delta = new_value - contract.value
    contract.value = new_value
    holder = books.parties[contract.creditor]
    holder.fin_assets += delta
    holder.retained += delta
    if contract.kind in TWO_SIDED:
        writer = books.parties[contract.debtor]
        writer.fin_liabs += delta
        writer.retained -= delta


def mark(books: Books) -> None:
    """Stakes at the issuer's market value (an unlisted issuer: its book equity after settlement, at least 0),
    warrants at intrinsic value, shorts against the equity index."""
    m = books.market
    share_value = [
        m.value[i] if p.listed else max(p.paid_in + p.retained, 0.0) for i, p in enumerate(books.parties)
    ]
    for contract in books.contracts:
        if contract.status != Status.ACTIVE:
            continue
        if contract.kind == Kind.EQUITY_STAKE:
            revalue(books, contract, contract.fraction * share_value[contract.debtor])
        elif contract.kind == Kind.WARRANT:
            revalue(books, contract, contract.fraction * max(m.amd_price - contract.price, 0.0) / 1000.0)
    for contract in books.contracts:
        if contract.status == Status.ACTIVE and contract.kind == Kind.EQUITY_SHORT:
            revalue(books, contract, contract.notional * (1.0 - m.equity_index / contract.price))


def depreciate(books: Books) -> None:
    """Straight-line depreciation of each cohort in service, never below zero book value."""
    m = books.market
    for cohort in books.cohorts:
        if not (cohort.active and cohort.ready_q <= m.quarter):
            continue
        gpu = min(cohort.gpu_cost / (4.0 * m.gpu_accounting_life_years), cohort.gpu_book)
        shell = min(cohort.shell_cost / (4.0 * m.shell_life_years), cohort.shell_book)
        cohort.gpu_book -= gpu
        cohort.shell_book -= shell
        owner = books.parties[cohort.owner]
        owner.real_assets -= gpu + shell
        owner.retained -= gpu + shell


def _annuity(rate_annual: float, quarters: float) -> float:
    n, r = max(quarters, 0.0), rate_annual / 4.0
    return n if abs(r) < 1e-12 else (1.0 - (1.0 + r) ** (-n)) / r


def gpu_market_value(cohort: Cohort, market: Market) -> float:
    """cost x (margin / 2025 margin) x A(rate, life - age) / A(2025 rate, 2025 life) x (1 - fire-sale discount)."""
    age = max(market.quarter - cohort.ready_q, 0.0)
    margin = max(market.compute_price * market.utilisation - market.running_cost, 0.0) / market.margin0
    pv = _annuity(market.discount_rate, 4.0 * market.gpu_economic_life_years - age) / market.annuity0
    return cohort.gpu_cost * margin * pv * (1.0 - market.fire_sale_discount)


def check_covenants(books: Books) -> None:
    """LTV covenant of each secured GPU loan, on the loan as a whole: all lenders' rows secured by one cohort
    against its market value. The margin call restores the LTV to its (principal-weighted) maximum and is shared
    by the rows pro rata to principal; it falls due at the next settlement."""
    secured: dict[int, float] = {}
    weighted_max: dict[int, float] = {}
    loans = []
    for contract in books.contracts:
        if contract.status != Status.ACTIVE or contract.kind != Kind.GPU_LOAN or contract.collateral < 0:
            continue
        if not books.cohorts[contract.collateral].active:
            continue
        loans.append(contract)
        cohort = contract.collateral
        secured[cohort] = secured.get(cohort, 0.0) + contract.principal
        weighted_max[cohort] = weighted_max.get(cohort, 0.0) + contract.ltv_max * contract.principal
    for contract in loans:
        cohort = contract.collateral
        total = max(secured[cohort], 1e-12)
        value = gpu_market_value(books.cohorts[cohort], books.market)
        shortfall = max(secured[cohort] - weighted_max[cohort] / total * value, 0.0)
        contract.margin_call = shortfall * contract.principal / total
