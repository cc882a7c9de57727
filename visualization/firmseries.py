"""One firm's own series (cash, debt on and off its balance sheet, book equity, credit spread, DebtRank) as small
inline SVG charts: no matplotlib figure, so they cost well under a millisecond per quarter."""

from __future__ import annotations

import html
import math

import numpy as np
import solara

from economy.events import quarter_label
from visualization.live import FIRM_SERIES, FIRM_SERIES_LABELS, LiveRun
from visualization.style import fmt

W, H, PAD = 150, 46, 3


def spark_svg(quarters: list[int], values: list[float], horizon: int, color: str = "#1f77b4") -> str:
    """A polyline of ``values`` over the whole horizon (quarter -1 to horizon - 1), with its range."""
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return f"<svg viewBox='0 0 {W} {H}' class='cl-spark'></svg>"
    lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
    lo = min(lo, 0.0)
    span = hi - lo or 1.0
    x = (np.asarray(quarters, dtype=float) + 1.0) / max(horizon, 1) * (W - 2 * PAD) + PAD
    yy = H - PAD - (y - lo) / span * (H - 2 * PAD)
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b, g in zip(x, yy, ok, strict=True) if g)
    zero = H - PAD - (0.0 - lo) / span * (H - 2 * PAD)
    return (
        f"<svg class='cl-spark' viewBox='0 0 {W} {H}' preserveAspectRatio='none'>"
        f"<line x1='{PAD}' x2='{W - PAD}' y1='{zero:.1f}' y2='{zero:.1f}' stroke='#ddd' stroke-width='1'/>"
        f"<polyline fill='none' stroke='{color}' stroke-width='1.6' points='{pts}'/></svg>"
    )


COLORS = {
    "cash": "#2ca02c",
    "debt_on_bs": "#1f77b4",
    "debt_off_bs": "#9467bd",
    "equity": "#8c564b",
    "spread_bp": "#ff7f0e",
    "debtrank": "#d62728",
}


def firm_series_html(run: LiveRun, name: str) -> str:
    h = run.firm_history.get(name)
    if not h:
        return "<p class='cl-help'>No series for this firm.</p>"
    quarters = run.history_quarters[: len(h["cash"])]
    cells = []
    for key in FIRM_SERIES:
        values = h[key]
        last = values[-1] if values else math.nan
        last = 0.0 if abs(last) < 5e-4 else last
        shown = f"{last:.4f}" if key == "debtrank" and math.isfinite(last) else fmt(last, 3)
        cells.append(
            f"<div class='cl-spark-cell' data-series='{key}'><div class='cl-help'>{html.escape(FIRM_SERIES_LABELS[key])}"
            f": <b class='cl-spark-last'>{shown}</b></div>{spark_svg(quarters, values, run.horizon, COLORS[key])}</div>"
        )
    when = quarter_label(quarters[-1]) if quarters and quarters[-1] >= 0 else "the start"
    return (
        f"<div class='cl-firm-series-head'><b>{html.escape(name)}</b>: its series from the start to {when}</div>"
        f"<div class='cl-spark-grid'>{''.join(cells)}</div>"
    )


@solara.component
def FirmSeries(run: LiveRun, counter: int, name: str | None):
    if not name or run.main is None:
        return
    with run.lock:
        page = firm_series_html(run, name)
    solara.HTML(tag="div", unsafe_innerHTML=page, classes=["cl-firm-series"], attributes={"data-firm": name})
