"""The lean collection path (economy/collect.py) gives exactly the DataCollector path's outputs: every column,
value and dtype of the model, agent, events and losses tables and every summary number."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from economy.model import CreditLoopModel
from economy.runner import run_simulation
from params.loader import resolve, scenario_names


def same_summary(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), k
        else:
            assert type(x) is type(y) and x == y, k


def same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert list(a.dtypes) == list(b.dtypes)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("scenario", scenario_names())
def test_lean_series_and_summary_equal_the_datacollector_path(scenario):
    _, params = resolve(scenario)
    lean = run_simulation(params, 1, scenario=scenario, agents=False, collector="lean")
    mesa_path = run_simulation(params, 1, scenario=scenario, agents=False, collector="datacollector")
    same_frame(lean.model_frame, mesa_path.model_frame)
    same_summary(lean.summary, mesa_path.summary)
    same_frame(lean.events, mesa_path.events)


@pytest.mark.parametrize("scenario", ["baseline", "openai_miss", "private_credit_run"])
def test_lean_agent_rows_events_and_losses_equal_the_datacollector_path(scenario):
    _, params = resolve(scenario)
    lean = run_simulation(params, 2, scenario=scenario, collector="lean")
    mesa_path = run_simulation(params, 2, scenario=scenario, collector="datacollector")
    same_frame(lean.model_frame, mesa_path.model_frame)
    same_frame(lean.agent_frame, mesa_path.agent_frame)
    same_frame(lean.events, mesa_path.events)
    same_frame(lean.extra["losses"], mesa_path.extra["losses"])
    same_summary(lean.summary, mesa_path.summary)


def test_lean_collector_reads_like_the_datacollector_while_running_and_past_the_horizon():
    _, params = resolve("baseline")
    params = params.model_copy(update={"run": params.run.model_copy(update={"quarters": 3})})
    lean = CreditLoopModel(params, rng=3, collector="lean")
    ref = CreditLoopModel(params, rng=3, collector="datacollector")
    for _ in range(5):  # two quarters past the horizon: the arrays grow
        lean.step()
        ref.step()
        assert lean.datacollector.model_vars == ref.datacollector.model_vars


def test_an_unknown_collector_is_refused():
    with pytest.raises(ValueError, match="collector"):
        CreditLoopModel(collector="fast")


def test_the_events_table_is_the_one_built_row_by_row():
    from dataclasses import asdict

    _, params = resolve("openai_miss")
    model = CreditLoopModel(params, rng=2)
    while model.running:
        model.step()
    cols = ["quarter", "label", "kind", "actor", "counterparty", "amount_usd_bn", "text"]
    rows = pd.DataFrame([{**asdict(e), "label": e.label} for e in model.events.events], columns=cols)
    assert len(rows) > 100
    same_frame(model.events.frame(), rows)
    model.events.events.clear()
    same_frame(model.events.frame(), pd.DataFrame([], columns=cols))
