"""Contracts: the legal ties between parties, stored as one structure-of-arrays book.

Every contract has a *creditor* (the party that receives what the contract pays: lender, bond holder, stake
holder, compute provider, backstop beneficiary, warrant holder, protection buyer) and a *debtor* (the party that
pays: borrower, issuer, compute customer, guarantor, warrant writer). Either may be the outside world.

What each kind pays, and how each side values it, is vectorised over all rows of a kind (see ``docs/ODD.md``,
"Contracts and the ledger"). :class:`Contract` gives a readable object view of one row for inspection, tests and
the UI; the simulation itself works on whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from accounting.books import Table


class Kind(IntEnum):
    BOND = 0  # fixed coupon, bullet; a multi-tranche issue is one row per tranche
    BANK_LOAN = 1  # reference rate + spread, bullet or amortising, leverage covenant
    SPV_FACILITY = (
        2  # private-credit SPV: off the sponsor's balance sheet, lease rent back, residual guarantee
    )
    GPU_LOAN = 3  # secured on GPUs at market value, LTV covenant, margin call
    COMPUTE = 4  # take-or-pay compute contract: GW x price per GW-quarter, minimum payment share
    EQUITY_STAKE = 5  # share of the issuer, marked to the issuer's market value
    BACKSTOP = 6  # guarantor buys the beneficiary's unsold capacity up to a cap until an end quarter
    FINANCE_LEASE = 7  # lessee's lease liability, amortising
    WARRANT = 8  # option on the writer's shares (AMD), vesting with purchases
    RISK_TRANSFER = 9  # bank buys protection on its AI loans from outside investors (SRT)
    EQUITY_SHORT = 10  # short position on an AI equity basket with an outside prime broker


class Status(IntEnum):
    ACTIVE = 0
    MATURED = 1
    DEFAULTED = 2
    TERMINATED = 3


DEBT_KINDS = (Kind.BOND, Kind.BANK_LOAN, Kind.SPV_FACILITY, Kind.GPU_LOAN, Kind.FINANCE_LEASE)
DEBT_KIND_CODES = np.array([int(k) for k in DEBT_KINDS])


def kind_table(kinds) -> np.ndarray:
    """A boolean lookup over kind codes: ``kind_table(K)[c.view("kind")]`` equals ``np.isin(kinds, K)`` but costs
    one gather instead of a sort."""
    table = np.zeros(len(Kind), dtype=bool)
    table[[int(k) for k in kinds]] = True
    return table


IS_DEBT = kind_table(DEBT_KINDS)
IS_EXECUTORY = kind_table((Kind.COMPUTE, Kind.BACKSTOP))
IS_TWO_SIDED = kind_table((Kind.WARRANT, Kind.RISK_TRANSFER, Kind.EQUITY_SHORT))
IS_HEDGE = kind_table((Kind.RISK_TRANSFER, Kind.EQUITY_SHORT))
INSTRUMENT_LABELS = {
    Kind.BOND: "bonds",
    Kind.BANK_LOAN: "bank loans",
    Kind.SPV_FACILITY: "private-credit SPVs",
    Kind.GPU_LOAN: "GPU-backed loans",
    Kind.FINANCE_LEASE: "finance leases",
}


class ContractBook(Table):
    """All contracts of a run, one row each."""

    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "kind": np.int8,
                "status": np.int8,
                "creditor": np.int32,
                "debtor": np.int32,
                "principal": np.float64,  # debt: outstanding face; compute/backstop: remaining notional
                "value": np.float64,  # creditor-side carrying value (stakes, warrants, shorts, SRT)
                "fixed_rate": np.float64,  # annual coupon for fixed-rate debt
                "spread": np.float64,  # annual spread over the reference rate for floating debt
                "floating": np.bool_,
                "amortising": np.bool_,
                "start_q": np.int16,
                "maturity_q": np.int16,
                "gw": np.float64,  # compute: contracted GW; GPU loan: GW of collateral
                "price": np.float64,  # compute: USD bn per GW-quarter; warrant: strike (USD/share)
                "min_share": np.float64,  # compute: take-or-pay minimum share; backstop: per-quarter cap
                "fraction": np.float64,  # stake: share of issuer; warrant: million shares vested
                "extra": np.float64,  # warrant: million shares unvested; SPV: residual value guaranteed
                "ltv_max": np.float64,  # GPU loan covenant
                "collateral": np.int32,  # GPU loan / SPV: capacity cohort id (-1 none)
                "off_balance_sheet": np.bool_,  # debt kept off the debtor's reported balance sheet
                "loop": np.int8,  # the circular loop L1-L10 it belongs to (0 = none)
                "due": np.float64,  # amount due in the current settlement
                "past_due": np.float64,  # due but unpaid (only allowed with a recorded default)
            },
            capacity,
        )

    def active(self, kind: Kind | None = None) -> np.ndarray:
        """Row ids of active contracts, optionally of one kind."""
        mask = self.view("status") == Status.ACTIVE
        if kind is not None:
            mask &= self.view("kind") == kind
        return np.flatnonzero(mask)

    def is_debt(self) -> np.ndarray:
        return IS_DEBT[self.view("kind")]

    def of_creditor(self, party: int) -> np.ndarray:
        """Row ids (all statuses, increasing) where ``party`` is the creditor."""
        return self.index("creditor").rows(party)

    def of_debtor(self, party: int) -> np.ndarray:
        """Row ids (all statuses, increasing) where ``party`` is the debtor."""
        return self.index("debtor").rows(party)

    def get(self, i: int) -> Contract:
        return Contract.of(self, int(i))


# --------------------------------------------------------------------------------------------------------------
# Object views. These are read-only conveniences over a row; the vectorised rules live in model/settlement.py and
# model/marks.py and are documented next to these classes' docstrings in docs/ODD.md.
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """One row of the book, as an object. ``creditor_value``/``debtor_value`` are each side's valuation."""

    book: ContractBook
    id: int

    @staticmethod
    def of(book: ContractBook, i: int) -> Contract:
        return _CLASSES[Kind(int(book.kind[i]))](book, i)

    def _col(self, name: str):
        return getattr(self.book, name)[self.id].item()

    kind = property(lambda self: Kind(self._col("kind")))
    status = property(lambda self: Status(self._col("status")))
    creditor = property(lambda self: self._col("creditor"))
    debtor = property(lambda self: self._col("debtor"))
    principal = property(lambda self: self._col("principal"))
    start_q = property(lambda self: self._col("start_q"))
    maturity_q = property(lambda self: self._col("maturity_q"))
    off_balance_sheet = property(lambda self: self._col("off_balance_sheet"))
    loop = property(lambda self: self._col("loop"))

    @property
    def creditor_value(self) -> float:
        """Carrying value on the creditor's balance sheet (USD bn)."""
        return self.principal

    @property
    def debtor_value(self) -> float:
        """Carrying value on the debtor's balance sheet (USD bn, a liability)."""
        return self.principal

    def annual_rate(self, reference_rate: float) -> float:
        return (
            self._col("fixed_rate") + (reference_rate if self._col("floating") else 0.0) + self._col("spread")
        )


class Bond(Contract):
    """Fixed coupon, bullet repayment at maturity; held by the bond market (outside investors) or a fund."""


class BankLoan(Contract):
    """Reference rate + spread; bullet or amortising; a net-leverage covenant the lender checks each quarter."""


class PrivateCreditFacility(Contract):
    """SPV debt: lease rent = interest + amortisation; off the sponsor's reported balance sheet; residual-value
    guarantee (``extra``) owed by the sponsor if it walks away at lease end."""

    residual_value_guarantee = property(lambda self: self._col("extra"))


class GpuBackedLoan(Contract):
    """Secured on a capacity cohort's GPUs at market value; LTV covenant; a margin call restores the LTV."""

    ltv_max = property(lambda self: self._col("ltv_max"))
    collateral = property(lambda self: self._col("collateral"))


class ComputeContract(Contract):
    """Take-or-pay: the customer owes GW x price per GW-quarter, at least ``min_share`` of it. Executory: neither
    side carries it on the balance sheet; its remaining notional is disclosed as backlog."""

    gw = property(lambda self: self._col("gw"))
    price_per_gw_quarter = property(lambda self: self._col("price"))
    min_share = property(lambda self: self._col("min_share"))
    creditor_value = property(lambda self: 0.0)
    debtor_value = property(lambda self: 0.0)


class EquityStake(Contract):
    """Share ``fraction`` of the issuer (debtor), worth fraction x issuer market value to the holder. On the
    issuer's side it is paid-in equity, not a liability."""

    fraction = property(lambda self: self._col("fraction"))
    creditor_value = property(lambda self: self._col("value"))
    debtor_value = property(lambda self: 0.0)


class CapacityBackstop(Contract):
    """The guarantor (debtor) buys the beneficiary's unsold capacity at the contract price, up to the remaining
    cap (``principal``) and ``min_share`` per quarter, until ``maturity_q``. Executory: off both balance sheets."""

    creditor_value = property(lambda self: 0.0)
    debtor_value = property(lambda self: 0.0)


class FinanceLease(Contract):
    """Lessee's amortising lease liability to an outside lessor; the leased capacity is a right-of-use asset."""


class Warrant(Contract):
    """Holder's option on ``fraction`` million vested shares of the writer at strike ``price``; ``extra`` million
    shares vest as purchases are made. Marked at intrinsic value."""

    creditor_value = property(lambda self: self._col("value"))
    debtor_value = property(lambda self: self._col("value"))


class RiskTransfer(Contract):
    """Synthetic risk transfer: the bank pays a premium and is paid losses on the covered amount (``principal``)."""

    creditor_value = property(lambda self: self._col("value"))
    debtor_value = property(lambda self: self._col("value"))


class EquityShort(Contract):
    """Short AI-equity basket: worth notional x (1 - index / index at entry) to the bank, settled quarterly."""

    creditor_value = property(lambda self: self._col("value"))
    debtor_value = property(lambda self: self._col("value"))


_CLASSES = {
    Kind.BOND: Bond,
    Kind.BANK_LOAN: BankLoan,
    Kind.SPV_FACILITY: PrivateCreditFacility,
    Kind.GPU_LOAN: GpuBackedLoan,
    Kind.COMPUTE: ComputeContract,
    Kind.EQUITY_STAKE: EquityStake,
    Kind.BACKSTOP: CapacityBackstop,
    Kind.FINANCE_LEASE: FinanceLease,
    Kind.WARRANT: Warrant,
    Kind.RISK_TRANSFER: RiskTransfer,
    Kind.EQUITY_SHORT: EquityShort,
}
