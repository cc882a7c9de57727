"""The stored expected-output regression: every shipped scenario, seed 1, its run summary and every quarter of
its model series, checked against committed files (``tests/regression/``).

``python run.py regression`` compares a fresh run with the files; ``python run.py regression --update`` rewrites
them, for a change that is meant to move the model's outputs (say what moved and why in the commit).
``--exact`` compares bit for bit (the check of a refactoring that must not change anything); the unit test
compares to a relative 1e-9, so that summation order in a numpy upgrade does not fail it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "regression"
SUMMARY = FOLDER / "summary_seed1.csv"
SERIES = FOLDER / "series_seed1.csv"
SEED = 1


def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary table, model series) of every shipped scenario at seed 1."""
    from economy.runner import run_simulation
    from params.loader import resolve, scenario_names

    summaries, series = [], []
    for name in scenario_names():
        _, params = resolve(name)
        result = run_simulation(params, SEED, scenario=name, agents=False)
        summaries.append({"scenario": name, **result.summary})
        series.append(result.model_frame)
    return pd.DataFrame(summaries), pd.concat(series, ignore_index=True)


def write(summary: pd.DataFrame, series: pd.DataFrame) -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    # repr-exact floats, so that a file written and read back compares bit for bit
    summary.to_csv(SUMMARY, index=False, float_format="%.17g")
    series.to_csv(SERIES, index=False, float_format="%.17g")


def differences(summary: pd.DataFrame, series: pd.DataFrame, *, rtol: float = 0.0) -> list[str]:
    """Where a fresh run differs from the stored files (empty when it does not), one line per difference."""
    out: list[str] = []
    for name, fresh, path, key in (
        ("summary", summary, SUMMARY, ["scenario"]),
        ("series", series, SERIES, ["scenario", "quarter"]),
    ):
        if not path.exists():
            return [f"{path} is missing: run `python run.py regression --update`"]
        stored = pd.read_csv(path)
        if list(stored.columns) != list(fresh.columns):
            out.append(f"{name}: columns differ: {sorted(set(stored.columns) ^ set(fresh.columns))}")
            continue
        if len(stored) != len(fresh):
            out.append(f"{name}: {len(fresh)} rows, {len(stored)} stored")
            continue
        for col in fresh.columns:
            for i, (a, b) in enumerate(zip(fresh[col].tolist(), stored[col].tolist(), strict=True)):
                if not _same(a, b, rtol):
                    where = ", ".join(f"{k}={fresh[k].iloc[i]}" for k in key)
                    out.append(f"{name} [{where}] {col}: now {a!r}, stored {b!r}")
    return out


def _same(a, b, rtol: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))
    return str(a) == str(b)


def regression_command(args) -> int:
    summary, series = compute()
    if args.update:
        write(summary, series)
        print(f"wrote {SUMMARY.relative_to(ROOT)} and {SERIES.relative_to(ROOT)}")
        return 0
    diffs = differences(summary, series, rtol=0.0 if args.exact else 1e-9)
    for line in diffs[:40]:
        print(line)
    if len(diffs) > 40:
        print(f"... and {len(diffs) - 40} more")
    print("outputs match the stored regression" if not diffs else f"{len(diffs)} differences")
    return 1 if diffs else 0
