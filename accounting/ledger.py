"""The double-entry ledger: the only writer of cash, contract balances, contract terms and capacity book values.

Each posting changes both sides at once: a payment debits the payer and credits the payee and is journalled
(quarter, payer, payee, amount, flow, contract). Per party the ledger keeps the accounts of a balance sheet
(cash, real assets, financial assets and liabilities, other assets and liabilities) and of equity (paid-in
capital, retained earnings). The sub-ledgers (contract book, capacity book, journal) must always agree with the
accounts; :mod:`accounting.invariants` checks that they do. Every account and book column is exposed read-only
(``ledger.cash[i] = x`` raises); the postings below are the only way to change them. docs/ODD.md §2.4.
"""

from __future__ import annotations

import math
from enum import IntEnum
from types import SimpleNamespace

import numpy as np

from accounting.books import read_only
from accounting.capacity import CapacityBook, CapacityPostings
from accounting.contracts import HAS_NOTIONAL, IS_DEBT, ContractBook, Kind, Status
from accounting.errors import LedgerError
from accounting.journal import PNL_CODES, PNL_FLOWS, Flow, Journal


class World(IntEnum):
    """The outside world, named explicitly. These parties have no balance-sheet checks."""

    END_CUSTOMERS = 0
    OUTSIDE_INVESTORS = 1
    SUPPLIERS = 2
    TREASURY = 3
    AMD = 4


N_WORLD = len(World)


ACCOUNTS = (
    "cash",
    "real_assets",
    "fin_assets",
    "fin_liabs",
    "other_assets",
    "other_liabs",
    "paid_in",
    "retained",
    "cash_at_open",
)
PARTY_FLAGS = ("is_world", "defaulted")
# running totals that are not accounts: the gross of every mark posted to a party (|change| of contract values and
# provisions), the scale of the rounding its fin_assets and retained can carry (accounting/invariants.py)
ACTIVITY = ("gross_marks",)


# A posting that touches few of many parties sums over those parties only. A bincount over every party costs
# O(parties) per call, and a stressed quarter posts thousands of small repayments and write-downs: at 30,000 firms
# that made the quarter's cost grow with the square of its size. A payment's two bincounts and account update over
# every party cost 2 us at 1,000 parties, 5 at 4,096, 10 at 10,000, 12 at 12,288 and 140-160 at 30,000; finding
# the touched parties costs 3.5 + 0.27 us per line in Python (a dict) and about 10 us with np.unique at any size
# (measured on 2 cores, numpy 2.5), hence the two paths and their thresholds. Either way a party's sum adds its
# lines in their order from 0.0, so every touched account gets the same bits; an untouched one is left as it is,
# where adding the full path's 0.0 would turn a -0.0 into +0.0 (the same number).
SMALL_BASE, SMALL_PER_LINE = 4096, 256  # the dict path when lines * SMALL_PER_LINE + SMALL_BASE < parties
COMPACT_MIN_PARTIES = 12288  # else np.unique from this many parties ...
COMPACT_SPARSITY = 16  # ... when the posting touches fewer than one party in this many

# A debt contract's amounts, which a split or a sale of part of it moves pro rata (the other columns are terms)
PRO_RATA = ("principal", "allowance", "residual_guarantee", "margin_call", "gw", "past_due", "due")


def _lines(x, keep: np.ndarray) -> np.ndarray:
    """The kept lines of a per-line array, or of one value that stands for every line (broadcast)."""
    x = np.asarray(x)
    if x.shape == keep.shape:
        return x[keep]
    if x.ndim == 0:
        return np.full(int(np.count_nonzero(keep)), x)
    return np.broadcast_to(x, keep.shape)[keep]


class Ledger(CapacityPostings):
    """Parties' accounts and the books; capacity postings in :class:`accounting.capacity.CapacityPostings`."""

    def __init__(self, names: list[str]):
        self.names: list[str] = list(names)
        self._party_of_name = {name: i for i, name in enumerate(self.names)}
        n = len(self.names)
        # the per-party accounts are views of the first n entries of buffers that grow by doubling; ``_acc``
        # holds the writable views, the public attributes read-only views of the same memory
        self._buffers: dict[str, np.ndarray] = {}
        self._acc = SimpleNamespace()
        self._reserve(n, max(n, 64))
        self._acc.is_world[:N_WORLD] = True
        self.contracts = ContractBook()
        self.capacity = CapacityBook()
        self.journal = Journal()
        self.quarter = 0

    # -- parties --------------------------------------------------------------------------------------------------
    @property
    def n_parties(self) -> int:
        return len(self.names)

    def party_of(self, name: str) -> int | None:
        """The party index of a name (None if unknown), without scanning the list of names."""
        return self._party_of_name.get(name)

    def _reserve(self, n: int, capacity: int) -> None:
        """Point the accounts at the first ``n`` entries of buffers of at least ``capacity`` (zero-filled)."""
        for attr in (*ACCOUNTS, *PARTY_FLAGS, *ACTIVITY):
            buf = self._buffers.get(attr)
            if buf is None or buf.size < capacity:
                new = np.zeros(capacity, dtype=bool if attr in PARTY_FLAGS else np.float64)
                if buf is not None:
                    new[: buf.size] = buf
                buf = self._buffers[attr] = new
            setattr(self._acc, attr, buf[:n])
            setattr(self, attr, read_only(buf[:n]))

    def add_party(self, name: str) -> int:
        """A new party with empty accounts (amortised O(1): the account buffers grow by doubling)."""
        self._party_of_name.setdefault(name, len(self.names))
        self.names.append(name)
        n = len(self.names)
        size = self._buffers["cash"].size
        self._reserve(n, size if n <= size else 2 * size)
        return n - 1

    def open_balance_sheet(
        self, party: int, *, cash: float, other_assets: float = 0.0, other_liabs: float = 0.0
    ) -> None:
        """Opening balances not tied to a contract. Equity is whatever makes the sheet balance, booked as paid-in
        capital, so the opening sheet balances by construction and every later change goes through postings."""
        if self.journal.n or self.quarter:
            raise LedgerError("opening balances can only be set before the first posting")
        a = self._acc
        a.cash[party] += cash
        a.cash_at_open[party] += cash
        a.other_assets[party] += other_assets
        a.other_liabs[party] += other_liabs
        a.paid_in[party] += cash + other_assets - other_liabs

    def record_default(self, party: int) -> None:
        """A recorded default: the party may now carry past-due amounts (invariant 5). Never cleared."""
        self._acc.defaulted[party] = True

    # -- payments ----------------------------------------------------------------------------------------------
    def pay(self, payer: int, payee: int, amount: float, flow: Flow, contract: int = -1) -> None:
        """Move cash from payer to payee and journal it; income-type flows also move retained earnings."""
        if not (amount >= 0.0) or not math.isfinite(amount):
            raise LedgerError(
                f"payment of {amount!r} from {self.names[payer]} to {self.names[payee]} ({flow.name})"
            )
        if amount == 0.0:
            return
        if payer == payee:
            raise LedgerError(f"{self.names[payer]} cannot pay itself ({flow.name})")
        a = self._acc
        a.cash[payer] -= amount
        a.cash[payee] += amount
        code = int(flow)
        if code in PNL_CODES:
            a.retained[payer] -= amount
            a.retained[payee] += amount
        self.journal.line(self.quarter, payer, payee, amount, code, contract)

    def _bins(self, parties: np.ndarray) -> tuple[slice | np.ndarray, np.ndarray, int]:
        """How to sum per party over ``parties``: ``(where, bins, size)`` such that
        ``account[where] += np.bincount(bins, weights, size)`` is ``account += np.bincount(parties, weights, n)``
        (every party, or only those ``parties`` touches when they are few of many: see SMALL_BASE)."""
        n, k = self.n_parties, parties.size
        if k * SMALL_PER_LINE + SMALL_BASE < n:
            slot: dict[int, int] = {}
            bins = np.array([slot.setdefault(p, len(slot)) for p in parties.tolist()], dtype=np.intp)
            return np.fromiter(slot, np.int64, len(slot)), bins, len(slot)
        if n >= COMPACT_MIN_PARTIES and COMPACT_SPARSITY * k <= n:
            where, bins = np.unique(parties, return_inverse=True)
            return where, bins, where.size
        return slice(None), parties, n

    def pay_many(self, payers, payees, amounts, flow: Flow, contracts=-1) -> None:
        """Vectorised :meth:`pay` for many lines of the same flow."""
        amounts = np.asarray(amounts, dtype=float)
        keep = amounts > 0.0
        if not keep.any():
            return
        if (amounts < 0).any() or not np.isfinite(amounts).all():
            raise LedgerError(f"negative or non-finite {flow.name} payments")
        payers, payees, contracts = (_lines(x, keep) for x in (payers, payees, contracts))
        amounts = amounts[keep]
        if (payers == payees).any():
            raise LedgerError(f"self-payment in {flow.name}")
        n, k = self.n_parties, amounts.size
        if (
            n <= SMALL_BASE
        ):  # _bins would take every party: skip joining the lines (payments are the hot posting)
            where, net = slice(None), np.bincount(payees, amounts, n) - np.bincount(payers, amounts, n)
        else:
            where, bins, size = self._bins(np.concatenate([payers, payees]))
            net = np.bincount(bins[k:], amounts, size) - np.bincount(bins[:k], amounts, size)  # in - out
        a = self._acc
        a.cash[where] += net
        if flow in PNL_FLOWS:
            a.retained[where] += net
        self.journal.extend(
            amounts.size,
            quarter=self.quarter,
            payer=payers,
            payee=payees,
            amount=amounts,
            flow=int(flow),
            contract=contracts,
        )

    def contribute(self, investor: int, firm: int, amount: float) -> None:
        """New paid-in capital from the outside world (fund subscriptions, share sales to outside investors).
        Agents buy equity through an EQUITY_STAKE contract instead, so that the stake is on their books."""
        if not self.is_world[investor]:
            raise LedgerError(f"{self.names[investor]} must buy equity through an EQUITY_STAKE contract")
        self.pay(investor, firm, amount, Flow.CAPITAL_CONTRIBUTION)
        self._acc.paid_in[firm] += amount

    def redeem(self, firm: int, investor: int, amount: float) -> None:
        """Return paid-in capital to outside investors (fund redemptions, buybacks)."""
        self.pay(firm, investor, amount, Flow.REDEMPTION)
        self._acc.paid_in[firm] -= amount

    # -- contracts ---------------------------------------------------------------------------------------------
    def open_contract(
        self,
        kind: Kind,
        creditor: int,
        debtor: int,
        *,
        principal: float = 0.0,
        notional: float = 0.0,
        cash: float = 0.0,
        start_q: int | None = None,
        maturity_q: int = 0,
        loop: int = 0,
        opening: bool = False,
        **terms,
    ) -> int:
        """Create a contract. ``cash`` is what the creditor pays the debtor at signing (a loan drawdown, the price
        of a stake). Debt: the principal is booked on both sides and drawn in full. Stake: the holder books
        ``cash`` as the stake's value and the issuer books it as paid-in capital. Executory contracts and hedges
        carry a ``notional`` (backlog, cap, covered amount), which is not a balance. ``opening=True`` books a
        position that already exists at the start (no cash moves; it enters both sides' opening capital)."""
        if creditor == debtor:
            raise LedgerError(f"{self.names[creditor]} cannot contract with itself ({kind.name})")
        if principal < 0 or cash < 0 or notional < 0:
            raise LedgerError(f"{kind.name}: principal, notional and cash must be non-negative")
        if opening and (self.journal.n or self.quarter):
            raise LedgerError("opening positions can only be booked before the first posting")
        is_debt = bool(IS_DEBT[kind])
        if principal and not is_debt:
            raise LedgerError(f"{kind.name} is not debt: it carries a notional, not a principal")
        if notional and not HAS_NOTIONAL[kind]:
            raise LedgerError(f"{kind.name} carries no notional")
        claim = kind is Kind.CLAIM
        if claim and cash:
            raise LedgerError("a claim for damages carries no cash")
        if is_debt and not opening and not claim and abs(cash - principal) > 1e-9:
            raise LedgerError(
                f"{kind.name}: a new loan is drawn in full (cash {cash} != principal {principal})"
            )
        start = self.quarter if start_q is None else start_q
        terms.setdefault("collateral", -1)
        cid = self.contracts.append(
            kind=int(kind),
            status=int(Status.ACTIVE),
            creditor=creditor,
            debtor=debtor,
            principal=principal,
            notional=notional,
            start_q=start,
            maturity_q=maturity_q,
            loop=loop,
            **terms,
        )
        a = self._acc
        if is_debt:
            a.fin_assets[creditor] += principal
            a.fin_liabs[debtor] += principal
            if claim:  # damages: income to the creditor, an expense of the debtor; no drawdown
                a.retained[creditor] += principal
                a.retained[debtor] -= principal
            elif opening:
                a.paid_in[creditor] += principal
                a.paid_in[debtor] -= principal
            else:
                self.pay(creditor, debtor, cash, Flow.DRAWDOWN, cid)
        elif kind is Kind.EQUITY_STAKE:
            self.contracts._mut.value[cid] = cash
            a.fin_assets[creditor] += cash
            if opening:
                a.paid_in[creditor] += cash  # the issuer's side is inside its opening book equity already
            else:
                self.pay(creditor, debtor, cash, Flow.EQUITY_PURCHASE, cid)
                a.paid_in[debtor] += cash
        elif cash:
            raise LedgerError(f"{kind.name} contracts carry no cash at signing")
        return cid

    def book_claim(self, creditor: int, debtor: int, amount: float, *, maturity_q: int, loop: int = 0) -> int:
        """A claim for damages (a terminated take-or-pay): the creditor books a receivable and the income of the
        damages, the debtor the liability and the expense. No cash moves; it ranks with the debtor's debt."""
        return self.open_contract(
            Kind.CLAIM, creditor, debtor, principal=amount, maturity_q=maturity_q, loop=loop
        )

    def repay(self, ids, amounts) -> None:
        """Debtors repay principal to creditors (vectorised)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.atleast_1d(np.asarray(amounts, dtype=float))
        c = self.contracts
        if (amounts > c.principal[ids] + 1e-9).any():
            raise LedgerError("repayment exceeds outstanding principal")
        self.pay_many(c.debtor[ids], c.creditor[ids], amounts, Flow.PRINCIPAL, ids)
        self._reduce_principal(ids, amounts)
        self._release(ids)

    def provide(self, ids, allowances) -> None:
        """Set the creditors' expected-loss provisions on debt: the change is a loss (or a release) of the
        creditor and lowers (raises) the carrying value of its claim; the debtor still owes the face value."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        c = self.contracts
        target = np.clip(np.asarray(allowances, dtype=float), 0.0, c.principal[ids])
        delta = target - c.allowance[ids]
        c._mut.allowance[ids] = target
        where, bins, size = self._bins(c.creditor[ids])
        change = np.bincount(bins, delta, size)
        self._acc.fin_assets[where] -= change
        self._acc.retained[where] -= change
        self._acc.gross_marks[where] += np.bincount(bins, np.abs(delta), size)

    def _release(self, ids) -> np.ndarray:
        """Release the allowance above what is still owed (after a repayment or write-down); returns it."""
        c = self.contracts
        excess = np.maximum(c.allowance[ids] - c.principal[ids], 0.0)
        if excess.any():
            c._mut.allowance[ids] -= excess
            where, bins, size = self._bins(c.creditor[ids])
            back = np.bincount(bins, excess, size)
            self._acc.fin_assets[where] += back
            self._acc.retained[where] += back
        return excess

    def _reduce_principal(self, ids, amounts) -> None:
        principal = self.contracts._mut.principal
        if ids.size < 2 or bool((ids[1:] > ids[:-1]).all()):  # distinct ids (settlement's): one gather each
            principal[ids] = np.maximum(principal[ids] - amounts, 0.0)
        else:
            np.subtract.at(principal, ids, amounts)
            principal[ids] = np.maximum(principal[ids], 0.0)
        self._post_both_sides(ids, amounts)

    def _post_both_sides(self, ids: np.ndarray, amounts: np.ndarray) -> None:
        """The creditors' financial assets and the debtors' liabilities of ``ids`` fall by ``amounts``."""
        c = self.contracts
        where, bins, size = self._bins(c.creditor[ids])
        self._acc.fin_assets[where] -= np.bincount(bins, amounts, size)
        where, bins, size = self._bins(c.debtor[ids])
        self._acc.fin_liabs[where] -= np.bincount(bins, amounts, size)

    def write_down(self, ids, amounts) -> None:
        """Debt forgiven in a restructuring: the creditor's loss is the debtor's gain (the creditor's allowance
        against it, provided earlier, is used up first)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.minimum(np.atleast_1d(np.asarray(amounts, dtype=float)), self.contracts.principal[ids])
        c = self.contracts
        where, bins, size = self._bins(c.creditor[ids])
        self._acc.retained[where] -= np.bincount(bins, amounts, size)
        where, bins, size = self._bins(c.debtor[ids])
        self._acc.retained[where] += np.bincount(bins, amounts, size)
        self._reduce_principal(ids, amounts)
        self._release(ids)

    def settle_other_liabilities(self, party: int, payee: int, paid: float) -> float:
        """A closing estate pays ``paid`` of its other liabilities (those outside the contract book: the opening
        balance's payables and provisions) to ``payee`` and is released from the rest. Returns what is forgiven:
        the creditors' loss and the estate's gain."""
        a = self._acc
        owed = float(a.other_liabs[party])
        if not 0.0 <= paid <= owed + 1e-9:
            raise LedgerError(f"{self.names[party]} cannot pay {paid!r} of {owed!r} other liabilities")
        paid = min(paid, owed)
        self.pay(party, payee, paid, Flow.PRINCIPAL)  # a balance-sheet flow: no P&L on either side
        forgiven = owed - paid
        a.other_liabs[party] = 0.0
        a.retained[party] += forgiven
        return forgiven

    def revalue(self, ids, new_values) -> None:
        """Mark stakes, warrants, shorts and protection to market; gains and losses go to retained earnings.
        Warrants, shorts and protection are also the counterparty's liability, marked the same way."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if ids.size == 0:
            return
        c, n, a = self.contracts, self.n_parties, self._acc
        delta = np.asarray(new_values, dtype=float) - c.value[ids]
        c._mut.value[ids] = new_values
        cred, debt = c.creditor[ids], c.debtor[ids]
        a.fin_assets += np.bincount(cred, delta, n)
        a.retained += np.bincount(cred, delta, n)
        two_sided = c.kind[ids] != Kind.EQUITY_STAKE
        a.fin_liabs += np.bincount(debt[two_sided], delta[two_sided], n)
        a.retained -= np.bincount(debt[two_sided], delta[two_sided], n)
        # a value marked up and down by large amounts leaves rounding of that size in the accounts
        size = np.abs(delta)
        a.gross_marks += np.bincount(cred, size, n) + np.bincount(debt[two_sided], size[two_sided], n)

    def cash_settle(self, ids, amounts, flow: Flow) -> None:
        """Pay out part of a two-sided contract's value (a protection claim, a warrant exercise, a short's gain).
        Negative amounts are paid by the creditor to the debtor (a short's loss)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.atleast_1d(np.asarray(amounts, dtype=float))
        c = self.contracts
        pos = amounts > 0
        self.pay_many(c.debtor[ids][pos], c.creditor[ids][pos], amounts[pos], Flow.PRINCIPAL, ids[pos])
        self.pay_many(c.creditor[ids][~pos], c.debtor[ids][~pos], -amounts[~pos], Flow.PRINCIPAL, ids[~pos])
        c._mut.value[ids] -= amounts
        self._post_both_sides(ids, amounts)
        # booked through pay_many with a balance-sheet flow; keep the journal's label meaningful
        self.journal.relabel_last(int(ids.size), int(flow))

    def close(self, ids, status: Status) -> None:
        """End contracts whose balances are already zero (matured, terminated, resolved in default)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        c = self.contracts
        live = IS_DEBT[c.kind[ids]] & (np.abs(c.principal[ids]) > 1e-9)
        live |= np.abs(c.value[ids]) > 1e-9
        if live.any():
            bad = ids[live][0]
            raise LedgerError(f"contract {bad} ({Kind(int(c.kind[bad])).name}) still carries a balance")
        # a dust balance (at most 1e-9) is written off through the books, so that no closed contract keeps a
        # balance its parties' accounts still carry
        debt = IS_DEBT[c.kind[ids]]
        dust = ids[debt & (c.principal[ids] != 0.0)]
        if dust.size:
            self.write_down(dust, c.principal[dust])
        marked = ids[~debt & (c.value[ids] != 0.0)]
        if marked.size:
            self.revalue(marked, np.zeros(marked.size))
        self.provide(ids[debt], 0.0)  # nothing left to provide against
        c._mut.status[ids] = int(status)
        c._mut.notional[ids] = 0.0

    # -- contract terms (not balances, but written here too, so the book has a single writer) -----------------
    def invoice(self, ids, amounts) -> None:
        """This quarter's invoices of executory contracts (compute fees, backstop purchases), paid in settlement."""
        self.contracts._mut.due[ids] = amounts

    def run_down(self, ids, amounts) -> None:
        """Reduce the notional of contracts (compute backlog invoiced, backstop cap or protection used up)."""
        notional = self.contracts._mut.notional
        notional[ids] = np.maximum(notional[ids] - amounts, 0.0)

    def settled(self, ids, unpaid) -> None:
        """After settlement: what was not paid is past due, invoices are cleared, margin calls met or in default."""
        c = self.contracts._mut
        c.past_due[ids] += np.where(unpaid > 1e-9, unpaid, 0.0)
        c.due[ids] = 0.0
        c.margin_call[ids] = 0.0

    def clear_past_due(self, ids) -> None:
        """Past-due amounts forgiven or rescheduled in a restructuring or liquidation."""
        self.contracts._mut.past_due[ids] = 0.0

    def reschedule(self, ids, maturity_q) -> None:
        """New maturities (restructuring, an SPV whose sponsor walks away and owes at once)."""
        self.contracts._mut.maturity_q[ids] = maturity_q

    def term_out(self, ids, maturity_q) -> None:
        """Bullet loans turned into loans amortising to a new maturity (a project loan termed out at completion)."""
        c = self.contracts._mut
        c.maturity_q[ids] = maturity_q
        c.amortising[ids] = True

    def call_margin(self, ids, amounts) -> None:
        """The LTV covenant's margin calls, due at the next settlement (a covenant state, not a balance)."""
        self.contracts._mut.margin_call[ids] = amounts

    def secure(self, loans, cohort: int) -> None:
        """Secure GPU-backed loans on a capacity cohort (the loans are sized on it)."""
        c = self.contracts._mut
        c.collateral[loans] = cohort
        c.gw[loans] = self.capacity.gw[cohort]

    def release_collateral(self, loans) -> None:
        """The collateral of these loans is seized or gone: they are unsecured from now on."""
        self.contracts._mut.collateral[loans] = -1

    def split(self, row: int, share: float) -> int:
        """Move ``share`` of a debt contract's principal into a new contract with the same terms and parties (a
        loan secured on two cohorts becomes one row per cohort). No cash moves; both sides' accounts stay."""
        c = self.contracts
        if not IS_DEBT[c.kind[row]] or not 0.0 < share < 1.0:
            raise LedgerError(f"cannot split contract {row} by {share}")
        return self._carve(row, share)

    def _carve(self, row: int, share: float, **terms) -> int:
        """A new debt contract with ``share`` of ``row``'s amounts (``PRO_RATA``) and its other terms, overridden by
        ``terms``; ``row`` keeps the rest. Amounts are moved, never copied: a copied residual-value guarantee or
        margin call would be owed twice."""
        c = self.contracts
        new_terms = {name: getattr(c, name)[row] for name in c.column_names()}
        for name in PRO_RATA:
            moved = float(getattr(c, name)[row]) * share
            new_terms[name] = moved
            getattr(c._mut, name)[row] -= moved
        new_terms.update(terms)
        return c.append(**new_terms)

    def sell_claims(self, ids, shares, buyer: int, prices) -> np.ndarray:
        """Sell ``shares`` of the debt contracts ``ids`` to ``buyer`` for ``prices`` (cash): each sold part becomes
        a new contract of the buyer with the same terms and debtor, carried at its price (an allowance for the
        discount to face); the seller books the gap between its carrying value and the price as a loss. The
        debtor owes the same, to two holders. Returns the new contracts' ids."""
        c, a = self.contracts, self._acc
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        shares = np.broadcast_to(np.asarray(shares, dtype=float), ids.shape)
        prices = np.broadcast_to(np.asarray(prices, dtype=float), ids.shape)
        new_ids = np.empty(ids.size, dtype=np.int64)
        for k, (row, share, price) in enumerate(
            zip(ids.tolist(), shares.tolist(), prices.tolist(), strict=True)
        ):
            if not IS_DEBT[c.kind[row]] or not 0.0 < share <= 1.0 or price < 0:
                raise LedgerError(f"cannot sell {share!r} of contract {row} for {price!r}")
            seller = int(c.creditor[row])
            if seller == buyer:
                raise LedgerError(f"{self.names[buyer]} cannot buy its own claim {row}")
            face = float(c.principal[row]) * share
            allowance = float(c.allowance[row]) * share
            carrying = face - allowance
            price = min(price, face)
            # the buyer carries its part at the price: its allowance is the discount to face
            new_ids[k] = self._carve(row, share, creditor=buyer, allowance=face - price)
            a.fin_assets[seller] -= carrying
            a.retained[seller] += price - carrying
            a.fin_assets[buyer] += price
            self.pay(buyer, seller, price, Flow.LOAN_SALE, row)
        return new_ids

    def sell_other_assets(
        self, seller: int, buyer: int, amount: float, price: float, flow: Flow = Flow.LOAN_SALE
    ) -> None:
        """Sell ``amount`` of a party's other assets (a fund's non-AI loan book; an estate's business outside the
        model, as an ``ASSET_SALE``) for ``price`` in cash; the gap is the seller's loss."""
        if not 0.0 <= amount <= self.other_assets[seller] + 1e-9 or not 0.0 <= price <= amount + 1e-9:
            raise LedgerError(f"cannot sell {amount!r} of {self.names[seller]}'s other assets for {price!r}")
        a = self._acc
        a.other_assets[seller] -= amount
        a.retained[seller] += price - amount
        self.pay(buyer, seller, price, flow)

    def dilute(self, stakes, factor: float) -> None:
        """New shares issued: existing stakes shrink to ``factor`` of their share of the issuer."""
        self.contracts._mut.fraction[stakes] *= factor

    def vest(self, warrant: int, shares: float) -> None:
        """Warrant shares vest (million shares); their value follows at the next mark, through :meth:`revalue`."""
        c = self.contracts._mut
        c.unvested[warrant] -= shares
        c.fraction[warrant] += shares

    def exercise(self, warrant: int) -> float:
        """Exercise every vested share of a warrant and sell it: the writer pays out its value. Returns it."""
        value = float(self.contracts.value[warrant])
        self.cash_settle([warrant], [value], Flow.WARRANT_EXERCISE)
        self.contracts._mut.fraction[warrant] = 0.0
        return value

    # -- derived -----------------------------------------------------------------------------------------------
    def total_assets(self) -> np.ndarray:
        return self.cash + self.real_assets + self.fin_assets + self.other_assets

    def total_liabilities(self) -> np.ndarray:
        return self.fin_liabs + self.other_liabs

    def equity(self) -> np.ndarray:
        """Book equity from the equity accounts (paid-in + retained)."""
        return self.paid_in + self.retained

    def balance_sheet(self, party: int) -> dict[str, float]:
        """One party's balance sheet (:func:`accounting.balance_sheet.balance_sheet`)."""
        from accounting.balance_sheet import balance_sheet

        return balance_sheet(self, party)

    # -- replay (benchmarks run the same quarter round after round) -----------------------------------------------
    def snapshot(self) -> dict:
        """A copy of every account and book, for :meth:`restore`."""
        return {
            "accounts": {name: getattr(self, name).copy() for name in (*ACCOUNTS, "defaulted", *ACTIVITY)},
            "books": {t: (t.n, t.columns()) for t in (self.contracts, self.capacity)},
            "journal_n": self.journal.n,
        }

    def restore(self, snap: dict) -> None:
        """Put the books back as :meth:`snapshot` found them (journal lines written since are cut)."""
        for name, values in snap["accounts"].items():
            getattr(self._acc, name)[:] = values
        for table, (n, columns) in snap["books"].items():
            if table.n != n:
                raise LedgerError("restore: rows were added since the snapshot")
            table._restore(n, columns)
        self.journal._restore(snap["journal_n"], {})
