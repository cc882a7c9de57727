#!/usr/bin/env python
"""creditloop's one command-line entry.

    python run.py ui                 the Solara app (the main job)
    python run.py simulate ...       one run (or a twin run) to parquet/CSV files
    python run.py sweep ...          batch sweeps, locally or on a Dask cluster
    python run.py report DIR         plots from a sweep
    python run.py bench [--quick]    step-performance benchmarks
    python run.py regression         compare every scenario (seed 1) with the stored expected outputs
    python run.py params | scenarios | docs | test

Bad input exits with status 2 and one message naming the field, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _params(args) -> int:
    from params.table import parameter_table

    print(parameter_table(markdown=args.markdown))
    return 0


def _scenarios(args) -> int:
    from params.loader import load_scenario, scenario_names

    for name in scenario_names():
        sc = load_scenario(name)
        print(f"{name:22s} {sc.description}")
    return 0


def _simulate(args) -> int:
    from cli.simulate import simulate

    return simulate(args)


def _amplify(args) -> int:
    from cli.amplify import amplify_command

    return amplify_command(args)


def _fuzz(args) -> int:
    from cli.fuzz import fuzz_command

    return fuzz_command(args)


def _ui(args) -> int:
    from visualization.server import serve

    return serve(host=args.host, port=args.port, allow_origins=args.allow_origin)


def _sweep(args) -> int:
    from sweep.cli import sweep_command

    return sweep_command(args)


def _regression(args) -> int:
    from cli.regression import regression_command

    return regression_command(args)


def _report(args) -> int:
    from sweep.report import report_command

    return report_command(args)


def _bench(args) -> int:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(ROOT / "benchmarks"),
        "--benchmark-only",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-q",
    ]
    if args.quick:
        cmd += ["-m", "quick"]
    if args.json:
        cmd += [f"--json-out={args.json}"]
    return subprocess.call(cmd, cwd=ROOT)


def _docs(args) -> int:
    from params.table import update_odd

    changed = update_odd(ROOT / "docs" / "ODD.md")
    print("docs/ODD.md parameter table " + ("updated" if changed else "already up to date"))
    return 0


def _ensure_chromium() -> None:
    """The browser test needs Debian's Chromium; as root on a Debian machine, install it when it is missing."""
    import os
    import shutil

    if Path("/usr/bin/chromium").exists() or os.environ.get("CHROMIUM_PATH"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("+ apt-get install -y chromium (for the browser test)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.call(["apt-get", "update", "-qq"], env=env)
        subprocess.call(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], env=env)
    else:
        print("note: /usr/bin/chromium is missing; the browser test will fail (apt-get install -y chromium)")


def _test(args) -> int:
    """Lint, format check and the unit tests; fails when any step fails or no test ran."""
    _ensure_chromium()
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "pytest", *args.pytest_args],
    ]
    for cmd in steps:
        print("+", " ".join(cmd[2:]), flush=True)
        code = subprocess.call(cmd, cwd=ROOT)
        if code == 5:
            print("no tests ran", file=sys.stderr)
            return 1
        if code:
            return code
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="print the parameter table (name, default, unit, range, source)")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.set_defaults(func=_params)

    p = sub.add_parser("scenarios", help="list the scenarios, one line each")
    p.set_defaults(func=_scenarios)

    p = sub.add_parser("simulate", help="run one scenario (or a twin run) and write its outputs")
    from cli.simulate import add_arguments

    add_arguments(p)
    p.set_defaults(func=_simulate)

    p = sub.add_parser(
        "amplify", help="how much the circular deals amplify a scenario's shock (difference-in-differences)"
    )
    from cli.amplify import add_arguments as add_amplify_arguments

    add_amplify_arguments(p)
    p.set_defaults(func=_amplify)

    p = sub.add_parser("fuzz", help="run the model on random parameter sets drawn over the whole schema")
    from cli.fuzz import add_arguments as add_fuzz_arguments

    add_fuzz_arguments(p)
    p.set_defaults(func=_fuzz)

    p = sub.add_parser("ui", help="start the Solara app")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: localhost only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="also accept pages from this origin, e.g. http://myhost.local:8765 (repeatable; default: only "
        "http://127.0.0.1, localhost and [::1] on --port, and --host)",
    )
    p.set_defaults(func=_ui)

    p = sub.add_parser("sweep", help="batch parameter sweep (local process pool or Dask)")
    try:
        from sweep.cli import add_arguments as add_sweep_arguments

        add_sweep_arguments(p)
    except ImportError:
        pass
    p.set_defaults(func=_sweep)

    p = sub.add_parser("report", help="plots from a sweep's output folder")
    p.add_argument("dir", type=Path)
    p.set_defaults(func=_report)

    p = sub.add_parser("bench", help="pytest-benchmark step-performance benchmarks")
    p.add_argument("--quick", action="store_true", help="the subset that finishes within a minute")
    p.add_argument("--json", type=Path, help="write the key ratios to this JSON file")
    p.set_defaults(func=_bench)

    p = sub.add_parser("regression", help="compare every scenario (seed 1) with the stored expected outputs")
    p.add_argument(
        "--update", action="store_true", help="rewrite the stored files (a change meant to move them)"
    )
    p.add_argument("--exact", action="store_true", help="compare bit for bit (default: relative 1e-9)")
    p.set_defaults(func=_regression)

    p = sub.add_parser("docs", help="regenerate the parameter table in docs/ODD.md")
    p.set_defaults(func=_docs)

    p = sub.add_parser("test", help="ruff check, ruff format --check and the unit tests")
    p.add_argument(
        "pytest_args", nargs="*", help="extra arguments for pytest, after -- (e.g. -- -x -k model)"
    )
    p.set_defaults(func=_test)
    return parser


def main(argv: list[str] | None = None) -> int:
    from params.loader import ParameterError

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
