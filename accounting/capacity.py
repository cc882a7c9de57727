"""Data-centre capacity cohorts and the ledger's postings on them (docs/ODD.md §2.5, §7.5).

A cohort is bought whole, waits for its build lag, then for a grid connection, and earns only once energised.
Its GPU and shell book values are the owner's real assets; only :mod:`accounting.ledger` writes them.
"""

from __future__ import annotations

import numpy as np

from accounting.books import Table
from accounting.errors import LedgerError
from accounting.journal import Flow


class CapacityBook(Table):
    """Data-centre capacity cohorts: one row per (owner, vintage) purchase of GW."""

    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "owner": np.int32,
                "vintage_q": np.int16,
                "ready_q": np.int16,  # quarter the shell is built (or the GPUs installed) and can be energised
                "gw": np.float64,  # GW of working GPUs (0 once they retire)
                "shell_gw": np.float64,  # GW of powered shell the cohort provides (0 for a refit)
                "refit": np.bool_,  # GPUs installed in an owner's powered shell: no new grid connection
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


class CapacityPostings:
    """The ledger's postings on capacity: purchases, opening capacity, energisation, depreciation, retirement,
    sales and impairments. Mixed into :class:`accounting.ledger.Ledger` (it uses the ledger's accounts and
    payments)."""

    def buy_capacity(
        self,
        owner: int,
        gw: float,
        gpu_cost: float,
        shell_cost: float,
        ready_q: int,
        sellers: list[tuple[int, float]],
        *,
        refit: bool = False,
    ) -> int:
        """Buy ``gw`` of new capacity; ``sellers`` are (party, amount) pairs that sum to the cost. The buyer's cash
        becomes a real asset; the sellers book revenue. A new site brings ``gw`` of powered shell (its shell may
        be leased, ``shell_cost`` 0, as xAI's); a ``refit`` installs GPUs in a shell the owner already has."""
        total = gpu_cost + shell_cost
        if abs(sum(a for _, a in sellers) - total) > 1e-9 * max(1.0, total):
            raise LedgerError(f"capacity purchase of {total} paid as {sellers}")
        cid = self.capacity.append(
            owner=owner,
            vintage_q=self.quarter,
            ready_q=ready_q,
            gw=gw,
            shell_gw=0.0 if refit else gw,
            refit=refit,
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
            self._acc.retained[owner] += amount
        self._acc.real_assets[owner] += total
        self.journal.relabel_last(len(sellers), int(Flow.CAPACITY_PURCHASE))
        return cid

    def open_capacity(
        self,
        owner: int,
        gw: float,
        *,
        gpu_cost: float,
        shell_cost: float,
        gpu_book: float,
        shell_book: float,
        vintage_q: int,
        ready_q: int | None = None,
    ) -> int:
        """Capacity that already exists at the start, bought at ``*_cost`` and carried at ``*_book``: in service
        (energised) if it was ready by ``vintage_q``, otherwise under construction until ``ready_q``."""
        if self.journal.n or self.quarter:
            raise LedgerError("opening capacity can only be booked before the first posting")
        ready = vintage_q if ready_q is None else ready_q
        cid = self.capacity.append(
            owner=owner,
            vintage_q=vintage_q,
            ready_q=ready,
            gw=gw,
            shell_gw=gw,
            energised=ready <= vintage_q,
            gpu_cost=gpu_cost,
            shell_cost=shell_cost,
            gpu_book=gpu_book,
            shell_book=shell_book,
            active=True,
        )
        self._acc.real_assets[owner] += gpu_book + shell_book
        self._acc.paid_in[owner] += gpu_book + shell_book
        return cid

    def energise(self, cohorts) -> None:
        """Connect built cohorts to the grid: from now on they can earn."""
        self.capacity._mut.energised[cohorts] = True

    def depreciate(self, gpu_amounts: np.ndarray, shell_amounts: np.ndarray) -> None:
        """Book depreciation on every cohort (arrays over the capacity book)."""
        cap, n = self.capacity, self.n_parties
        gpu = np.minimum(gpu_amounts, cap.view("gpu_book"))
        shell = np.minimum(shell_amounts, cap.view("shell_book"))
        cap._mut.gpu_book[: cap.n] -= gpu
        cap._mut.shell_book[: cap.n] -= shell
        per_party = np.bincount(cap.view("owner"), gpu + shell, n)
        self._acc.real_assets -= per_party
        self._acc.retained -= per_party

    def retire(self, cohorts, shares) -> np.ndarray:
        """``shares`` of the GPUs of ``cohorts`` (distinct) leave service at the end of their economic life: that
        share of their GW, cost and book value goes (the book value is written off, a loss for the owner); the
        powered shell stays, ready for a refit. A refit cohort (no shell of its own) whose GPUs have all gone is
        closed. Returns the GW retired per cohort."""
        cohorts = np.atleast_1d(np.asarray(cohorts, dtype=np.int64))
        shares = np.clip(np.broadcast_to(np.asarray(shares, dtype=float), cohorts.shape), 0.0, 1.0)
        cap, w = self.capacity, self.capacity._mut
        gw = cap.gw[cohorts] * shares
        book = cap.gpu_book[cohorts] * shares
        written_off = np.bincount(cap.owner[cohorts], book, self.n_parties)
        self._acc.real_assets -= written_off
        self._acc.retained -= written_off
        whole = shares >= 1.0
        keep = 1.0 - shares
        for name in ("gpu_book", "gpu_cost", "gw"):
            col = getattr(w, name)
            col[cohorts] = np.where(whole, 0.0, col[cohorts] * keep)
        empty = cohorts[(cap.shell_gw[cohorts] <= 0.0) & (cap.gw[cohorts] <= 0.0)]
        self._acc.real_assets -= np.bincount(cap.owner[empty], cap.shell_book[empty], self.n_parties)
        self._acc.retained -= np.bincount(cap.owner[empty], cap.shell_book[empty], self.n_parties)
        w.shell_book[empty] = 0.0
        w.active[empty] = False
        return gw

    def sell_capacity(self, cohort: int, buyer: int, price: float, share: float = 1.0) -> None:
        """Sell ``share`` of a cohort at ``price`` (fire sale, collateral seizure). The seller books the gain or
        loss against book value; an agent buyer carries it at the price paid; the outside world retires it."""
        cap, w = self.capacity, self.capacity._mut
        seller = int(cap.owner[cohort])
        book = share * (cap.gpu_book[cohort] + cap.shell_book[cohort])
        if price > 0:
            self.pay(buyer, seller, price, Flow.ASSET_SALE)
        self._acc.real_assets[seller] -= book
        self._acc.retained[seller] += price - book
        moved = {k: share * getattr(cap, k)[cohort] for k in ("gw", "shell_gw", "gpu_cost", "shell_cost")}
        for k in ("gw", "shell_gw", "gpu_cost", "shell_cost", "gpu_book", "shell_book"):
            getattr(w, k)[cohort] *= 1.0 - share
        if share >= 1.0 - 1e-12:
            w.active[cohort] = False
        if not self.is_world[buyer]:
            gpu_share = cap.gpu_cost[cohort] / max(cap.gpu_cost[cohort] + cap.shell_cost[cohort], 1e-12)
            self.capacity.append(
                owner=buyer,
                vintage_q=cap.vintage_q[cohort],
                ready_q=cap.ready_q[cohort],
                gw=moved["gw"],
                shell_gw=moved["shell_gw"],
                refit=cap.refit[cohort],
                energised=cap.energised[cohort],
                gpu_cost=moved["gpu_cost"],
                shell_cost=moved["shell_cost"],
                gpu_book=price * gpu_share,
                shell_book=price * (1 - gpu_share),
                active=True,
            )
            self._acc.real_assets[buyer] += price

    def impair_capacity(self, cohorts, gpu_amounts) -> None:
        """Write GPUs down (technology shock): a loss for the owner."""
        cohorts = np.atleast_1d(np.asarray(cohorts, dtype=np.int64))
        cap = self.capacity
        amounts = np.minimum(np.atleast_1d(gpu_amounts), cap.gpu_book[cohorts])
        np.subtract.at(cap._mut.gpu_book, cohorts, amounts)
        per = np.bincount(cap.owner[cohorts], amounts, self.n_parties)
        self._acc.real_assets -= per
        self._acc.retained -= per
