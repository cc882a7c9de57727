"""The panels of a run: controls (Mesa's ModelController), charts, amplification, network, firm, events, export.

Every panel that reads the model calls ``update_counter.get()``: Mesa's controller bumps that counter after each
step, which re-renders exactly these panels (the settings sidebar does not read it and stays put). The costly
parts (figures) are memoised on the counter, so a re-render for another reason (e.g. a firm picked) does not
redraw them.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.alias import rv as v

from economy.events import quarter_label
from visualization import export
from visualization.charts import (
    CHART_KEYS,
    KEY_CHARTS,
    RATIO_LABELS,
    Amplification,
    chart_set_for,
    chart_set_key,
)
from visualization.eventlog import NO_LOOP, EventLog, LogFilter
from visualization.firmseries import FirmSeries
from visualization.live import LiveRun
from visualization.lossflow import LossFlowPanel
from visualization.network import NetworkView, edge_table, node_tips
from visualization.story import StoryStrip
from visualization.style import humanize, usd_bn
from visualization.twin import TwinPanel


def quarter_text(run: LiveRun) -> str:
    if run.main is None or run.quarters_done == 0:
        return f"before 2025Q4 · quarter 0 of {run.horizon}"
    return f"{run.label} · quarter {run.quarters_done} of {run.horizon}"


# -- toolbar ------------------------------------------------------------------------------------------------------
@solara.component
def RunStatus(run: LiveRun, counter: int):
    """Quarter, status line and errors: the part of the toolbar that changes every quarter."""
    r = run
    status = {
        "ready": "press Step or ▶ to simulate quarter by quarter",
        "running": "running",
        "finished": "horizon reached; Reset to run again",
        "stopped": "stopped",
    }[r.status]
    line = f"{r.config.scenario}, seed {r.config.seed}: {status}"
    if r.step_ms is not None:
        line += f" · last quarter: model{' and twin' if r.twin is not None else ''} {r.step_ms:.0f} ms"
    if r.frame_ms is not None:
        line += f", step to page updated {r.frame_ms:.0f} ms (server)"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<div class='cl-quarter'>{html.escape(quarter_text(r))}</div>"
        f"<div class='cl-status'>{html.escape(line)}</div>",
        classes=["cl-run-status"],
        attributes={"data-run": str(r.serial)},
    )
    if r.error:
        solara.Error(r.error, classes=["cl-run-error"])
    if r.twin_error:
        solara.Warning(r.twin_error, classes=["cl-twin-error"])


@solara.component
def RunToolbar(
    run: solara.Reactive[LiveRun],
    counter: int,
    model_parameters: dict,
    twin: solara.Reactive[bool],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
):
    """Mesa's ModelController (Reset, ▶/❚❚, Step), the twin switch and the play speed."""
    use_threads = solara.use_reactive(False)
    # one row at full width (it wraps on narrow screens): the charts start right below it
    with solara.Div(classes=["cl-toolbar"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px 16px"}):
            with solara.Div(style={"min-width": "230px"}):
                ModelController(
                    run,
                    model_parameters=model_parameters,
                    play_interval=play_interval,
                    render_interval=render_interval,
                    use_threads=use_threads,
                )
            RunStatus(run.value, counter)
            solara.Switch(
                label=f"Twin: same seed, counterfactual {run.value.counterfactual}",
                value=twin,
                classes=["cl-twin-switch"],
            )
            LabelledSlider("Play: pause", play_interval, 0, 1000, 50, "ms")
            LabelledSlider("quarters per frame", render_interval, 1, 8, 1, "")


@solara.component
def LabelledSlider(label: str, value: solara.Reactive[int], lo: int, hi: int, step: int, unit: str):
    with solara.Div(style={"width": "120px"}):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(f"{label}: {value.value} {unit}".strip()),
            classes=["cl-help"],
        )
        v.Slider(
            v_model=value.value,
            on_v_model=lambda x: value.set(int(x)),
            min=lo,
            max=hi,
            step=step,
            dense=True,
            hide_details=True,
        )


# -- charts and amplification -------------------------------------------------------------------------------------
def amplification_html(
    amp: Amplification | None, twin_on: bool, circular_on: bool, counterfactual: str = "vendor_deals_off"
) -> str:
    if not twin_on:
        return (
            "<span class='cl-amp-off'>Twin off: switch it on to run the same seed without circular financing "
            "beside this run.</span>"
        )
    if amp is None:
        return (
            "<span class='cl-amp-wait'>Twin on: the same seed without circular financing runs beside this run "
            "(dashed in the charts). Amplification ratios appear after the first quarter.</span>"
        )
    title = f"This run ÷ its twin ({counterfactual}) so far (ratios of levels; the DiD over seeds is below):"
    if not circular_on:
        title = "Circular financing is off in the settings, so the twin equals the run:"
    chips = "".join(
        f"<span class='cl-ratio cl-ratio-{name}'>{html.escape(label)} {html.escape(amp.text(name))}</span>"
        for name, label in RATIO_LABELS.items()
    )
    return f"<b class='cl-amp-title'>{html.escape(title)}</b>{chips}"


@solara.component
def AmplificationStrip(amp: Amplification | None, twin_on: bool, circular_on: bool, counterfactual: str):
    solara.HTML(
        tag="div",
        unsafe_innerHTML=amplification_html(amp, twin_on, circular_on, counterfactual),
        classes=["cl-amplification"],
    )


def chart_order() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(key charts, the others): the key charts go above the fold, beside the event log."""
    return KEY_CHARTS, tuple(k for k in CHART_KEYS if k not in KEY_CHARTS)


@solara.component
def ChartsPanel(run: LiveRun, counter: int, pool: dict):
    has_twin = run.twin is not None
    holder = solara.use_ref(None)

    def pick():
        """The figures for this run: the current ones reset if they fit, else spare ones, else new ones."""
        current = holder.current
        if current is not None and current.key == chart_set_key(run.horizon, has_twin, run.config.params):
            return current.reset()
        if current is not None:
            pool[current.key] = current
        return chart_set_for(pool, run.horizon, has_twin, run.config.params)

    charts = solara.use_memo(pick, [run, has_twin])
    holder.current = charts

    def give_back():  # unmounted (new settings): the figures serve the session's next run
        return lambda: pool.__setitem__(holder.current.key, holder.current)

    solara.use_effect(give_back, [])

    def draw():
        t0 = time.perf_counter()
        with run.lock:
            pngs, amp = charts.render_all(run.main, run.twin, run.main_opening, run.twin_opening)
        return pngs, amp, (time.perf_counter() - t0) * 1000

    # keyed on the model's quarter (not only the counter): whatever triggers a render, the figures match the model
    frame = (run.quarters_done, run.twin.steps if run.twin is not None else -1)
    pngs, amp, ms = solara.use_memo(draw, [run, charts, frame])
    key_charts, more_charts = chart_order()
    # no box of its own (display: contents): the strip and both grids are placed by the page's grid (.cl-main)
    with solara.Div(classes=["cl-charts-panel"], attributes={"data-render-ms": f"{ms:.0f}"}):
        AmplificationStrip(amp, has_twin, run.circular_on, run.counterfactual)
        for cls, keys in (("cl-key-charts", key_charts), ("cl-more-charts", more_charts)):
            with solara.Div(classes=["cl-charts", cls]):
                for key in keys:
                    solara.Image(pngs[key], classes=["cl-chart", f"cl-chart-{key}"], width="100%")


# -- network and firm ---------------------------------------------------------------------------------------------
@solara.component_vue("hotspots.vue")
def HotspotLayer(spots: list, selected: str, event_pick: Callable[[str], None]):
    """One spot per node over the network image (a Vue template, one widget): hover shows its tip, a click on
    a firm calls ``event_pick`` with its name."""


def hotspot_rows(spots: list[dict], tips: dict[str, str], firms: set[str]) -> list[dict]:
    return [
        {
            "name": s["name"],
            "firm": s["name"] in firms,
            "left": f"{100 * s['x']:.2f}%",
            "top": f"{100 * s['y']:.2f}%",
            "width": f"{200 * s['r']:.2f}%",
            "tip": tips.get(s["name"], s["name"]),
        }
        for s in spots
    ]


@solara.component
def NetworkPanel(run: LiveRun, counter: int, selected: solara.Reactive[str | None], pool: dict):
    # one figure per session: reset for each new run (title and legend stay drawn)
    view = solara.use_memo(lambda: pool.pop("network", None) or NetworkView(), [])
    solara.use_memo(view.reset, [run])

    def give_back():
        return lambda: pool.__setitem__("network", view)

    solara.use_effect(give_back, [])
    sel = selected.value

    def draw():
        if run.main is None:
            return None, 0.0, [], {}
        t0 = time.perf_counter()
        with run.lock:
            png = view.render(run.main, sel, run.label if run.quarters_done else "2025Q4 (start)")
            spots = list(view.hotspots)
            tips = node_tips(run.main, view.edges, spots)
        return png, (time.perf_counter() - t0) * 1000, spots, tips

    png, ms, spots, tips = solara.use_memo(draw, [run, view, run.quarters_done, sel])
    firms = {f.name for f in run.main.firms} if run.main is not None else set()
    with solara.Card(classes=["cl-network-card"], style={"padding": "4px"}):
        if png is not None:
            with solara.Div(attributes={"data-render-ms": f"{ms:.0f}"}, classes=["cl-network-box"]):
                solara.Image(png, classes=["cl-network"], width="100%")
                HotspotLayer(
                    spots=hotspot_rows(spots, tips, firms), selected=sel or "", event_pick=selected.set
                )


def _table(rows: list[tuple[str, str]], cls: str, bold: set[str] = frozenset()) -> str:
    body = "".join(
        f"<tr class='{'cl-total' if k in bold else ''}'><td>{html.escape(k)}</td><td class='num'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table class='{cls}'>{body}</table>"


def balance_sheet_html(sheet: dict[str, float]) -> str:
    """Assets | liabilities and equity, from ``Firm.balance_sheet()`` (split at its totals)."""
    keys = list(sheet)
    cut_a = keys.index("total_assets") + 1 if "total_assets" in keys else len(keys)
    cut_l = keys.index("total_liabilities") + 1 if "total_liabilities" in keys else len(keys)
    assets = [(humanize(k), usd_bn(sheet[k])) for k in keys[:cut_a]]
    liabs = [(humanize(k), usd_bn(sheet[k])) for k in keys[cut_a:cut_l]]
    equity = [(humanize(k), usd_bn(sheet[k])) for k in keys[cut_l:]]
    totals = {"Total assets", "Total liabilities", "Equity"}
    return (
        "<div class='cl-bs'>"
        f"<div><div class='cl-bs-head'>Assets</div>{_table(assets, 'cl-bs-table', totals)}</div>"
        f"<div><div class='cl-bs-head'>Liabilities and equity</div>{_table(liabs + equity, 'cl-bs-table', totals)}</div>"
        "</div>"
    )


def contracts_html(rows: list[dict], limit: int = 14) -> str:
    if not rows:
        return "<p class='cl-help'>No contracts.</p>"
    head = (
        "<tr><th></th><th>counterparty</th><th>contract</th><th class='num'>exposure</th><th>loop</th></tr>"
    )
    body = "".join(
        f"<tr class='{'cl-broken' if r['status'] != 'active' else ''}'><td>{r['side']}</td>"
        f"<td>{html.escape(r['counterparty'])}</td><td>{html.escape(r['contract'])}</td>"
        f"<td class='num'>{usd_bn(r['exposure'])}</td><td>{r['loops']}</td></tr>"
        for r in rows[:limit]
    )
    more = f"<p class='cl-help'>… and {len(rows) - limit} more</p>" if len(rows) > limit else ""
    return f"<table class='cl-contracts'>{head}{body}</table>{more}"


@solara.component
def FirmDetails(run: LiveRun, counter: int, name: str | None):
    if run.main is None:
        return
    with run.lock:
        firm = run.main.firms_by_name.get(name) if name else None
        if firm is None:
            solara.Text("Pick a firm to see its balance sheet and contracts.", classes=["cl-help"])
            return
        sheet = firm.balance_sheet()
        rows = edge_table(run.main, firm.party)
        state = "liquidated" if firm.liquidated else "in default" if firm.in_default else "going concern"
        if run.main.ledger.defaulted[firm.party] and state == "going concern":
            state = "restructured after a default"
        value = firm.valuation if firm.listed else firm.equity
        label = run.label if run.quarters_done else "the start"
    facts = (
        f"{firm.type_label} · {state} · {'market value' if firm.listed else 'book equity'} {usd_bn(value)}"
    )
    page = (
        f"<div class='cl-firm-facts'><b>{html.escape(firm.name)}</b> at {label}: {html.escape(facts)}</div>"
        + balance_sheet_html(sheet)
        + "<div class='cl-help'>Contracts (largest first; struck through: defaulted or terminated)</div>"
        + contracts_html(rows)
    )
    solara.HTML(tag="div", unsafe_innerHTML=page, classes=["cl-balance-sheet"])


@solara.component
def FirmPanel(run: LiveRun, counter: int, selected: solara.Reactive[str | None]):
    names = solara.use_memo(lambda: [f.name for f in run.main.firms] if run.main is not None else [], [run])
    with solara.Card(classes=["cl-firm"], style={"padding": "8px 12px"}):
        solara.Select("Firm (balance sheet)", values=names, value=selected, classes=["cl-firm-select"])
        FirmSeries(run, counter, selected.value)
        FirmDetails(run, counter, selected.value)


# -- all panels of a run -----------------------------------------------------------------------------------------
@solara.component
def LivePanels(
    run: solara.Reactive[LiveRun],
    model_parameters: dict,
    twin: solara.Reactive[bool],
    selected: solara.Reactive[str | None],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
    pool: dict | None = None,
    counterfactual: solara.Reactive[str] | None = None,
):
    """Every panel of a run that changes with the quarter. This component reads Mesa's ``update_counter``
    (bumped by the controller after each step) and hands it to the panels as ``counter``: one subscriber means
    one render pass per quarter (with a subscription in every panel, each would trigger a pass over the whole
    page of its own). What does not change with the quarter (the export buttons) is rendered outside it."""
    counter = update_counter.get()
    r = run.value
    local_pool = solara.use_memo(dict, [])
    pool = local_pool if pool is None else pool

    def frame_done():  # effects run after the widgets were updated: the server's share of a frame
        if r.step_started is not None:
            r.frame_ms = (time.perf_counter() - r.step_started) * 1000
        r.paced = True
        r.frame_shown()

    solara.use_effect(frame_done, [counter, r, r.quarters_done])
    own_cf = solara.use_reactive(r.counterfactual)
    counterfactual = own_cf if counterfactual is None else counterfactual
    log_filter = solara.use_reactive(LogFilter())

    def pick_sentence(sentence):  # a story sentence: the log goes to its quarter (and firm, loop)
        flt = LogFilter()
        if sentence.quarter is not None:
            flt = flt.with_(quarter=quarter_label(sentence.quarter))
        if sentence.firm:
            flt = flt.with_(firm=sentence.firm)
        if sentence.loop is not None:
            flt = flt.with_(loop=f"L{sentence.loop}" if sentence.loop else NO_LOOP)
        log_filter.set(flt)

    def pick_flow(
        source: str, loop: int | None
    ):  # a loss flow: the log shows its debtor's events (in that loop)
        firms = {f.name for f in r.main.firms} if r.main is not None else set()
        flt = LogFilter(firm=source if source in firms else LogFilter().firm)
        if loop is not None:
            flt = flt.with_(loop=f"L{loop}" if loop else NO_LOOP)
        log_filter.set(flt)

    StoryStrip(r, counter, pick_sentence)  # at the top: where the run stands, what happened and why
    RunToolbar(run, counter, model_parameters, twin, play_interval, render_interval)
    with solara.Div(classes=["cl-main"]):
        # The page receives a render as one widget update per changed widget, sent in the order of this tree and
        # applied one by one: the seven chart PNGs and the network (~300 kB) take the browser a few frames. Put
        # after them (as it used to be), the log showed the new quarter ~100 ms after the first chart did. Put
        # first in the tree (shown beside the charts by the grid), its text arrives, and is shown, with them.
        EventLog(r, counter, log_filter)
        ChartsPanel(r, counter, pool)
    with solara.Div(classes=["cl-two"]):
        NetworkPanel(r, counter, selected, pool)
        with solara.Div(classes=["cl-side"]):
            FirmPanel(r, counter, selected)
    with solara.Div(classes=["cl-two", "cl-answer"]):
        LossFlowPanel(r, counter, pick_flow)
        TwinPanel(r, counterfactual)


# -- export -------------------------------------------------------------------------------------------------------
@solara.component
def ExportPanel(run: LiveRun):
    # stable callables per run: FileDownload resets when its data changes, and builds the file only on click
    makers = solara.use_memo(
        lambda: {
            "series.csv": lambda: export.csv_bytes(export.series_frame(run)),
            "series.parquet": lambda: export.parquet_bytes(export.series_frame(run)),
            "events.csv": lambda: export.csv_bytes(export.events_frame(run)),
            "events.parquet": lambda: export.parquet_bytes(export.events_frame(run)),
            "scenario.toml": lambda: export.settings_toml(run),
        },
        [run],
    )
    stem = export.file_stem(run)
    labels = {
        "series.csv": "Series (CSV)",
        "series.parquet": "Series (parquet)",
        "events.csv": "Events (CSV)",
        "events.parquet": "Events (parquet)",
        "scenario.toml": "Settings (scenario TOML)",
    }
    with solara.Card(classes=["cl-export"], style={"padding": "8px 12px"}):
        solara.Text("Export", style={"font-weight": "600"})
        solara.Text(
            "Series and events of the quarters run so far (with the twin's rows, circular = false, when it is on). "
            f"The TOML runs with python run.py simulate --scenario-file FILE --seed {run.config.seed}.",
            classes=["cl-help"],
        )
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            for suffix, make in makers.items():
                solara.FileDownload(
                    make,
                    filename=f"{stem}_{suffix}" if suffix != "scenario.toml" else f"{stem}.toml",
                    label=labels[suffix],
                    mime_type="text/plain"
                    if suffix.endswith((".csv", ".toml"))
                    else "application/octet-stream",
                )
