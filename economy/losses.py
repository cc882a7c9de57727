"""The loss book (docs/ODD.md §7.9): every realised credit loss, traced to the contract it came from, its holder
and the circular loop of that contract.

A line is written wherever a claim is written down (restructuring, liquidation, an SPV walk-away, an executory
claim recovered short), where protection bought by a bank pays part of its loss (a negative line for the bank,
a positive one for the protection sellers), where a fund sells loans below their carrying value, where a
provider's GPUs built for a defaulted customer are impaired, and where shareholders lose the market value of a
firm that defaults.
So the lines of a run sum to its losses, by holder category and by loop (``by_holder``, ``by_loop``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from accounting.books import Table
from accounting.ledger import World

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


class LossKind(IntEnum):
    WRITE_DOWN = 0  # debt or an executory claim written down
    PROTECTION = 1  # risk-transfer protection paid: moves a bank's loss to its protection sellers
    EQUITY = 2  # shareholders' market value lost when a firm defaults
    IMPAIRMENT = 3  # a provider's GPUs written down when the customer they were built for defaults
    SALE = 4  # a loan sold below its carrying value (a fund meeting redemptions)


HOLDERS = (
    "banks",
    "private_credit",
    "bond_investors",
    "vendors",
    "providers",
    "equity_investors",
    "protection_sellers",
    "other",
)


class LossBook(Table):
    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "quarter": np.int16,
                "holder": np.int32,  # the party that bears it (a world party for outside investors)
                "debtor": np.int32,  # whose default or write-down it is (-1: none)
                "contract": np.int32,  # the contract it came from (-1: none)
                "loop": np.int8,  # the circular loop of that contract (0: none)
                "kind": np.int8,
                "amount": np.float64,
            },
            capacity,
        )


DUST = 1e-12  # USD bn


def record(model: CreditLoopModel, holder, amount, kind: LossKind, *, debtor=-1, contract=-1, loop=0) -> None:
    """Add loss lines (arrays or scalars). Amounts of at most ``DUST`` (a thousandth of a dollar: floating-point
    residue of a write-down that nets to zero) are skipped, so the book holds no empty lines."""
    if all(isinstance(x, int | float) for x in (holder, amount, debtor, contract, loop)):
        # one line (most calls, one per written-down contract): written in place, the same values as below
        if abs(amount) > DUST:
            model.loss_book.append(
                quarter=max(model.quarter, 0),
                holder=holder,
                debtor=debtor,
                contract=contract,
                loop=loop,
                kind=int(kind),
                amount=float(amount),
            )
        return
    amount = np.atleast_1d(np.asarray(amount, dtype=float))
    keep = np.abs(amount) > DUST
    if not keep.any():
        return
    count = int(keep.sum())

    def lines(x):
        x = np.broadcast_to(np.asarray(x), amount.shape)
        return x[keep]

    model.loss_book.extend(
        count,
        quarter=max(model.quarter, 0),
        holder=lines(holder),
        debtor=lines(debtor),
        contract=lines(contract),
        loop=lines(loop),
        kind=int(kind),
        amount=amount[keep],
    )


def holder_category(model: CreditLoopModel, party: int, kind: int) -> str:
    """Which kind of holder a party is, for the summary. A modelled firm's loss on its equity stakes is its own
    category's (Nvidia's on its stake in OpenAI is a vendor's loss, Microsoft's a provider's: the circular deals'
    own losses); outside shareholders' are ``equity_investors``."""
    if kind == LossKind.EQUITY:
        firm = model.firm_by_party.get(int(party))
        return "equity_investors" if firm is None else firm.loss_holder
    if kind == LossKind.IMPAIRMENT:
        return "providers"
    if party == World.OUTSIDE_INVESTORS:
        return "protection_sellers" if kind == LossKind.PROTECTION else "bond_investors"
    if party == World.AMD:
        return "vendors"
    firm = model.firm_by_party.get(int(party))
    return "other" if firm is None else firm.loss_holder


def by_holder(model: CreditLoopModel, *, credit_only: bool = False) -> dict[str, float]:
    """The run's losses by holder category (every category present, 0 where none)."""
    book = model.loss_book
    out = dict.fromkeys(HOLDERS, 0.0)
    for holder, kind, amount in zip(
        book.view("holder").tolist(), book.view("kind").tolist(), book.view("amount").tolist(), strict=True
    ):
        if credit_only and kind in (LossKind.EQUITY, LossKind.IMPAIRMENT):
            continue
        out[holder_category(model, holder, kind)] += amount
    return out


def by_loop(model: CreditLoopModel) -> dict[int, float]:
    """The run's losses by the loop tag of the contract they came from (0: none)."""
    book = model.loss_book
    sums = np.bincount(book.view("loop"), book.view("amount"), 11)
    return {int(k): float(v) for k, v in enumerate(sums) if v}


def by_holder_and_loop(model: CreditLoopModel) -> dict[str, dict[int, float]]:
    """How much of each holder category's loss each loop tag carried (0: no loop); every holder and every loop
    with a loss present. Each holder's loops sum to its total in :func:`by_holder`."""
    book = model.loss_book
    out: dict[str, dict[int, float]] = {h: {} for h in HOLDERS}
    for holder, kind, loop, amount in zip(
        book.view("holder").tolist(),
        book.view("kind").tolist(),
        book.view("loop").tolist(),
        book.view("amount").tolist(),
        strict=True,
    ):
        row = out[holder_category(model, holder, kind)]
        row[loop] = row.get(loop, 0.0) + amount
    return out


def frame(model: CreditLoopModel):
    """The loss book as a table: quarter, holder (name and category), debtor, contract, loop, kind, amount."""
    book, names = model.loss_book, model.ledger.names
    holders, kinds = book.view("holder").tolist(), book.view("kind").tolist()
    debtors = book.view("debtor").tolist()
    return pd.DataFrame(
        {
            "quarter": book.view("quarter").astype(int),
            "holder": [names[h] for h in holders],
            "holder_category": [holder_category(model, h, k) for h, k in zip(holders, kinds, strict=True)],
            "debtor": [names[d] if d >= 0 else "" for d in debtors],
            "contract": book.view("contract").astype(int),
            "loop": book.view("loop").astype(int),
            "kind": [LossKind(k).name.lower() for k in kinds],
            "amount_usd_bn": book.view("amount").astype(float),
        }
    )
