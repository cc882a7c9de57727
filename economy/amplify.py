"""How much the circular deals amplify a shock: a difference-in-differences over seeds (docs/ODD.md §7.14).

For a scenario ``S`` and a counterfactual ``C`` (economy/counterfactuals.py), each seed runs four arms with
common random numbers: S and the no-shock baseline ``B``, each with the deals as signed (factual, F) and in C.
For a metric ``x`` whose effect of the shock is ``e(x) = x(S) − x(B)`` (``x(B) − x(S)`` for cumulative capex,
so that the effect is the capex lost), the amplification is

    DiD = e_F − e_C                      (how much more the shock does with the deals)
    ratio = mean(e_F) / mean(e_C)        (how many times as much; reported with its bootstrap interval, and only
                                          when e_C's own interval excludes 0: a ratio to a possible 0 is noise)

Each is reported as the mean over seeds with a 90% interval (Student t for the DiD; a percentile bootstrap of
the seeds, 2,000 draws, for the ratio). A DiD whose interval contains 0 is not significant at that level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from economy.losses import HOLDERS

ARMS = (("shocked", False), ("baseline", False), ("shocked", True), ("baseline", True))
LEVEL = 0.90
BOOTSTRAP_DRAWS = 2000
# metric -> (what it measures, sign of the shock's effect: +1 shocked − baseline, −1 baseline − shocked)
METRICS: dict[str, tuple[str, int]] = {
    "capex_lost_two_years_usd_bn": (
        "capex the shock takes away in the 8 quarters from its first quarter",
        -1,
    ),
    "cumulative_capex_lost_usd_bn": (
        "capex the shock takes away over the whole run (rebuilding included)",
        -1,
    ),
    "peak_to_trough_capex_usd_bn": ("fall of quarterly capex from its peak to its lowest point after it", 1),
    "lender_losses_usd_bn": ("credit losses (write-downs of debt and claims)", 1),
    **{f"losses_{h}_usd_bn": (f"losses of {h.replace('_', ' ')}", 1) for h in HOLDERS},
    "defaulting_firms": ("firms that default at least once (each counted once)", 1),
    "equity_value_lost_usd_bn": ("fall of listed AI equity value from its start to its lowest point", 1),
    "bank_capital_ratio_drop": ("fall of the lowest bank capital ratio below its opening value", 1),
}
# the run's own number behind a metric
RAW = {
    "cumulative_capex_lost_usd_bn": "cumulative_capex_usd_bn",
    "capex_lost_two_years_usd_bn": "capex_window_usd_bn",
}
WINDOW = 8  # quarters of the bust window


@dataclass(frozen=True)
class ArmTask:
    """One run of the design: ``run_id``, the seed, which scenario (shocked or baseline), with or without."""

    run_id: int
    seed: int
    arm: str
    counterfactual: bool


def tasks(seeds: list[int]) -> list[ArmTask]:
    return [
        ArmTask(i * len(ARMS) + k, seed, arm, cf)
        for i, seed in enumerate(seeds)
        for k, (arm, cf) in enumerate(ARMS)
    ]


def run_arm(config: dict[str, Any], task: ArmTask) -> dict[str, float]:
    """Run one arm (settings arrive as arguments, so the same function runs in a pool or on Dask)."""
    from economy import counterfactuals
    from economy.runner import run_simulation
    from params.loader import resolve

    _, shocked = resolve(config["scenario"], overrides=config["overrides"])
    start = min((s.quarter for s in shocked.shocks), default=0)  # the bust window opens with the first shock
    name = config["scenario"] if task.arm == "shocked" else "baseline"
    _, params = resolve(name, overrides=config["overrides"])
    if task.counterfactual:
        params = counterfactuals.apply(params, config["counterfactual"])
    result = run_simulation(params, task.seed, scenario=name, agents=False)
    return run_metrics(result, start)


def run_metrics(result, window_start: int = 0) -> dict[str, float]:
    """The numbers of one run the amplification compares (the bust window opens at ``window_start``)."""
    frame, summary, events = result.model_frame, result.summary, result.events
    capex = frame["capex"].to_numpy()
    peak = int(np.argmax(capex))
    value = frame["ai_equity_value"].to_numpy()
    defaulted = events.loc[events["kind"] == "default", "actor"].nunique()
    out = {
        "cumulative_capex_usd_bn": float(capex.sum()),
        "capex_window_usd_bn": float(capex[window_start : window_start + WINDOW].sum()),
        "peak_to_trough_capex_usd_bn": float(capex[peak] - capex[peak:].min()),
        "lender_losses_usd_bn": float(summary["lender_losses_usd_bn"]),
        "defaulting_firms": float(defaulted),
        "equity_value_lost_usd_bn": float(max(value[0] - value.min(), 0.0)),
        "bank_capital_ratio_drop": float(summary["bank_capital_ratio_drop"]),
    }
    out.update({f"losses_{h}_usd_bn": float(summary[f"losses_{h}_usd_bn"]) for h in HOLDERS})
    return out


def interval(x: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Mean and a Student-t interval over seeds."""
    x = np.asarray(x, dtype=float)
    n, mean = x.size, float(x.mean())
    if n < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan, "n": int(n)}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(n)}


def ratio_interval(with_: np.ndarray, without: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """mean(with) / mean(without) and a percentile bootstrap over seeds (NaN where the denominator is 0)."""
    with_, without = np.asarray(with_, dtype=float), np.asarray(without, dtype=float)
    den = without.mean()
    point = float(with_.mean() / den) if abs(den) > 1e-12 else math.nan
    rng = np.random.default_rng(12345)  # fixed: the report is reproducible
    idx = rng.integers(0, with_.size, size=(BOOTSTRAP_DRAWS, with_.size))
    num, dens = with_[idx].mean(axis=1), without[idx].mean(axis=1)
    ok = np.abs(dens) > 1e-12
    if ok.sum() < 0.9 * BOOTSTRAP_DRAWS:
        return {"mean": point, "low": math.nan, "high": math.nan}
    draws = num[ok] / dens[ok]
    tail = (1 - level) / 2
    return {
        "mean": point,
        "low": float(np.quantile(draws, tail)),
        "high": float(np.quantile(draws, 1 - tail)),
    }


RATIO_UNDEFINED = (
    "the shock's effect in the counterfactual is not distinguishable from 0 (its interval holds 0)"
)


def _excludes_zero(iv: dict[str, float]) -> bool:
    return iv["n"] >= 2 and not math.isnan(iv["low"]) and (iv["low"] > 0 or iv["high"] < 0)


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """From one row per (seed, arm, counterfactual) with the run metrics, each metric's effects, DiD and ratio."""
    seeds = sorted({r["seed"] for r in rows})
    cell = {(r["seed"], r["arm"], r["counterfactual"]): r for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for metric, (meaning, sign) in METRICS.items():
        key = RAW.get(metric, metric)

        def effect(cf: bool, key=key, sign=sign) -> np.ndarray:
            return np.array(
                [sign * (cell[(s, "shocked", cf)][key] - cell[(s, "baseline", cf)][key]) for s in seeds]
            )

        e_f, e_c = effect(False), effect(True)
        did = interval(e_f - e_c)
        did["significant"] = bool(did["n"] >= 2 and (did["low"] > 0 or did["high"] < 0))
        without = interval(e_c)
        if _excludes_zero(without):
            ratio = ratio_interval(e_f, e_c)
        else:  # "times as much" as an effect that may be 0 means nothing; the DiD still does
            ratio = {"mean": math.nan, "low": math.nan, "high": math.nan, "undefined": RATIO_UNDEFINED}
        out[metric] = {
            "meaning": meaning,
            "effect_with_deals": interval(e_f),
            "effect_counterfactual": without,
            "did": did,
            "ratio": ratio,
        }
    return out
