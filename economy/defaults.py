"""Default resolution (docs/ODD.md §7.9): what happens to a firm that paid short in settlement.

Its executory contracts (compute, backstop) are terminated, secured lenders seize and sell their collateral, and
the firm is restructured (unsecured claims written down pari passu to what its assets cover; overdue amounts
rescheduled) or, on a repeat default or with negative equity and no market value, liquidated (everything sold,
creditors paid pro rata, the rest written off). Credit losses are booked to the lenders' memories and claimed
under their risk-transfer protection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accounting.contracts import IS_DEBT, IS_EXECUTORY, Kind, Status
from accounting.journal import Flow
from accounting.ledger import World
from economy import capital, lifecycle, losses
from economy.losses import LossKind

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def resolve(model: CreditLoopModel, defaulters: list[int]) -> None:
    """Resolve each new defaulter: terminate its executory contracts, seize collateral, write unsecured claims
    down to what its assets cover (restructuring), or liquidate a repeat defaulter."""
    for party in defaulters:
        firm = model.firm_by_party[party]
        repeat = (
            firm.excluded_until > model.quarter - 1 and firm.excluded_until >= 0 and firm.restructurings > 0
        )
        _terminate_executory(model, party)
        _call_guarantees(model, firm)
        _seize_collateral(model, party)
        if repeat or (firm.equity < 0 and not firm.listed):
            _liquidate(model, firm)
        else:
            _restructure(model, firm)
        firm.excluded_until = model.quarter + model.p.credit.default_exclusion_quarters
        model.defaults_q += 1
    pass_on_estates(model)


def _call_guarantees(model, firm) -> None:
    """A defaulter's guarantors pay it up to their guarantees' notional, at most what it owes its lenders (in
    cash as far as they have it; the rest becomes a claim on the guarantor, due at the next settlement)."""
    ledger, c = model.ledger, model.ledger.contracts
    rows = c.of_creditor(firm.party)
    rows = rows[(c.status[rows] == Status.ACTIVE) & (c.kind[rows] == Kind.GUARANTEE)]
    if rows.size == 0:
        return
    owed = float(c.principal[_debt_rows(model, firm.party)].sum())
    called: dict[int, float] = {}  # guarantor -> amount called, for one event each
    for r in rows.tolist():
        amount = min(float(c.notional[r]), owed)
        owed -= amount
        guarantor = model.firm_by_party.get(int(c.debtor[r]))
        if amount <= 1e-9 or guarantor is None or guarantor.liquidated:
            continue
        cash = min(amount, max(guarantor.cash, 0.0))
        ledger.pay(guarantor.party, firm.party, cash, Flow.GUARANTEE, r)
        if amount - cash > 1e-9:
            ledger.book_claim(
                firm.party, guarantor.party, amount - cash, maturity_q=model.quarter, loop=int(c.loop[r])
            )
        called[guarantor.party] = called.get(guarantor.party, 0.0) + amount
    for party, amount in called.items():
        guarantor = model.firm_by_party[party]
        model.log(
            "guarantee",
            guarantor.name,
            f"{guarantor.name} pays {amount:.1f}bn under its guarantees of {firm.name}'s loans",
            firm.name,
            amount,
        )
    ledger.run_down(rows, c.notional[rows])
    ledger.close(rows, Status.MATURED)


def _owed_by(model, party: int) -> np.ndarray:
    """Every contract the party pays: those it owes (as debtor) and the risk-transfer protection it bought (its
    premium is the creditor's to pay)."""
    c = model.ledger.contracts
    bought = c.of_creditor(party)
    bought = bought[c.kind[bought] == Kind.RISK_TRANSFER]
    return np.concatenate([c.of_debtor(party), bought])


def _debt_rows(model, party: int) -> np.ndarray:
    """The party's live debt, in book order (from the per-debtor index, not a scan of the book)."""
    c = model.ledger.contracts
    rows = c.of_debtor(party)
    return rows[(c.status[rows] == Status.ACTIVE) & IS_DEBT[c.kind[rows]]]


def _terminate_executory(model, party: int) -> None:
    """End the defaulter's executory contracts. Each provider of a terminated take-or-pay gets an unsecured claim
    for the present value of the remaining minimum payments less what it can re-let the capacity for (it ranks
    with the defaulter's other debt in the resolution that follows); a builder's capacity built for the customer
    stands idle, re-lets at a discount and is tested for impairment."""
    c = model.ledger.contracts
    rows = c.of_debtor(party)
    # a guarantee it gave stays: still callable, it becomes a claim on its estate if called
    rows = rows[
        (c.status[rows] == Status.ACTIVE) & IS_EXECUTORY[c.kind[rows]] & (c.kind[rows] != Kind.GUARANTEE)
    ]
    firm = model.firm_by_party[party]
    delivered = _delivered_gw(model) if rows.size else {}
    stranded: dict[int, tuple[list[int], list[float]]] = {}  # provider -> (contract rows, GW freed)
    ended = _ended_by_counterparty(c, rows, c.creditor)
    claims: dict[int, float] = {}  # provider -> damages claimed
    for r in rows.tolist():
        if c.kind[r] != Kind.COMPUTE:
            continue
        firm.compute_terminated(
            int(c.creditor[r]),
            float(c.gw[r]),
            lifecycle.premium(model, r),
            float(c.min_share[r]),
            int(c.loop[r]),
        )
        provider = model.firm_by_party.get(int(c.creditor[r]))
        if provider is not None and not provider.liquidated:
            claims[provider.party] = claims.get(provider.party, 0.0) + _claim_damages(
                model, r, provider, firm
            )
            # a builder built the contract's whole GW for this customer, in service or still under construction
            freed = float(c.gw[r]) if provider.builds_to_order else delivered.get(r, 0.0)
            mine = stranded.setdefault(provider.party, ([], []))
            mine[0].append(r)
            mine[1].append(freed)
    name = model.ledger.names[party]
    _log_ended(model, name, ended, "default", " lost")
    for p, amount in claims.items():
        if amount > 0:
            provider = model.firm_by_party[p].name
            model.log(
                "claim",
                provider,
                f"{provider} claims {amount:.1f}bn of damages from {name} for its terminated compute contracts",
                name,
                amount,
            )
    for p, (contracts, freed) in stranded.items():
        _strand(model, contracts, model.firm_by_party[p], firm, freed)
    model.ledger.close(rows, Status.TERMINATED) if rows.size else None


def _ended_by_counterparty(c, rows: np.ndarray, counterparty: np.ndarray) -> dict[tuple[int, str], float]:
    """(counterparty, what) -> notional of the executory contracts ``rows`` that end, for one event each."""
    ended: dict[tuple[int, str], float] = {}
    for r in rows.tolist():
        what = {Kind.COMPUTE: "compute contracts", Kind.BACKSTOP: "capacity backstops"}.get(
            Kind(int(c.kind[r])), "guarantees"
        )
        key = (int(counterparty[r]), what)
        ended[key] = ended.get(key, 0.0) + float(c.notional[r])
    return ended


def _log_ended(model, name: str, ended: dict[tuple[int, str], float], why: str, lost: str = "") -> None:
    """One ``termination`` event per counterparty and kind of contract that ends in ``name``'s ``why``."""
    for (party, what), notional in ended.items():
        other = model.ledger.names[party]
        model.log(
            "termination",
            name,
            f"{name}'s {what} with {other} end in its {why} ({notional:.1f}bn of remaining value{lost})",
            other,
            notional,
        )


def _delivered_gw(model) -> dict[int, float]:
    """GW each running compute contract delivered this quarter (its share of its provider's capacity)."""
    c, rows = model.ledger.contracts, model.compute_rows
    n = model.ledger.n_parties
    contracted = np.bincount(c.creditor[rows], c.gw[rows], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(contracted > 0, np.minimum(1.0, model.energised_cache / contracted), 0.0)
    return dict(zip(rows.tolist(), (c.gw[rows] * fill[c.creditor[rows]]).tolist(), strict=True))


def _relet_terms(model, provider) -> tuple[int, float]:
    """(quarters idle, price discount) at which the provider re-lets capacity freed by a customer's default:
    a builder that built to order re-lets late and below market, a general cloud at once and at market."""
    d = model.p.deals
    return (d.relet_lag_quarters, d.specificity_discount) if provider.builds_to_order else (0, 0.0)


def _claim_damages(model, r: int, provider, customer) -> float:
    """The provider's claim: PV of the remaining minimum payments less the PV of re-letting the GW (ODD §7.9).
    Returns the amount claimed."""
    c, m, q = model.ledger.contracts, model.market, model.quarter
    start, end = max(int(c.start_q[r]), q + 1), int(c.maturity_q[r])
    if end <= start:
        return 0.0
    rate = m.reference_rate / 4.0
    k = np.arange(start - q, end - q, dtype=float)
    discount = (1.0 + rate) ** (-k)
    gw = float(c.gw[r])
    minimum = float(c.min_share[r] * c.price[r]) * gw * discount.sum()
    lag, specificity = _relet_terms(model, provider)
    relet_price = m.compute_price / 4.0 * m.utilisation * (1.0 - specificity)
    relet = relet_price * gw * discount[k > lag].sum()
    amount = minimum - relet
    if amount <= 1e-9:
        return 0.0
    model.ledger.book_claim(
        provider.party,
        customer.party,
        amount,
        maturity_q=q + model.p.credit.restructuring_extension_quarters,
        loop=int(c.loop[r]),
    )
    return amount


def _strand(model, rows: list[int], provider, customer, freed: list[float]) -> None:
    """Capacity a builder built for the customer under the terminated contracts ``rows`` (their GW, in service or
    under construction): idle for the re-let lag, then at a discount until each contract would have ended; the
    GPUs of that share of its fleet, including those not yet delivered, are written down to what they are worth
    on those terms (IAS 36 tests assets under construction too). One test per provider and customer, so that
    several tranches of one contract impair the fleet once, in proportion to their GW together."""
    lag, specificity = _relet_terms(model, provider)
    c, q, cap = model.ledger.contracts, model.quarter, model.ledger.capacity
    freed_gw = float(sum(freed))
    if freed_gw <= 1e-12 or (lag == 0 and specificity == 0.0):
        return
    for r, gw in zip(rows, freed, strict=True):
        if gw > 1e-12:
            provider.strand(gw, q + 1 + lag, int(c.maturity_q[r]), specificity)
    own = cap.index("owner").rows(provider.party)
    own = own[cap.active[own] & (cap.gw[own] > 0)]
    fleet = float(cap.gw[own].sum())
    if fleet <= 0:
        return
    share = min(1.0, freed_gw / fleet)
    m = model.market
    margin = m.compute_price * m.utilisation * (1.0 - specificity) - capital.running_cost(model)
    rate = m.reference_rate + m.hy_spread
    ratio = capital.value_ratio(model, margin, rate, capital.ages(model, own)) * (1.0 + rate / 4.0) ** (-lag)
    excess = share * np.maximum(cap.gpu_book[own] - cap.gpu_cost[own] * ratio, 0.0)
    if excess.sum() <= 1e-9:
        return
    model.ledger.impair_capacity(own, excess)
    # the loss is traced to the contracts in proportion to their GW
    weights = np.asarray(freed) / freed_gw
    losses.record(
        model,
        provider.party,
        float(excess.sum()) * weights,
        LossKind.IMPAIRMENT,
        debtor=customer.party,
        contract=np.asarray(rows),
        loop=c.loop[np.asarray(rows)],
    )
    model.log(
        "impairment",
        provider.name,
        f"{provider.name} writes its GPUs for {customer.name} down by {excess.sum():.1f}bn: {freed_gw:.2f} GW "
        f"idle for {lag} quarters, then re-let {specificity:.0%} below market",
        customer.name,
        float(excess.sum()),
    )


def write_off(model, rows: np.ndarray, amounts: np.ndarray) -> None:
    """Write claims down and book the credit losses (:func:`book_loss` per row, then the ledger posting)."""
    c = model.ledger.contracts
    amounts = np.minimum(np.asarray(amounts, dtype=float), c.principal[rows])
    book_losses(model, rows, amounts)
    model.ledger.write_down(rows, amounts)


def book_losses(model, rows: np.ndarray, amounts: np.ndarray) -> None:
    """:func:`book_loss` for each row in turn, with the same effects in the same order: a row whose creditor holds
    live risk-transfer protection goes through :func:`book_loss` (its claim's lines follow its loss line); the
    others' loss lines between two such rows are written in one loss-book call."""
    c = model.ledger.contracts
    rows, amounts = np.asarray(rows, dtype=np.int64), np.asarray(amounts, dtype=float)
    creditors = c.creditor[rows]
    protection = c.index("kind").rows(Kind.RISK_TRANSFER)  # a handful of contracts: no scan of the book
    protected = set(c.creditor[protection[c.status[protection] == Status.ACTIVE]].tolist())
    firms, run = model.firm_by_party, []  # run: positions of rows whose loss lines are not written yet

    def flush() -> None:
        if run:
            at = np.asarray(run)
            losses.record(
                model,
                creditors[at],
                amounts[at],
                LossKind.WRITE_DOWN,
                debtor=c.debtor[rows[at]],
                contract=rows[at],
                loop=c.loop[rows[at]],
            )
            run.clear()

    for i, (creditor, amount) in enumerate(zip(creditors.tolist(), amounts.tolist(), strict=True)):
        if amount <= 0:
            continue
        if creditor in protected:
            flush()
            book_loss(model, int(rows[i]), amount)
            continue
        model.losses_q += amount
        run.append(i)
        firm = firms.get(creditor)
        if firm is not None:
            firm.record_credit_loss(amount)
    flush()


def book_loss(model, row: int, amount: float) -> None:
    """A credit loss on contract ``row``: in the loss book (holder, debtor, loop), in the creditor's memory (lenders
    remember them), and claimed under the creditor's risk-transfer protection."""
    if amount <= 0:
        return
    c = model.ledger.contracts
    creditor = int(c.creditor[row])
    model.losses_q += amount
    losses.record(
        model,
        creditor,
        amount,
        LossKind.WRITE_DOWN,
        debtor=int(c.debtor[row]),
        contract=row,
        loop=int(c.loop[row]),
    )
    firm = model.firm_by_party.get(creditor)
    if firm is None:
        return
    firm.record_credit_loss(amount)
    c = model.ledger.contracts
    rows = c.of_creditor(creditor)  # the creditor's live protection, in book order
    for r in rows[(c.kind[rows] == Kind.RISK_TRANSFER) & (c.status[rows] == Status.ACTIVE)]:
        if c.notional[r] <= 0:
            continue
        claim = min(amount * model.p.lenders.srt_cover_share, float(c.notional[r]))
        model.ledger.pay(int(c.debtor[r]), creditor, claim, Flow.HEDGE, int(r))
        model.ledger.run_down(r, claim)  # the protection's covered amount is used up
        # the loss moves from the bank to its protection sellers
        losses.record(
            model,
            [creditor, int(c.debtor[r])],
            [-claim, claim],
            LossKind.PROTECTION,
            contract=int(r),
            loop=10,
        )
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
    gpus = capital.gpu_market_values(model, cohorts)
    return (gpus + cap.shell_book[cohorts]) * (1 - model.p.credit.default_recovery_haircut)


def _seize_collateral(model, party: int) -> None:
    """Secured lenders take the collateral, sell it to the second-hand market and share the proceeds pro rata
    to their claims on it (a syndicated loan has one cohort behind several lenders' rows)."""
    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    sold_gw = 0.0
    rows = _debt_rows(model, party)
    rows = rows[c.collateral[rows] >= 0]
    # a sale leaves the other cohorts as they were: every cohort's price is known before the first one is sold
    cohorts, at = np.unique(c.collateral[rows], return_inverse=True)
    prices = distressed_prices(model, cohorts).tolist()
    by_cohort = (
        np.split(rows[np.argsort(at, kind="stable")], np.cumsum(np.bincount(at))[:-1]) if rows.size else []
    )
    for cohort, secured, price in zip(cohorts.tolist(), by_cohort, prices, strict=True):
        ledger.release_collateral(secured)
        if not cap.active[cohort] or cap.owner[cohort] != party:
            continue
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
    gpu_value = capital.gpu_market_values(model, own).sum()
    # financial debt ranks pari passu with the firm's other liabilities (payables, operating leases)
    covered = max(bs["cash"], 0.0) + (gpu_value + bs["data_centres"]) * (
        1 - model.p.credit.default_recovery_haircut
    )
    covered += bs["equity_stakes"] + bs["other_assets"] + bs["loans_and_bonds_held"]
    total = claims + bs["other_liabilities"]
    recovery = 1.0 if claims <= 0 else min(1.0, covered / total)
    if recovery < 1.0:
        write_off(model, rows, c.principal[rows] * (1.0 - recovery))
    # rescheduling: what fell due and was not paid moves out by a year
    overdue = rows[c.past_due[rows] > 0]
    ledger.reschedule(
        overdue,
        np.maximum(c.maturity_q[overdue], model.quarter + model.p.credit.restructuring_extension_quarters),
    )
    ledger.clear_past_due(_owed_by(model, firm.party))
    firm.restructurings += 1
    model.log(
        "restructuring",
        firm.name,
        f"{firm.name} restructures: creditors recover {recovery:.0%} of {claims:.1f}bn of debt",
        "",
        claims * (1 - recovery),
    )


def _end_what_it_provides(model, firm) -> None:
    """A closed provider delivers nothing more: the compute contracts it provides and the capacity backstops it
    benefits from end (its customers' arrears on them are forgiven; they hold no claim on its estate)."""
    c = model.ledger.contracts
    rows = c.of_creditor(firm.party)
    kinds = c.kind[rows]
    rows = rows[(c.status[rows] == Status.ACTIVE) & ((kinds == Kind.COMPUTE) | (kinds == Kind.BACKSTOP))]
    if rows.size == 0:
        return
    ended = _ended_by_counterparty(c, rows, c.debtor)
    model.ledger.clear_past_due(rows)
    model.ledger.close(rows, Status.TERMINATED)
    _log_ended(model, firm.name, ended, "liquidation")


def _settle_other_liabilities(model, firm, paid: float) -> None:
    """A liquidated firm pays ``paid`` of its other liabilities (their pari-passu share) to outside creditors
    (``World.SUPPLIERS``); the rest is written off as those creditors' loss."""
    forgiven = model.ledger.settle_other_liabilities(firm.party, int(World.SUPPLIERS), paid)
    if forgiven > 0:
        model.losses_q += forgiven
        losses.record(model, int(World.SUPPLIERS), forgiven, LossKind.WRITE_DOWN, debtor=firm.party)


ESTATE_ROUNDS = 8


def pass_on_estates(model) -> None:
    """What a liquidated firm holds in cash once its creditors are paid, at its liquidation or received later
    (a recovery on a claim it held), goes to its shareholders: each stake holder its fraction, the outside
    investors the rest. So a closed firm keeps no cash and owes nothing (a stake it holds in a firm not yet closed
    stays until that firm's own estate pays it out)."""
    ledger = model.ledger
    n = ledger.n_parties
    dead = model.firm_state.ensure(n - 1).liquidated[:n]
    # a dividend may reach a holder that is closed too (a sponsor and its project company): pass it on in turn,
    # a few rounds at most (holdings in a circle pass on ever less)
    for _ in range(ESTATE_ROUNDS):
        holding = np.flatnonzero(dead & (ledger.cash > 1e-9))
        if holding.size == 0:
            return
        _pay_shareholders(model, holding)


def _pay_shareholders(model, parties: np.ndarray) -> None:
    """Each of ``parties`` pays all its cash to its shareholders as a liquidating dividend."""
    ledger, c = model.ledger, model.ledger.contracts
    for party in parties.tolist():
        residual = float(ledger.cash[party])
        stakes = c.stakes_in(party)
        held = c.fraction[stakes]
        # stakes that add up to more than the whole firm share it out in proportion
        total = float(held.sum())
        shares = residual * held * (1.0 / total if total > 1.0 else 1.0)
        outside = max(residual - float(shares.sum()), 0.0)
        amounts = np.append(shares, outside)
        payees = np.append(c.creditor[stakes], int(World.OUTSIDE_INVESTORS))
        keep = amounts > 0
        ledger.pay_many(np.full(int(keep.sum()), party), payees[keep], amounts[keep], Flow.DIVIDEND)
        name = ledger.names[party]
        model.log("estate", name, f"{name}'s estate pays its shareholders {residual:.1f}bn", "", residual)


def _liquidate(model, firm) -> None:
    """Sell everything, pay creditors pro rata from the proceeds, write off the rest, close the firm."""
    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    firm.sell_everything()  # a fund's loan book goes to the secondary market
    own = cap.index("owner").rows(firm.party)
    own = own[cap.active[own]]
    sold = 0.0
    for cohort, price in zip(own, distressed_prices(model, own), strict=True):
        sold += float(cap.gw[cohort])
        ledger.sell_capacity(int(cohort), int(World.SUPPLIERS), float(price))
    model.market.fire_sale(sold, model.installed_gw())
    _end_what_it_provides(model, firm)
    # its business outside the model is sold at book value, the value a restructuring counts it at
    other_assets = float(ledger.other_assets[firm.party])
    if other_assets > 0:
        ledger.sell_other_assets(
            firm.party, int(World.OUTSIDE_INVESTORS), other_assets, other_assets, Flow.ASSET_SALE
        )
    rows = _debt_rows(model, firm.party)
    claims = c.principal[rows].copy()
    cash = max(ledger.cash[firm.party], 0.0)
    # financial debt ranks pari passu with the estate's other liabilities (as in a restructuring)
    other = max(float(ledger.other_liabs[firm.party]), 0.0)
    owed = float(claims.sum()) + other
    share = min(1.0, cash / owed) if owed > 0 else 0.0
    if claims.sum() > 0:
        pay = claims * share
        ledger.repay(rows[pay > 0], pay[pay > 0])
        write_off(model, rows, c.principal[rows].copy())
    ledger.close(rows, Status.DEFAULTED) if rows.size else None
    ledger.clear_past_due(_owed_by(model, firm.party))
    _settle_other_liabilities(model, firm, other * share)
    firm.liquidated = True
    model.log(
        "liquidation",
        firm.name,
        f"{firm.name} is liquidated; {sold:.2f} GW sold at fire-sale prices; "
        f"creditors lose {owed * (1.0 - share):.1f}bn",
        "",
        float(claims.sum()),
    )
