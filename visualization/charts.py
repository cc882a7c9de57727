"""Time-series charts of a run (and its twin, dashed), drawn with matplotlib and updated by blitting.

A matplotlib figure costs 60-100 ms to draw from scratch on a small machine, too slow to redraw seven of them
every quarter while playing. Each :class:`BlitChart` therefore draws its static parts (axes, ticks, title,
legend) once and keeps them as a background; a quarter only redraws the data artists on top of it and encodes
the PNG (a few ms). The x axis spans the whole horizon from the start and the y axes only ever grow (to rounded
limits with headroom), so the background is redrawn only the few times a series outgrows its axis.

Each series starts at the run's opening point (quarter -1, the books before the first quarter, marked with a
dot), so quarter 0 already shows where the run starts, on axes scaled to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from accounting.contracts import INSTRUMENT_LABELS
from economy.events import quarter_label
from economy.metrics import AMPLIFIED, INSTRUMENT_COLUMNS, amplification, summary
from visualization.style import KIND_COLORS, RENDER_LOCK, TWIN_LABEL, canvas_png, fmt

BACKGROUNDS_KEPT = 120  # static chart backgrounds kept, about 0.6 MB each (see _BACKGROUNDS)


# -- chart definitions -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    column: str  # a column of economy.metrics.MODEL_SERIES
    label: str
    color: str
    scale: float = 1.0
    axis: int = 0  # 0 = left, 1 = right
    step: bool = False
    width: float = 1.8
    style: str = "-"


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    ylabel: str
    lines: tuple[Series, ...] = ()
    stack: tuple[Series, ...] = ()  # stacked areas (the twin shows their total, dashed)
    gap: tuple[str, str] | None = None  # shade where column a exceeds column b
    right_label: str | None = None
    right_limits: tuple[float, float] | None = None  # fixed right axis (e.g. an index in 0..1)
    floor_zero: bool = True  # the left axis starts at 0
    reference: Callable | None = None  # params -> (value, label): a horizontal reference line
    ratios: tuple[str, ...] = ()  # amplification ratios (economy.metrics.AMPLIFIED) noted on the chart
    min_top: tuple[float, float] = (1.0, 1.0)  # smallest upper limit of the (left, right) axis


_DEBT = tuple(
    Series(col, INSTRUMENT_LABELS[kind], KIND_COLORS[kind]) for kind, col in INSTRUMENT_COLUMNS.items()
)

CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "capex",
        "Capex vs AI revenue",
        "USD bn per quarter",
        lines=(
            Series("capex", "capex", "#1f77b4"),
            Series("ai_revenue", "AI revenue", "#2ca02c"),
        ),
        gap=("capex", "ai_revenue"),
        ratios=("boom_peak", "bust_depth"),
    ),
    ChartSpec(
        "debt",
        "Debt by instrument, on and off balance sheet",
        "USD bn outstanding",
        stack=_DEBT,
        lines=(
            Series("debt_off_balance_sheet", "of which off balance sheet", "#222222", style=":", width=2.0),
        ),
    ),
    ChartSpec(
        "valuations",
        "Equity valuations",
        "USD tn (listed AI firms)",
        lines=(
            Series("ai_equity_value", "AI equity value", "#4c72b0", scale=1e-3),
            Series("equity_index", "equity index (right)", "#999999", axis=1, width=1.2),
        ),
        right_label="index (start = 1)",
    ),
    ChartSpec(
        "spreads",
        "Credit spreads and sentiment",
        "spread, bp",
        lines=(
            Series("ig_spread", "IG spread", "#1f77b4", scale=1e4),
            Series("hy_spread", "HY spread", "#ff7f0e", scale=1e4),
            Series("sentiment", "sentiment (right)", "#8172b3", axis=1, width=1.4),
        ),
        right_label="sentiment index",
        right_limits=(0.0, 1.0),
    ),
    ChartSpec(
        "defaults",
        "Defaults and lender losses",
        "defaults (cumulative)",
        lines=(
            Series("defaults_cumulative", "defaults", "#d62728", step=True),
            Series("lender_losses_cumulative", "lender losses, USD bn (right)", "#8c564b", axis=1),
        ),
        right_label="USD bn (cumulative)",
        ratios=("defaults", "lender_losses"),
        min_top=(4.0, 10.0),
    ),
    ChartSpec(
        "banks",
        "Bank capital ratios",
        "% of risk-weighted assets",
        lines=(
            Series("bank_capital_ratio_min", "weakest bank", "#d62728", scale=100.0),
            Series("bank_capital_ratio_mean", "average bank", "#64b5cd", scale=100.0),
        ),
        floor_zero=False,
        reference=lambda p: (100.0 * p.lenders.bank_min_capital_ratio, "minimum (setting)"),
    ),
    ChartSpec(
        "circularity",
        "Circularity index",
        "% of chip & compute sales",
        lines=(
            Series("circularity_index", "paid with the seller's own money", "#f2b705", scale=100.0),
            Series("vendor_financing", "vendor equity held, USD bn (right)", "#e377c2", axis=1, width=1.2),
        ),
        right_label="USD bn",
        ratios=("nvidia_peak_revenue",),
    ),
)
CHART_KEYS = tuple(c.key for c in CHARTS)
# the charts that tell the story (boom, its financing, the loops, the bust): shown first, above the fold
KEY_CHARTS = ("capex", "debt", "circularity", "defaults")

RATIO_LABELS = {name: label for name, (_key, label) in AMPLIFIED.items()}
RATIO_SUMMARY_KEYS = {name: key for name, (key, _label) in AMPLIFIED.items()}


# -- data ---------------------------------------------------------------------------------------------------------
def model_series(model, opening: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """The model's collected series so far, as arrays (no DataFrame: this runs every quarter), after the opening
    point (quarter -1, :func:`visualization.live.opening_metrics`) when one is given."""
    if model is None:
        return {}
    collected = model.datacollector.model_vars
    if opening is None:
        return {k: np.asarray(v, dtype=float) for k, v in collected.items()}
    return {k: np.asarray([opening.get(k, math.nan), *v], dtype=float) for k, v in collected.items()}


def _frame(series: dict[str, np.ndarray]):
    """A DataFrame of the series for :func:`economy.metrics.summary` (one float block: fast to build)."""
    import pandas as pd

    names = list(series)
    df = pd.DataFrame(np.column_stack([series[k] for k in names]), columns=names)
    df["label"] = [quarter_label(int(q)) for q in series["quarter"]]
    return df


@dataclass
class Amplification:
    """Ratios with ÷ without circular financing over the quarters run so far."""

    ratios: dict[str, float | None]
    with_circular: dict[str, float]
    without: dict[str, float]

    def text(self, name: str) -> str:
        r = self.ratios.get(name)
        a = self.with_circular[RATIO_SUMMARY_KEYS[name]]
        b = self.without[RATIO_SUMMARY_KEYS[name]]
        ratio = f"×{r:.2f}" if r is not None else "×∞"
        return f"{ratio} ({fmt(a, 3)} vs {fmt(b, 3)})"


def live_amplification(main: dict[str, np.ndarray], twin: dict[str, np.ndarray]) -> Amplification | None:
    """:func:`economy.metrics.amplification` of the quarters both runs have done (None before the first)."""
    n = min(len(main.get("quarter", ())), len(twin.get("quarter", ())))
    if n == 0:
        return None
    a = summary(_frame({k: v[:n] for k, v in main.items()}))
    b = summary(_frame({k: v[:n] for k, v in twin.items()}))
    return Amplification(amplification(a, b), a, b)


# -- drawing ------------------------------------------------------------------------------------------------------
def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 x 10^k that is >= x (x > 0)."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * 10**k >= x * (1 - 1e-12):
            return m * 10**k
    return 10 ** (k + 1)


def _grown(lo: float, hi: float, data_lo: float, data_hi: float, floor_zero: bool) -> tuple[float, float]:
    """Axis limits that hold the data: unchanged if they already do, else grown with headroom."""
    if not (math.isfinite(data_lo) and math.isfinite(data_hi)):
        return lo, hi
    new_lo, new_hi = lo, hi
    if data_hi > hi:
        span = max(data_hi - min(new_lo, data_lo), abs(data_hi), 1e-9)
        new_hi = data_hi + 0.25 * span if not floor_zero else nice_ceiling(data_hi * 1.6)
    if data_lo < lo:
        if floor_zero and data_lo >= 0:
            new_lo = 0.0
        else:
            span = max(max(new_hi, data_hi) - data_lo, abs(data_lo), 1e-9)
            new_lo = data_lo - 0.25 * span
    return new_lo, new_hi


@dataclass
class _Axis:
    ax: object
    lo: float = 0.0
    hi: float = 0.0
    fixed: bool = False
    floor_zero: bool = True
    started: bool = False
    min_top: float = 1.0


@dataclass
class BlitChart:
    """One chart of :data:`CHARTS` for one run, with or without the twin overlay."""

    spec: ChartSpec
    horizon: int
    twin: bool
    params: object = None
    width_in: float = 4.8
    height_in: float = 3.1
    dpi: int = 100
    full_draws: int = field(default=0, init=False)

    def __post_init__(self):
        s = self.spec
        self.fig = Figure(figsize=(self.width_in, self.height_in), dpi=self.dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        right = any(x.axis == 1 for x in s.lines)
        n_legend = len(s.stack) + len(s.lines) + bool(s.gap) + bool(s.reference) + bool(self.twin)
        self._ncol = 3 if n_legend > 4 else 2
        rows = -(-n_legend // self._ncol)
        top = 0.90 - 0.062 * rows
        left_ax = self.fig.add_axes((0.12, 0.11, 0.75 if right else 0.85, top - 0.11))
        self.axes = [_Axis(left_ax, floor_zero=s.floor_zero, min_top=s.min_top[0])]
        if right:
            rax = left_ax.twinx()
            fixed = s.right_limits is not None
            lo, hi = s.right_limits or (0.0, 1.0)
            rax.set_ylim(lo, hi)
            rax.set_ylabel(s.right_label or "", fontsize=7)
            rax.tick_params(labelsize=7)
            self.axes.append(
                _Axis(rax, lo, hi, fixed=fixed, floor_zero=True, started=fixed, min_top=s.min_top[1])
            )
        ax = left_ax
        ax.set_xlim(-1.5, self.horizon - 0.5)  # from the opening point (quarter -1)
        ticks = [q for q in range(self.horizon) if quarter_label(q).endswith("Q1")]
        ax.set_xticks(ticks, [quarter_label(q)[:4] for q in ticks], fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_ylabel(s.ylabel, fontsize=7)
        ax.grid(True, alpha=0.25, linewidth=0.6)
        self.fig.text(0.012, 0.955, s.title, fontsize=10, fontweight="bold", va="top")
        self.animated: list = []
        self._lines: list[tuple[Line2D, Series, bool]] = []
        self._stack: list[PolyCollection] = []
        self._gap: PolyCollection | None = None
        self._twin_total: Line2D | None = None
        # the stack's opening levels as dots (an area of one point has no width to show)
        self._stack_open = ax.scatter(
            [], [], s=16, zorder=3, edgecolors="white", linewidths=0.5, animated=True
        )
        handles, labels = [], []
        for x in s.stack:
            poly = PolyCollection([], facecolors=x.color, edgecolors="none", alpha=0.85, animated=True)
            ax.add_collection(poly)
            self._stack.append(poly)
            handles.append(Patch(color=x.color, alpha=0.85))
            labels.append(x.label)
        if s.stack and self.twin:
            self._twin_total = Line2D([], [], color="#222222", lw=1.4, ls="--", animated=True)
            ax.add_line(self._twin_total)
        if s.gap:
            self._gap = PolyCollection([], facecolors="#d62728", edgecolors="none", alpha=0.15, animated=True)
            ax.add_collection(self._gap)
            handles.append(Patch(color="#d62728", alpha=0.15))
            labels.append("gap (capex − AI revenue)")
        for x in s.lines:
            target = self.axes[x.axis].ax
            drawstyle = "steps-post" if x.step else "default"
            main = Line2D([], [], color=x.color, lw=x.width, ls=x.style, drawstyle=drawstyle, animated=True)
            main.set(marker="o", markersize=3.5, markevery=[])  # a dot at the opening point (set per frame)
            target.add_line(main)
            self._lines.append((main, x, False))
            handles.append(Line2D([], [], color=x.color, lw=x.width, ls=x.style))
            labels.append(x.label)
            if self.twin:
                twin = Line2D(
                    [], [], color=x.color, lw=max(x.width - 0.4, 1.0), ls="--", drawstyle=drawstyle, alpha=0.8
                )
                twin.set_animated(True)
                target.add_line(twin)
                self._lines.append((twin, x, True))
        if s.reference is not None and self.params is not None:
            value, text = s.reference(self.params)
            ax.axhline(value, color="#444444", lw=1.0, ls="-.")
            handles.append(Line2D([], [], color="#444444", lw=1.0, ls="-."))
            labels.append(f"{text}: {fmt(value, 3)}%")
            self.axes[0].lo, self.axes[0].hi = value * 0.9, value * 1.1
            self.axes[0].started = True
        if self.twin:
            handles.append(Line2D([], [], color="#555555", lw=1.2, ls="--"))
            labels.append("dashed: " + TWIN_LABEL)
        self.fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.005, 0.905),
            ncol=self._ncol,
            fontsize=6.3,
            frameon=False,
            handlelength=1.8,
            columnspacing=1.0,
            borderaxespad=0.0,
        )
        self.note = left_ax.text(
            0.985,
            0.965,
            "",
            transform=left_ax.transAxes,
            fontsize=7,
            ha="right",
            va="top",
            color="#222222",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9},
        )
        self.note.set_animated(True)
        self.animated = (
            list(self._stack)
            + ([self._stack_open] if s.stack else [])
            + ([self._gap] if self._gap is not None else [])
            + ([self._twin_total] if self._twin_total is not None else [])
            + [line for line, _, _ in self._lines]
        )
        self._background = None
        ref = s.reference(self.params) if s.reference and self.params is not None else None
        self._layout_key = (s.key, self.horizon, self.twin, ref, self.width_in, self.height_in, self.dpi)

    # -- update -------------------------------------------------------------------------------------------------
    def _set_data(self, main: dict[str, np.ndarray], twin: dict[str, np.ndarray] | None) -> None:
        n = len(main.get("quarter", ()))
        if n == 0:  # nothing to show yet
            for artist in self._stack + ([self._gap] if self._gap is not None else []):
                artist.set_verts([])
            self._stack_open.set_offsets(np.empty((0, 2)))
            for line in [*(ln for ln, _, _ in self._lines), self._twin_total]:
                if line is not None:
                    line.set_data([], [])
            return
        x = main["quarter"]  # -1 for the opening point, then 0, 1, ...
        opening = [0] if x[0] < 0 else []
        extents: list[list[float]] = [[] for _ in self.axes]
        if self._stack:
            base = np.zeros(n)
            levels = []
            for poly, s in zip(self._stack, self.spec.stack, strict=True):
                top = base + main[s.column] * s.scale
                poly.set_verts([_band(x, base, top)] if n else [])
                levels.append(top[0])
                base = top
            if opening:
                self._stack_open.set_offsets(np.column_stack([np.full(len(levels), x[0]), levels]))
                self._stack_open.set_facecolors([s.color for s in self.spec.stack])
            else:
                self._stack_open.set_offsets(np.empty((0, 2)))
            extents[0] += [float(np.nanmax(base))] if n else []
            if self._twin_total is not None and twin:
                total = sum(twin[s.column] * s.scale for s in self.spec.stack)
                self._twin_total.set_data(twin["quarter"], total)
                extents[0] += [float(np.nanmax(total))] if len(total) else []
        if self._gap is not None:
            a, b = (main[c] for c in self.spec.gap)
            both = np.isfinite(a) & np.isfinite(b)  # the opening point has no AI revenue yet
            self._gap.set_verts([_band(x[both], b[both], np.maximum(a, b)[both])] if both.any() else [])
        for line, s, is_twin in self._lines:
            src = twin if is_twin else main
            if not src or s.column not in src:
                line.set_data([], [])
                continue
            y = src[s.column] * s.scale
            line.set_data(src["quarter"], y)
            if not is_twin:
                line.set_markevery(opening)
            finite = y[np.isfinite(y)]
            if finite.size:
                extents[s.axis] += [float(finite.min()), float(finite.max())]
        for axis, values in zip(self.axes, extents, strict=True):
            if axis.fixed:
                continue
            if not values:  # nothing to show on it yet (e.g. a flow at the opening point): its smallest range
                if not axis.started and (axis.lo, axis.hi) != (0.0, axis.min_top):
                    axis.lo, axis.hi = 0.0, axis.min_top
                    axis.ax.set_ylim(axis.lo, axis.hi)
                    self._background = None
                continue
            lo, hi = min(values), max(values)
            if not axis.started:
                axis.started = True
                axis.lo = 0.0 if axis.floor_zero and lo >= 0 else lo - 0.2 * max(abs(lo), 1e-9)
                if axis.floor_zero:  # generous headroom: every later growth costs a full redraw
                    axis.hi = max(nice_ceiling(max(hi * 1.8, 1e-9)), axis.min_top)
                else:
                    axis.hi = hi + 0.2 * max(abs(hi), 1e-9)
                if axis.hi <= axis.lo:
                    axis.hi = axis.lo + 1.0
                axis.ax.set_ylim(axis.lo, axis.hi)
                self._background = None
                continue
            new = _grown(axis.lo, axis.hi, lo, hi, axis.floor_zero)
            if new != (axis.lo, axis.hi):
                axis.lo, axis.hi = new
                axis.ax.set_ylim(*new)
                self._background = None

    def render(
        self, main: dict[str, np.ndarray], twin: dict[str, np.ndarray] | None, note: str = ""
    ) -> bytes:
        """Update to these series and return the PNG."""
        if len(main.get("quarter", ())) == 0:  # before the first quarter: the same empty chart for every run
            return self._empty()
        with RENDER_LOCK:
            self._set_data(main, twin if self.twin else None)
            self.note.set_text(note)
            if self._background is None:
                key = (self._layout_key, tuple((a.lo, a.hi) for a in self.axes))
                cached = _BACKGROUNDS.pop(key, None)
                if cached is None:
                    self.canvas.draw()  # static parts only: the data artists are animated
                    cached = self.canvas.copy_from_bbox(self.fig.bbox)
                    self.full_draws += 1
                _BACKGROUNDS[key] = cached  # most recently used last
                while len(_BACKGROUNDS) > BACKGROUNDS_KEPT:
                    _BACKGROUNDS.pop(next(iter(_BACKGROUNDS)))
                self._background = cached
            self.canvas.restore_region(self._background)
            for artist in self.animated:
                artist.axes.draw_artist(artist)
            if self.note.get_text():
                self.note.axes.draw_artist(self.note)
            return canvas_png(self.canvas)

    def reset(self) -> None:
        """Ready for a new run with the same layout: the axes start over (the figure is reused)."""
        for axis in self.axes:
            if not axis.fixed:
                axis.started = False
                axis.lo = axis.hi = 0.0
        if self.spec.reference is not None and self.params is not None:
            value, _ = self.spec.reference(self.params)
            self.axes[0].lo, self.axes[0].hi, self.axes[0].started = value * 0.9, value * 1.1, True
        self._background = None

    def _empty(self) -> bytes:
        png = _EMPTY.get(self._layout_key)
        if png is None:
            with RENDER_LOCK:
                self._set_data({}, None)
                self.note.set_text("")
                for axis in self.axes:
                    if not axis.fixed:
                        axis.ax.set_ylim(*((axis.lo, axis.hi) if axis.started else (0.0, 1.0)))
                self._background = None
                self.canvas.draw()
                png = _EMPTY[self._layout_key] = canvas_png(self.canvas)
        return png


# PNGs of the charts before any quarter: they depend only on the layout, so new runs and resets reuse them
_EMPTY: dict[tuple, bytes] = {}
# Static backgrounds (axes, ticks, legend) by layout and axis limits, shared by all runs and sessions: runs of
# the same or a similar scenario grow their axes through the same limits, so most full redraws are skipped.
# Pixels only (restored into a canvas of the same size); least recently used dropped first.
_BACKGROUNDS: dict[tuple, object] = {}


def _band(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Polygon vertices of the area between two curves."""
    return np.concatenate([np.column_stack([x, upper]), np.column_stack([x[::-1], lower[::-1]])])


def chart_set_key(horizon: int, twin: bool, params) -> tuple:
    """What a set of chart figures depends on besides the data (runs with equal keys can share figures)."""
    refs = tuple(c.reference(params) if c.reference and params is not None else None for c in CHARTS)
    return (horizon, twin, refs)


def chart_set_for(pool: dict, horizon: int, twin: bool, params) -> ChartSet:
    """A reset chart set from ``pool`` (a session's spare figures) if one fits, else a new one: building the
    seven figures is what makes a new run slow to show."""
    spare = pool.pop(chart_set_key(horizon, twin, params), None)
    return spare.reset() if spare is not None else ChartSet(horizon, twin, params)


def chart_note(spec: ChartSpec, amp: Amplification | None) -> str:
    if amp is None or not spec.ratios:
        return ""
    parts = []
    for name in spec.ratios:
        r = amp.ratios.get(name)
        parts.append(
            f"{name.replace('_', ' ')} ×{r:.2f}" if r is not None else f"{name.replace('_', ' ')} ×∞"
        )
    return "with ÷ without circular: " + ", ".join(parts)


class ChartSet:
    """The charts of one run (rebuilt when the twin is switched on or off)."""

    def __init__(self, horizon: int, twin: bool, params=None):
        self.twin = twin
        self.key = chart_set_key(horizon, twin, params)
        self.charts = {s.key: BlitChart(s, horizon, twin, params) for s in CHARTS}

    def reset(self) -> ChartSet:
        for chart in self.charts.values():
            chart.reset()
        return self

    def render_all(
        self, main_model, twin_model, main_opening=None, twin_opening=None
    ) -> tuple[dict[str, bytes], Amplification | None]:
        """Every chart's PNG for the models' quarters so far (from their opening points, when given) and the
        amplification ratios (over the quarters run, not the opening)."""
        with_twin = self.twin and twin_model is not None
        main = model_series(main_model, main_opening)
        twin = model_series(twin_model, twin_opening) if with_twin else None
        amp = live_amplification(model_series(main_model), model_series(twin_model)) if with_twin else None
        pngs = {k: c.render(main, twin, chart_note(c.spec, amp)) for k, c in self.charts.items()}
        return pngs, amp
