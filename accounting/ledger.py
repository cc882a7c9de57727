"""The double-entry ledger: the only writer of cash, contract balances and capacity book values.

Each posting changes both sides at once: a payment debits the payer and credits the payee and is journalled
(quarter, payer, payee, amount, flow, contract). Per party the ledger keeps the accounts of a balance sheet
(cash, real assets, financial assets and liabilities, other assets and liabilities) and of equity (paid-in
capital, retained earnings). The sub-ledgers (contract book, capacity book, journal) must always agree with the
accounts; :mod:`model.invariants` checks that they do. Equations: docs/ODD.md, "Contracts and the ledger".
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from accounting.books import Table
from accounting.contracts import IS_DEBT, IS_TWO_SIDED, ContractBook, Kind, Status


class World(IntEnum):
    """The outside world, named explicitly. These parties have no balance-sheet checks."""

    END_CUSTOMERS = 0
    OUTSIDE_INVESTORS = 1
    SUPPLIERS = 2
    TREASURY = 3
    AMD = 4


N_WORLD = len(World)


class Flow(IntEnum):
    """What a journal line is. Income-type flows move retained earnings on both sides."""

    REVENUE = 0  # sale of goods or services (income to payee, expense to payer)
    OPEX = 1
    INTEREST = 2
    COMPUTE_FEE = 4  # take-or-pay invoice
    BACKSTOP = 5
    REVENUE_SHARE = 6
    DIVIDEND = 7  # distribution to shareholders
    SRT_PREMIUM = 8
    HEDGE = 9  # short / protection settlement
    PRINCIPAL = 20  # balance-sheet flows from here on: no P&L effect
    DRAWDOWN = 21
    EQUITY_PURCHASE = 22
    CAPACITY_PURCHASE = 23
    ASSET_SALE = 24
    CAPITAL_CONTRIBUTION = 25
    REDEMPTION = 26
    WARRANT_EXERCISE = 27


PNL_FLOWS = frozenset(f for f in Flow if f < Flow.PRINCIPAL)
_PNL_CODES = frozenset(int(f) for f in PNL_FLOWS)


class CapacityBook(Table):
    """Data-centre capacity cohorts: one row per (owner, vintage) purchase of GW."""

    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "owner": np.int32,
                "vintage_q": np.int16,
                "ready_q": np.int16,  # quarter the shell is built and can be energised
                "gw": np.float64,
                "energised": np.bool_,
                "gpu_cost": np.float64,
                "shell_cost": np.float64,
                "gpu_book": np.float64,
                "shell_book": np.float64,
                "active": np.bool_,
            },
            capacity,
        )

    def book_value(self) -> np.ndarray:
        return self.view("gpu_book") + self.view("shell_book")


class Journal(Table):
    def __init__(self, capacity: int = 4096):
        super().__init__(
            {
                "quarter": np.int16,
                "payer": np.int32,
                "payee": np.int32,
                "amount": np.float64,
                "flow": np.int8,
                "contract": np.int32,
            },
            capacity,
        )


class LedgerError(RuntimeError):
    """A posting that would break the books (negative amount, unknown party, closing a live balance)."""


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


def _lines(x, keep: np.ndarray) -> np.ndarray:
    """The kept lines of a per-line array, or of one value that stands for every line (broadcast)."""
    x = np.asarray(x)
    if x.shape == keep.shape:
        return x[keep]
    if x.ndim == 0:
        return np.full(int(np.count_nonzero(keep)), x)
    return np.broadcast_to(x, keep.shape)[keep]


class Ledger:
    def __init__(self, names: list[str]):
        self.names: list[str] = list(names)
        self._party_of_name = {name: i for i, name in enumerate(self.names)}
        n = len(self.names)
        # the per-party accounts are views of the first n entries of buffers that grow by doubling
        self._buffers: dict[str, np.ndarray] = {}
        self._reserve(n, max(n, 64))
        self.is_world[:N_WORLD] = True  # defaulted: a recorded default (set by settlement)
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
        for attr in (*ACCOUNTS, *PARTY_FLAGS):
            buf = self._buffers.get(attr)
            if buf is None or buf.size < capacity:
                new = np.zeros(capacity, dtype=bool if attr in PARTY_FLAGS else np.float64)
                if buf is not None:
                    new[: buf.size] = buf
                buf = self._buffers[attr] = new
            setattr(self, attr, buf[:n])

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
        self.cash[party] += cash
        self.cash_at_open[party] += cash
        self.other_assets[party] += other_assets
        self.other_liabs[party] += other_liabs
        self.paid_in[party] += cash + other_assets - other_liabs

    def _journal(self, payer, payee, amount, flow, contract) -> None:
        payer, payee, amount = np.atleast_1d(payer), np.atleast_1d(payee), np.atleast_1d(amount)
        count = amount.size
        self.journal.extend(
            count, quarter=self.quarter, payer=payer, payee=payee, amount=amount, flow=flow, contract=contract
        )

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
        self.cash[payer] -= amount
        self.cash[payee] += amount
        code = int(flow)
        if code in _PNL_CODES:
            self.retained[payer] -= amount
            self.retained[payee] += amount
        # one journal line, written in place (the scalar path of _journal)
        j = self.journal
        i = j.n
        if i + 1 > j._cap:
            j._grow(i + 1)
        j.quarter[i] = self.quarter
        j.payer[i] = payer
        j.payee[i] = payee
        j.amount[i] = amount
        j.flow[i] = code
        j.contract[i] = contract
        j.n = i + 1

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
        n = self.n_parties
        out = np.bincount(payers, amounts, n)
        inc = np.bincount(payees, amounts, n)
        self.cash += inc - out
        if flow in PNL_FLOWS:
            self.retained += inc - out
        self._journal(payers, payees, amounts, int(flow), contracts)

    def contribute(self, investor: int, firm: int, amount: float) -> None:
        """New paid-in capital from the outside world (fund subscriptions, share sales to outside investors).
        Agents buy equity through an EQUITY_STAKE contract instead, so that the stake is on their books."""
        if not self.is_world[investor]:
            raise LedgerError(f"{self.names[investor]} must buy equity through an EQUITY_STAKE contract")
        self.pay(investor, firm, amount, Flow.CAPITAL_CONTRIBUTION)
        self.paid_in[firm] += amount

    def redeem(self, firm: int, investor: int, amount: float) -> None:
        """Return paid-in capital to outside investors (fund redemptions, buybacks)."""
        self.pay(firm, investor, amount, Flow.REDEMPTION)
        self.paid_in[firm] -= amount

    # -- contracts ---------------------------------------------------------------------------------------------
    def open_contract(
        self,
        kind: Kind,
        creditor: int,
        debtor: int,
        *,
        principal: float = 0.0,
        cash: float = 0.0,
        start_q: int | None = None,
        maturity_q: int = 0,
        loop: int = 0,
        opening: bool = False,
        **terms,
    ) -> int:
        """Create a contract. ``cash`` is what the creditor pays the debtor at signing (a loan drawdown, the price
        of a stake). Debt: the principal is booked on both sides and drawn in full. Stake: the holder books
        ``cash`` as the stake's value and the issuer books it as paid-in capital. ``opening=True`` books a
        position that already exists at the start (no cash moves; it enters both sides' opening capital)."""
        if creditor == debtor:
            raise LedgerError(f"{self.names[creditor]} cannot contract with itself ({kind.name})")
        if principal < 0 or cash < 0:
            raise LedgerError(f"{kind.name}: principal {principal} and cash {cash} must be non-negative")
        if opening and (self.journal.n or self.quarter):
            raise LedgerError("opening positions can only be booked before the first posting")
        is_debt = kind in (Kind.BOND, Kind.BANK_LOAN, Kind.SPV_FACILITY, Kind.GPU_LOAN, Kind.FINANCE_LEASE)
        if is_debt and not opening and abs(cash - principal) > 1e-9:
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
            start_q=start,
            maturity_q=maturity_q,
            loop=loop,
            **terms,
        )
        if is_debt:
            self.fin_assets[creditor] += principal
            self.fin_liabs[debtor] += principal
            if opening:
                self.paid_in[creditor] += principal
                self.paid_in[debtor] -= principal
            else:
                self.pay(creditor, debtor, cash, Flow.DRAWDOWN, cid)
        elif kind is Kind.EQUITY_STAKE:
            self.contracts.value[cid] = cash
            self.fin_assets[creditor] += cash
            if opening:
                self.paid_in[creditor] += cash  # the issuer's side is inside its opening book equity already
            else:
                self.pay(creditor, debtor, cash, Flow.EQUITY_PURCHASE, cid)
                self.paid_in[debtor] += cash
        elif cash:
            raise LedgerError(f"{kind.name} contracts carry no cash at signing")
        return cid

    def repay(self, ids, amounts) -> None:
        """Debtors repay principal to creditors (vectorised)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.atleast_1d(np.asarray(amounts, dtype=float))
        c = self.contracts
        if (amounts > c.principal[ids] + 1e-9).any():
            raise LedgerError("repayment exceeds outstanding principal")
        self.pay_many(c.debtor[ids], c.creditor[ids], amounts, Flow.PRINCIPAL, ids)
        self._reduce_principal(ids, amounts)

    def _reduce_principal(self, ids, amounts) -> None:
        c = self.contracts
        n = self.n_parties
        if ids.size < 2 or bool((ids[1:] > ids[:-1]).all()):  # distinct ids (settlement's): one gather each
            c.principal[ids] = np.maximum(c.principal[ids] - amounts, 0.0)
        else:
            np.subtract.at(c.principal, ids, amounts)
            c.principal[ids] = np.maximum(c.principal[ids], 0.0)
        self.fin_assets -= np.bincount(c.creditor[ids], amounts, n)
        self.fin_liabs -= np.bincount(c.debtor[ids], amounts, n)

    def write_down(self, ids, amounts) -> None:
        """Debt forgiven in a restructuring: the creditor's loss is the debtor's gain."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.minimum(np.atleast_1d(np.asarray(amounts, dtype=float)), self.contracts.principal[ids])
        c, n = self.contracts, self.n_parties
        self.retained -= np.bincount(c.creditor[ids], amounts, n)
        self.retained += np.bincount(c.debtor[ids], amounts, n)
        self._reduce_principal(ids, amounts)

    def revalue(self, ids, new_values) -> None:
        """Mark stakes, warrants, shorts and protection to market; gains and losses go to retained earnings.
        Warrants, shorts and protection are also the counterparty's liability, marked the same way."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if ids.size == 0:
            return
        c, n = self.contracts, self.n_parties
        delta = np.asarray(new_values, dtype=float) - c.value[ids]
        c.value[ids] = new_values
        cred, debt = c.creditor[ids], c.debtor[ids]
        self.fin_assets += np.bincount(cred, delta, n)
        self.retained += np.bincount(cred, delta, n)
        two_sided = c.kind[ids] != Kind.EQUITY_STAKE
        self.fin_liabs += np.bincount(debt[two_sided], delta[two_sided], n)
        self.retained -= np.bincount(debt[two_sided], delta[two_sided], n)

    def cash_settle(self, ids, amounts, flow: Flow) -> None:
        """Pay out part of a two-sided contract's value (a protection claim, a warrant exercise, a short's gain).
        Negative amounts are paid by the creditor to the debtor (a short's loss)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        amounts = np.atleast_1d(np.asarray(amounts, dtype=float))
        c, n = self.contracts, self.n_parties
        pos = amounts > 0
        self.pay_many(c.debtor[ids][pos], c.creditor[ids][pos], amounts[pos], Flow.PRINCIPAL, ids[pos])
        self.pay_many(c.creditor[ids][~pos], c.debtor[ids][~pos], -amounts[~pos], Flow.PRINCIPAL, ids[~pos])
        c.value[ids] -= amounts
        self.fin_assets -= np.bincount(c.creditor[ids], amounts, n)
        self.fin_liabs -= np.bincount(c.debtor[ids], amounts, n)
        self._relabel_last(flow, int(ids.size))

    def _relabel_last(self, flow: Flow, count: int) -> None:
        # cash_settle books through pay_many with a balance-sheet flow; keep the journal's label meaningful
        j = self.journal
        lo = max(0, j.n - count)
        j.flow[lo : j.n] = int(flow)

    def close(self, ids, status: Status) -> None:
        """End contracts whose balances are already zero (matured, terminated, resolved in default)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        c = self.contracts
        live = IS_DEBT[c.kind[ids]] & (np.abs(c.principal[ids]) > 1e-9)
        live |= np.abs(c.value[ids]) > 1e-9
        if live.any():
            bad = ids[live][0]
            raise LedgerError(f"contract {bad} ({Kind(int(c.kind[bad])).name}) still carries a balance")
        c.status[ids] = int(status)
        c.principal[ids[~IS_DEBT[c.kind[ids]]]] = 0.0

    # -- capacity ----------------------------------------------------------------------------------------------
    def buy_capacity(
        self,
        owner: int,
        gw: float,
        gpu_cost: float,
        shell_cost: float,
        ready_q: int,
        sellers: list[tuple[int, float]],
    ) -> int:
        """Buy ``gw`` of new capacity; ``sellers`` are (party, amount) pairs that sum to the cost. The buyer's cash
        becomes a real asset; the sellers book revenue."""
        total = gpu_cost + shell_cost
        if abs(sum(a for _, a in sellers) - total) > 1e-9 * max(1.0, total):
            raise LedgerError(f"capacity purchase of {total} paid as {sellers}")
        cid = self.capacity.append(
            owner=owner,
            vintage_q=self.quarter,
            ready_q=ready_q,
            gw=gw,
            energised=False,
            gpu_cost=gpu_cost,
            shell_cost=shell_cost,
            gpu_book=gpu_cost,
            shell_book=shell_cost,
            active=True,
        )
        for party, amount in sellers:
            self.pay(owner, party, amount, Flow.REVENUE)
            # the buyer capitalises what it paid: undo the expense side of REVENUE for the buyer
            self.retained[owner] += amount
        self.real_assets[owner] += total
        self.journal.flow[self.journal.n - len(sellers) : self.journal.n] = int(Flow.CAPACITY_PURCHASE)
        return cid

    def open_capacity(self, owner: int, gw: float, gpu_book: float, shell_book: float, vintage_q: int) -> int:
        """Capacity that already exists at the start (energised, at the given book values)."""
        if self.journal.n or self.quarter:
            raise LedgerError("opening capacity can only be booked before the first posting")
        cid = self.capacity.append(
            owner=owner,
            vintage_q=vintage_q,
            ready_q=vintage_q,
            gw=gw,
            energised=True,
            gpu_cost=gpu_book,
            shell_cost=shell_book,
            gpu_book=gpu_book,
            shell_book=shell_book,
            active=True,
        )
        self.real_assets[owner] += gpu_book + shell_book
        self.paid_in[owner] += gpu_book + shell_book
        return cid

    def depreciate(self, gpu_amounts: np.ndarray, shell_amounts: np.ndarray) -> None:
        """Book depreciation on every cohort (arrays over the capacity book)."""
        cap, n = self.capacity, self.n_parties
        gpu = np.minimum(gpu_amounts, cap.view("gpu_book"))
        shell = np.minimum(shell_amounts, cap.view("shell_book"))
        cap.view("gpu_book")[:] -= gpu
        cap.view("shell_book")[:] -= shell
        per_party = np.bincount(cap.view("owner"), gpu + shell, n)
        self.real_assets -= per_party
        self.retained -= per_party

    def sell_capacity(self, cohort: int, buyer: int, price: float, share: float = 1.0) -> None:
        """Sell ``share`` of a cohort at ``price`` (fire sale, collateral seizure). The seller books the gain or
        loss against book value; an agent buyer carries it at the price paid; the outside world retires it."""
        cap = self.capacity
        seller = int(cap.owner[cohort])
        book = share * (cap.gpu_book[cohort] + cap.shell_book[cohort])
        if price > 0:
            self.pay(buyer, seller, price, Flow.ASSET_SALE)
        self.real_assets[seller] -= book
        self.retained[seller] += price - book
        moved = {k: share * getattr(cap, k)[cohort] for k in ("gw", "gpu_cost", "shell_cost")}
        for k in ("gw", "gpu_cost", "shell_cost", "gpu_book", "shell_book"):
            getattr(cap, k)[cohort] *= 1.0 - share
        if share >= 1.0 - 1e-12:
            cap.active[cohort] = False
        if not self.is_world[buyer]:
            gpu_share = cap.gpu_cost[cohort] / max(cap.gpu_cost[cohort] + cap.shell_cost[cohort], 1e-12)
            self.capacity.append(
                owner=buyer,
                vintage_q=cap.vintage_q[cohort],
                ready_q=cap.ready_q[cohort],
                gw=moved["gw"],
                energised=cap.energised[cohort],
                gpu_cost=moved["gpu_cost"],
                shell_cost=moved["shell_cost"],
                gpu_book=price * gpu_share,
                shell_book=price * (1 - gpu_share),
                active=True,
            )
            self.real_assets[buyer] += price

    def impair_capacity(self, cohorts, gpu_amounts) -> None:
        """Write GPUs down (technology shock): a loss for the owner."""
        cohorts = np.atleast_1d(np.asarray(cohorts, dtype=np.int64))
        cap = self.capacity
        amounts = np.minimum(np.atleast_1d(gpu_amounts), cap.gpu_book[cohorts])
        np.subtract.at(cap.gpu_book, cohorts, amounts)
        per = np.bincount(cap.owner[cohorts], amounts, self.n_parties)
        self.real_assets -= per
        self.retained -= per

    # -- derived balance sheets --------------------------------------------------------------------------------
    def debt_by_party(self, off_balance_sheet: bool | None = None, kinds=None) -> np.ndarray:
        """Outstanding debt owed by each party (optionally only on/off balance sheet or some kinds)."""
        c = self.contracts
        mask = (c.view("status") == Status.ACTIVE) & IS_DEBT[c.view("kind")]
        if off_balance_sheet is not None:
            mask &= c.view("off_balance_sheet") == off_balance_sheet
        if kinds is not None:
            mask &= np.isin(c.view("kind"), [int(k) for k in kinds])
        return np.bincount(c.view("debtor")[mask], c.view("principal")[mask], self.n_parties)

    def total_assets(self) -> np.ndarray:
        return self.cash + self.real_assets + self.fin_assets + self.other_assets

    def total_liabilities(self) -> np.ndarray:
        return self.fin_liabs + self.other_liabs

    def equity(self) -> np.ndarray:
        """Book equity from the equity accounts (paid-in + retained)."""
        return self.paid_in + self.retained

    def balance_sheet(self, party: int) -> dict[str, float]:
        """One party's balance sheet, derived from the books, with on- and off-balance-sheet debt apart.
        Reads only the party's own rows (per-party indexes), in book order, so the sums equal full-book sums."""
        c, cap = self.contracts, self.capacity
        cred_rows, debt_rows_all = c.of_creditor(party), c.of_debtor(party)

        def side(rows):
            kinds = c.kind[rows]
            live = c.status[rows] == Status.ACTIVE
            return rows, kinds, live

        def s(rows, mask, col="principal"):
            return float(getattr(c, col)[rows][mask].sum())

        cr, ck, cl = side(cred_rows)
        dr, dk, dl = side(debt_rows_all)
        owned = cap.index("owner").rows(party)
        own = cap.active[owned]
        debt = dl & IS_DEBT[dk]
        off = c.off_balance_sheet[dr]
        return {
            "cash": float(self.cash[party]),
            "gpus": float(cap.gpu_book[owned][own].sum()),
            "data_centres": float(cap.shell_book[owned][own].sum()),
            "loans_and_bonds_held": s(cr, cl & IS_DEBT[ck]),
            "equity_stakes": s(cr, cl & (ck == Kind.EQUITY_STAKE), "value"),
            "derivatives_and_protection": s(cr, cl & IS_TWO_SIDED[ck], "value"),
            "other_assets": float(self.other_assets[party]),
            "total_assets": float(
                self.cash[party] + self.real_assets[party] + self.fin_assets[party] + self.other_assets[party]
            ),
            "bonds": s(dr, debt & (dk == Kind.BOND)),
            "bank_loans_on_bs": s(dr, debt & (dk == Kind.BANK_LOAN) & ~off),
            "gpu_backed_loans": s(dr, debt & (dk == Kind.GPU_LOAN)),
            "finance_leases": s(dr, debt & (dk == Kind.FINANCE_LEASE)),
            "off_balance_sheet_debt": s(dr, debt & off),
            "written_derivatives": s(dr, dl & IS_TWO_SIDED[dk], "value"),
            "other_liabilities": float(self.other_liabs[party]),
            "total_liabilities": float(self.fin_liabs[party] + self.other_liabs[party]),
            "equity": float(self.paid_in[party] + self.retained[party]),
            "paid_in_capital": float(self.paid_in[party]),
            "retained_earnings": float(self.retained[party]),
        }
