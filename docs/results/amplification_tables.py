"""The tables of docs/ODD.md §8.2 from the stored amplification runs (``docs/results/amplification/``), and the
loss book of the factual runs by holder and loop, from a clean clone:

    .venv/bin/python docs/results/amplification_tables.py > amplification_tables.md

A cell is the difference-in-differences' mean and 90% interval; ° marks an interval that holds 0, ``×r`` the ratio
of the mean effects with and without the deals where the counterfactual's own effect is distinguishable from 0
and of the same sign.
The by-holder-and-loop tables run the factual scenario over seeds 1-20 (a minute each)."""

from __future__ import annotations

import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere in the clone

from economy import losses
from economy.model import CreditLoopModel
from params.loader import resolve

STORED = Path(__file__).resolve().parent / "amplification"
COLUMNS = (  # metric, header, digits
    ("capex_lost_two_years_usd_bn", "capex lost, 2 years", 0),
    ("peak_to_trough_capex_usd_bn", "peak-to-trough capex", 0),
    ("lender_losses_usd_bn", "lender losses", 0),
    ("losses_banks_usd_bn", "banks' losses", 1),
    ("losses_private_credit_usd_bn", "private credit's losses", 1),
    ("defaulting_firms", "defaulting firms", 1),
    ("equity_value_lost_usd_bn", "listed AI equity lost", 0),
)
SCENARIOS = (
    "openai_miss",
    "revenue_disappoints",
    "slow_deflation",
    "tech_obsolescence",
    "energy_bottleneck",
    "private_credit_run",
    "rate_shock",
)
COUNTERFACTUALS = (
    "no_deals",
    "vendor_deals_off",
    "arm_length",
    "no_reflexivity",
    "no_l1",
    "no_l2",
    "no_l4",
    "no_l8",
    "no_l10",
)
LOOPS = (0, 1, 2, 4, 5, 6, 7, 8, 10)


def cell(metric: dict, digits: int) -> str:
    did, ratio = metric["did"], metric["ratio"]
    text = f"{did['mean']:.{digits}f} [{did['low']:.{digits}f}, {did['high']:.{digits}f}]"
    if not did.get("significant", False):
        text += "°"
    r = ratio.get("mean")
    # a ratio only where the counterfactual's effect is distinguishable from 0 and has the same sign
    if r is not None and not (isinstance(r, float) and math.isnan(r)) and "undefined" not in ratio and r > 0:
        text += f" ×{r:.2f}"
    return text


def table(first: str, rows: list[tuple[str, dict]]) -> None:
    print(f"| {first} | " + " | ".join(h for _, h, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for name, doc in rows:
        print(f"| {name} | " + " | ".join(cell(doc["metrics"][k], d) for k, _, d in COLUMNS) + " |")


def read(scenario: str, counterfactual: str) -> dict:
    return json.loads((STORED / f"{scenario}.{counterfactual}" / "amplification.json").read_text())


def by_holder_and_loop(task: tuple[str, int]) -> dict[str, dict[int, float]]:
    name, seed = task
    model = CreditLoopModel(resolve(name)[1], rng=seed, scenario=name, collect_agents=False)
    while model.running:
        model.step()
    return losses.by_holder_and_loop(model)


def loss_table(name: str, seeds: int = 20) -> None:
    with ProcessPoolExecutor(2) as pool:
        runs = list(pool.map(by_holder_and_loop, [(name, s) for s in range(1, seeds + 1)]))
    holders = sorted({h for r in runs for h in r})
    print(f"\n{name}, loss book by holder and loop, mean over seeds 1–{seeds} (USD bn)\n")
    print("| holder | no loop | " + " | ".join(f"L{k}" for k in LOOPS[1:]) + " |")
    print("|---|" + "---:|" * len(LOOPS))
    for h in holders:
        means = [np.mean([r.get(h, {}).get(k, 0.0) for r in runs]) for k in LOOPS]
        print(f"| {h} | " + " | ".join(f"{m:.1f}" for m in means) + " |")


def main() -> int:
    print("Against no_deals\n")
    table("scenario", [(s, read(s, "no_deals")) for s in SCENARIOS])
    print("\nopenai_miss against each counterfactual\n")
    table("counterfactual", [(c, read("openai_miss", c)) for c in COUNTERFACTUALS])
    for name in ("openai_miss", "revenue_disappoints"):
        loss_table(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
