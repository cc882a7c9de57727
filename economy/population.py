"""Population mode: synthetic firms drawn around the calibrated ones (docs/ODD.md, "Population mode").

``population.neoclouds`` (``ai_labs``, ``hyperscalers``, ``funds``, ``banks``) = N adds N synthetic firms of that
kind next to the calibrated economy. Each is a Mesa agent of its template's class, so it follows the same decision
rules, and carries its own calibration object: a copy of the template's calibration whose sizes (every field in
USD bn, USD bn/year or GW) are multiplied by ``scale`` x LogNormal(0, ``size_dispersion``), clipped to the
field's declared range; ratios (margins, growth plans, capital ratios) are the template's. Templates, drawn
uniformly per firm: neoclouds around CoreWeave, AI labs around xAI and Anthropic, hyperscalers around the four,
funds around the three funds, banks around the three banks.

Opening books go through :func:`model.initialisation.open_books`, the code that opens the calibrated ones; this
module adds the deals whose counterparties are drawn. Each deal has ``population.counterparties`` (k)
counterparties, drawn uniformly without replacement with the model's generator among the synthetic firms of the
right kind (among the calibrated ones when there are none):

* a CoreWeave-like neocloud: its template's notes and GPU-backed loans (from k funds, pro rata to their
  capital, within each fund's target AI share), k compute contracts selling its template's backlog to AI labs
  and hyperscalers (split between them as CoreWeave's between OpenAI and the others), and Nvidia's stake (L4);
* an Anthropic-like lab rents its capacity from k providers (hyperscalers and neoclouds) for five years and a
  hyperscaler holds its template's stake (L6); an xAI-like lab owns its capacity, financed by GPU-backed loans
  from k funds at the GPU-loan advance rate, and Nvidia holds its template's stake (L7);
* a hyperscaler-like firm: its template's bond ladder (and finance leases, if Microsoft-like);
* a bank lends the same share of its capital as the calibrated banks' Vantage loans, to k capacity builders,
  as project loans kept off their balance sheets.

The default (all counts zero) is the calibrated economy: nothing here runs and no random number is drawn.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import Kind
from agents.ai_lab import AILab
from agents.bank import Bank
from agents.hyperscaler import Hyperscaler
from agents.neocloud import Neocloud
from agents.private_credit import PrivateCreditFund
from params.schema import BANK_NAMES, FUND_NAMES, HYPERSCALER_NAMES

if TYPE_CHECKING:
    from economy.model import CreditLoopModel

# kind -> (class, label of its firms, calibration keys of its templates)
KINDS = {
    "hyperscalers": (Hyperscaler, "Hyperscaler", HYPERSCALER_NAMES),
    "neoclouds": (Neocloud, "Neocloud", ("coreweave",)),
    "ai_labs": (AILab, "AI lab", ("xai", "anthropic")),
    "funds": (PrivateCreditFund, "Fund", FUND_NAMES),
    "banks": (Bank, "Bank", BANK_NAMES),
}
SIZE_UNITS = ("USD bn", "USD bn/year", "GW")  # calibration fields in these units scale with a firm's size
COMPUTE_YEARS = 5  # template terms: Amazon-Anthropic (5 years) and CoreWeave's backlog (5 years)


def enabled(model: CreditLoopModel) -> bool:
    pop = model.p.population
    return bool(pop.neoclouds or pop.ai_labs or pop.hyperscalers or pop.funds or pop.banks)


def add_population(model: CreditLoopModel) -> None:
    """Add the synthetic firms the parameters ask for (none by default)."""
    if not enabled(model):
        return
    from economy.initialisation import DISPLAY

    pop, rng = model.p.population, model.rng
    for kind, (cls, label, templates) in KINDS.items():
        count = getattr(pop, kind)
        if count == 0:
            continue
        which = rng.integers(len(templates), size=count)
        sizes = rng.lognormal(math.log(pop.scale), pop.size_dispersion, size=count)
        for i in range(count):
            key = templates[int(which[i])]
            cal = scaled_calibration(getattr(model.p, key), float(sizes[i]))
            cls(
                model,
                f"{label} {i + 1:04d}",
                cal,
                synthetic=True,
                template=DISPLAY[key],
                size=float(sizes[i]),
            )


def scaled_calibration(cal, size: float):
    """The template's calibration with its sizes multiplied by ``size`` (clipped to each field's range),
    validated by the calibration class itself."""
    update = {}
    for name, field in type(cal).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("unit") not in SIZE_UNITS:
            continue
        lo, hi = -math.inf, math.inf
        for m in field.metadata:
            lo = getattr(m, "ge", lo)
            hi = getattr(m, "le", hi)
        update[name] = min(max(getattr(cal, name) * size, lo), hi)
    return type(cal).model_validate(cal.model_copy(update=update).model_dump())


# -- drawing counterparties ------------------------------------------------------------------------------------
def _pool(model: CreditLoopModel, kind: str) -> list:
    """The firms of a kind that synthetic firms deal with: the synthetic ones, or the calibrated ones if the
    population has none of that kind (built once)."""

    def build() -> dict[str, list]:
        owners = model.capacity_owners()
        kinds = {
            "funds": model.funds,
            "labs": [f for f in owners if isinstance(f, AILab)],
            "hyperscalers": [f for f in owners if isinstance(f, Hyperscaler)],
            "neoclouds": [f for f in owners if isinstance(f, Neocloud)],
            "builders": [f for f in owners if isinstance(f, Hyperscaler | Neocloud)],
        }
        return {
            k: [f for f in v if f.synthetic] or [f for f in v if not f.synthetic] for k, v in kinds.items()
        }

    return model.firm_group("population pools", build)[kind]


def _draw(model: CreditLoopModel, pool: list) -> list:
    """Up to ``population.counterparties`` distinct firms of ``pool``, drawn uniformly, in pool order."""
    k = min(model.p.population.counterparties, len(pool))
    if k == 0:
        return []
    picks = np.sort(model.rng.choice(len(pool), size=k, replace=False))
    return [pool[i] for i in picks.tolist()]


def opening_lenders(model: CreditLoopModel, borrower) -> list:
    """The funds that hold a borrower's opening GPU-backed loans: all calibrated funds for a calibrated firm
    (CoreWeave's loans, E083-E085), k drawn funds for a synthetic one."""
    if not borrower.synthetic:
        return [f for f in model.funds if not f.synthetic]
    return _draw(model, _pool(model, "funds"))


def fund_room(model: CreditLoopModel, fund) -> float:
    """What a fund can still lend at the opening: its target AI share of capital less its opening loans."""
    target = model.p.lenders.fund_target_ai_share * fund.cal.capital_usd_bn
    return max(target - float(model.ledger.fin_assets[fund.party]), 0.0)


# -- opening deals of the synthetic firms ----------------------------------------------------------------------
def open_lab_loans(model: CreditLoopModel) -> None:
    """xAI-like labs: GPU-backed loans from k funds on their opening capacity, at the GPU-loan advance rate."""
    from economy.initialisation import open_secured_loans

    ledger, b = model.ledger, model.p.behaviour
    for lab in model.capacity_owners():
        if not (lab.synthetic and lab.template == "xAI"):
            continue
        cohorts = ledger.capacity.index("owner").rows(lab.party)
        if cohorts.size == 0:
            continue
        want = b.gpu_loan_advance_rate * float(ledger.capacity.gpu_book[cohorts].sum())
        lenders = opening_lenders(model, lab)
        capital = sum(f.cal.capital_usd_bn for f in lenders)
        if capital <= 0:  # funds without capital lend nothing
            continue
        for fund in lenders:
            share = min(want * fund.cal.capital_usd_bn / capital, fund_room(model, fund))
            if share > 1e-12:
                open_secured_loans(model, fund, lab, share, spread=model.p.deals.xai_gpu_spread)


def open_stakes(model: CreditLoopModel) -> None:
    """Opening stakes in synthetic firms, at their templates' fractions: Nvidia in neoclouds (L4) and in
    xAI-like labs (L7), a hyperscaler in each Anthropic-like lab (L6)."""
    from economy.initialisation import circular_on

    p, ci, ledger = model.p, model.p.circular, model.ledger
    nvidia = model.nvidia
    hyperscalers = _pool(model, "hyperscalers")
    for f in model.corporates():
        if not f.synthetic:
            continue
        value = f.cal.market_value_usd_bn
        if (
            f.template == "CoreWeave"
            and nvidia is not None
            and circular_on(model, "loop_l4_coreweave_backstop")
        ):
            holder, fraction, loop, provided = nvidia, ci.nvidia_coreweave_stake, 4, 0.0
        elif f.template == "xAI" and nvidia is not None and circular_on(model, "loop_l7_nvidia_xai"):
            fraction = ci.nvidia_xai_equity_usd_bn / p.xai.market_value_usd_bn
            holder, loop, provided = nvidia, 7, ci.nvidia_xai_equity_usd_bn * f.size
        elif f.template == "Anthropic" and hyperscalers and circular_on(model, "loop_l6_amazon_anthropic"):
            holder = hyperscalers[int(model.rng.integers(len(hyperscalers)))]
            fraction = ci.amazon_anthropic_stake_usd_bn / p.anthropic.market_value_usd_bn
            loop, provided = 6, ci.amazon_anthropic_invested_usd_bn * f.size
        else:
            continue
        ledger.open_contract(
            Kind.EQUITY_STAKE,
            holder.party,
            f.party,
            cash=fraction * value,
            fraction=fraction,
            loop=loop,
            opening=True,
        )
        model.circularity.provide(holder.party, f.party, provided)


def open_bank_loans(model: CreditLoopModel) -> None:
    """Synthetic banks lend the calibrated banks' share of capital in AI project loans (the Vantage loans over
    their capital) to k capacity builders, through project companies (off the builders' balance sheets)."""
    banks = [b for b in model.banks if b.synthetic]
    if not banks:
        return
    p, ledger = model.p, model.ledger
    calibrated_capital = sum(b.cal.capital_usd_bn for b in model.banks if not b.synthetic)
    share = p.deals.vantage_loans_usd_bn / calibrated_capital if calibrated_capital > 0 else 0.0
    builders = _pool(model, "builders")
    for bank in banks:
        borrowers = _draw(model, builders)
        if not borrowers:
            continue
        amount = min(share, p.lenders.bank_sector_limit) * bank.cal.capital_usd_bn / len(borrowers)
        for firm in borrowers:
            ledger.open_contract(
                Kind.BANK_LOAN,
                bank.party,
                firm.party,
                principal=amount,
                maturity_q=4 * p.credit.loan_tenor_years,
                spread=p.deals.project_loan_spread,
                floating=True,
                off_balance_sheet=True,
                start_q=-1,
                opening=True,
            )


def open_compute(model: CreditLoopModel) -> None:
    """Compute contracts of the synthetic firms (executory: no balance-sheet effect), five years from 2025Q4.
    A neocloud sells its template's backlog to k customers, labs taking CoreWeave's OpenAI share of it and
    hyperscalers the rest; an Anthropic-like lab rents its capacity from k providers at the market price."""
    p, ci, ledger = model.p, model.p.circular, model.ledger
    owners = model.capacity_owners()
    labs, hyperscalers, neoclouds = (_pool(model, k) for k in ("labs", "hyperscalers", "neoclouds"))
    customers_pool, providers_pool = labs + hyperscalers, hyperscalers + neoclouds
    cw_price = p.behaviour.coreweave_price_usd_bn_per_gw_year
    lab_share = ci.coreweave_openai_share

    def sign(provider, customer, value: float, price_year: float) -> None:
        gw = value / (COMPUTE_YEARS * price_year)
        ledger.open_contract(
            Kind.COMPUTE,
            provider.party,
            customer.party,
            notional=value,
            gw=gw,
            price=price_year / 4.0,
            market_price=p.demand.compute_price_usd_bn_per_gw_year / 4.0,
            min_share=ci.take_or_pay_min_share,
            start_q=0,
            maturity_q=4 * COMPUTE_YEARS,
        )

    for f in owners:
        if not f.synthetic:
            continue
        if f.template == "CoreWeave":
            customers = _draw(model, customers_pool)
            if not customers:
                continue
            backlog = ci.coreweave_backlog_usd_bn * f.size
            n_labs = sum(1 for c in customers if isinstance(c, AILab))
            n_other = len(customers) - n_labs
            to_labs = backlog * (lab_share if n_other else 1.0) if n_labs else 0.0
            for customer in customers:
                is_lab = isinstance(customer, AILab)
                value = to_labs / n_labs if is_lab else (backlog - to_labs) / n_other
                if value > 0:
                    sign(f, customer, value, cw_price)
        elif f.template == "Anthropic":
            providers = _draw(model, providers_pool)
            price = p.demand.compute_price_usd_bn_per_gw_year
            for provider in providers:
                gw = f.cal.ai_capacity_gw / len(providers)
                sign(provider, f, gw * price * COMPUTE_YEARS, price)
