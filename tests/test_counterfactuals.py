"""The counterfactual family, the difference-in-differences amplification, loss attribution by loop and DebtRank
on the ledger's exposures (docs/ODD.md §7.14, §7.18)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest

from accounting.contracts import IS_DEBT, Kind, Status
from accounting.debtrank import debtrank
from economy import amplify, counterfactuals, losses, systemic
from economy.model import CreditLoopModel
from economy.runner import run_simulation
from params.loader import resolve
from params.schema import Parameters


@functools.cache
def params(scenario: str, counterfactual: str | None = None) -> Parameters:
    _, p = resolve(scenario)
    return p if counterfactual is None else counterfactuals.apply(p, counterfactual)


def test_every_counterfactual_gives_valid_parameters_and_says_what_it_removes():
    for name, cf in counterfactuals.COUNTERFACTUALS.items():
        p = counterfactuals.apply(params("baseline"), name)
        Parameters.model_validate(p.model_dump())  # within the schema's ranges
        assert cf.removes, name
    with pytest.raises(ValueError, match="not one of"):
        counterfactuals.apply(params("baseline"), "no_such_thing")
    assert 0.0 < counterfactuals.outside_money_share(params("baseline")) < 1.0


def _flows_with(model: CreditLoopModel, holders: np.ndarray, issuers: np.ndarray) -> np.ndarray:
    """Net cash each party received from ``issuers`` (as a holder in ``holders``), over the whole journal."""
    j = model.ledger.journal
    payer, payee, amount = j.view("payer"), j.view("payee"), j.view("amount")
    net = np.zeros(model.ledger.n_parties)
    inbound = np.isin(payee, holders) & np.isin(payer, issuers)
    outbound = np.isin(payer, holders) & np.isin(payee, issuers)
    np.add.at(net, payee[inbound], amount[inbound])
    np.add.at(net, payer[outbound], -amount[outbound])
    return net


def test_arm_length_differs_from_the_factual_run_exactly_by_the_vendor_flows():
    """The same purchases financed by outside investors: every party that holds no vendor stake holds exactly
    the same cash every quarter. Another vendor investor (Microsoft for L5, Amazon for L6) holds the same cash
    until something passes between it and a firm it holds a vendor stake in that does not pass in the twin (an
    estate's dividend on the stake); in that quarter its cash differs by exactly that, and from then on its own
    payouts may differ. Nvidia (whose payouts follow its cash from the start) and the outside investors differ;
    outside investors put in what Nvidia put in."""
    factual = CreditLoopModel(params("openai_miss"), rng=3)
    arm = CreditLoopModel(params("openai_miss", "arm_length"), rng=3)
    c = factual.ledger.contracts
    others = np.ones(factual.ledger.n_parties, dtype=bool)
    others[[factual.nvidia.party, 1]] = False  # Nvidia and the outside investors
    followed = others.copy()  # parties whose cash must still match the twin's, up to the vendor flows
    while factual.running:
        factual.step()
        arm.step()
        stakes = np.flatnonzero(
            (c.view("kind") == Kind.EQUITY_STAKE) & np.isin(c.view("loop"), [1, 4, 5, 6, 7])
        )
        holders, issuers = np.unique(c.creditor[stakes]), np.unique(c.debtor[stakes])
        vendor = np.isin(np.arange(others.size), holders)
        plain = others & ~vendor
        np.testing.assert_array_equal(factual.ledger.cash[plain], arm.ledger.cash[plain])
        expected = _flows_with(factual, holders, issuers) - _flows_with(arm, holders, issuers)
        watch = followed & vendor
        np.testing.assert_allclose(
            (factual.ledger.cash - arm.ledger.cash)[watch], expected[watch], rtol=0, atol=1e-9
        )
        moved = watch & (np.abs(expected) > 1e-12)
        followed &= ~moved
    f_ev, a_ev = factual.events.frame(), arm.events.frame()
    invested = f_ev[(f_ev["kind"] == "vendor_equity") & (f_ev["actor"] == "Nvidia")]["amount_usd_bn"].sum()
    instead = a_ev[a_ev["text"].str.contains("at arm's length")]["amount_usd_bn"].sum()
    assert invested > 10 and instead == pytest.approx(invested, rel=1e-12)
    c = arm.ledger.contracts
    vendor_stakes = (c.view("kind") == Kind.EQUITY_STAKE) & np.isin(c.view("loop"), [1, 4, 5, 6, 7])
    assert not vendor_stakes.any()


def test_no_deals_signs_no_loop_tagged_contract_and_scales_openai_commitments():
    m = CreditLoopModel(params("openai_miss", "no_deals"), rng=2)
    c = m.ledger.contracts
    oracle, openai = m.firm("Oracle").party, m.firm("OpenAI").party
    kind, creditor, debtor = c.view("kind"), c.view("creditor"), c.view("debtor")
    stargate = (kind == Kind.COMPUTE) & (creditor == oracle) & (debtor == openai)
    share = counterfactuals.outside_money_share(params("baseline"))
    assert c.view("gw")[stargate].sum() == pytest.approx(share * params("baseline").circular.oracle_openai_gw)
    while m.running:
        m.step()
    assert (m.ledger.contracts.view("loop") == 0).all()
    assert (m.loss_book.view("loop") == 0).all()
    assert m.project_company is None


def test_no_reflexivity_holds_the_mood_constant():
    m = CreditLoopModel(params("private_credit_run", "no_reflexivity"), rng=1)
    prices = set()
    for _ in range(10):
        m.step()
        prices.add(round(m.market.amd_price, 12))
        assert m.market.sentiment_for_credit() == m.p.markets.initial_sentiment
    assert prices == {m.p.circular.amd_share_price_usd}


def test_losses_by_loop_add_up_to_each_holders_total():
    _, p = resolve("openai_miss")
    m = CreditLoopModel(p, rng=1)
    while m.running:
        m.step()
    totals = losses.by_holder(m)
    split = losses.by_holder_and_loop(m)
    for holder, total in totals.items():
        assert sum(split[holder].values()) == pytest.approx(total, rel=1e-9, abs=1e-9), holder
    assert sum(losses.by_loop(m).values()) == pytest.approx(sum(totals.values()), rel=1e-9)
    table = losses.frame(m)
    assert table["amount_usd_bn"].sum() == pytest.approx(sum(totals.values()), rel=1e-9)
    assert split["providers"].get(2, 0.0) > 10  # the Stargate claims and impairments travel through L2


def test_debtrank_reads_the_ledgers_exposures():
    _, p = resolve("baseline")
    m = CreditLoopModel(p, rng=1)
    for _ in range(6):
        m.step()
    w = systemic.exposures(m).toarray()
    c = m.ledger.contracts
    jpm, sites = m.firm("JPMorgan").party, m.project_company.party
    rows = np.flatnonzero(
        (c.view("status") == Status.ACTIVE)
        & IS_DEBT[c.view("kind")]
        & (c.view("creditor") == jpm)
        & (c.view("debtor") == sites)
    )
    assert w[jpm, sites] == pytest.approx((c.principal[rows] - c.allowance[rows]).sum(), rel=1e-12)
    assert (w[m.ledger.is_world, :] == 0).all() and (w[:, m.ledger.is_world] == 0).all()
    ranks = systemic.debtranks(m)
    agents = np.flatnonzero(~m.ledger.is_world)
    expected = debtrank(w[np.ix_(agents, agents)], m.ledger.equity()[agents])
    np.testing.assert_allclose(ranks[agents], expected, rtol=1e-12)
    nobody_exposed = agents[w[:, agents].sum(axis=0) == 0]
    assert nobody_exposed.size and (ranks[nobody_exposed] == 0).all()
    assert ranks[m.firm("OpenAI").party] > ranks[m.firm("Alphabet").party]  # its providers hang on it


def test_debtrank_is_an_agent_series():
    _, p = resolve("baseline")
    result = run_simulation(p.model_copy(update={"run": p.run.model_copy(update={"quarters": 6})}), 1)
    ranks = result.agent_frame.groupby("name")["debtrank"].max()
    assert ranks["OpenAI"] > 0 and ranks.between(0, 1).all()


def _arm_rows(by_seed: dict[int, tuple[float, float, float, float]], keys: tuple[str, ...]) -> list[dict]:
    """Made-up run rows: per seed (shocked, baseline) with the deals and (shocked, baseline) in the
    counterfactual; ``keys`` take those values, every other metric and raw number is 0."""
    rows = []
    for seed, values in by_seed.items():
        for (arm, cf), x in zip(amplify.ARMS, values, strict=True):
            row = {"seed": seed, "arm": arm, "counterfactual": cf}
            row.update(dict.fromkeys((*amplify.METRICS, *amplify.RAW.values()), 0.0))
            row.update(dict.fromkeys(keys, x))
            rows.append(row)
    return rows


def test_the_difference_in_differences_is_computed_from_the_four_arms():
    """Two seeds, made-up numbers: effect = shocked − baseline (capex: baseline − shocked), DiD = with − without."""
    rows = _arm_rows(
        {1: (50.0, 10.0, 30.0, 10.0), 2: (70.0, 20.0, 40.0, 20.0)},
        ("lender_losses_usd_bn", "cumulative_capex_usd_bn"),
    )
    out = amplify.summarise(rows)
    loss = out["lender_losses_usd_bn"]
    assert loss["effect_with_deals"]["mean"] == pytest.approx(45.0)  # (40 + 50) / 2
    assert loss["effect_counterfactual"]["mean"] == pytest.approx(20.0)  # (20 + 20) / 2
    assert loss["did"]["mean"] == pytest.approx(25.0)
    assert loss["ratio"]["mean"] == pytest.approx(45.0 / 20.0)
    # 90% t interval of (20, 30): mean 25, sd 7.07, t(0.95, 1) = 6.314 -> half width 31.57
    assert loss["did"]["high"] - loss["did"]["mean"] == pytest.approx(
        6.3137515 * 7.0710678 / np.sqrt(2), rel=1e-6
    )
    assert out["cumulative_capex_lost_usd_bn"]["did"]["mean"] == pytest.approx(
        -25.0
    )  # capex lost, signs flip


def test_the_amplify_command_writes_the_intervals(tmp_path):
    from run import main

    out = tmp_path / "amp"
    code = main(
        [
            "amplify", "--scenario", "openai_miss", "--counterfactual", "no_deals", "--seeds", "3",
            "--workers", "1", "--set", "run.quarters=12", "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    doc = json.loads((out / "amplification.json").read_text())
    assert doc["counterfactual"] == "no_deals" and doc["seeds"] == [1, 2, 3]
    runs = pd.read_csv(out / "amplification_runs.csv")
    assert len(runs) == 12
    cell = runs.set_index(["seed", "arm", "counterfactual"])["lender_losses_usd_bn"]
    did = [
        (cell[(s, "shocked", False)] - cell[(s, "baseline", False)])
        - (cell[(s, "shocked", True)] - cell[(s, "baseline", True)])
        for s in (1, 2, 3)
    ]
    m = doc["metrics"]["lender_losses_usd_bn"]["did"]
    assert m["mean"] == pytest.approx(np.mean(did), rel=1e-12)
    assert m["low"] <= m["mean"] <= m["high"] and m["n"] == 3
    # a folder with someone else's files is refused, and nothing in it is touched
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["amplify", "--scenario", "openai_miss", "--seeds", "2", "--out", str(other)]) != 0
    assert (other / "notes.txt").read_text() == "keep me"


def test_no_ratio_is_reported_to_a_counterfactual_effect_that_may_be_zero():
    """Without the deals the shock moves losses by +1 in one seed and −1 in the other (interval holds 0): the
    ratio is undefined (a ratio to a possible 0 is noise), while the DiD is still reported."""
    rows = _arm_rows({1: (50.0, 10.0, 11.0, 10.0), 2: (70.0, 20.0, 19.0, 20.0)}, ("lender_losses_usd_bn",))
    loss = amplify.summarise(rows)["lender_losses_usd_bn"]
    assert loss["effect_counterfactual"]["mean"] == pytest.approx(0.0)
    assert np.isnan(loss["ratio"]["mean"]) and loss["ratio"]["undefined"]
    assert loss["did"]["mean"] == pytest.approx(45.0)
