"""The benchmarks' per-contract reference (benchmarks/reference.py) gives the same numbers as the model's
vectorised accounting (settlement and contract marks) on a population book: every balance, every contract,
every cohort, the journal by flow and the contract revenue, quarter after quarter, margin calls included."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package

from accounting.ledger import Flow
from benchmarks import reference
from benchmarks.books import accounting, open_quarter, population_model

REL = 1e-9  # the two sum the same numbers in different orders


def close(a, b) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=REL, atol=1e-9))


@pytest.fixture(scope="module")
def model():
    m = population_model(300, seed=5)
    m.step()  # a real quarter: new loans, bonds, capacity and stakes on top of the opening book
    return m


def compare(model, books: reference.Books, journal_from: int) -> None:
    ledger, c, cap = model.ledger, model.ledger.contracts, model.ledger.capacity
    for account in ("cash", "retained", "fin_assets", "fin_liabs", "real_assets", "paid_in"):
        ours = getattr(ledger, account)
        theirs = [getattr(p, account) for p in books.parties]
        assert close(ours, theirs), account
    for column in ("principal", "notional", "value", "margin_call", "due", "past_due"):
        assert close(c.view(column), [getattr(x, column) for x in books.contracts]), column
    for column in ("gpu_book", "shell_book"):
        assert close(cap.view(column), [getattr(x, column) for x in books.cohorts]), column
    j = ledger.journal
    lines = slice(journal_from, j.n)
    for flow in Flow:
        ours = j.amount[lines][j.flow[lines] == flow].sum()
        theirs = sum(amount for _, _, amount, f, _ in books.journal if f == flow)
        assert close(ours, theirs), flow.name
    assert j.n - journal_from == len(books.journal)
    assert model.contract_revenue.keys() == books.contract_revenue.keys()
    assert close(list(model.contract_revenue.values()), list(books.contract_revenue.values()))
    assert model.compute_fees_paid.keys() == books.compute_fees_paid.keys()
    assert close(
        [model.compute_fees_paid[k] for k in books.compute_fees_paid], list(books.compute_fees_paid.values())
    )


def test_the_reference_gives_the_model_numbers_quarter_after_quarter(model):
    ledger = model.ledger
    assert ledger.contracts.n > 2000 and len(model.agents) > 300
    checked = {"repay": 0, "margin": 0, "stakes": 0}
    for q, shock in ((1, 0.9), (2, 0.0), (3, 0.5)):
        open_quarter(model, q)
        model.reset_quarter_accumulators()
        # move the markets so that marks, depreciation and the LTV covenant all have work to do
        model.market.value *= 1.0 + 0.05 * q
        model.market.fire_sale_discount = shock
        model.market.amd_price *= 1.1
        books = reference.books_of(model)
        checked["margin"] += sum(
            1 for x in books.contracts if x.kind == 3 and x.margin_call > 0 and x.status == 0
        )
        checked["stakes"] += sum(1 for x in books.contracts if x.kind == 5 and x.status == 0)
        start = ledger.journal.n
        accounting(model)
        reference.quarter(books)
        checked["repay"] += int((ledger.journal.flow[start : ledger.journal.n] == Flow.PRINCIPAL).sum())
        compare(model, books, start)
    # the quarters exercised repayments, margin calls met in full (after the shock) and stake marks
    assert checked["repay"] > 100 and checked["margin"] > 0 and checked["stakes"] > 100


def test_the_reference_refuses_a_quarter_in_which_someone_cannot_pay(model):
    books = reference.books_of(model)
    payer = next(i for i, c in enumerate(books.contracts) if c.kind == 0 and c.status == 0)
    books.parties[books.contracts[payer].debtor].cash = -1.0
    books.market.quarter = max(books.market.quarter, books.contracts[payer].start_q + 1)
    with pytest.raises(ValueError, match="cannot pay"):
        reference.settle(books)
