"""Initialisation (docs/ODD.md, "Initialisation"): the calibrated economy at the start of 2025Q4.

Opening balance sheets come from the parameter schema (which cites facts.csv); contracts that already exist are
booked as opening positions; the deals of 2025Q4 (DEFAULTS.md section 4) are scripted as first-quarter actions in
:func:`scripted_deals`, so they flow through the ledger like every later deal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounting.contracts import Kind
from accounting.ledger import World
from agents.ai_lab import AILab
from agents.bank import Bank
from agents.chip_vendor import ChipVendor
from agents.hyperscaler import Hyperscaler
from agents.neocloud import Neocloud
from agents.oracle import Oracle
from agents.private_credit import PrivateCreditFund
from agents.project_company import ProjectCompany
from economy import capital, population
from params.schema import BANK_NAMES, FUND_NAMES, HYPERSCALER_NAMES, loop_on

if TYPE_CHECKING:
    from economy.model import CreditLoopModel

DISPLAY = {
    "meta": "Meta",
    "microsoft": "Microsoft",
    "alphabet": "Alphabet",
    "amazon": "Amazon",
    "oracle": "Oracle",
    "coreweave": "CoreWeave",
    "nvidia": "Nvidia",
    "openai": "OpenAI",
    "xai": "xAI",
    "anthropic": "Anthropic",
    "blue_owl": "Blue Owl",
    "pimco": "PIMCO",
    "apollo": "Apollo",
    "jpmorgan": "JPMorgan",
    "mufg": "MUFG",
    "deutsche_bank": "Deutsche Bank",
}
LEGACY_LADDER_YEARS = (2, 5, 10, 20)  # mean remaining maturities of the opening bond book's four equal slices


def legacy_ladder(horizon_q: int) -> list[tuple[int, float]]:
    """(maturity quarter, share of the opening bonds) of the legacy ladder (docs/ODD.md §5.2).

    Each slice of mean remaining maturity ``T`` years is the stock of bonds issued at a steady pace at tenor ``2T``,
    so what is outstanding matures in equal parts in each quarter 1..8T (mean ``T + 1/8`` years). Four bonds maturing
    at exactly 2, 5, 10 and 20 years put every issuer's refinancing into the same two quarters of the run. What
    matures after the run's last quarter never falls due in it and is pooled per slice at its mean maturity."""
    shares: dict[int, float] = {}
    slice_share = 1.0 / len(LEGACY_LADDER_YEARS)
    for years in LEGACY_LADDER_YEARS:
        last = 8 * years
        inside = range(1, min(last, horizon_q) + 1)
        for q in inside:
            shares[q] = shares.get(q, 0.0) + slice_share / last
        rest = range(len(inside) + 1, last + 1)
        if rest:
            pooled = round((rest[0] + rest[-1]) / 2)  # the mean quarter of an even spread
            shares[pooled] = shares.get(pooled, 0.0) + slice_share * len(rest) / last
    return sorted(shares.items())


PROJECT_COMPANY = "Oracle project companies"


def build_agents(model: CreditLoopModel) -> None:
    p = model.p
    for key in HYPERSCALER_NAMES:
        Hyperscaler(model, DISPLAY[key], getattr(p, key))
    model.nvidia = ChipVendor(model, "Nvidia", p.nvidia)
    oracle = Oracle(model, "Oracle", p.oracle)
    if circular_on(model, "loop_l2_oracle_buildout"):
        # the Stargate sites: a project company carries the OpenAI contract, builds for it, borrows from banks
        model.project_company = ProjectCompany(
            model, PROJECT_COMPANY, population.scaled_calibration(p.oracle, 0.0), sponsor=oracle
        )
    Neocloud(model, "CoreWeave", p.coreweave)
    for key in ("openai", "xai", "anthropic"):
        AILab(model, DISPLAY[key], getattr(p, key))
    for key in FUND_NAMES:
        PrivateCreditFund(model, DISPLAY[key], getattr(p, key))
    for key in BANK_NAMES:
        Bank(model, DISPLAY[key], getattr(p, key))
    openai = model.firm("OpenAI")
    if circular_on(model, "loop_l5_microsoft_openai"):  # Microsoft's share of OpenAI's revenue (S079)
        openai.revenue_share = p.circular.microsoft_revenue_share
        openai.revenue_share_payee = model.firm("Microsoft").party
    # the GW deals exist because of the equity-for-purchases and the warrants (E066, E108): without circular
    # financing OpenAI grows only through compute contracts it pays for itself
    openai.plans_nvidia = circular_on(model, "loop_l1_nvidia_openai")
    openai.plans_amd = circular_on(model, "loop_l3_amd_warrants")


def circular_on(model: CreditLoopModel, loop: str) -> bool:
    return loop_on(model.p, loop)


def _tag(model: CreditLoopModel, loop: str, number: int) -> int:
    """The loop tag of a contract that belongs to ``loop`` when the loop is on (0: an ordinary contract)."""
    return number if circular_on(model, loop) else 0


def open_books(model: CreditLoopModel) -> None:
    """Opening positions and balance sheets. Equity comes out at the calibrated book equity: the residual
    between it and the modelled items is 'other assets' (or 'other liabilities' when negative). Synthetic firms
    (population mode) go through the same code as their templates; :mod:`model.population` adds the deals whose
    counterparties it draws."""
    p, ledger = model.p, model.ledger
    cr, ci = p.credit, p.circular
    firm = model.firm

    # capacity the firms own (AI labs rent theirs, except xAI's Colossus and xAI-like labs)
    for f in model.capacity_owners():
        gw = f.cal.ai_capacity_gw if not isinstance(f, AILab) or f.template == "xAI" else 0.0
        if gw > 0:
            open_fleet(model, f.party, gw)
        open_pipeline(model, f)

    # legacy debt: corporate bonds held by the bond market, Microsoft's finance leases, CoreWeave's GPU loans
    ladder = legacy_ladder(p.run.quarters)
    for f in model.corporates():
        debt = f.cal.debt_usd_bn
        if f.template == "CoreWeave":
            _opening_gpu_loans(model, f, debt)
            continue
        for maturity_q, share in ladder:
            if debt > 0:
                ledger.open_contract(
                    Kind.BOND,
                    World.OUTSIDE_INVESTORS,
                    f.party,
                    principal=debt * share,
                    maturity_q=maturity_q,
                    fixed_rate=cr.legacy_coupon_annual,
                    start_q=-1,
                    opening=True,
                )
    for f in model.corporates():
        if f.template != "Microsoft":
            continue
        ledger.open_contract(
            Kind.FINANCE_LEASE,
            World.OUTSIDE_INVESTORS,
            f.party,
            principal=p.deals.microsoft_finance_leases_usd_bn * f.size,
            maturity_q=4 * cr.lease_years,
            fixed_rate=cr.legacy_coupon_annual,
            amortising=True,
            start_q=-1,
            opening=True,
        )

    # vendor and strategic stakes that exist at the start (loops L4, L5, L6)
    if circular_on(model, "loop_l5_microsoft_openai"):
        _opening_stake(
            model,
            "Microsoft",
            "OpenAI",
            ci.microsoft_openai_stake,
            loop=5,
            provided=ci.microsoft_openai_funded_usd_bn,
        )
    if circular_on(model, "loop_l4_coreweave_backstop"):
        _opening_stake(model, "Nvidia", "CoreWeave", ci.nvidia_coreweave_stake, loop=4, provided=0.0)
    if circular_on(model, "loop_l6_amazon_anthropic"):
        anthropic = firm("Anthropic")
        share = ci.amazon_anthropic_stake_usd_bn / anthropic.cal.market_value_usd_bn
        _opening_stake(
            model, "Amazon", "Anthropic", share, loop=6, provided=ci.amazon_anthropic_invested_usd_bn
        )
    population.open_stakes(model)
    population.open_lab_loans(model)
    population.open_bank_loans(model)

    # cash, the residual, and market values
    for f in model.firms:
        if isinstance(f, Bank):
            rwa = f.cal.capital_usd_bn / f.cal.capital_ratio
            cash = 0.1 * rwa
            loans = float(ledger.fin_assets[f.party])  # opening AI loans are part of its risk-weighted book
            f.other_rwa = rwa - loans
            ledger.open_balance_sheet(
                f.party, cash=cash, other_assets=rwa - loans, other_liabs=rwa + cash - f.cal.capital_usd_bn
            )
            continue
        if isinstance(f, PrivateCreditFund):
            # beyond its AI target and its cash buffer, a fund's capital is in its other (non-AI) loans; it holds
            # the buffer, and what it has not lent to AI yet is committed by its investors but not yet called
            lp, capital = p.lenders, f.cal.capital_usd_bn
            loans = float(ledger.fin_assets[f.party])  # its opening AI loans, paid from the cash opened here
            buffer = lp.fund_liquid_share * capital
            other = min(
                max((1.0 - lp.fund_target_ai_share - lp.fund_liquid_share) * capital, 0.0), capital - buffer
            )
            cash = buffer - float(ledger.cash[f.party])  # after the opening loans' payments, booked already
            f.uncalled = max(capital - other - buffer - loans, 0.0)
            ledger.open_balance_sheet(f.party, cash=cash, other_assets=other)
            continue
        residual = f.cal.book_equity_usd_bn - ledger.paid_in[f.party] - f.cal.cash_usd_bn
        ledger.open_balance_sheet(
            f.party, cash=f.cal.cash_usd_bn, other_assets=max(residual, 0.0), other_liabs=max(-residual, 0.0)
        )
        if not f.listed:
            continue
        for arr in (
            model.market.value,
            model.market.value_prev,
            model.market.value_start,
            model.market.value_peak,
        ):
            arr[f.party] = f.cal.market_value_usd_bn

    _opening_contracts(model)
    population.open_compute(model)


def open_pipeline(model: CreditLoopModel, firm) -> None:
    """Capacity under construction at the start: what the firm ordered in each of the ``build lag`` quarters
    before 2025Q4 at its calibrated capex run-rate (deflated by ``technology.opening_fleet_growth_annual`` into
    the past), ready in 2025Q4 and the quarters after, carried at cost."""
    t = model.p.technology
    cost = t.chip_cost_usd_bn_per_gw + t.shell_cost_usd_bn_per_gw
    for k in range(1, t.build_lag_quarters + 1):
        capex = firm.cal.capex_usd_bn_per_year / 4.0 * (1.0 + t.opening_fleet_growth_annual) ** (-k / 4.0)
        gw = capex / cost
        if gw <= 0:
            continue
        model.ledger.open_capacity(
            firm.party,
            gw,
            gpu_cost=gw * t.chip_cost_usd_bn_per_gw,
            shell_cost=gw * t.shell_cost_usd_bn_per_gw,
            gpu_book=gw * t.chip_cost_usd_bn_per_gw,
            shell_book=gw * t.shell_cost_usd_bn_per_gw,
            vintage_q=-k,
            ready_q=t.build_lag_quarters - k,
        )


def open_fleet(model: CreditLoopModel, party: int, gw: float) -> None:
    """A firm's opening capacity in service: ``technology.opening_vintages`` energised cohorts spread over the
    GPUs' economic life, younger ones larger (additions grew at ``technology.opening_fleet_growth_annual``), each
    carried at its cost less straight-line depreciation over the accounting lives."""
    t, ledger = model.p.technology, model.ledger
    ages, shares = capital.fleet_weights(
        t.opening_vintages, t.opening_fleet_growth_annual, 4.0 * t.gpu_economic_life_years
    )
    for age, share in zip(ages.tolist(), shares.tolist(), strict=True):
        k = gw * share
        gpu, shell = k * t.chip_cost_usd_bn_per_gw, k * t.shell_cost_usd_bn_per_gw
        ledger.open_capacity(
            party,
            k,
            gpu_cost=gpu,
            shell_cost=shell,
            gpu_book=gpu * max(0.0, 1 - age / (4 * t.gpu_accounting_life_years)),
            shell_book=shell * max(0.0, 1 - age / (4 * t.shell_life_years)),
            vintage_q=-age,
        )


def open_secured_loans(model: CreditLoopModel, lender, borrower, amount: float, **terms) -> None:
    """GPU-backed loans that exist at the start, secured on the borrower's GPUs in service (capacity under
    construction is not yet collateral): one row per cohort, pro rata to its GPUs' book value, each amortising
    within its collateral's remaining economic life."""
    ledger, cap = model.ledger, model.ledger.capacity
    cohorts = cap.index("owner").rows(borrower.party)
    cohorts = cohorts[cap.active[cohorts] & (cap.gw[cohorts] > 0) & cap.energised[cohorts]]
    books = cap.gpu_book[cohorts]
    if amount <= 0 or books.sum() <= 0:
        return
    life_q = 4.0 * model.p.technology.gpu_economic_life_years
    for cohort, share in zip(cohorts.tolist(), (books / books.sum()).tolist(), strict=True):
        ledger.open_contract(
            Kind.GPU_LOAN,
            lender.party,
            borrower.party,
            principal=amount * share,
            maturity_q=max(int(life_q + cap.ready_q[cohort]), 1),
            floating=True,
            amortising=True,
            ltv_max=model.p.behaviour.gpu_loan_ltv_max,
            collateral=cohort,
            start_q=-1,
            opening=True,
            **terms,
        )


def _opening_gpu_loans(model, f, debt: float) -> None:
    """CoreWeave's debt: 9% notes (E086) held by outside investors, the rest GPU-backed loans from the funds
    secured on its opening capacity (E083-E085). A CoreWeave-like firm borrows from its drawn funds, each
    within its target AI share; what they cannot take is sold as notes."""
    p, ledger = model.p, model.ledger
    notes = min(p.deals.coreweave_notes_usd_bn * f.size, debt)
    funds = population.opening_lenders(model, f)
    total_cap = sum(x.cal.capital_usd_bn for x in funds)
    shares = []
    to_funds = debt - notes
    for fund in funds:
        # funds without capital take nothing (their share is sold as notes below)
        share = to_funds * fund.cal.capital_usd_bn / total_cap if total_cap > 0 else 0.0
        room = population.fund_room(model, fund)
        if share > room:
            notes += share - room
            share = room
        shares.append(share)
    if not funds or total_cap <= 0:
        notes = debt
    ledger.open_contract(
        Kind.BOND,
        World.OUTSIDE_INVESTORS,
        f.party,
        principal=notes,
        maturity_q=22,
        fixed_rate=p.deals.coreweave_notes_coupon,
        start_q=-1,
        opening=True,
    )
    for fund, share in zip(funds, shares, strict=True):
        open_secured_loans(model, fund, f, share, spread=p.deals.coreweave_gpu_loan_spread)


def _opening_stake(model, holder: str, issuer: str, fraction: float, *, loop: int, provided: float) -> None:
    h, i = model.firm(holder), model.firm(issuer)
    if model.p.circular.arm_length:
        return  # at arm's length outside investors hold it (the issuer's opening books are the same)
    value = fraction * i.cal.market_value_usd_bn
    model.ledger.open_contract(
        Kind.EQUITY_STAKE, h.party, i.party, cash=value, fraction=fraction, loop=loop, opening=True
    )
    model.circularity.provide(h.party, i.party, provided)


def _compute(
    model, provider: str, customer: str, gw: float, price_year: float, start: int, years: float, loop: int = 0
) -> None:
    quarters = round(4 * years)
    model.ledger.open_contract(
        Kind.COMPUTE,
        model.firm(provider).party,
        model.firm(customer).party,
        notional=gw * price_year * years,
        gw=gw,
        price=price_year / 4.0,
        market_price=model.p.demand.compute_price_usd_bn_per_gw_year / 4.0,
        min_share=model.p.circular.take_or_pay_min_share,
        start_q=start,
        maturity_q=start + quarters,
        loop=loop,
    )


def _opening_contracts(model) -> None:
    """Executory contracts (compute, backstop) and the AMD warrant, signed before or in 2025Q4."""
    p, ci = model.p, model.p.circular
    price = p.demand.compute_price_usd_bn_per_gw_year
    cw_price = p.behaviour.coreweave_price_usd_bn_per_gw_year
    openai, anthropic = model.firm("OpenAI"), model.firm("Anthropic")
    _compute(
        model,
        "Microsoft",
        "OpenAI",
        openai.cal.ai_capacity_gw,
        ci.azure_openai_price_usd_bn_per_gw_year,
        0,
        ci.azure_openai_years,
        loop=_tag(model, "loop_l5_microsoft_openai", 5),
    )
    scale = ci.commitment_scale  # OpenAI's 2025 commitments (a counterfactual scales them, §7.14)
    _compute(
        model,
        "Amazon",
        "OpenAI",
        scale * ci.aws_openai_usd_bn / (ci.aws_openai_years * price),
        price,
        1,
        ci.aws_openai_years,
    )
    _compute(
        model,
        "Amazon",
        "Anthropic",
        anthropic.cal.ai_capacity_gw,
        price,
        0,
        ci.compute_contract_years,
        loop=_tag(model, "loop_l6_amazon_anthropic", 6),
    )
    # the Stargate sites come online in phases: equal tranches starting one quarter apart, each for the term;
    # with loop L2 the project company carries the contract, otherwise Oracle does
    oracle_price = ci.oracle_openai_usd_bn / (ci.oracle_openai_years * max(ci.oracle_openai_gw, 1e-9))
    provider = PROJECT_COMPANY if circular_on(model, "loop_l2_oracle_buildout") else "Oracle"
    for k in range(ci.oracle_openai_ramp_quarters):
        _compute(
            model,
            provider,
            "OpenAI",
            scale * ci.oracle_openai_gw / ci.oracle_openai_ramp_quarters,
            oracle_price,
            ci.oracle_openai_start_quarter + k,
            ci.oracle_openai_years,
            loop=_tag(model, "loop_l2_oracle_buildout", 2),
        )
    openai_backlog = ci.coreweave_openai_share * ci.coreweave_backlog_usd_bn
    other = ci.coreweave_backlog_usd_bn - openai_backlog
    for customer, value in (
        ("OpenAI", scale * openai_backlog),
        ("Microsoft", other * ci.coreweave_microsoft_share),
        ("Meta", other * (1 - ci.coreweave_microsoft_share)),
    ):
        _compute(
            model,
            "CoreWeave",
            customer,
            value / (ci.compute_contract_years * cw_price),
            cw_price,
            0,
            ci.compute_contract_years,
        )
    if circular_on(model, "loop_l4_coreweave_backstop"):
        end_q = 4 * (ci.coreweave_backstop_end_year - 2025)
        model.ledger.open_contract(
            Kind.BACKSTOP,
            model.firm("CoreWeave").party,
            model.nvidia.party,
            notional=ci.coreweave_backstop_usd_bn,
            price=cw_price / 4.0,
            start_q=0,
            maturity_q=end_q,
            loop=4,
        )
    if circular_on(model, "loop_l3_amd_warrants"):
        model.ledger.open_contract(
            Kind.WARRANT,
            openai.party,
            World.AMD,
            unvested=ci.amd_warrant_shares_m,
            price=0.01,
            maturity_q=4 * 5,
            loop=3,
        )
