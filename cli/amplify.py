"""`run.py amplify`: how much the circular deals amplify a scenario's shock, as a difference-in-differences over
seeds against a named counterfactual (economy/amplify.py), in parallel on the sweeps' engines.

Writes ``amplification.json`` (metric -> effects with and without the deals, the DiD and the ratio, each with
mean, low, high and n) and ``amplification_runs.csv`` (one row per run) into ``--out``, each file atomically; a
folder that holds other files is refused unless it is an earlier ``amplify`` output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from params.loader import ParameterError, check_seed, parse_assignments, resolve

FILES = ("amplification.json", "amplification_runs.csv")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from economy.counterfactuals import COUNTERFACTUALS

    p.add_argument("--scenario", required=True, help="the shocked scenario (see `run.py scenarios`)")
    p.add_argument(
        "--counterfactual",
        default="no_deals",
        choices=sorted(COUNTERFACTUALS),
        help="what the deals are compared with (default no_deals; docs/ODD.md §7.14)",
    )
    p.add_argument(
        "--seeds", type=int, default=20, help="number of seeds, 1..N from --first-seed (default 20)"
    )
    p.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--engine", choices=("local", "dask"), default="local", help="default: local")
    p.add_argument("--workers", type=int, help="local processes (default every core; 1: in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="dask: an existing scheduler")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _check(args) -> tuple[dict, list[int]]:
    overrides = parse_assignments(args.set)
    if args.seeds < 2:
        raise ParameterError(f"--seeds: {args.seeds} is too few for an interval; give at least 2")
    check_seed(args.first_seed, "--first-seed")
    check_seed(args.first_seed + args.seeds - 1, "--first-seed + --seeds - 1")
    resolve(
        args.scenario, overrides=overrides
    )  # validates the scenario and the overrides before anything runs
    resolve("baseline", overrides=overrides)
    out = args.out
    if out.exists() and (not out.is_dir() or any(p.name not in FILES for p in out.iterdir())):
        raise ParameterError(f"--out: {out} holds files amplify did not write; give a new or empty folder")
    return overrides, list(range(args.first_seed, args.first_seed + args.seeds))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def amplify_command(args) -> int:
    from economy import amplify, counterfactuals
    from sweep.engines import make_engine

    overrides, seeds = _check(args)
    err = Console(stderr=True)
    config = {"scenario": args.scenario, "counterfactual": args.counterfactual, "overrides": overrides}
    engine = make_engine(args.engine, args.workers, args.scheduler)
    todo = amplify.tasks(seeds)
    rows = []
    with engine:
        if not args.quiet:
            err.print(f"running {len(todo)} runs ({len(seeds)} seeds x 4 arms) on {engine.describe()}")
        for done, (task, metrics) in enumerate(engine.map_unordered(config, todo, amplify.run_arm), start=1):
            if not isinstance(metrics, dict):  # a Dask worker's failure comes back as an error record
                raise ParameterError(f"run {task} failed: {getattr(metrics, 'error', metrics)}")
            rows.append(
                {"seed": task.seed, "arm": task.arm, "counterfactual": task.counterfactual, **metrics}
            )
            if not args.quiet and (done % 8 == 0 or done == len(todo)):
                err.print(f"  {done}/{len(todo)} runs")
    result = amplify.summarise(rows)
    doc = {
        "scenario": args.scenario,
        "counterfactual": args.counterfactual,
        "removes": counterfactuals.COUNTERFACTUALS[args.counterfactual].removes,
        "seeds": seeds,
        "level": amplify.LEVEL,
        "overrides": overrides,
        "command": " ".join(sys.argv),
        "metrics": result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows).sort_values(["seed", "counterfactual", "arm"])
    _write(args.out / "amplification_runs.csv", frame.to_csv(index=False))
    _write(args.out / "amplification.json", json.dumps(doc, indent=2, default=_json) + "\n")
    _print(Console(width=None if sys.stdout.isatty() else 140), doc)
    print(f"wrote {args.out}/amplification.json and amplification_runs.csv")
    return 0


def _json(x):
    return None if isinstance(x, float) and math.isnan(x) else str(x)


def _fmt(d: dict) -> str:
    if any(math.isnan(d[k]) for k in ("mean", "low", "high")):
        return f"{d['mean']:.3g}" if not math.isnan(d["mean"]) else "–"
    return f"{d['mean']:.3g} [{d['low']:.3g}, {d['high']:.3g}]"


def _print(console: Console, doc: dict) -> None:
    table = Table(
        title=f"{doc['scenario']}: the shock's effect with the deals and in {doc['counterfactual']} "
        f"({len(doc['seeds'])} seeds, {doc['level']:.0%} intervals)"
    )
    for col in (
        "metric",
        "with the deals",
        doc["counterfactual"],
        "difference (DiD)",
        "ratio",
        "significant",
    ):
        table.add_column(col)
    for name, m in doc["metrics"].items():
        table.add_row(
            name,
            _fmt(m["effect_with_deals"]),
            _fmt(m["effect_counterfactual"]),
            _fmt(m["did"]),
            _fmt(m["ratio"]),
            "yes" if m["did"]["significant"] else "no",
        )
    console.print(table)
    console.print(f"{doc['counterfactual']} removes: {doc['removes']}")
