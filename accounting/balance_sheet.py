"""One party's balance sheet, derived from the books, with on- and off-balance-sheet debt apart (ODD §2.7).

Balances are never stored twice: the sheet is read from the ledger's accounts and the party's own rows of the
contract and capacity books (per-party indexes, in book order, so the sums equal full-book masked sums).
"""

from __future__ import annotations

from accounting.contracts import IS_DEBT, IS_TWO_SIDED, Kind, Status


def balance_sheet(ledger, party: int) -> dict[str, float]:
    """The balance sheet of ``party`` in an :class:`accounting.ledger.Ledger` (USD bn, by line)."""
    c, cap = ledger.contracts, ledger.capacity
    cr, dr = c.of_creditor(party), c.of_debtor(party)
    ck, cl = c.kind[cr], c.status[cr] == Status.ACTIVE
    dk, dl = c.kind[dr], c.status[dr] == Status.ACTIVE

    def s(rows, mask, col="principal"):
        return float(getattr(c, col)[rows][mask].sum())

    owned = cap.index("owner").rows(party)
    own = cap.active[owned]
    debt = dl & IS_DEBT[dk]
    off = c.off_balance_sheet[dr]
    return {
        "cash": float(ledger.cash[party]),
        "gpus": float(cap.gpu_book[owned][own].sum()),
        "data_centres": float(cap.shell_book[owned][own].sum()),
        "loans_and_bonds_held": s(cr, cl & IS_DEBT[ck]) - s(cr, cl & IS_DEBT[ck], "allowance"),
        "equity_stakes": s(cr, cl & (ck == Kind.EQUITY_STAKE), "value"),
        "derivatives_and_protection": s(cr, cl & IS_TWO_SIDED[ck], "value"),
        "other_assets": float(ledger.other_assets[party]),
        "total_assets": float(
            ledger.cash[party]
            + ledger.real_assets[party]
            + ledger.fin_assets[party]
            + ledger.other_assets[party]
        ),
        "bonds": s(dr, debt & (dk == Kind.BOND)),
        "bank_loans_on_bs": s(dr, debt & (dk == Kind.BANK_LOAN) & ~off),
        "gpu_backed_loans": s(dr, debt & (dk == Kind.GPU_LOAN)),
        "finance_leases": s(dr, debt & (dk == Kind.FINANCE_LEASE)),
        "off_balance_sheet_debt": s(dr, debt & off),
        "written_derivatives": s(dr, dl & IS_TWO_SIDED[dk], "value"),
        "other_liabilities": float(ledger.other_liabs[party]),
        "total_liabilities": float(ledger.fin_liabs[party] + ledger.other_liabs[party]),
        "equity": float(ledger.paid_in[party] + ledger.retained[party]),
        "paid_in_capital": float(ledger.paid_in[party]),
        "retained_earnings": float(ledger.retained[party]),
    }
