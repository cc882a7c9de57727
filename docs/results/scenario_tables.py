"""The scenario tables of docs/ODD.md §8 and §8.1, from a clean clone:

    .venv/bin/python docs/results/scenario_tables.py > scenario_tables.md

§8: every shipped scenario over seeds 1-5, mean and [min, max] of the peak and 2032Q4 capex (USD bn a quarter),
the seeds' mean lowest and highest compute price, the seeds' mean lowest GPU price index, default events, firms
that default at least once and lender losses. §8.1: losses by holder over seeds 1-5 and 1-20, mean and a 90%
t-interval of the mean (``mean ± t_{0.95, n−1} · s/√n``)."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere in the clone

from economy.amplify import interval
from economy.runner import run_simulation
from params.loader import resolve

ORDER = (
    "baseline",
    "bull",
    "energy_bottleneck",
    "openai_miss",
    "private_credit_run",
    "rate_shock",
    "revenue_disappoints",
    "slow_deflation",
    "tech_obsolescence",
)
LOSS_ORDER = (
    "baseline",
    "openai_miss",
    "revenue_disappoints",
    "private_credit_run",
    "bull",
    "energy_bottleneck",
    "rate_shock",
    "slow_deflation",
    "tech_obsolescence",
)
KEYS = (
    "lender_losses_usd_bn",
    "losses_banks_usd_bn",
    "losses_private_credit_usd_bn",
    "losses_bond_investors_usd_bn",
    "losses_providers_usd_bn",
    "losses_equity_investors_usd_bn",
    "bank_capital_ratio_drop",
    "default_costs_usd_bn",
    "defaults",
)
DIGITS = (1, 1, 1, 1, 1, 0, 2, 2, 1)
SEEDS = 20


def one(task: tuple[str, int]) -> dict:
    name, seed = task
    result = run_simulation(resolve(name)[1], seed, scenario=name, agents=False)
    f, ev = result.model_frame, result.events
    defaults = ev[ev["kind"] == "default"]
    return {
        "peak": float(f["capex"].max()),
        "end": float(f["capex"].iloc[-1]),
        "price_min": float(f["compute_price"].min()),
        "price_max": float(f["compute_price"].max()),
        "gpu_min": float(f["gpu_price_index"].min()),
        "default_events": float(len(defaults)),
        "defaulting_firms": float(defaults["actor"].nunique()),
        **{k: float(result.summary[k]) * (100 if k == "bank_capital_ratio_drop" else 1) for k in KEYS},
    }


def spread(x: np.ndarray, digits: int = 0) -> str:
    return f"{x.mean():.{digits}f} [{x.min():.{digits}f}, {x.max():.{digits}f}]"


def t_interval(x: np.ndarray, digits: int) -> str:
    iv = interval(x, 0.90)  # the amplification's Student-t interval of the mean
    return f"{iv['mean']:.{digits}f} [{iv['low']:.{digits}f}, {iv['high']:.{digits}f}]"


def main() -> int:
    todo = [(name, seed) for name in ORDER for seed in range(1, SEEDS + 1)]
    with ProcessPoolExecutor(2) as pool:
        rows = dict(zip(todo, pool.map(one, todo, chunksize=4), strict=True))

    def col(name: str, key: str, n: int) -> np.ndarray:
        return np.array([rows[(name, s)][key] for s in range(1, n + 1)])

    print("§8, seeds 1-5\n")
    print(
        "| scenario | peak capex | 2032Q4 capex | price min–max | min GPU price index | defaults (events) | "
        "defaulting firms | lender losses |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in ORDER:
        cells = (
            spread(col(name, "peak", 5)),
            spread(col(name, "end", 5)),
            f"{col(name, 'price_min', 5).mean():.1f}–{col(name, 'price_max', 5).mean():.1f}",
            f"{col(name, 'gpu_min', 5).mean():.2f}",
            spread(col(name, "default_events", 5), 1),
            spread(col(name, "defaulting_firms", 5), 1),
            spread(col(name, "lender_losses_usd_bn", 5), 1),
        )
        print(f"| {name} | " + " | ".join(cells) + " |")
    for n in (5, SEEDS):
        print(f"\n§8.1, seeds 1–{n}\n")
        print(
            "| scenario | lender losses | banks | private credit | bond investors | providers | equity investors | "
            "bank capital ratio drop (pp) | default costs | defaults |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in LOSS_ORDER:
            cells = (t_interval(col(name, k, n), d) for k, d in zip(KEYS, DIGITS, strict=True))
            print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
