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
from economy import capital

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
        if c.kind[r] == Kind.COMPUTE:
            firm.compute_terminated(
                int(c.creditor[r]), float(c.gw[r]), float(c.price[r]), float(c.min_share[r]), int(c.loop[r])
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
    firm.record_credit_loss(amount)
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
    gpus = capital.gpu_market_values(model, cohorts)
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
    gpu_value = capital.gpu_market_values(model, own).sum()
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
