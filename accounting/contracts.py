"""Contracts: the legal ties between parties, stored as one structure-of-arrays book.

Every contract has a *creditor* (the party that receives what the contract pays: lender, bond holder, stake
holder, compute provider, backstop beneficiary, warrant holder, protection buyer) and a *debtor* (the party that
pays: borrower, issuer, compute customer, guarantor, warrant writer, protection seller). Either may be the outside
world.

What each kind pays, and how each side values it, is vectorised over all rows of a kind (docs/ODD.md §2.3):
debt carries its outstanding face in ``principal``; executory contracts (compute, backstop) and hedges (risk
transfer, equity short) carry their remaining or covered amount in ``notional``, which is not a balance; stakes,
warrants, shorts and protection carry each side's carrying value in ``value``. Only :mod:`accounting.ledger`
writes the book; its columns are read-only everywhere else.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accounting.books import Table


class Kind(IntEnum):
    BOND = 0  # fixed coupon, bullet; a multi-tranche issue is one row per tranche
    BANK_LOAN = 1  # reference rate + spread, bullet or amortising
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
    CLAIM = 11  # an unsecured claim for damages on a terminated executory contract, ranking with other debt
    GUARANTEE = (
        12  # the guarantor (debtor) pays the beneficiary up to the notional if the beneficiary defaults
    )


class Status(IntEnum):
    ACTIVE = 0
    MATURED = 1
    DEFAULTED = 2
    TERMINATED = 3


DEBT_KINDS = (Kind.BOND, Kind.BANK_LOAN, Kind.SPV_FACILITY, Kind.GPU_LOAN, Kind.FINANCE_LEASE, Kind.CLAIM)
DEBT_KIND_CODES = np.array([int(k) for k in DEBT_KINDS])


def kind_table(kinds) -> np.ndarray:
    """A boolean lookup over kind codes: ``kind_table(K)[c.view("kind")]`` equals ``np.isin(kinds, K)`` but costs
    one gather instead of a sort."""
    table = np.zeros(len(Kind), dtype=bool)
    table[[int(k) for k in kinds]] = True
    return table


IS_DEBT = kind_table(DEBT_KINDS)
IS_EXECUTORY = kind_table((Kind.COMPUTE, Kind.BACKSTOP, Kind.GUARANTEE))
IS_TWO_SIDED = kind_table((Kind.WARRANT, Kind.RISK_TRANSFER, Kind.EQUITY_SHORT))
IS_HEDGE = kind_table((Kind.RISK_TRANSFER, Kind.EQUITY_SHORT))
HAS_NOTIONAL = kind_table(
    (Kind.COMPUTE, Kind.BACKSTOP, Kind.GUARANTEE, Kind.RISK_TRANSFER, Kind.EQUITY_SHORT)
)
INSTRUMENT_LABELS = {
    Kind.BOND: "bonds",
    Kind.BANK_LOAN: "bank loans",
    Kind.SPV_FACILITY: "private-credit SPVs",
    Kind.GPU_LOAN: "GPU-backed loans",
    Kind.FINANCE_LEASE: "finance leases",
    Kind.CLAIM: "claims",
}


class ContractBook(Table):
    """All contracts of a run, one row each (read-only columns; the ledger writes)."""

    def __init__(self, capacity: int = 256):
        super().__init__(
            {
                "kind": np.int8,
                "status": np.int8,
                "creditor": np.int32,
                "debtor": np.int32,
                "principal": np.float64,  # debt: outstanding face (a balance on both sides)
                "allowance": np.float64,  # debt: the creditor's expected-loss provision against it
                "notional": np.float64,  # compute: backlog; backstop: remaining cap; SRT/short: covered amount
                "value": np.float64,  # carrying value of stakes, warrants, shorts, protection
                "fixed_rate": np.float64,  # annual coupon of fixed-rate debt; SRT: annual premium
                "spread": np.float64,  # annual spread over the reference rate for floating debt
                "floating": np.bool_,
                "amortising": np.bool_,
                "start_q": np.int16,
                "maturity_q": np.int16,
                "gw": np.float64,  # compute/backstop: contracted GW; GPU loan: GW of collateral
                "price": np.float64,  # compute/backstop: USD bn per GW-quarter; warrant: strike; short: entry index
                "market_price": np.float64,  # compute: the market's price per GW-quarter when it was signed
                "min_share": np.float64,  # compute: take-or-pay minimum share
                "fraction": np.float64,  # stake: share of the issuer; warrant: million shares vested
                "unvested": np.float64,  # warrant: million shares still to vest
                "residual_guarantee": np.float64,  # SPV facility: residual value the sponsor guarantees
                "margin_call": np.float64,  # GPU loan: margin call due at the next settlement
                "ltv_max": np.float64,  # GPU loan covenant
                "collateral": np.int32,  # GPU loan: capacity cohort id (-1 none)
                "off_balance_sheet": np.bool_,  # debt kept off the debtor's reported balance sheet
                "loop": np.int8,  # the circular loop L1-L10 it belongs to (0 = none)
                "due": np.float64,  # executory contracts: this quarter's invoice (set by the operating phase)
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

    def stakes_in(self, party: int) -> np.ndarray:
        """Row ids of the active equity stakes held in ``party`` (its shareholders among the parties)."""
        rows = self.of_debtor(party)
        return rows[(self.status[rows] == Status.ACTIVE) & (self.kind[rows] == Kind.EQUITY_STAKE)]

    def annual_rate(self, i: int, reference_rate: float) -> float:
        """The annual interest rate of debt contract ``i`` at the given reference rate."""
        floating = reference_rate if self.floating[i] else 0.0
        return float(self.fixed_rate[i] + floating + self.spread[i])
