"""The double-entry ledger against hand-computed books, and the invariants catching tampering."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.contracts import Kind, Status
from accounting.invariants import InvariantError, check
from accounting.ledger import Flow, Ledger, LedgerError, World

WORLD = ["end customers", "outside investors", "suppliers", "Treasury", "AMD"]


def books(cash_a=10.0, cash_b=5.0, cash_bank=50.0):
    ledger = Ledger(WORLD)
    a, b, bank = (ledger.add_party(n) for n in ("A", "B", "Bank"))
    ledger.open_balance_sheet(a, cash=cash_a, other_assets=20.0)
    ledger.open_balance_sheet(b, cash=cash_b)
    ledger.open_balance_sheet(bank, cash=cash_bank, other_assets=100.0, other_liabs=130.0)
    check(ledger)
    return ledger, a, b, bank


def test_opening_balance_sheet_balances_with_equity_as_residual():
    ledger, a, _, bank = books()
    assert ledger.equity()[a] == pytest.approx(30.0)
    assert ledger.equity()[bank] == pytest.approx(20.0)
    assert ledger.total_assets()[bank] == pytest.approx(150.0)


def test_a_payment_debits_payer_credits_payee_and_is_journalled():
    ledger, a, b, _ = books()
    ledger.quarter = 1
    ledger.pay(a, b, 4.0, Flow.COMPUTE_FEE, contract=7)
    assert ledger.cash[a] == 6.0 and ledger.cash[b] == 9.0
    assert ledger.retained[a] == -4.0 and ledger.retained[b] == 4.0  # an expense and an income
    j = ledger.journal
    assert (j.quarter[0], j.payer[0], j.payee[0], j.amount[0], j.flow[0], j.contract[0]) == (
        1,
        a,
        b,
        4.0,
        Flow.COMPUTE_FEE,
        7,
    )
    check(ledger)


def test_loan_life_cycle_matches_hand_computed_books():
    ledger, a, _, bank = books()
    loan = ledger.open_contract(
        Kind.BANK_LOAN, bank, a, principal=40.0, cash=40.0, maturity_q=4, spread=0.02, floating=True
    )
    assert ledger.cash[a] == 50.0 and ledger.cash[bank] == 10.0
    assert ledger.fin_liabs[a] == 40.0 and ledger.fin_assets[bank] == 40.0
    ledger.pay(a, bank, 0.6, Flow.INTEREST, loan)  # 40 x (4% + 2%) / 4
    ledger.repay([loan], [10.0])
    assert ledger.contracts.principal[loan] == 30.0
    assert ledger.cash[a] == pytest.approx(39.4) and ledger.cash[bank] == pytest.approx(20.6)
    assert ledger.equity()[a] == pytest.approx(29.4) and ledger.equity()[bank] == pytest.approx(20.6)
    ledger.write_down([loan], [12.0])  # restructuring: the bank's loss is the borrower's gain
    assert ledger.contracts.principal[loan] == 18.0
    assert ledger.equity()[a] == pytest.approx(41.4) and ledger.equity()[bank] == pytest.approx(8.6)
    check(ledger)
    with pytest.raises(LedgerError, match="still carries a balance"):
        ledger.close([loan], Status.MATURED)
    ledger.repay([loan], [18.0])
    ledger.close([loan], Status.MATURED)
    check(ledger)


def test_stakes_are_marked_through_the_ledger_and_issuers_book_paid_in_capital():
    ledger, a, b, _ = books()
    stake = ledger.open_contract(Kind.EQUITY_STAKE, a, b, cash=3.0, fraction=0.1)
    assert ledger.paid_in[b] == pytest.approx(8.0) and ledger.fin_liabs[b] == 0.0
    ledger.revalue([stake], [5.0])
    assert ledger.fin_assets[a] == 5.0 and ledger.retained[a] == 2.0
    check(ledger)


def test_capacity_is_capitalised_depreciated_and_sold_at_a_loss():
    ledger, a, b, _ = books()
    cohort = ledger.buy_capacity(a, 0.1, 3.5, 1.5, ready_q=4, sellers=[(b, 3.5), (World.SUPPLIERS, 1.5)])
    assert ledger.real_assets[a] == 5.0 and ledger.equity()[a] == pytest.approx(
        30.0
    )  # capex is not an expense
    assert ledger.retained[b] == 3.5  # Nvidia-like seller books revenue
    ledger.depreciate(np.array([3.5 / 24]), np.array([1.5 / 80]))
    book = 5.0 - 3.5 / 24 - 1.5 / 80
    assert ledger.real_assets[a] == pytest.approx(book)
    ledger.sell_capacity(cohort, World.SUPPLIERS, 2.0)
    assert ledger.real_assets[a] == pytest.approx(0.0, abs=1e-12)
    assert ledger.equity()[a] == pytest.approx(30.0 - 5.0 + 2.0)
    check(ledger)


def test_rejected_postings():
    ledger, a, b, _ = books()
    with pytest.raises(LedgerError):
        ledger.pay(a, b, -1.0, Flow.OPEX)
    with pytest.raises(LedgerError):
        ledger.pay(a, a, 1.0, Flow.OPEX)
    with pytest.raises(LedgerError, match="drawn in full"):
        ledger.open_contract(Kind.BOND, World.OUTSIDE_INVESTORS, a, principal=10.0, cash=5.0)
    with pytest.raises(LedgerError, match="EQUITY_STAKE"):
        ledger.contribute(b, a, 1.0)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda L, a, b: L._acc.cash.__setitem__(a, L.cash[a] + 1.0), "cash differs"),
        (lambda L, a, b: L.contracts._mut.principal.__setitem__(0, 99.0), "financial assets"),
        (lambda L, a, b: L.capacity._mut.gpu_book.__setitem__(0, 0.0), "capacity book differs"),
        (lambda L, a, b: L._acc.paid_in.__setitem__(a, L.paid_in[a] + 1.0), "assets != liabilities"),
        (lambda L, a, b: L.contracts._mut.past_due.__setitem__(0, 1.0), "past due but"),
        (lambda L, a, b: L._acc.retained.__setitem__(a, np.nan), "non-finite"),
    ],
)
def test_invariants_catch_balances_changed_outside_the_ledger(tamper, message):
    ledger, a, b, bank = books()
    ledger.open_contract(Kind.BANK_LOAN, bank, a, principal=10.0, cash=10.0, maturity_q=4)
    ledger.buy_capacity(a, 0.1, 3.5, 1.5, ready_q=4, sellers=[(b, 5.0)])
    check(ledger)
    tamper(ledger, a, b)
    with pytest.raises(InvariantError, match=message):
        check(ledger)


def test_accounts_and_books_are_read_only_outside_the_ledger():
    """Only the ledger's postings change a balance or a contract term: every account array, every book column
    (and its live view) refuses a write from outside, while the same change through a posting goes through."""
    ledger, a, b, bank = books()
    loan = ledger.open_contract(Kind.BANK_LOAN, bank, a, principal=10.0, cash=10.0, maturity_q=4)
    ledger.buy_capacity(a, 0.1, 3.5, 1.5, ready_q=4, sellers=[(b, 5.0)])
    writes = [
        lambda: ledger.cash.__setitem__(a, 1e6),
        lambda: ledger.retained.__setitem__(a, 0.0),
        lambda: ledger.defaulted.__setitem__(a, True),
        lambda: ledger.contracts.principal.__setitem__(loan, 0.0),
        lambda: ledger.contracts.view("maturity_q").__setitem__(loan, 99),
        lambda: ledger.contracts.of_debtor(a).__setitem__(0, 5),
        lambda: ledger.capacity.gpu_book.__setitem__(0, 0.0),
        lambda: ledger.capacity.view("energised").__setitem__(0, True),
        lambda: ledger.journal.amount.__setitem__(0, 0.0),
    ]
    for write in writes:
        with pytest.raises(ValueError, match="read-only"):
            write()
    check(ledger)
    ledger.repay([loan], [4.0])
    ledger.energise([0])
    assert ledger.contracts.principal[loan] == 6.0 and ledger.capacity.energised[0]
    check(ledger)


def test_only_debt_carries_a_principal():
    ledger, a, b, _bank = books()
    with pytest.raises(LedgerError, match="not debt"):
        ledger.open_contract(Kind.COMPUTE, a, b, principal=5.0, gw=1.0, price=1.0, maturity_q=4)
    with pytest.raises(LedgerError, match="no notional"):
        ledger.open_contract(Kind.BOND, World.OUTSIDE_INVESTORS, a, principal=1.0, cash=1.0, notional=1.0)


def test_a_value_marked_far_up_and_back_keeps_its_rounding_within_tolerance_and_a_missing_mark_is_still_caught():
    """The deep property profile drew an equity index that rose 10^8-fold and fell back: a bank's short went from
    0 to -9.8e7 bn and back to -4.3, and the accounts carried 7.75e-9 bn of rounding, above a tolerance scaled by
    cash activity and today's balances. Marks now count in the activity (``gross_marks``): the same path passes,
    and a posting missing by a millionth still fails."""
    ledger, _, _, bank = books()
    short = ledger.open_contract(Kind.EQUITY_SHORT, bank, World.OUTSIDE_INVESTORS, notional=0.2, price=1.0)
    rng = np.random.default_rng(0)
    for value in (-129.355, -9152.41, -2238369.88, -98187880.85, -61403.63, -44.9959):
        ledger.revalue([short], [value * (1 + 1e-3 * rng.standard_normal())])
        check(ledger)
    ledger.revalue([short], [-4.331740783415914])
    check(ledger)
    assert ledger.gross_marks[bank] > 1e8
    ledger._acc.fin_assets[bank] += 1e-6 * 2e8  # far below the marks' size, far above their rounding
    with pytest.raises(InvariantError, match="Bank"):
        check(ledger)


def test_a_loan_split_or_sold_in_part_moves_its_amounts_pro_rata_and_copies_only_its_terms():
    """A sale of 30% of an SPV loan with a residual-value guarantee of 10, a margin call of 2 and 1 past due:
    the buyer's contract carries 3 of principal, 3 of guarantee, 0.6 of margin call and 0.3 past due, at its price
    (allowance = the discount to face); the seller keeps 7, 7, 1.4 and 0.7. Copying them would make the sponsor
    guarantee 13 and the borrower meet 2.6 of margin calls on 10 of debt. A split moves amounts the same way."""
    ledger, a, _, bank = books()
    ledger.quarter = 1
    loan = ledger.open_contract(
        Kind.SPV_FACILITY,
        bank,
        a,
        principal=10.0,
        cash=10.0,
        maturity_q=8,
        spread=0.03,
        residual_guarantee=10.0,
    )
    ledger.call_margin([loan], [2.0])
    ledger.contracts._mut.past_due[loan] = 1.0
    ledger.record_default(a)
    (sold,) = ledger.sell_claims([loan], 0.3, int(World.OUTSIDE_INVESTORS), 2.4)
    c = ledger.contracts
    for row, share in ((sold, 0.3), (loan, 0.7)):
        assert c.principal[row] == pytest.approx(10.0 * share)
        assert c.residual_guarantee[row] == pytest.approx(10.0 * share)
        assert c.margin_call[row] == pytest.approx(2.0 * share)
        assert c.past_due[row] == pytest.approx(1.0 * share)
        assert c.spread[row] == 0.03 and c.maturity_q[row] == 8 and c.debtor[row] == a
    assert c.allowance[sold] == pytest.approx(0.6) and c.creditor[sold] == World.OUTSIDE_INVESTORS
    half = ledger.split(loan, 0.5)
    assert c.principal[half] == c.principal[loan] == pytest.approx(3.5)
    assert c.residual_guarantee[half] + c.residual_guarantee[loan] == pytest.approx(7.0)
    assert c.margin_call[half] + c.margin_call[loan] == pytest.approx(1.4)
    check(ledger)
