"""Settlement mechanics: what every contract pays this quarter, the clearing of those obligations when someone is
short, and their booking (docs/ODD.md §7.8). Who is short, who raises liquidity and what a default means for the
firms is the economy's part (:mod:`economy.settlement`); this module only reads and posts the books.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from accounting.clearing import clear
from accounting.contracts import IS_DEBT, IS_EXECUTORY, ContractBook, Kind, Status
from accounting.journal import Flow
from accounting.ledger import Ledger, World

INCOME_FLOW = {
    Kind.COMPUTE: Flow.COMPUTE_FEE,
    Kind.BACKSTOP: Flow.BACKSTOP,
    Kind.RISK_TRANSFER: Flow.SRT_PREMIUM,
}


@dataclass(frozen=True)
class Dues:
    """What every contract pays this quarter: arrays over the whole book (zeros where nothing is due)."""

    income: np.ndarray  # interest, fees, premiums (income-type flows)
    repay: np.ndarray  # principal: maturities, amortisation, margin calls
    payer: np.ndarray
    payee: np.ndarray

    def per_payer(self, n_parties: int, rows=None) -> np.ndarray:
        """What each party is due to pay (all rows, or the given mask/rows)."""
        if rows is None:
            return np.bincount(self.payer, self.income + self.repay, n_parties)
        return np.bincount(self.payer[rows], self.income[rows], n_parties)


def dues(c: ContractBook, q: int, reference_rate: float) -> Dues:
    """Debt: interest = principal x rate / 4 from the quarter after signing; principal at maturity, linear
    amortisation before it, margin calls on GPU loans (``margin_call``) at least. Compute and backstop invoices
    are set by the operating phase in ``due``. SRT premiums = notional x premium / 4, paid by the protection buyer
    (the creditor)."""
    kind, live = c.view("kind"), c.view("status") == Status.ACTIVE
    principal, maturity = c.view("principal"), c.view("maturity_q")
    # whole-column arithmetic, kept where the row's kind calls for it (dense masks: cheaper than gathers)
    debt = live & IS_DEBT[kind]
    debt &= c.view("start_q") < q
    rate = c.view("fixed_rate") + c.view("spread")
    rate += np.where(c.view("floating"), reference_rate, 0.0)
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
    return Dues(income, repay, payer, payee)


def recovery_rates(
    ledger: Ledger,
    payer: np.ndarray,
    payee: np.ndarray,
    amount: np.ndarray,
    bills: np.ndarray,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> np.ndarray:
    """Each party's recovery rate on what it owes this quarter: 1 for everyone who can pay; otherwise the
    greatest clearing vector of the obligations network (contract dues plus unpaid operating bills to suppliers)
    with each agent's cash as its external assets and Rogers-Veraart default costs ``alpha``, ``beta``. The outside
    world always pays in full."""
    n = ledger.n_parties
    owed = np.bincount(payer, amount, n) + bills
    agent = ~ledger.is_world
    if not (agent & (owed > ledger.cash + 1e-9)).any():
        return np.ones(n)
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
    result = clear(liabilities, assets, alpha=alpha, beta=beta)
    with np.errstate(invalid="ignore", divide="ignore"):
        recovery = np.where(owed > 0, result.payments / owed, 1.0)
    return np.where(result.defaulted, np.clip(recovery, 0.0, 1.0), 1.0)


def pay_dues(ledger: Ledger, d: Dues, rows: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Book each row's dues at its payer's recovery ``rate``: interest and fees as income flows, principal
    through the ledger's repayment; what is not paid becomes past due. Returns (income paid, principal paid)."""
    c = ledger.contracts
    paid_income = d.income[rows] * rate
    paid_repay = d.repay[rows] * rate
    payer, payee = d.payer[rows], d.payee[rows]
    kinds = c.kind[rows]
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
    ledger.settled(rows, d.income[rows] + d.repay[rows] - paid_income - paid_repay)
    return paid_income, paid_repay
