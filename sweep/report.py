"""`run.py report DIR`: plots and a self-contained HTML page from a sweep's output folder.

Writes into ``DIR/report/``:

- ``outcome_vs_<param>.png``: each bust outcome against each varied parameter, every run as a dot, the mean as a
  line and the spread across replicates (and the other parameters) as a band; with two swept parameters, one line
  per value of the other with replicate standard deviations as error bars;
- ``heatmap_<a>__<b>.png``: mean outcomes over two parameters (grids: the grid cells; designs: quantile bins);
- ``sensitivity_<method>.png`` (+ ``morris_mu_sigma.png``): Morris mu* / sigma or Sobol' S1 / ST with confidence
  intervals, for the bust-severity outcomes (peak-to-trough capex, defaults, lender losses, amplification);
- ``circular_with_vs_without.png``: twin sweeps (or a sweep over ``circular.circular_financing``): the quarterly
  paths with and without circular financing, paired outcomes and the distribution of amplification ratios;
- ``series_fan.png``: quarterly medians and 10-90% bands of capex, the equity index, defaults and lender losses;
- ``points.csv``, ``sensitivity.csv``, ``outcome_stats.csv`` and ``index.html`` (every plot embedded, sortable
  tables; opens offline).

Works on an unfinished sweep too (it says how many runs are in).
"""

from __future__ import annotations

import base64
import html
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from params.loader import ParameterError
from params.schema import spec as param_spec
from sweep.analysis import (
    BUST_OUTCOMES,
    design_from_manifest,
    main_rows,
    outcome_stats,
    point_means,
    sensitivity,
)
from sweep.store import read_dataset, read_manifest

PLOT_OUTCOMES: dict[str, str] = {
    "bust_depth": "capex peak-to-trough fall (share of peak)",
    "peak_capex_usd_bn_per_quarter": "peak capex (USD bn/quarter)",
    "defaults": "defaults (cumulative)",
    "lender_losses_usd_bn": "lender losses (USD bn)",
    "trough_equity_index": "trough equity index",
    "amp_bust_depth": "amplification of the bust (with / without)",
}
SERIES = {
    "capex": "capex (USD bn/quarter)",
    "equity_index": "AI equity index",
    "defaults_cumulative": "defaults (cumulative)",
    "lender_losses_cumulative": "lender losses (cumulative, USD bn)",
}
MAX_HEATMAPS = 10
WITH, WITHOUT = "#c0392b", "#2471a3"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axis_label(name: str) -> str:
    try:
        unit = param_spec(name).unit
    except KeyError:
        return name
    return f"{name} ({unit})" if unit and unit != "1" else name


def _slug(name: str) -> str:
    return name.replace(".", "_")


def _save(fig, path: Path, written: list[Path]) -> None:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _plt().close(fig)
    written.append(path)


def _grid_axes(n: int, width: float = 4.6, height: float = 3.4):
    plt = _plt()
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    fig.subplots_adjust(hspace=0.55, wspace=0.35)  # cheaper than a constrained layout, titles clear
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _numeric(values: pd.Series) -> np.ndarray:
    if values.dtype == bool:
        return values.astype(int).to_numpy(dtype=float)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _varying(rows: pd.DataFrame, outcomes) -> list[str]:
    """The outcomes that differ between runs (a panel of zeros says nothing; the HTML notes them instead)."""
    out = []
    for o in outcomes:
        if o in rows.columns:
            x = _numeric(rows[o])
            x = x[np.isfinite(x)]
            if x.size and np.ptp(x) > 0:
                out.append(o)
    return out


def _constant_note(rows: pd.DataFrame) -> str:
    same = []
    for o in PLOT_OUTCOMES:
        if o in rows.columns and o not in _varying(rows, [o]):
            x = _numeric(rows[o])
            x = x[np.isfinite(x)]
            same.append(f"{o} = {x[0]:g}" if x.size else f"{o} undefined")
    return f"<p>the same in every run (not plotted): {html.escape(', '.join(same))}</p>" if same else ""


# ----------------------------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------------------------


def plot_outcome_vs_param(
    rows: pd.DataFrame, param: str, others: list[str], discrete: bool, path: Path, written: list[Path]
) -> None:
    outcomes = _varying(rows, PLOT_OUTCOMES)
    if not outcomes:
        return
    fig, axes = _grid_axes(len(outcomes))
    x_all = _numeric(rows[param])
    rng = np.random.default_rng(0)
    is_bool = rows[param].dtype == bool
    for ax, outcome in zip(axes, outcomes, strict=True):
        y = _numeric(rows[outcome])
        if discrete:
            values = np.unique(x_all)
            step = np.min(np.diff(values)) if len(values) > 1 else 1.0
            jitter = rng.uniform(-0.06, 0.06, len(x_all)) * step
            ax.scatter(x_all + jitter, y, s=8, alpha=0.25, color="grey", label="runs")
            stats = pd.DataFrame({"x": x_all, "y": y}).groupby("x")["y"]
            lo, hi, mean = stats.quantile(0.1), stats.quantile(0.9), stats.mean()
            ax.fill_between(
                mean.index, lo.values, hi.values, alpha=0.2, color="black", label="10-90% of runs"
            )
            ax.plot(mean.index, mean.values, color="black", lw=2, marker="o", label="mean")
            if len(others) == 1 and rows[others[0]].nunique() <= 6:
                other = others[0]
                for value, g in rows.groupby(other, sort=True):
                    per = g.groupby(param)[outcome].agg(["mean", "std"])
                    xs = _numeric(pd.Series(per.index, dtype=rows[param].dtype))
                    ax.errorbar(
                        xs,
                        per["mean"],
                        yerr=per["std"].fillna(0.0),
                        marker=".",
                        capsize=3,
                        lw=1,
                        label=f"{other.split('.')[-1]} = {value:g}"
                        if not isinstance(value, bool)
                        else f"{other.split('.')[-1]} = {value}",
                    )
            if is_bool:
                ax.set_xticks([0, 1], ["false", "true"])
        else:
            ax.scatter(x_all, y, s=8, alpha=0.35, color="grey", label="runs")
            ok = np.isfinite(y)
            if ok.sum() >= 8:
                edges = np.unique(np.quantile(x_all[ok], np.linspace(0, 1, 9)))
                idx = np.clip(np.searchsorted(edges, x_all[ok], side="right") - 1, 0, len(edges) - 2)
                df = pd.DataFrame({"b": idx, "x": x_all[ok], "y": y[ok]}).groupby("b")
                mid = df["x"].mean()
                ax.fill_between(
                    mid,
                    df["y"].quantile(0.1),
                    df["y"].quantile(0.9),
                    alpha=0.2,
                    color="black",
                    label="10-90% (binned)",
                )
                ax.plot(mid, df["y"].mean(), color="black", lw=2, marker="o", label="binned mean")
        ax.set_xlabel(_axis_label(param))
        ax.set_title(PLOT_OUTCOMES[outcome], fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"outcomes vs {param}", fontsize=12)
    _save(fig, path, written)


def plot_heatmap(rows: pd.DataFrame, a: str, b: str, binned: bool, path: Path, written: list[Path]) -> None:
    outcomes = _varying(rows, ("bust_depth", "defaults", "lender_losses_usd_bn", "amp_bust_depth"))
    if not outcomes:
        return
    df = rows[[a, b, *outcomes]].copy()
    if binned:
        for p in (a, b):
            df[p] = pd.qcut(_numeric(df[p]), q=5, duplicates="drop")
    fig, axes = _grid_axes(len(outcomes), width=4.8, height=4.0)
    for ax, outcome in zip(axes, outcomes, strict=True):
        table = df.groupby([b, a], observed=True)[outcome].mean().unstack(a)
        im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="magma_r")
        fig.colorbar(im, ax=ax, shrink=0.85)
        xt = [
            f"{c.mid:.3g}" if binned else f"{c:g}" if not isinstance(c, bool) else str(c)
            for c in table.columns
        ]
        yt = [
            f"{c.mid:.3g}" if binned else f"{c:g}" if not isinstance(c, bool) else str(c) for c in table.index
        ]
        ax.set_xticks(range(len(xt)), xt, rotation=45, fontsize=7)
        ax.set_yticks(range(len(yt)), yt, fontsize=7)
        if table.size <= 64:
            values = table.to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.3g}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > mid else "black",
                    )
        ax.set_xlabel(_axis_label(a) + (" (bin mid)" if binned else ""), fontsize=8)
        ax.set_ylabel(_axis_label(b) + (" (bin mid)" if binned else ""), fontsize=8)
        ax.set_title(f"mean {PLOT_OUTCOMES.get(outcome, outcome)}", fontsize=9)
    fig.suptitle(f"{a} x {b}", fontsize=11)
    _save(fig, path, written)


def plot_sensitivity(indices: pd.DataFrame, method: str, folder: Path, written: list[Path]) -> None:
    outcomes = list(dict.fromkeys(indices["outcome"]))
    fig, axes = _grid_axes(len(outcomes), width=5.2, height=0.5 * indices["parameter"].nunique() + 1.6)
    for ax, outcome in zip(axes, outcomes, strict=True):
        g = indices[indices["outcome"] == outcome]
        y = np.arange(len(g))
        names = [p.split(".", 1)[-1] for p in g["parameter"]]
        if method == "morris":
            ax.barh(
                y, g["mu_star"], xerr=g["mu_star_conf"], color="#7d3c98", alpha=0.8, capsize=3, label="mu*"
            )
            ax.scatter(g["sigma"], y, color="black", marker="x", zorder=3, label="sigma")
            ax.set_xlabel("mu* (bars, 95% CI) and sigma (x)")
        else:
            h = 0.38
            ax.barh(y - h / 2, g["S1"], h, xerr=g["S1_conf"], capsize=3, color="#2e86c1", label="S1")
            ax.barh(y + h / 2, g["ST"], h, xerr=g["ST_conf"], capsize=3, color="#cb4335", label="ST")
            ax.set_xlabel("Sobol' index (95% CI)")
        ax.set_yticks(y, names, fontsize=7)
        ax.set_title(BUST_OUTCOMES.get(outcome, outcome), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{'Morris' if method == 'morris' else 'Sobol'} sensitivity of bust severity", fontsize=12)
    _save(fig, folder / f"sensitivity_{method}.png", written)
    if method == "morris":
        fig, axes = _grid_axes(len(outcomes))
        for ax, outcome in zip(axes, outcomes, strict=True):
            g = indices[indices["outcome"] == outcome]
            ax.scatter(g["mu_star"], g["sigma"], color="#7d3c98")
            for _, r in g.iterrows():
                ax.annotate(r["parameter"].split(".", 1)[-1], (r["mu_star"], r["sigma"]), fontsize=6)
            lim = max(float(g["mu_star"].max()), float(g["sigma"].max()), 1e-12) * 1.1
            ax.plot([0, lim], [0, lim], color="grey", lw=0.8, ls="--")
            ax.set_xlabel("mu*")
            ax.set_ylabel("sigma")
            ax.set_title(BUST_OUTCOMES.get(outcome, outcome), fontsize=9)
        fig.suptitle("Morris mu* vs sigma (above the line: non-linear or interacting)", fontsize=11)
        _save(fig, folder / "morris_mu_sigma.png", written)


def _band(ax, frame: pd.DataFrame, column: str, color: str, label: str) -> None:
    g = frame.groupby("quarter")[column]
    q = g.quantile([0.1, 0.5, 0.9]).unstack()
    ax.fill_between(q.index, q[0.1], q[0.9], color=color, alpha=0.18)
    ax.plot(q.index, q[0.5], color=color, lw=2, label=label)


def plot_circular(
    summary: pd.DataFrame, series: pd.DataFrame, twin: bool, path: Path, written: list[Path]
) -> None:
    plt = _plt()
    groups = [(True, WITH, "with circular financing"), (False, WITHOUT, "without")]
    ncols = 4
    nrows = 2 if twin else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.6 * nrows), squeeze=False)
    fig.subplots_adjust(hspace=0.5, wspace=0.35)
    key = "circular"  # the run's circular financing switch: the twin's side, or the swept value
    for ax, (col, label) in zip(axes[0], SERIES.items(), strict=True):
        for flag, color, name in groups:
            sel = series[series[key] == flag]
            if not sel.empty and col in sel.columns:
                _band(ax, sel, col, color, name)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("quarter")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    if twin:
        on = summary[summary["circular"]].set_index("run_id")
        off = summary[~summary["circular"]].set_index("run_id")
        for ax, metric in zip(axes[1][:3], ("bust_depth", "defaults", "lender_losses_usd_bn"), strict=True):
            x, y = off[metric], on.loc[off.index, metric]
            ax.scatter(x, y, s=10, alpha=0.5, color="#7d3c98")
            lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            ax.plot([lo, hi], [lo, hi], color="grey", ls="--", lw=0.8)
            ax.set_xlabel("without circular financing")
            ax.set_ylabel("with")
            ax.set_title(PLOT_OUTCOMES.get(metric, metric), fontsize=9)
            ax.grid(alpha=0.3)
        ax = axes[1][3]
        for name, color in (
            ("amp_bust_depth", "#7d3c98"),
            ("amp_boom_peak", "#d68910"),
            ("amp_lender_losses", "#1e8449"),
        ):
            if name in on.columns:
                v = on[name].to_numpy(dtype=float)
                v = v[np.isfinite(v)]
                if v.size:
                    ax.hist(v, bins=20, alpha=0.5, color=color, label=name.removeprefix("amp_"))
        ax.axvline(1.0, color="grey", ls="--", lw=0.8)
        ax.set_title("amplification ratios (with / without)", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("with vs without circular financing (median and 10-90% of runs)", fontsize=12)
    _save(fig, path, written)


def plot_fan(series: pd.DataFrame, color_by: str | None, path: Path, written: list[Path]) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(17.6, 3.6), squeeze=False)
    fig.subplots_adjust(wspace=0.3)
    if color_by is not None:
        values = sorted(series[color_by].unique())
        cmap = plt.get_cmap("viridis", max(len(values), 2))
        groups = [
            (series[series[color_by] == v], cmap(i), f"{color_by.split('.')[-1]} = {v}")
            for i, v in enumerate(values)
        ]
    else:
        groups = [(series, "#34495e", "all runs")]
    for ax, (col, label) in zip(axes[0], SERIES.items(), strict=True):
        for frame, color, name in groups:
            if col in frame.columns:
                _band(ax, frame, col, color, name)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("quarter")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("quarterly paths: median and 10-90% of runs", fontsize=12)
    _save(fig, path, written)


# ----------------------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------------------

_SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0], i = th.cellIndex;
    var asc = th.dataset.asc !== 'true'; th.dataset.asc = asc;
    var rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[i].dataset.v || a.cells[i].textContent, y = b.cells[i].dataset.v || b.cells[i].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
document.querySelectorAll('input.filter').forEach(function (inp) {
  inp.addEventListener('input', function () {
    var t = document.getElementById(inp.dataset.table), q = inp.value.toLowerCase();
    Array.from(t.tBodies[0].rows).forEach(function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
});
"""


def _table_html(df: pd.DataFrame, table_id: str, max_rows: int = 2000) -> str:
    shown = df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float | np.floating):
                text = "n/a" if not np.isfinite(v) else f"{v:.4g}"
                cells.append(f'<td data-v="{v!r}">{text}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>showing {max_rows} of {len(df)} rows (all in the CSV)</p>" if len(df) > max_rows else ""
    return (
        f'<input class="filter" data-table="{table_id}" placeholder="filter rows...">'
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def _write_html(folder: Path, manifest: dict[str, Any], sections: list[tuple[str, str]], status: str) -> Path:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>creditloop sweep report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1500px;color:#222}",
        "img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}",
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}",
        "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}",
        "td:first-child,th:first-child{text-align:left}.filter{margin-top:0.5em;padding:3px;width:20em}",
        "code{background:#f4f4f4;padding:1px 4px}</style></head><body>",
        "<h1>creditloop sweep report</h1>",
        f"<p><b>{html.escape(manifest.get('plan', ''))}</b></p>",
        f"<p>{html.escape(status)}</p>",
        f"<p>{html.escape(manifest.get('description') or '')}</p>",
    ]
    if manifest.get("command"):
        parts.append(f"<p>command: <code>{html.escape(manifest['command'])}</code></p>")
    parts.append(
        "<ul>"
        + "".join(f"<li><a href='#s{i}'>{html.escape(t)}</a></li>" for i, (t, _) in enumerate(sections))
        + "</ul>"
    )
    for i, (title, body) in enumerate(sections):
        parts.append(f"<h2 id='s{i}'>{html.escape(title)}</h2>{body}")
    parts.append(f"<script>{_SORT_JS}</script></body></html>")
    path = folder / "index.html"
    path.write_text("\n".join(parts))
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<p><img alt='{html.escape(path.name)}' src='data:image/png;base64,{data}'></p>"


# ----------------------------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------------------------


def write_report(out: str | Path, folder: str | Path | None = None) -> list[Path]:
    """Write every plot, the CSV tables and index.html; returns the files written."""
    out = Path(out)
    if not out.is_dir():
        raise ParameterError(f"report: '{out}' is not a folder; give a sweep's --out folder")
    manifest = read_manifest(out)
    summary = read_dataset(out, "summary")
    if summary.empty:
        raise ParameterError(f"report: {out} has no finished runs yet; run the sweep first")
    folder = Path(folder) if folder else out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    spec = manifest.get("spec", {})
    design = design_from_manifest(manifest)
    varied = [v for v in manifest.get("varied", []) if v in summary.columns]
    twin = bool(spec.get("twin"))
    rows = main_rows(summary)
    done, total = int(rows["run_id"].nunique()), int(manifest.get("runs", 0))
    status = f"{done} of {total} runs finished" + ("" if done == total else " (sweep incomplete)")
    sections: list[tuple[str, str]] = []

    stats = outcome_stats(summary)
    stats.to_csv(folder / "outcome_stats.csv", index=False)
    written.append(folder / "outcome_stats.csv")
    sections.append(("outcomes across runs", _table_html(stats, "stats")))

    # outcome vs parameter
    imgs = []
    axes_values = {name: values for name, values in spec.get("axes", [])}
    for param in varied:
        discrete = design is None
        if discrete and len(axes_values.get(param, [])) < 2:
            continue
        path = folder / f"outcome_vs_{_slug(param)}.png"
        plot_outcome_vs_param(rows, param, [v for v in varied if v != param], discrete, path, written)
        if path in written:
            imgs.append(_img(path))
    if imgs:
        sections.append(
            ("outcomes vs parameters (spread across replicates)", _constant_note(rows) + "".join(imgs))
        )

    # sensitivity
    indices, notes = (pd.DataFrame(), [])
    if design is not None:
        indices, notes = sensitivity(out)
        body = "".join(f"<p>note: {html.escape(n)}</p>" for n in notes)
        if not indices.empty:
            indices.to_csv(folder / "sensitivity.csv", index=False)
            written.append(folder / "sensitivity.csv")
            plot_sensitivity(indices, design.method, folder, written)
            for name in (f"sensitivity_{design.method}.png", "morris_mu_sigma.png"):
                if (folder / name) in written:
                    body += _img(folder / name)
            body += _table_html(indices.drop(columns=["label"]), "sens")
        sections.append((f"{design.method} sensitivity of bust severity", body))

    # heatmaps
    if design is None:
        pairs = [
            (a, b)
            for a, b in itertools.combinations(varied, 2)
            if len(axes_values.get(a, [])) >= 2 and len(axes_values.get(b, [])) >= 2
        ]
        binned = False
    else:
        ranked = varied
        if not indices.empty:
            key = "mu_star" if design.method == "morris" else "ST"
            sub = indices[indices["outcome"] == indices["outcome"].iloc[0]]
            ranked = list(sub.sort_values(key, ascending=False)["parameter"])
        pairs = list(itertools.combinations(ranked[:3], 2))
        binned = True
    imgs = []
    for a, b in pairs[:MAX_HEATMAPS]:
        path = folder / f"heatmap_{_slug(a)}__{_slug(b)}.png"
        plot_heatmap(rows, a, b, binned, path, written)
        if path in written:
            imgs.append(_img(path))
    if imgs:
        sections.append(("two-parameter heatmaps", "".join(imgs)))

    # series: with vs without circular financing, and fan charts
    cols = ["run_id", "point", "circular", "quarter", *SERIES]
    circular_axis = "circular.circular_financing" in varied
    series = read_dataset(out, "series", columns=list(dict.fromkeys(cols + varied[:1])))
    if twin or circular_axis:
        path = folder / "circular_with_vs_without.png"
        plot_circular(summary, series, twin, path, written)
        sections.append(("with vs without circular financing", _img(path)))
    else:
        sections.append(
            (
                "with vs without circular financing",
                "<p>run the sweep with <code>--twin</code> (or sweep "
                "<code>circular.circular_financing=true,false</code>) for this comparison.</p>",
            )
        )
    main_series = series[series["circular"]] if twin else series
    color_by = None
    if design is None and varied and main_series[varied[0]].nunique() <= 6:
        color_by = varied[0]
    plot_fan(main_series, color_by, folder / "series_fan.png", written)
    sections.append(("quarterly paths", _img(folder / "series_fan.png")))

    points = point_means(summary, varied)
    points.to_csv(folder / "points.csv", index=False)
    written.append(folder / "points.csv")
    sections.append(("per-point means over replicates", _table_html(points, "points")))
    written.append(_write_html(folder, manifest, sections, status))
    return written


def report_command(args) -> int:
    written = write_report(args.dir)
    folder = written[-1].parent
    print(f"wrote {len(written)} files to {folder}/:")
    for p in written:
        print(f"  {p.name}")
    print(f"open {folder / 'index.html'} in a browser")
    return 0
