"""Step-performance benchmarks (``python run.py bench [--quick] [--json FILE]``; docs/PERFORMANCE.md).

One quarter's accounting on population books of about 1k, 10k and 100k contracts, side by side with the
per-contract Python reference (benchmarks/reference.py) and a bare numpy pass over the same arrays; whole steps at
calibrated size and at 1k and 10k agents; clearing at 1k and 10k firms; a full baseline run; the DataCollector's
cost per step; the peak memory of the population cases.
"""

from __future__ import annotations

import functools
import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from accounting.clearing import clear
from benchmarks import reference
from benchmarks.books import (
    MIX,
    Snapshot,
    accounting,
    floor_inputs,
    numpy_floor,
    open_quarter,
    population_model,
)
from benchmarks.conftest import record, record_value
from economy.model import CreditLoopModel
from economy.runner import run_simulation
from params.loader import build_parameters, resolve
from params.schema import Shock

AGENTS = (100, 1000, 10000)  # synthetic firms; about 10 contracts each
ROUNDS = {100: 60, 1000: 30, 10000: 12}


@functools.cache
def quarter_books(agents: int):
    """A population economy's opening book set up for one quarter's accounting, and its snapshot."""
    model = population_model(agents, **{"run.check_invariants": False})
    open_quarter(model, 0)
    return model, Snapshot(model)


def facts(model) -> dict:
    return {"agents": len(model.agents), "contracts": int(model.ledger.contracts.n)}


# -- one quarter's accounting: ours, the reference, the numpy floor -------------------------------------------------
@pytest.mark.quick
@pytest.mark.parametrize("agents", AGENTS)
def test_accounting(benchmark, agents):
    """Dues, settlement, marks, depreciation and covenants with the model's vectorised code."""
    model, snap = quarter_books(agents)
    benchmark.pedantic(
        accounting, args=(model,), setup=lambda: snap.restore(model), rounds=ROUNDS[agents], warmup_rounds=2
    )
    record(f"accounting[{agents} agents]", benchmark, **facts(model))
    snap.restore(model)


@pytest.mark.parametrize(
    "agents", [pytest.param(a, marks=pytest.mark.quick) if a == 10000 else a for a in AGENTS]
)
def test_reference(benchmark, agents):
    """The same quarter, one agent and one contract at a time in plain Python (benchmarks/reference.py)."""
    model, snap = quarter_books(agents)

    def fresh_books():
        snap.restore(model)
        return (reference.books_of(model),), {}

    benchmark.pedantic(reference.quarter, setup=fresh_books, rounds=3 if agents == 10000 else 10)
    record(f"reference[{agents} agents]", benchmark, **facts(model))


@pytest.mark.quick
@pytest.mark.parametrize("agents", AGENTS)
def test_numpy_floor(benchmark, agents):
    """A bare numpy pass over the same arrays: the memory-bound floor."""
    model, snap = quarter_books(agents)
    snap.restore(model)
    inputs = floor_inputs(model)
    benchmark.pedantic(numpy_floor, args=(inputs,), rounds=ROUNDS[agents] * 2, warmup_rounds=2)
    record(f"numpy_floor[{agents} agents]", benchmark, **facts(model))


# -- whole steps ----------------------------------------------------------------------------------------------------
@pytest.mark.quick
def test_step_calibrated(benchmark):
    """The 29 quarters of the calibrated baseline, model built outside the timing; per step = time / 29."""
    _, params = resolve("baseline")
    seeds = iter(range(1000))

    def model():
        return (CreditLoopModel(params, rng=next(seeds)),), {}

    def run(m):
        while m.running:
            m.step()

    benchmark.pedantic(run, setup=model, rounds=5, warmup_rounds=1)
    quarters = params.run.quarters
    record("step_calibrated[29 quarters]", benchmark, quarters=quarters)
    s = benchmark.stats.stats
    record_value(
        "step_calibrated[per quarter]",
        min_ms=round(s.min / quarters * 1e3, 3),
        median_ms=round(s.median / quarters * 1e3, 3),
    )


@pytest.mark.quick
def test_baseline_run(benchmark):
    """A full baseline run as the CLI and the sweeps do it: build, 29 quarters, frames and summary."""
    _, params = resolve("baseline")
    seeds = iter(range(1000))
    benchmark.pedantic(lambda: run_simulation(params, next(seeds)), rounds=5, warmup_rounds=1)
    record("baseline_run", benchmark, quarters=params.run.quarters)


@pytest.mark.quick
@pytest.mark.parametrize("collector", ["datacollector", "lean"])
def test_run_collector(benchmark, collector):
    """``run_simulation(baseline)`` with agents' rows, on Mesa's DataCollector path and on the lean path
    (economy/collect.py), the same seeds; the two run one after the other in one session (ratio in the summary:
    ``lean_vs_datacollector``)."""
    _, params = resolve("baseline")
    seeds = iter(range(1000))
    benchmark.pedantic(
        lambda: run_simulation(params, next(seeds), collector=collector), rounds=7, warmup_rounds=1
    )
    record(f"run[{collector}]", benchmark, quarters=params.run.quarters)


@functools.cache
def stepping_model(agents: int):
    model = population_model(agents)  # invariants checked every quarter, as in a normal run
    model.step()  # 2025Q4 (the scripted deals) is not a typical quarter
    return model


@pytest.mark.parametrize("agents", [pytest.param(1000, marks=pytest.mark.quick), 10000])
def test_step_population(benchmark, agents):
    """Consecutive whole quarters of a population economy (decisions, markets, settlement, marks, invariants,
    data collection)."""
    model = stepping_model(agents)
    before = int(model.ledger.contracts.n)
    benchmark.pedantic(model.step, rounds=3 if agents == 10000 else 5)
    record(
        f"step_population[{agents} agents]",
        benchmark,
        agents=len(model.agents),
        contracts_before=before,
        contracts_after=int(model.ledger.contracts.n),
    )


STRESS = (
    Shock(kind="gpu_obsolescence", quarter=1, size=1.5, duration=28),
    Shock(kind="ai_demand_level", quarter=1, size=-0.5),
    Shock(kind="spreads", quarter=1, size=0.7, duration=4),
)


# The largest stressed economy (issue 15's 1k / 10k / 30k); marked slow: its build and two quarters take about a
# minute, and its traced memory peaks near 0.5 GB.
LARGEST = 30000


def stressed_model(agents: int):
    """A population economy two quarters into a bust (GPU life cut to 1.5 years, demand -40%, spreads x2 from
    2026Q1), so the next quarter has defaults to resolve, clearing and covenants to check."""
    counts = {f"population.{kind}": round(share * agents) for kind, share in MIX.items()}
    model = CreditLoopModel(build_parameters(counts, STRESS), rng=1, scenario="population")
    model.step()
    model.step()
    return model


@pytest.mark.parametrize(
    "agents", [1000, 10000, pytest.param(LARGEST, marks=pytest.mark.slow)], ids=lambda a: f"{a}agents"
)
def test_stressed_quarter(benchmark, agents):
    """One whole stressed population quarter (2026Q2 of the bust above: decisions, defaults, clearing,
    covenants, invariants, collection), on a fresh model each round; the cost exponent over the sizes is in the
    summary (``stressed_quarter_cost_exponent``)."""
    facts_of = {}

    def fresh():
        model = stressed_model(agents)
        facts_of["before"] = (int(model.ledger.contracts.n), model.defaults_total)
        return (model,), {}

    def step(model):
        model.step()
        facts_of["after"] = (int(model.ledger.contracts.n), model.defaults_total)

    benchmark.pedantic(step, setup=fresh, rounds=1 if agents > 1000 else 3)
    record(
        f"stressed_quarter[{agents} agents]",
        benchmark,
        agents=agents,
        contracts=facts_of["before"][0],
        defaults_in_quarter=facts_of["after"][1] - facts_of["before"][1],
    )


# -- clearing -------------------------------------------------------------------------------------------------------
def obligations(firms: int, seed: int = 0, counterparties: int = 10):
    """A random obligations network: each firm owes ``counterparties`` others; a tenth of the firms hold too
    little to pay, so clearing has default rounds and contagion to compute."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(firms), counterparties)
    cols = (rows + rng.integers(1, firms, rows.size)) % firms
    amounts = rng.lognormal(0.0, 1.0, rows.size)
    liabilities = sp.csr_matrix((amounts, (rows, cols)), shape=(firms, firms))
    owed = np.asarray(liabilities.sum(axis=1)).ravel()
    assets = owed * np.where(
        rng.random(firms) < 0.1, rng.uniform(0.0, 0.6, firms), rng.uniform(0.2, 1.5, firms)
    )
    return liabilities, assets


@pytest.mark.parametrize("firms", [pytest.param(1000, marks=pytest.mark.quick), 10000])
def test_clearing(benchmark, firms):
    liabilities, assets = obligations(firms)
    result = benchmark.pedantic(
        clear, args=(liabilities, assets), rounds=10 if firms == 1000 else 3, warmup_rounds=1
    )
    record(
        f"clearing[{firms} firms]",
        benchmark,
        firms=firms,
        obligations=int(liabilities.nnz),
        defaulted=int(result.defaulted.sum()),
        rounds_of_defaults=len(result.rounds),
    )


# -- data collection ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("agents", [pytest.param(0, marks=pytest.mark.quick), 1000])
def test_datacollector(benchmark, agents):
    """Mesa's DataCollector.collect for one quarter (model series from the metrics dict, ten agent series)."""
    if agents:
        model = population_model(agents)
    else:
        model = CreditLoopModel(resolve("baseline")[1], rng=1)
    model.step()
    benchmark.pedantic(model.datacollector.collect, args=(model,), rounds=20, warmup_rounds=1)
    record(f"datacollector[{agents or 'calibrated'}]", benchmark, agents=len(model.agents))


# -- memory ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("agents", [1000, 10000, pytest.param(LARGEST, marks=pytest.mark.slow)])
def test_peak_memory(benchmark, agents):
    """Peak traced memory (tracemalloc: Python objects and numpy arrays) to build a population economy and run
    one quarter. Timed too, but tracing slows it down: see step_population for speed."""
    out = {}

    def build_and_step():
        tracemalloc.start()
        start = time.perf_counter()
        model = population_model(agents)
        built = tracemalloc.get_traced_memory()[1]
        model.step()
        out["peak"] = tracemalloc.get_traced_memory()[1]
        out["built"] = built
        out["contracts"] = int(model.ledger.contracts.n)
        out["seconds"] = time.perf_counter() - start
        tracemalloc.stop()

    benchmark.pedantic(build_and_step, rounds=1)
    record_value(
        f"peak_memory[{agents} agents]",
        peak_mb_build=round(out["built"] / 2**20, 1),
        peak_mb_build_and_step=round(out["peak"] / 2**20, 1),
        contracts_after_step=out["contracts"],
    )
