"""`run.py sweep`: batch parameter sweeps over a grid or a SALib design, locally or on a Dask cluster.

    python run.py sweep --set demand.ai_growth_initial_annual=0.2,0.45,0.8 --replicates 5 --out sweeps/growth
    python run.py sweep --grid sweeps/stress.toml --workers 2 --out sweeps/stress
    python run.py sweep --design sobol --samples 64 --set credit.reference_rate_annual=0.02:0.08 \\
        --set lenders.fund_stress_loss_rate --twin --out sweeps/sobol
    python run.py sweep --grid g.toml --engine dask --scheduler tcp://HOST:8786 --out sweeps/big

Run the same command again after an interruption (even ``kill -9``) and it resumes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from params.loader import ParameterError

SET_HELP = (
    "a parameter to vary (repeatable): NAME=V1,V2,... (list), NAME=LO:HI:NUM (NUM values from LO to HI); "
    "with --design: NAME=LO:HI or just NAME (its schema range); NAME=V fixes a parameter for every run"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Batch sweep over a grid or a Morris/Sobol' design; resumable; local or on Dask."
    what = p.add_argument_group("what to run")
    what.add_argument(
        "--grid", type=Path, metavar="FILE.toml", help='grid file (see README.md, "Batch sweeps")'
    )
    what.add_argument("--scenario", help="scenario name (default: baseline; see `run.py scenarios`)")
    what.add_argument("--scenario-file", type=Path, help="a scenario TOML file (instead of --scenario)")
    what.add_argument("--set", action="append", default=[], metavar="NAME=VALUES", help=SET_HELP)
    what.add_argument("--replicates", type=int, help="seeds per point (default 1)")
    what.add_argument("--quarters", type=int, help="quarters per run (default: run.quarters)")
    what.add_argument("--seed", type=int, help="master seed (default 1); run seeds derive from it")
    what.add_argument(
        "--common-seeds",
        action="store_true",
        default=None,
        help="replicate r uses the same seed at every point (common random numbers)",
    )
    what.add_argument("--design", choices=("morris", "sobol"), help="a SALib design instead of a full grid")
    what.add_argument("--samples", type=int, help="design size: Morris trajectories or Sobol' base samples N")
    what.add_argument("--levels", type=int, help="Morris grid levels (default 4)")
    what.add_argument(
        "--second-order", action="store_true", default=None, help="Sobol': also second-order indices"
    )
    what.add_argument(
        "--twin",
        action="store_true",
        default=None,
        help="run every point with and without circular financing",
    )
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, help="output folder (a parquet dataset; reused to resume)")
    out.add_argument("--agents", action="store_true", default=None, help="also write agent-level rows")
    out.add_argument("--events", action="store_true", default=None, help="also write the event logs")
    out.add_argument(
        "--overwrite", action="store_true", help="discard the finished runs of a different sweep in --out"
    )
    out.add_argument("--no-compact", action="store_true", help="keep one file per run at the end")
    out.add_argument("--dry-run", action="store_true", help="check the grid and print the plan; run nothing")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    eng = p.add_argument_group("where to run")
    eng.add_argument("--engine", choices=("local", "dask"), default="local", help="default: local")
    eng.add_argument(
        "--workers",
        type=int,
        help="local: processes (default: every core; 1 runs in this process); dask: LocalCluster workers",
    )
    eng.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="dask: an existing scheduler (tls://HOST:PORT with --tls-*); only connect to clusters you control",
    )
    eng.add_argument(
        "--tls-ca-file", type=Path, metavar="PEM", help="dask TLS: the CA that signed the cluster"
    )
    eng.add_argument("--tls-cert", type=Path, metavar="PEM", help="dask TLS: this client's certificate")
    eng.add_argument(
        "--tls-key", type=Path, metavar="PEM", help="dask TLS: this client's key (if not in --tls-cert)"
    )
    eng.add_argument(
        "--upload-code",
        action="store_true",
        help="dask: ship accounting/agents/economy/params/sweep to the workers (instead of installing them there)",
    )


def spec_from_args(args):
    from sweep.grid import build_spec

    return build_spec(
        args.grid,
        scenario=args.scenario,
        scenario_file=args.scenario_file,
        sets=args.set,
        replicates=args.replicates,
        quarters=args.quarters,
        seed=args.seed,
        common_seeds=args.common_seeds,
        design=args.design,
        samples=args.samples,
        levels=args.levels,
        second_order=args.second_order,
        twin=args.twin,
        agents=args.agents,
        events=args.events,
    )


def sweep_command(args) -> int:
    from sweep.designs import design_notes
    from sweep.engines import make_engine, tls_security
    from sweep.runner import print_summary, run_sweep

    err = Console(stderr=True, soft_wrap=True)
    spec = spec_from_args(args)
    security = tls_security(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key)
    engine = make_engine(
        args.engine, args.workers, args.scheduler, upload_code=args.upload_code, security=security
    )
    err.print(f"plan: {spec.describe()}", highlight=False)
    if spec.design is not None:
        err.print(f"      varying {', '.join(spec.design.names)}", highlight=False)
        for note in design_notes(spec.design):
            err.print(f"[yellow]note:[/] {note}", highlight=False)
    if args.scheduler and security is None:
        err.print(
            "[yellow]note:[/] tcp:// is neither encrypted nor authenticated, and the scheduler runs whatever its "
            "clients send: across machines use tls:// with --tls-ca-file/--tls-cert/--tls-key",
            highlight=False,
        )
    if args.dry_run:
        return 0
    if args.out is None:
        raise ParameterError("--out: missing; give the output folder, e.g. --out sweeps/my_sweep")
    outcome = run_sweep(
        spec,
        args.out,
        engine,
        overwrite=args.overwrite,
        compact=not args.no_compact,
        progress=not args.quiet,
        console=err,
        extra_manifest={"command": " ".join(sys.argv)},
    )
    print_summary(outcome, spec, Console(width=None if sys.stdout.isatty() else 120))
    return outcome.exit_code
