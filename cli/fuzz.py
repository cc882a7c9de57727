"""`run.py fuzz`: run the model on random parameter sets drawn over the whole schema (params/fuzz.py) and report
what happened to each: ran (every invariant held each quarter and every output is finite), refused by the schema
(a meaningless combination, with the rule's message), or failed (a crash, a broken invariant or a non-finite
output, with the error). Writes ``fuzz.json`` (the counts and every failure with its draw, to replay) into
``--out``. Exit status 1 if any draw failed or more than a fifth were refused.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFUSED_MAX = 0.2


@dataclass(frozen=True)
class Draw:
    run_id: int
    seed: int
    long: bool


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--draws", type=int, default=1000, help="parameter sets to draw (default 1000)")
    p.add_argument("--long", type=int, default=0, help="extra draws over long horizons, 100-120 quarters")
    p.add_argument("--seed", type=int, default=1, help="master seed of the draws (default 1)")
    p.add_argument("--workers", type=int, help="local processes (default every core; 1: in this process)")
    p.add_argument("--out", type=Path, required=True, help="output folder for fuzz.json")


def run_draw(config: dict[str, Any], task: Draw) -> dict[str, Any]:
    """Draw, validate and run one parameter set; never raises (the outcome says what happened)."""
    import numpy as np

    from economy.model import CreditLoopModel
    from economy.runner import run_simulation
    from params import fuzz
    from params.loader import ParameterError, build_parameters

    rng = np.random.default_rng([config["seed"], task.run_id])
    overrides, shocks = fuzz.draw(rng, quarters=fuzz.LONG if task.long else fuzz.QUARTERS)
    record = {"run_id": task.run_id, "seed": task.seed, "overrides": overrides, "shocks": shocks}
    try:
        params = build_parameters(overrides, tuple(shocks))
    except ParameterError as err:
        return {**record, "outcome": "refused", "message": str(err).splitlines()[0]}
    try:
        model = CreditLoopModel(params, rng=task.seed)
        result = run_simulation(params, task.seed, model=model)
        bad = non_finite(result)
        if bad:
            return {**record, "outcome": "failed", "message": f"non-finite output: {', '.join(bad[:10])}"}
    except Exception as err:  # the point of the exercise: record any crash with its traceback
        tb = traceback.format_exc(limit=-4)
        return {**record, "outcome": "failed", "message": f"{type(err).__name__}: {err}", "traceback": tb}
    return {**record, "outcome": "ran"}


def non_finite(result) -> list[str]:
    """The outputs (series, agent columns, summary values) that hold a NaN or an infinity."""
    import numpy as np

    bad = []
    for name, frame in (("model", result.model_frame), ("agents", result.agent_frame)):
        if frame is None:
            continue
        numeric = frame.select_dtypes("number")
        for col in numeric.columns[~np.isfinite(numeric.to_numpy(dtype=float)).all(axis=0)]:
            bad.append(f"{name}.{col}")
    for key, value in result.summary.items():
        if isinstance(value, float) and not math.isfinite(value):
            bad.append(f"summary.{key}")
    return bad


def fuzz_command(args) -> int:
    from params.loader import ParameterError, check_seed
    from sweep.engines import make_engine

    if args.draws < 0 or args.long < 0:
        raise ParameterError("--draws and --long: give non-negative counts")
    check_seed(args.seed, "--seed")
    tasks = [Draw(i, i + 1, False) for i in range(args.draws)]
    tasks += [Draw(args.draws + i, args.draws + i + 1, True) for i in range(args.long)]
    outcomes: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    with make_engine("local", args.workers) as engine:
        for done, (_task, outcome) in enumerate(
            engine.map_unordered({"seed": args.seed}, tasks, run_draw), 1
        ):
            outcomes.append(outcome)
            if done % 50 == 0 or done == len(tasks):
                print(f"{done}/{len(tasks)}: {_counts(outcomes)}", file=sys.stderr, flush=True)
                _write(args, outcomes, finished=False)  # what has run so far is never lost
    doc = _write(args, outcomes, finished=True)
    counts = doc["counts"]
    print(f"{counts}; refused {doc['refused_share']:.1%}; wrote {args.out}/fuzz.json")
    return 1 if counts["failed"] or doc["refused_share"] > REFUSED_MAX else 0


def _write(args, outcomes: list[dict[str, Any]], *, finished: bool) -> dict[str, Any]:
    counts = _counts(outcomes)
    drawn = max(len(outcomes), 1)
    doc = {
        "finished": finished,
        "draws": args.draws,
        "long_draws": args.long,
        "seed": args.seed,
        "counts": counts,
        "refused_share": counts["refused"] / drawn,
        "refusals": sorted({o["message"].split(";")[0] for o in outcomes if o["outcome"] == "refused"})[:50],
        "failures": sorted((o for o in outcomes if o["outcome"] == "failed"), key=lambda o: o["run_id"]),
        "notes": "params/fuzz.py: every parameter uniform in its declared range except run.quarters (1-40; "
        "--long: 100-120) and the population counts (0-30 each)",
    }
    tmp = args.out / f".fuzz.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, args.out / "fuzz.json")
    return doc


def _counts(outcomes) -> dict[str, int]:
    counts = {"ran": 0, "refused": 0, "failed": 0}
    for o in outcomes:
        counts[o["outcome"]] += 1
    return counts
