"""A small scripted economy through the real settlement code: two firms, a bank, a loan, a compute contract and
one default, with books checked against numbers computed by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from accounting.books import PartyColumns
from accounting.contracts import Kind, Status
from accounting.invariants import check
from accounting.journal import Flow
from accounting.ledger import Ledger
from economy import defaults, settlement
from economy.circularity import CircularityTracker
from economy.events import EventLog

WORLD = ["end customers", "outside investors", "suppliers", "Treasury", "AMD"]


class Party(SimpleNamespace):
    """A firm as settlement and default resolution see it: its state and the hooks they call (doing nothing)."""

    def raise_liquidity(self, shortfall):
        return 0.0

    def compute_terminated(self, provider, gw, price, min_share, loop):
        pass

    def record_credit_loss(self, amount):
        pass


class Host(SimpleNamespace):
    """What settlement needs from its model: the books, the quarter, the firms and somewhere to write events."""

    def log(self, kind, actor, text, counterparty="", amount=0.0):
        self.events.add(self.quarter, kind, actor, text, counterparty, amount)


def economy():
    ledger = Ledger(WORLD)
    lab, cloud, bank = (ledger.add_party(n) for n in ("Lab", "Cloud", "Bank"))
    ledger.open_balance_sheet(lab, cash=3.0)
    ledger.open_balance_sheet(cloud, cash=1.0, other_assets=9.0)
    ledger.open_balance_sheet(bank, cash=30.0, other_assets=70.0, other_liabs=90.0)
    # Cloud borrowed 8 from Bank (interest-only, 10% fixed) and sells 1 GW to Lab at 4 per quarter, take-or-pay
    loan = ledger.open_contract(
        Kind.BANK_LOAN, bank, cloud, principal=8.0, cash=8.0, maturity_q=8, fixed_rate=0.10
    )
    compute = ledger.open_contract(
        Kind.COMPUTE, cloud, lab, notional=40.0, gw=1.0, price=4.0, min_share=0.8, start_q=0, maturity_q=10
    )
    firms = {
        p: Party(name=ledger.names[p], in_default=False, party=p, funding_shortfall=0.0)
        for p in (lab, cloud, bank)
    }
    host = Host(
        ledger=ledger,
        quarter=1,
        market=SimpleNamespace(reference_rate=0.04),
        firm_by_party=firms,
        firms=list(firms.values()),
        events=EventLog(),
        circularity=CircularityTracker(),
        contract_revenue={},
        shortfall_by_provider={},
        compute_fees_paid={},
        firm_state=PartyColumns(funding_shortfall=float, liquidated=bool).ensure(ledger.n_parties),
    )
    host.p = SimpleNamespace(credit=SimpleNamespace(default_cost_alpha=1.0, default_cost_beta=1.0))
    host.default_costs_q = 0.0
    ledger.quarter = 1
    ledger.invoice(compute, 4.0)  # the operating phase's invoice: 1 GW x 4
    return host, lab, cloud, bank, loan, compute


def test_everyone_pays_in_full_when_cash_suffices():
    host, lab, cloud, bank, _loan, _compute = economy()
    host.ledger.contribute(0, lab, 2.0)  # Lab now has 5 >= 4
    assert settlement.settle(host) == []
    L = host.ledger
    assert L.cash[lab] == pytest.approx(1.0)
    assert L.cash[cloud] == pytest.approx(1.0 + 8.0 + 4.0 - 0.2)  # interest 8 x 10% / 4 = 0.2
    assert L.cash[bank] == pytest.approx(30.0 - 8.0 + 0.2)
    assert host.contract_revenue[cloud] == 4.0
    check(L)


def test_the_lab_defaults_and_clearing_shares_its_cash():
    """Lab has 3 against a 4 invoice. Cloud has 9 of its own, so it pays the bank in full; the greatest clearing
    vector is p = (Lab 3, Cloud 0.2): Lab pays 75% of its invoice and defaults."""
    host, lab, cloud, _bank, _loan, compute = economy()
    new = settlement.settle(host)
    L = host.ledger
    assert new == [lab]
    assert L.defaulted[lab] and host.firm_by_party[lab].in_default
    assert L.cash[lab] == pytest.approx(0.0, abs=1e-12)
    assert L.cash[cloud] == pytest.approx(9.0 + 3.0 - 0.2)
    assert L.contracts.past_due[compute] == pytest.approx(1.0)
    assert host.shortfall_by_provider[cloud] == pytest.approx(1.0)
    assert any("Lab pays 75% of its Cloud invoice" in str(e) for e in host.events.events)
    check(L)  # past due is allowed because the default is recorded


def test_a_borrower_default_cascades_to_its_lender_through_clearing():
    """Cloud's cash is only 0.1 and its loan matures: it owes 8.2 and receives Lab's 3 (the Lab has 3 and pays in
    full once its own invoice is cut to 3). Cloud pays 3.1 of 8.2: the bank recovers 3.1/8.2 of the quarter."""
    host, _lab, cloud, bank, loan, compute = economy()
    L = host.ledger
    L.reschedule(loan, 1)
    L.pay(cloud, 2, 8.9, Flow.OPEX)  # Cloud spent the loan: 0.1 left
    L.invoice(compute, 3.0)
    new = settlement.settle(host)
    assert new == [cloud]
    paid = 0.1 + 3.0
    assert L.cash[bank] == pytest.approx(22.0 + paid)
    assert L.contracts.principal[loan] == pytest.approx(8.0 - 8.0 * paid / 8.2)
    assert L.contracts.past_due[loan] == pytest.approx(8.2 - paid)
    check(L)


def test_restructuring_writes_claims_down_to_what_assets_cover(monkeypatch):
    host, _lab, cloud, _bank, loan, compute = economy()
    L = host.ledger
    L.reschedule(loan, 1)
    L.pay(cloud, 2, 8.9, Flow.OPEX)
    L.invoice(compute, 3.0)
    host.firm_by_party[cloud].restructurings = 0
    host.firm_by_party[cloud].excluded_until = -1
    host.firm_by_party[cloud].listed = True
    host.firm_by_party[cloud].equity = 1.0
    settlement.settle(host)
    host.defaults_q = 0
    host.losses_q = 0.0
    host.p = SimpleNamespace(
        credit=SimpleNamespace(
            default_recovery_haircut=0.3, default_exclusion_quarters=8, restructuring_extension_quarters=4
        ),
        lenders=SimpleNamespace(srt_cover_share=0.3),
    )
    host.market.fire_sale = lambda sold, installed: None
    host.installed_gw = lambda: 0.0
    # Cloud owns no GPUs: their value is zero without a market to read
    monkeypatch.setattr(defaults.capital, "gpu_market_values", lambda model, cohorts=None: np.zeros(0))
    # Cloud's remaining assets: cash 0 + other assets 9; claims: loan principal
    before = float(L.contracts.principal[loan])
    defaults.resolve(host, [cloud])
    assert L.contracts.status[compute] == Status.ACTIVE  # Cloud is the provider, not the customer
    assert L.contracts.principal[loan] == pytest.approx(min(before, 9.0))
    assert L.contracts.past_due[loan] == 0.0 and L.contracts.maturity_q[loan] >= 5  # rescheduled
    check(L)


def test_a_bank_that_cannot_pay_its_protection_premium_is_the_one_in_default():
    """The bank pays the SRT premium (it is the creditor of the protection): short of cash, the unpaid premium
    is past due on the bank's side and the bank's default is recorded, so the books stay consistent."""
    host, _lab, _cloud, bank, _loan, _compute = economy()
    L = host.ledger
    srt = L.open_contract(Kind.RISK_TRANSFER, bank, 1, notional=40.0, maturity_q=20, fixed_rate=0.08)
    L.pay(bank, 2, 21.5, Flow.OPEX)  # 30 - 8 lent - 21.5: 0.5 left
    host.ledger.invoice(_compute, 0.0)
    new = settlement.settle(host)
    premium = 40.0 * 0.08 / 4  # 0.8
    assert bank in new and L.defaulted[bank]
    assert L.contracts.past_due[srt] == pytest.approx(
        premium - 0.5 - 0.2
    )  # it had 0.5 + Cloud's 0.2 interest
    check(L)


class Closing(Party):
    """A firm whose ``liquidated`` flag lives in the host's per-party columns, as a model firm's does."""

    @property
    def liquidated(self) -> bool:
        return bool(self.state.liquidated[self.party])

    @liquidated.setter
    def liquidated(self, value: bool) -> None:
        self.state.liquidated[self.party] = value

    def sell_everything(self) -> None:
        pass


def _estate(other_liabs: float, monkeypatch):
    """Firm F: cash 2, other assets 3 (its business outside the model), other liabilities ``other_liabs``, a
    6 bank loan drawn in cash and a 40% stake Holder bought for 1 (so cash 9), no GPUs; it sells Holder compute."""
    from economy.losses import LossBook

    ledger = Ledger(WORLD)
    f, bank, holder = (ledger.add_party(n) for n in ("F", "Bank", "Holder"))
    ledger.open_balance_sheet(f, cash=2.0, other_assets=3.0, other_liabs=other_liabs)
    ledger.open_balance_sheet(bank, cash=10.0)
    ledger.open_balance_sheet(holder, cash=5.0)
    loan = ledger.open_contract(
        Kind.BANK_LOAN, bank, f, principal=6.0, cash=6.0, maturity_q=8, fixed_rate=0.1
    )
    ledger.open_contract(Kind.EQUITY_STAKE, holder, f, cash=1.0, fraction=0.4)
    # F also sells Holder 1 GW of compute (no cash at signing)
    ledger.open_contract(
        Kind.COMPUTE, f, holder, notional=40.0, gw=1.0, price=4.0, min_share=0.8, start_q=0, maturity_q=10
    )
    state = PartyColumns(liquidated=bool, funding_shortfall=float).ensure(ledger.n_parties)
    holders = {f: "providers", bank: "banks", holder: "providers"}
    firms = {
        p: Closing(name=ledger.names[p], party=p, state=state, in_default=True, loss_holder=holders[p])
        for p in (f, bank, holder)
    }
    host = Host(ledger=ledger, quarter=1, firm_by_party=firms, firms=list(firms.values()), events=EventLog())
    host.firm_state, host.loss_book, host.losses_q = state, LossBook(), 0.0
    host.market = SimpleNamespace(fire_sale=lambda sold, installed: None)
    host.installed_gw = lambda: 0.0
    host.p = SimpleNamespace(credit=SimpleNamespace(default_recovery_haircut=0.3))
    ledger.quarter = 1
    monkeypatch.setattr(defaults.capital, "gpu_market_values", lambda model, cohorts=None: np.zeros(0))
    return host, f, bank, holder, loan


def _closed(ledger, party) -> None:
    bs = ledger.balance_sheet(party)
    assert bs["total_assets"] == pytest.approx(0.0, abs=1e-12)
    assert bs["total_liabilities"] == pytest.approx(0.0, abs=1e-12)


def test_a_liquidated_estate_pays_every_creditor_and_its_shareholders_get_the_rest(monkeypatch):
    """Other liabilities 4: the estate has 9 + 3 (its other assets sold at book) = 12 against 6 + 4 = 10, so every
    creditor is paid in full, and the 2 left go 0.8 to Holder (its 40%) and 1.2 to the outside investors."""
    host, f, bank, holder, loan = _estate(4.0, monkeypatch)
    L = host.ledger
    outside, suppliers = L.cash[1], L.cash[2]
    defaults._liquidate(host, host.firm_by_party[f])
    defaults.pass_on_estates(host)
    assert L.cash[bank] == pytest.approx(10.0 - 6.0 + 6.0)
    assert L.cash[2] - suppliers == pytest.approx(4.0)  # the outside creditors of its other liabilities
    assert L.cash[holder] == pytest.approx(5.0 - 1.0 + 0.8)
    assert L.cash[1] - outside == pytest.approx(-3.0 + 1.2)  # they bought its business for 3, get 1.2 back
    assert host.losses_q == 0.0 and L.contracts.status[loan] == Status.DEFAULTED
    compute = L.contracts.of_creditor(f)[L.contracts.kind[L.contracts.of_creditor(f)] == Kind.COMPUTE]
    assert (L.contracts.status[compute] == Status.TERMINATED).all()  # a closed provider delivers nothing more
    _closed(L, f)
    check(L)


def test_a_liquidated_estate_short_of_cash_pays_its_debt_and_other_liabilities_pari_passu(monkeypatch):
    """Other liabilities 9: 12 against 6 + 9 = 15, a recovery of 0.8. The bank gets 4.8 and loses 1.2, the
    outside creditors get 7.2 and lose 1.8 (the loss book's "other" holders); the shareholders get nothing."""
    from economy import losses

    host, f, bank, holder, _loan = _estate(9.0, monkeypatch)
    L = host.ledger
    suppliers = L.cash[2]
    defaults._liquidate(host, host.firm_by_party[f])
    defaults.pass_on_estates(host)
    assert L.cash[bank] == pytest.approx(4.0 + 4.8)
    assert L.cash[2] - suppliers == pytest.approx(7.2)
    assert L.cash[holder] == pytest.approx(4.0)
    assert host.losses_q == pytest.approx(1.2 + 1.8)
    held = losses.by_holder(host)
    assert held["other"] == pytest.approx(1.8)
    _closed(L, f)
    check(L)
