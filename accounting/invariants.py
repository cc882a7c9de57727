"""Accounting identities checked every quarter (docs/ODD.md, "Invariants").

Each check recomputes a quantity from a sub-ledger (journal, contract book, capacity book) and compares it with
the ledger's accounts, so a balance changed anywhere but through a ledger posting is caught. Failures raise
:class:`InvariantError` with the numbers in the message.
"""

from __future__ import annotations

import weakref

import numpy as np

from accounting.contracts import IS_DEBT, IS_TWO_SIDED, Kind, Status
from accounting.ledger import Ledger


class InvariantError(AssertionError):
    pass


RTOL = 1e-9  # of a party's gross activity: rounding in long sums of large flows stays far below it


def _tol(scale) -> np.ndarray:
    """The tolerance of a per-party identity: relative to the party's gross activity (the sum of the absolute
    amounts that built the balance), not to the balance, so a long run of large flows that nets to a small
    balance is not a false alarm, and a missing posting of a billionth of the activity is still caught."""
    return RTOL * np.maximum(1.0, np.abs(scale))


def _first_bad(ledger: Ledger, bad: np.ndarray, what: str, left, right) -> InvariantError:
    i = int(np.flatnonzero(bad)[0])
    return InvariantError(
        f"quarter {ledger.quarter}: {what} for {ledger.names[i]}: {float(left[i]):.9g} != {float(right[i]):.9g} "
        f"(difference {float(left[i] - right[i]):.3g}; {int(bad.sum())} parties affected)"
    )


# per ledger: (journal lines summed, inflow, outflow, external) at the last check (kept here, not on the ledger,
# so that nothing outside the ledger writes ledger state)
_JOURNAL_TOTALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _journal_totals(ledger: Ledger) -> tuple[np.ndarray, np.ndarray, float]:
    """Per party, all journalled inflows and outflows, and agents' net inflow from the outside world. Lines
    summed at the previous check are kept as running totals, so a check costs O(new lines), not O(journal);
    the totals restart from the first line whenever the journal is shorter than at the last check."""
    j, n = ledger.journal, ledger.n_parties
    start, inflow, outflow, external = 0, np.zeros(n), np.zeros(n), 0.0
    cached = _JOURNAL_TOTALS.get(ledger)
    if cached is not None and cached[0] <= j.n and cached[1].size == n:
        start, inflow, outflow, external = cached[0], cached[1].copy(), cached[2].copy(), cached[3]
    payer, payee = j.payer[start : j.n], j.payee[start : j.n]
    amount = j.amount[start : j.n]
    inflow += np.bincount(payee, amount, n)
    outflow += np.bincount(payer, amount, n)
    payer_w, payee_w = ledger.is_world[payer], ledger.is_world[payee]
    external += amount[payer_w & ~payee_w].sum() - amount[~payer_w & payee_w].sum()
    _JOURNAL_TOTALS[ledger] = (j.n, inflow, outflow, external)
    return inflow, outflow, external


def check(ledger: Ledger) -> None:
    """Raise InvariantError if any identity fails."""
    n = ledger.n_parties
    agent = ~ledger.is_world
    c, cap = ledger.contracts, ledger.capacity

    for name in ("cash", "real_assets", "fin_assets", "fin_liabs", "paid_in", "retained"):
        arr = getattr(ledger, name)
        if not np.isfinite(arr).all():
            raise InvariantError(f"quarter {ledger.quarter}: non-finite {name}: {arr[~np.isfinite(arr)][:3]}")
    for col in ("principal", "allowance", "value", "due", "past_due"):
        if not np.isfinite(c.view(col)).all():
            raise InvariantError(f"quarter {ledger.quarter}: non-finite contract {col}")
    if not np.isfinite(cap.book_value()).all():
        raise InvariantError(f"quarter {ledger.quarter}: non-finite capacity book value")

    # 1. cash is conserved: every party's cash equals its opening cash plus its journalled net flows, and the
    #    change in all agents' cash equals their net flows with the outside world
    inflow, outflow, net_external = _journal_totals(ledger)
    expected = ledger.cash_at_open + inflow - outflow
    gross = np.abs(ledger.cash_at_open) + inflow + outflow  # every party's gross cash activity so far
    bad = np.abs(ledger.cash - expected) > _tol(gross)
    if bad.any():
        raise _first_bad(
            ledger, bad, "cash differs from opening cash + journalled flows", ledger.cash, expected
        )
    change = (ledger.cash - ledger.cash_at_open)[agent].sum()
    if abs(change - net_external) > RTOL * max(1.0, float(gross[agent].sum())):
        raise InvariantError(
            f"quarter {ledger.quarter}: agents' cash changed by {change:.9g} but net flows with "
            f"the outside world were {net_external:.9g}"
        )

    # 2. every contract is booked once as an asset (creditor) and once as a liability or equity (debtor)
    live = c.view("status") == Status.ACTIVE
    kinds = c.view("kind")
    cred, debt = c.view("creditor"), c.view("debtor")
    if ((cred < 0) | (cred >= n) | (debt < 0) | (debt >= n) | (cred == debt)).any():
        raise InvariantError(
            f"quarter {ledger.quarter}: a contract has an invalid or identical pair of parties"
        )
    is_debt = IS_DEBT[kinds] & live
    two_sided = IS_TWO_SIDED[kinds] & live
    stake = (kinds == Kind.EQUITY_STAKE) & live
    if (c.view("allowance") < -1e-9).any() or (c.view("allowance") > c.view("principal") + 1e-9).any():
        raise InvariantError(f"quarter {ledger.quarter}: an allowance is negative or above what is owed")
    carrying = c.view("principal") - c.view("allowance")  # creditors carry debt net of their provisions
    asset_side = np.bincount(cred[is_debt], carrying[is_debt], n) + np.bincount(
        cred[two_sided | stake], c.view("value")[two_sided | stake], n
    )
    liability_side = np.bincount(debt[is_debt], c.view("principal")[is_debt], n) + np.bincount(
        debt[two_sided], c.view("value")[two_sided], n
    )
    # the accounts were built by postings of contract balances: their scale is the party's gross activity
    activity = (
        gross
        + np.bincount(cred[live], np.abs(carrying[live]), n)
        + np.bincount(debt[live], np.abs(c.view("principal")[live]), n)
        + ledger.gross_marks  # values marked far up and back down carry rounding of their size
    )
    for what, books, account in (
        ("financial assets", asset_side, ledger.fin_assets),
        ("financial liabilities", liability_side, ledger.fin_liabs),
    ):
        bad = np.abs(books - account) > _tol(activity + np.abs(books))
        if bad.any():
            raise _first_bad(
                ledger, bad, f"{what} in the contract book differ from the ledger", books, account
            )
    closed_with_balance = ~live & IS_DEBT[kinds] & (np.abs(c.view("principal")) > 1e-9)
    if closed_with_balance.any():
        raise InvariantError(
            f"quarter {ledger.quarter}: closed contract {int(np.flatnonzero(closed_with_balance)[0])}"
            " still carries principal"
        )

    # 3. real assets equal the capacity book
    books = np.bincount(cap.view("owner")[cap.view("active")], cap.book_value()[cap.view("active")], n)
    bad = np.abs(books - ledger.real_assets) > _tol(activity + np.abs(books))
    if bad.any():
        raise _first_bad(ledger, bad, "capacity book differs from real assets", books, ledger.real_assets)

    # 4. assets = liabilities + equity for every agent, equity from its own accounts (paid-in + retained)
    lhs = ledger.total_assets()
    rhs = ledger.total_liabilities() + ledger.equity()
    bad = agent & (np.abs(lhs - rhs) > _tol(activity + np.abs(lhs)))
    if bad.any():
        raise _first_bad(ledger, bad, "assets != liabilities + equity", lhs, rhs)

    # 5. nothing is past due without a recorded default
    #    (the one who pays a contract is its debtor, except risk transfer, whose premium the creditor pays)
    overdue = c.view("past_due") > 1e-9
    payer = np.where(kinds == Kind.RISK_TRANSFER, cred, debt)
    undeclared = overdue & ~ledger.defaulted[payer]
    if undeclared.any():
        i = int(np.flatnonzero(undeclared)[0])
        raise InvariantError(
            f"quarter {ledger.quarter}: contract {i} has {c.past_due[i]:.6g} past due but "
            f"{ledger.names[payer[i]]}, who pays it, has no recorded default"
        )
