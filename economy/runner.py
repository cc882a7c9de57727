"""Running the model: one run, a twin run (with and without circular financing), and writing the results.

This is the single code path the CLI, the sweeps and the tests use to run creditloop. Outputs are written to a
temporary folder and renamed into place, so an output folder is never left half-written.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from economy import counterfactuals, losses
from economy.events import quarter_label
from economy.metrics import amplification, loss_summary, summary
from economy.model import CreditLoopModel
from params.schema import Parameters


def without_circular(params: Parameters, counterfactual: str = counterfactuals.DEFAULT) -> Parameters:
    """The parameters of a counterfactual (economy/counterfactuals.py; by default the master switch off)."""
    return counterfactuals.apply(params, counterfactual)


@dataclass
class RunResult:
    """One run's tables and summary. ``events`` is built on first use (from the run's event log), so a caller
    that writes no events table pays nothing for it."""

    model_frame: pd.DataFrame
    agent_frame: pd.DataFrame | None
    event_source: Any  # the events table, or a function that builds it
    summary: dict[str, Any]
    seed: int
    scenario: str
    circular: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> pd.DataFrame:
        if callable(self.event_source):
            self.event_source = self.event_source()
        return self.event_source


def model_frame(model: CreditLoopModel) -> pd.DataFrame:
    df = model.datacollector.model_frame().reset_index(drop=True)
    df.insert(0, "label", [quarter_label(int(q)) for q in df["quarter"]])
    df.insert(0, "circular", model.p.circular.circular_financing)
    df.insert(0, "seed", model.seed)
    df.insert(0, "scenario", model.scenario_name)
    return df


def agent_frame(model: CreditLoopModel) -> pd.DataFrame:
    df = model.datacollector.agent_frame().reset_index()
    df = df.rename(columns={"Step": "step", "AgentID": "agent_id"})
    df.insert(0, "label", [quarter_label(int(s) - 1) for s in df["step"]])
    df.insert(0, "seed", model.seed)
    df.insert(0, "scenario", model.scenario_name)
    return df


def run_simulation(
    params: Parameters,
    seed: int,
    *,
    scenario: str = "baseline",
    agents: bool = True,
    model: CreditLoopModel | None = None,
    collector: str = "lean",
) -> RunResult:
    """Run to the horizon (``params.run.quarters``) and collect the frames and the summary. ``collector``:
    ``"lean"`` (preallocated arrays, the default) or ``"datacollector"`` (Mesa's, as the app runs); the same
    numbers either way (economy/collect.py)."""
    m = model or CreditLoopModel(
        params, rng=seed, scenario=scenario, collect_agents=agents, collector=collector
    )
    while m.running:
        m.step()
    frame = model_frame(m)
    book = losses.frame(m)
    book.insert(0, "circular", m.p.circular.circular_financing)
    book.insert(0, "seed", m.seed)
    book.insert(0, "scenario", m.scenario_name)
    return RunResult(
        frame,
        agent_frame(m) if agents else None,
        functools.partial(_events, m.events, m.scenario_name, m.seed, m.p.circular.circular_financing),
        {**summary(frame), **loss_summary(m)},
        seed,
        scenario,
        params.circular.circular_financing,
        {"losses": book, "losses_by_holder_and_loop": losses.by_holder_and_loop(m)},
    )


def _events(log, scenario: str, seed: int | None, circular: bool) -> pd.DataFrame:
    ev = log.frame()
    ev.insert(0, "circular", circular)
    ev.insert(0, "seed", seed)
    ev.insert(0, "scenario", scenario)
    return ev


def run_twin(
    params: Parameters,
    seed: int,
    *,
    scenario: str = "baseline",
    agents: bool = True,
    counterfactual: str = counterfactuals.DEFAULT,
) -> tuple[RunResult, RunResult, dict[str, float | None]]:
    """The same seed with circular financing and in a counterfactual, and the ratios (with ÷ without)."""
    on = (
        params
        if params.circular.circular_financing
        else params.model_copy(
            update={"circular": params.circular.model_copy(update={"circular_financing": True})}
        )
    )
    with_c = run_simulation(on, seed, scenario=scenario, agents=agents)
    without = run_simulation(without_circular(on, counterfactual), seed, scenario=scenario, agents=agents)
    return with_c, without, amplification(with_c.summary, without.summary)


def write_outputs(
    out: Path,
    results: list[RunResult],
    summary_doc: dict[str, Any],
    *,
    csv: bool = False,
    overwrite: bool = False,
) -> None:
    """Write model/agents/events parquet (+CSV) and summary.json atomically: all of it or nothing.

    ``out`` is replaced only if it is new, empty or an earlier output of this function (recognised by the
    ``creditloop`` marker written into summary.json), or with ``overwrite``; a file is never replaced. The
    outputs are written to a temporary folder beside ``out`` and swapped in at the end (see cli.outdir).
    """
    # Imported here, not at the top: sweep workers import this module, and code shipped to them with
    # --upload-code has no cli package.
    from cli.outdir import MARKER_KEY, marker, output_folder

    with output_folder(Path(out), overwrite=overwrite) as tmp:
        tables = {
            "model": pd.concat([r.model_frame for r in results], ignore_index=True),
            "events": pd.concat([r.events for r in results], ignore_index=True),
        }
        books = [r.extra["losses"] for r in results if "losses" in r.extra]
        if books:
            tables["losses"] = pd.concat(books, ignore_index=True)
        agent_frames = [r.agent_frame for r in results if r.agent_frame is not None]
        if agent_frames:
            tables["agents"] = pd.concat(agent_frames, ignore_index=True)
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
            if csv:
                df.to_csv(tmp / f"{name}.csv", index=False)
        doc = {MARKER_KEY: marker(), **summary_doc}
        (tmp / "summary.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
