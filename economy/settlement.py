"""Settlement and default resolution (docs/ODD.md, "Submodel: settlement and clearing").

Once a quarter, everything due under contracts (coupons, amortisation, maturities, margin calls, compute
invoices, backstop purchases, SRT premiums) is gathered into one obligations network. If every firm can pay, all
is paid in full; otherwise firms short of cash first try to raise liquidity and then the network is cleared
(greatest Eisenberg-Noe clearing vector, :func:`model.clearing.clear`), each creditor receiving its debtor's
recovery rate on what it is owed. Firms that pay short are in default; their contracts are resolved: collateral
seized and sold, unsecured claims written down pari passu to what the firm's assets cover, executory contracts
terminated, equity wiped by the market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from accounting.clearing import clear
from accounting.contracts import IS_DEBT, IS_EXECUTORY, Kind, Status
from accounting.ledger import Flow, World

if TYPE_CHECKING:
    from economy.model import CreditLoopModel

INCOME_FLOW = {
    Kind.COMPUTE: Flow.COMPUTE_FEE,
    Kind.BACKSTOP: Flow.BACKSTOP,
    Kind.RISK_TRANSFER: Flow.SRT_PREMIUM,
}


def dues(model: CreditLoopModel) -> dict[str, np.ndarray]:
    """What every contract pays this quarter: arrays over the whole book (zeros where nothing is due).

    Debt: interest = principal x rate / 4 from the quarter after signing; principal at maturity, linear
    amortisation before it, margin calls on GPU loans (``margin_call``). Compute and backstop invoices are set
    by the operating phase in ``due``. SRT premiums are paid by the protection buyer (the creditor)."""
    c, q = model.ledger.contracts, model.quarter
    kind, live = c.view("kind"), c.view("status") == Status.ACTIVE
    principal, maturity = c.view("principal"), c.view("maturity_q")
    # whole-column arithmetic, kept where the row's kind calls for it (dense masks: cheaper than gathers)
    debt = live & IS_DEBT[kind]
    debt &= c.view("start_q") < q
    rate = c.view("fixed_rate") + c.view("spread")
    rate += np.where(c.view("floating"), model.market.reference_rate, 0.0)
    interest = principal * rate
    interest /= 4.0
    income = np.where(debt, interest, 0.0)
    maturing = debt & (maturity <= q)
    amort = debt & c.view("amortising") & ~maturing
    remaining = maturity.astype(float)
    remaining -= q
    remaining += 1.0
    np.maximum(remaining, 1.0, out=remaining)
    repay = np.where(maturing, principal, 0.0)
    repay = np.where(amort, principal / remaining, repay)
    margin = debt & (kind == Kind.GPU_LOAN) & (c.view("margin_call") > 0)
    repay[margin] = np.minimum(principal[margin], np.maximum(repay[margin], c.view("margin_call")[margin]))
    income = np.where(live & IS_EXECUTORY[kind], c.view("due"), income)
    srt = live & (kind == Kind.RISK_TRANSFER)
    income[srt] = c.view("notional")[srt] * c.view("fixed_rate")[srt] / 4.0
    payer = c.view("debtor").copy()
    payee = c.view("creditor").copy()
    payer[srt], payee[srt] = c.view("creditor")[srt], c.view("debtor")[srt]
    return {"income": income, "repay": repay, "payer": payer, "payee": payee}


def expected_dues(model: CreditLoopModel) -> np.ndarray:
    """Per party, what it is scheduled to pay this quarter (for planning, before any new deal)."""
    d = dues(model)
    return np.bincount(d["payer"], d["income"] + d["repay"], model.ledger.n_parties)


def settle(model: CreditLoopModel) -> list[int]:
    """Pay everything due, clearing the network if anyone is short. Returns the parties that newly defaulted."""
    ledger = model.ledger
    c, n = ledger.contracts, ledger.n_parties
    d = dues(model)
    total = d["income"] + d["repay"]
    rows = np.flatnonzero(total > 0)
    # operating bills a firm could not pay when they fell due join the quarter's obligations (to suppliers)
    bills = np.zeros(n)
    state = getattr(model, "firm_state", None)
    if state is not None:  # the firms' per-party column: no loop over firms
        column = state.funding_shortfall[:n]
        bills[: column.size] = column
    else:
        for firm in model.firms:
            bills[firm.party] = firm.funding_shortfall
    if rows.size == 0 and not bills.any():
        return []
    payer, payee, amount = d["payer"][rows], d["payee"][rows], total[rows]
    owed = np.bincount(payer, amount, n) + bills
    agent = ~ledger.is_world
    short = agent & (owed > ledger.cash + 1e-9)
    for party in np.flatnonzero(short):
        firm = model.firm_by_party.get(int(party))
        if firm is not None and hasattr(firm, "raise_liquidity") and not firm.in_default:
            firm.raise_liquidity(float(owed[party] - ledger.cash[party]))
    short = agent & (owed > ledger.cash + 1e-9)
    if short.any():
        billed = np.flatnonzero(bills)
        liabilities = sp.csr_matrix(
            (
                np.concatenate([amount, bills[billed]]),
                (
                    np.concatenate([payer, billed]),
                    np.concatenate([payee, np.full(billed.size, int(World.SUPPLIERS))]),
                ),
            ),
            shape=(n, n),
        )
        assets = np.where(agent, np.maximum(ledger.cash, 0.0), owed + 1.0)
        result = clear(liabilities, assets)
        with np.errstate(invalid="ignore", divide="ignore"):
            recovery = np.where(owed > 0, result.payments / owed, 1.0)
        recovery = np.where(result.defaulted, np.clip(recovery, 0.0, 1.0), 1.0)
    else:
        recovery = np.ones(n)
    billed = np.flatnonzero(bills)
    if billed.size:
        ledger.pay_many(billed, int(World.SUPPLIERS), bills[billed] * recovery[billed], Flow.OPEX)
        for i in billed:
            model.firm_by_party[int(i)].funding_shortfall = 0.0
    rate = recovery[payer]
    paid_income = d["income"][rows] * rate
    paid_repay = d["repay"][rows] * rate
    kinds = c.kind[rows]
    # book: interest and fees as income flows, principal through the ledger's repayment
    debt_rows = IS_DEBT[kinds]
    ledger.pay_many(
        payer[debt_rows], payee[debt_rows], paid_income[debt_rows], Flow.INTEREST, rows[debt_rows]
    )
    for kind, flow in INCOME_FLOW.items():
        sel = kinds == kind
        if sel.any():
            ledger.pay_many(payer[sel], payee[sel], paid_income[sel], flow, rows[sel])
    repaying = paid_repay > 0
    if repaying.any():
        ledger.repay(rows[repaying], paid_repay[repaying])
    ledger.settled(rows, amount - paid_income - paid_repay)  # margin calls are met or in default
    _record_flows(model, rows, kinds, payer, payee, paid_income, rate, d["income"][rows])
    new = [
        int(i)
        for i in np.flatnonzero(agent & (recovery < 1.0 - 1e-9))
        if not ledger.defaulted[i] or not model.firm_by_party[int(i)].in_default
    ]
    for i in new:
        ledger.record_default(i)
        firm = model.firm_by_party[i]
        firm.in_default = True
        model.log(
            "default",
            firm.name,
            f"{firm.name} defaults: it pays {recovery[i]:.0%} of the {owed[i]:.1f}bn it owes this quarter",
            "",
            float(owed[i]),
        )
    return new


def _record_flows(model, rows, kinds, payer, payee, paid, rate, invoiced) -> None:
    """Circularity, providers' contract revenue and words for short payments. Sums per party are bincounts in
    settlement order (the order the per-row loop added them in); only short payments and backstop purchases,
    which are logged, are walked one by one."""
    compute = kinds == Kind.COMPUTE
    backstop = (kinds == Kind.BACKSTOP) & (paid > 0)
    _accumulate(model.compute_fees_paid, payer[compute], paid[compute], ordered=False)
    earning = compute | backstop
    _accumulate(model.contract_revenue, payee[earning], paid[earning])
    # compute fees are sales by the provider (payee); backstop purchases are funding from the guarantor (payer)
    model.circularity.record(
        compute[earning],
        np.where(compute, payee, payer)[earning],
        np.where(compute, payer, payee)[earning],
        paid[earning],
    )
    names = model.ledger.names
    short = compute & (rate < 1.0 - 1e-9)
    for i in np.flatnonzero(short | backstop):
        a, b, amount = int(payer[i]), int(payee[i]), float(paid[i])
        if compute[i]:
            shortfall = float(invoiced[i] - paid[i])
            model.shortfall_by_provider[b] = model.shortfall_by_provider.get(b, 0.0) + shortfall
            model.log(
                "short_payment",
                names[a],
                f"{names[a]} pays {rate[i]:.0%} of its {names[b]} invoice",
                names[b],
                shortfall,
            )
        else:
            model.log(
                "backstop",
                names[a],
                f"{names[a]} buys {amount:.2f}bn of {names[b]}'s unsold capacity under its backstop",
                names[b],
                amount,
            )


def _accumulate(totals: dict[int, float], parties: np.ndarray, amounts: np.ndarray, *, ordered=True) -> None:
    """``totals[p] += amount`` for each pair in order: each party's sum is a bincount (which adds in row order,
    from zero, as a loop would); parties already present are added to one payment at a time. New parties enter
    the dictionary in order of first appearance (``ordered``, where something sums its values) or of party."""
    m = parties.size
    if m == 0:
        return
    parties = parties.astype(np.int64)
    size = int(parties.max()) + 1
    sums = np.bincount(parties, amounts, size)
    if ordered:
        first = np.full(size, m, dtype=np.int64)
        np.minimum.at(first, parties, np.arange(m))
        present = np.flatnonzero(first < m)
        order = present[np.argsort(first[present])].tolist()
    else:
        order = np.flatnonzero(np.bincount(parties, minlength=size)).tolist()
    if totals and any(p in totals for p in order):
        for p in order:
            if p in totals:
                for amount in amounts[parties == p].tolist():
                    totals[p] += amount
            else:
                totals[p] = float(sums[p])
        return
    totals.update(zip(order, sums[order].tolist(), strict=True))


def resolve_defaults(model: CreditLoopModel, defaulters: list[int]) -> None:
    """Resolve each new defaulter: terminate its executory contracts, seize collateral, write unsecured claims
    down to what its assets cover (restructuring), or liquidate a repeat defaulter."""
    for party in defaulters:
        firm = model.firm_by_party[party]
        repeat = (
            firm.excluded_until > model.quarter - 1 and firm.excluded_until >= 0 and firm.restructurings > 0
        )
        _terminate_executory(model, party)
        _seize_collateral(model, party)
        if repeat or (firm.equity < 0 and not firm.listed):
            _liquidate(model, firm)
        else:
            _restructure(model, firm)
        firm.excluded_until = model.quarter + model.p.credit.default_exclusion_quarters
        model.defaults_q += 1


def _debt_rows(model, party: int) -> np.ndarray:
    """The party's live debt, in book order (from the per-debtor index, not a scan of the book)."""
    c = model.ledger.contracts
    rows = c.of_debtor(party)
    return rows[(c.status[rows] == Status.ACTIVE) & IS_DEBT[c.kind[rows]]]


def _terminate_executory(model, party: int) -> None:
    c = model.ledger.contracts
    rows = c.of_debtor(party)
    rows = rows[(c.status[rows] == Status.ACTIVE) & IS_EXECUTORY[c.kind[rows]]]
    firm = model.firm_by_party[party]
    for r in rows:
        other = model.ledger.names[c.creditor[r]]
        what = "compute contract" if c.kind[r] == Kind.COMPUTE else "capacity backstop"
        if c.kind[r] == Kind.COMPUTE and hasattr(firm, "terminated_compute"):
            firm.terminated_compute.append(
                (int(c.creditor[r]), float(c.gw[r]), float(c.price[r]), float(c.min_share[r]), int(c.loop[r]))
            )
        model.log(
            "termination",
            model.ledger.names[party],
            f"{model.ledger.names[party]}'s {what} with {other} "
            f"is terminated ({c.notional[r]:.1f}bn of remaining value lost)",
            other,
            float(c.notional[r]),
        )
    model.ledger.close(rows, Status.TERMINATED) if rows.size else None


def book_loss(model, creditor: int, amount: float) -> None:
    """Credit losses: lenders remember them; banks claim their SRT protection."""
    model.losses_q += amount
    firm = model.firm_by_party.get(creditor)
    if firm is None or amount <= 0:
        return
    if hasattr(firm, "losses_q"):
        firm.losses_q += amount
        firm.losses_cum += amount
    c = model.ledger.contracts
    rows = c.of_creditor(creditor)  # the creditor's live protection, in book order
    for r in rows[(c.kind[rows] == Kind.RISK_TRANSFER) & (c.status[rows] == Status.ACTIVE)]:
        if c.notional[r] <= 0:
            continue
        claim = min(amount * model.p.lenders.srt_cover_share, float(c.notional[r]))
        model.ledger.pay(int(c.debtor[r]), creditor, claim, Flow.HEDGE, int(r))
        model.ledger.run_down(r, claim)  # the protection's covered amount is used up
        model.log(
            "risk_transfer",
            firm.name,
            f"SRT investors pay {firm.name} {claim:.2f}bn of its loss",
            "outside investors",
            claim,
        )


def distressed_prices(model, cohorts: np.ndarray) -> np.ndarray:
    """What capacity cohorts fetch in a forced sale: (GPU second-hand value + data-centre book value) x
    (1 - ``credit.default_recovery_haircut``)."""
    cap = model.ledger.capacity
    gpus = model.market.gpu_market_value(cap.gpu_cost[cohorts], model.quarter - cap.vintage_q[cohorts])
    return (gpus + cap.shell_book[cohorts]) * (1 - model.p.credit.default_recovery_haircut)


def _seize_collateral(model, party: int) -> None:
    """Secured lenders take the collateral, sell it to the second-hand market and share the proceeds pro rata
    to their claims on it (a syndicated loan has one cohort behind several lenders' rows)."""
    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    sold_gw = 0.0
    rows = _debt_rows(model, party)
    rows = rows[c.collateral[rows] >= 0]
    for cohort in np.unique(c.collateral[rows]):
        secured = rows[c.collateral[rows] == cohort]
        ledger.release_collateral(secured)
        if not cap.active[cohort] or cap.owner[cohort] != party:
            continue
        price = float(distressed_prices(model, np.array([cohort]))[0])
        sold_gw += float(cap.gw[cohort])
        ledger.sell_capacity(int(cohort), int(World.SUPPLIERS), price)
        claims = c.principal[secured]
        proceeds = min(price, float(claims.sum()), max(float(ledger.cash[party]), 0.0))
        if proceeds > 0:
            ledger.repay(secured, claims / claims.sum() * proceeds)
        lenders = ", ".join(sorted({ledger.names[i] for i in c.creditor[secured]}))
        model.log(
            "collateral",
            lenders,
            f"{lenders} seize and sell {ledger.names[party]}'s GPU collateral for "
            f"{price:.1f}bn against {claims.sum():.1f}bn of secured loans",
            ledger.names[party],
            price,
        )
    model.market.fire_sale(sold_gw, model.installed_gw())


def _restructure(model, firm) -> None:
    """Write unsecured claims down pari passu to what the firm's assets cover; the firm carries on."""
    ledger, c = model.ledger, model.ledger.contracts
    rows = _debt_rows(model, firm.party)
    claims = float(c.principal[rows].sum())
    bs = ledger.balance_sheet(firm.party)
    cap = ledger.capacity
    own = cap.index("owner").rows(firm.party)
    own = own[cap.active[own]]
    gpu_value = model.market.gpu_market_value(cap.gpu_cost[own], model.quarter - cap.vintage_q[own]).sum()
    # financial debt ranks pari passu with the firm's other liabilities (payables, operating leases)
    covered = max(bs["cash"], 0.0) + (gpu_value + bs["data_centres"]) * (
        1 - model.p.credit.default_recovery_haircut
    )
    covered += bs["equity_stakes"] + bs["other_assets"]
    total = claims + bs["other_liabilities"]
    recovery = 1.0 if claims <= 0 else min(1.0, covered / total)
    if recovery < 1.0:
        cut = c.principal[rows] * (1.0 - recovery)
        for r, amount in zip(rows, cut, strict=True):
            book_loss(model, int(c.creditor[r]), float(amount))
        ledger.write_down(rows, cut)
    # rescheduling: what fell due and was not paid moves out by a year
    overdue = rows[c.past_due[rows] > 0]
    ledger.reschedule(
        overdue,
        np.maximum(c.maturity_q[overdue], model.quarter + model.p.credit.restructuring_extension_quarters),
    )
    ledger.clear_past_due(c.of_debtor(firm.party))
    firm.restructurings += 1
    model.log(
        "restructuring",
        firm.name,
        f"{firm.name} restructures: creditors recover {recovery:.0%} of {claims:.1f}bn of debt",
        "",
        claims * (1 - recovery),
    )


def _liquidate(model, firm) -> None:
    """Sell everything, pay creditors pro rata from the proceeds, write off the rest, close the firm."""
    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    own = cap.index("owner").rows(firm.party)
    own = own[cap.active[own]]
    sold = 0.0
    for cohort, price in zip(own, distressed_prices(model, own), strict=True):
        sold += float(cap.gw[cohort])
        ledger.sell_capacity(int(cohort), int(World.SUPPLIERS), float(price))
    model.market.fire_sale(sold, model.installed_gw())
    rows = _debt_rows(model, firm.party)
    claims = c.principal[rows].copy()
    cash = max(ledger.cash[firm.party], 0.0)
    if claims.sum() > 0:
        pay = claims * min(1.0, cash / claims.sum())
        ledger.repay(rows[pay > 0], pay[pay > 0])
        rest = c.principal[rows].copy()
        for r, amount in zip(rows, rest, strict=True):
            book_loss(model, int(c.creditor[r]), float(amount))
        ledger.write_down(rows, rest)
    ledger.close(rows, Status.DEFAULTED) if rows.size else None
    ledger.clear_past_due(c.of_debtor(firm.party))
    firm.liquidated = True
    model.log(
        "liquidation",
        firm.name,
        f"{firm.name} is liquidated; {sold:.2f} GW sold at fire-sale prices; "
        f"creditors lose {float(claims.sum()) - min(cash, float(claims.sum())):.1f}bn",
        "",
        float(claims.sum()),
    )
