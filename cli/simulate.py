"""`run.py simulate`: one scenario run, or a twin run with and without circular financing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cli.outdir import check_out
from cli.signals import Interrupted, stop_signals_raise
from params.loader import ParameterError, check_seed, differences, parse_assignments, resolve

# numpy.random.default_rng and mesa.Model(rng=...) take any integer >= 0, but the seed is stored in int64
# columns (the parquet outputs, the sweep tables): from 2**63 on, writing them fails after the whole run.


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="baseline", help="scenario name (see `run.py scenarios`)")
    p.add_argument("--scenario-file", type=Path, help="a scenario TOML file (instead of --scenario)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter, e.g. --set demand.ai_growth_initial_annual=0.3 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed, 0 <= seed < 2**63 (default 1)")
    p.add_argument("--quarters", type=int, help="quarters to simulate (default: run.quarters)")
    p.add_argument("--no-circular", action="store_true", help="switch all circular financing off")
    p.add_argument("--twin", action="store_true", help="run with and without circular financing, same seed")
    p.add_argument(
        "--counterfactual",
        default=None,
        help="with --twin: what the twin removes (default vendor_deals_off; see docs/ODD.md §7.14: "
        "vendor_deals_off, arm_length, no_deals, no_reflexivity, no_l1 ... no_l10)",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder: new, empty, or an earlier simulate output (replaced as a whole)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace --out even if it is a folder simulate did not write"
    )
    p.add_argument("--csv", action="store_true", help="also write CSV copies")


def configure(args) -> tuple[str, object]:
    """Validate everything before anything runs."""
    overrides = parse_assignments(args.set)
    if args.quarters is not None:
        overrides["run.quarters"] = args.quarters
    if args.no_circular and args.twin:
        raise ParameterError("--no-circular and --twin cannot be combined (the twin runs both)")
    if args.no_circular:
        overrides["circular.circular_financing"] = False
    if args.counterfactual is not None:
        from economy.counterfactuals import COUNTERFACTUALS

        if not args.twin:
            raise ParameterError("--counterfactual: needs --twin (it names what the twin removes)")
        if args.counterfactual not in COUNTERFACTUALS:
            raise ParameterError(
                f"--counterfactual: value {args.counterfactual!r} is not allowed; allowed: {', '.join(COUNTERFACTUALS)}"
            )
    check_seed(args.seed, "--seed")
    scenario, params = resolve(args.scenario, args.scenario_file, overrides)
    check_out(args.out, overwrite=args.overwrite)
    return scenario.name, params


def simulate(args) -> int:
    """Run and write; on SIGINT or SIGTERM stop with nothing half-written (exit status 128 + signal)."""
    try:
        with stop_signals_raise():
            return _simulate(args)
    except Interrupted as stop:
        print(f"interrupted ({stop.name}); nothing half-written was left at {args.out}", file=sys.stderr)
        return stop.exit_code


def _simulate(args) -> int:
    from economy.metrics import losses_by_holder
    from economy.runner import run_simulation, run_twin, write_outputs

    name, params = configure(args)
    console = Console()
    doc = {
        "scenario": name,
        "seed": args.seed,
        "overrides": differences(params),
        "shocks": [s.model_dump() for s in params.shocks],
    }
    if args.twin:
        from economy.counterfactuals import DEFAULT

        counterfactual = args.counterfactual or DEFAULT
        with_c, without, ratios = run_twin(params, args.seed, scenario=name, counterfactual=counterfactual)
        results = [with_c, without]
        doc.update(
            summary=with_c.summary,
            summary_without_circular=without.summary,
            counterfactual=counterfactual,
            amplification=ratios,
        )
    else:
        result = run_simulation(params, args.seed, scenario=name)
        results = [result]
        doc.update(summary=result.summary, circular=params.circular.circular_financing)
    doc["lender_losses_by_holder"] = losses_by_holder(results[0].summary)
    doc["losses_by_holder_and_loop"] = {
        holder: {f"L{k}": v for k, v in sorted(loops.items())}
        for holder, loops in results[0].extra["losses_by_holder_and_loop"].items()
    }
    write_outputs(args.out, results, doc, csv=args.csv, overwrite=args.overwrite)
    _print_summary(console, name, args.seed, results, doc.get("amplification"))
    console.print(
        f"wrote {args.out}/ (model, agents, events, losses .parquet{' and .csv' if args.csv else ''}, summary.json)"
    )
    return 0


def _print_summary(console: Console, name: str, seed: int, results, ratios) -> None:
    table = Table(title=f"creditloop: {name}, seed {seed}")
    table.add_column("metric")
    for r in results:
        table.add_column("circular on" if r.circular else "circular off", justify="right")
    if ratios:
        table.add_column("ratio on/off", justify="right")
    from economy.metrics import AMPLIFIED

    inverse = {key: name for name, (key, _label) in AMPLIFIED.items()}
    for key in results[0].summary:
        cells = [_fmt(r.summary[key]) for r in results]
        if ratios:
            ratio = ratios.get(inverse.get(key, ""), "")
            cells.append("" if ratio == "" else ("n/a" if ratio is None else f"{ratio:.2f}"))
        table.add_row(key, *cells)
    console.print(table)


def _fmt(value) -> str:
    return f"{value:,.3f}" if isinstance(value, float) else str(value)
