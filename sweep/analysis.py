"""Reading a sweep back: outcome statistics, per-point means and the sensitivity of bust severity.

Bust severity is measured by the summary metrics of each run (``model.metrics.summary``): the peak-to-trough fall
of capex (``bust_depth``, share of the peak), cumulative ``defaults`` and ``lender_losses_usd_bn``; with
``--twin`` also the amplification by circular financing (``amp_*``: with ÷ without, ``extra_*``: with − without).
In twin sweeps the outcome of a run is the economy with circular financing (``circular == True``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sweep.designs import Design, analyze
from sweep.store import load_design, read_dataset, read_manifest

BUST_OUTCOMES: dict[str, str] = {
    "bust_depth": "capex peak-to-trough fall (share of peak)",
    "defaults": "defaults (cumulative count)",
    "lender_losses_usd_bn": "lender losses (USD bn)",
    "amp_bust_depth": "amplification of the bust by circular financing (with / without)",
    "extra_lender_losses_usd_bn": "extra lender losses from circular financing (USD bn)",
    "extra_defaults": "extra defaults from circular financing",
}
KEY_METRICS: dict[str, str] = {
    "peak_capex_usd_bn_per_quarter": "peak capex (USD bn/quarter)",
    "bust_depth": "capex peak-to-trough fall (share)",
    "trough_equity_index": "trough equity index",
    "defaults": "defaults",
    "lender_losses_usd_bn": "lender losses (USD bn)",
    "min_bank_capital_ratio": "min bank capital ratio",
    "amp_boom_peak": "amplification: boom peak",
    "amp_bust_depth": "amplification: bust depth",
    "amp_lender_losses": "amplification: lender losses",
    "extra_lender_losses_usd_bn": "extra lender losses (USD bn)",
}


def design_from_manifest(manifest: dict[str, Any]) -> Design | None:
    d = manifest.get("spec", {}).get("design")
    if not d:
        return None
    return Design(
        d["method"], d["samples"], d["levels"], d["second_order"], tuple(tuple(r) for r in d["ranges"])
    )


def main_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the economy with circular financing when the sweep is a twin sweep."""
    if summary.empty:
        return summary
    if "amp_bust_depth" in summary.columns:
        return summary[summary["circular"]].reset_index(drop=True)
    return summary


def outcome_stats(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and quantiles of the key metrics across runs."""
    rows = main_rows(summary)
    out = []
    for key, label in KEY_METRICS.items():
        if key not in rows.columns:
            continue
        x = pd.to_numeric(rows[key], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        q = np.quantile(x, [0.0, 0.1, 0.5, 0.9, 1.0])
        out.append(
            {
                "metric": key,
                "label": label,
                "mean": x.mean(),
                "sd": x.std(ddof=1) if x.size > 1 else 0.0,
                "min": q[0],
                "p10": q[1],
                "median": q[2],
                "p90": q[3],
                "max": q[4],
                "n": x.size,
            }
        )
    return pd.DataFrame(out)


def point_means(summary: pd.DataFrame, varied: list[str]) -> pd.DataFrame:
    """Mean and sd over replicates of each bust outcome, one row per point."""
    rows = main_rows(summary)
    outcomes = [c for c in BUST_OUTCOMES if c in rows.columns]
    extra = [c for c in ("peak_capex_usd_bn_per_quarter", "trough_equity_index") if c in rows.columns]
    cols = outcomes + extra
    keys = ["point", *[v for v in varied if v in rows.columns]]
    g = rows.groupby(keys, sort=True)[cols]
    mean = g.mean()
    sd = g.std(ddof=1).add_suffix("_sd")
    n = g.size().rename("replicates")
    return pd.concat([mean, sd, n], axis=1).reset_index()


def sensitivity(out: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Morris / Sobol' indices of the bust outcomes of a design sweep, and notes on what was left out."""
    manifest = read_manifest(Path(out))
    design = design_from_manifest(manifest)
    if design is None:
        return pd.DataFrame(), ["not a design sweep (use --design morris|sobol for indices)"]
    matrix = load_design(out)
    summary = read_dataset(out, "summary")
    if matrix is None or summary.empty:
        return pd.DataFrame(), ["no finished runs yet"]
    rows = main_rows(summary)
    seed = int(manifest["spec"]["seed"])
    notes: list[str] = []
    present = np.sort(rows["point"].unique())
    if present.size < design.n_points:
        missing = design.n_points - present.size
        return pd.DataFrame(), [
            f"{missing} of {design.n_points} design points have no finished run yet; rerun the sweep to finish it"
        ]
    frames = []
    for outcome, label in BUST_OUTCOMES.items():
        if outcome not in rows.columns:
            continue
        y = rows.groupby("point")[outcome].mean().sort_index().to_numpy(dtype=float)
        if not np.all(np.isfinite(y)):
            notes.append(f"{outcome}: undefined at some points (e.g. nothing to amplify); no indices")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{outcome}: the same ({y[0]:g}) at every design point; no indices")
            continue
        df = analyze(design, matrix, y, seed)
        df.insert(0, "outcome", outcome)
        df.insert(0, "method", design.method)
        df["label"] = label
        frames.append(df)
    if not frames:
        return pd.DataFrame(), notes
    return pd.concat(frames, ignore_index=True), notes
