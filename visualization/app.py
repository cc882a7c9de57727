"""creditloop in the browser: watch the AI-infrastructure boom and its unwind, with the counterfactual beside it.

Run with ``python run.py ui`` (or ``solara run visualization/app.py --production`` from the repository root).

Built on Mesa 3.5's Solara visualization: Mesa's ``ModelController`` (Reset, ▶/❚❚, Step) drives the run and
its ``update_counter`` re-renders the panels each quarter. Mesa's all-in-one ``SolaraViz`` page is not used
because its ``model_params`` form cannot express the schema-generated controls (groups, units, help, presets,
validated combinations, shocks) and its draggable grid squeezes the network and tables; this page lays out the
same parts itself. Each browser session gets its own settings and its own run (``Page`` holds them in
component state; nothing is module-level).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `solara run visualization/app.py` from a plain checkout
    sys.path.insert(0, str(ROOT))

import solara  # noqa: E402
import solara.server.settings  # noqa: E402
from mesa.visualization.utils import force_update  # noqa: E402

from economy.counterfactuals import DEFAULT as COUNTERFACTUAL  # noqa: E402
from visualization import live  # noqa: E402
from visualization.controls import SettingsPanel  # noqa: E402
from visualization.panels import ExportPanel, LivePanels  # noqa: E402

CSS = """
.cl-story { font-size: 0.92em; padding: 2px 2px 2px 2px; color: #333; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.cl-story b { color: #111; }
.cl-story-why { font-size: 0.8em; line-height: 1.3; color: #333; padding: 0 2px 4px 2px; display: flex;
  flex-wrap: wrap; gap: 0 10px; }
.cl-story-link { cursor: pointer; border-bottom: 1px dotted #1f5fa8; color: #1f3f78; }
.cl-story-link:hover, .cl-story-link:focus { background: #eef4ff; }
.cl-flow { display: grid; grid-template-columns: minmax(120px, 40%) 1fr 56px; gap: 6px; align-items: center;
  font-size: 0.8em; padding: 1px 2px; cursor: pointer; border-bottom: 1px solid #f3f3f3; }
.cl-flow:hover { background: #f5f8ff; }
.cl-flow-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.cl-flow-bar { display: flex; height: 14px; background: #fafafa; }
.cl-flow-seg { display: inline-block; height: 14px; color: white; font-size: 9px; line-height: 14px;
  text-align: center; overflow: hidden; cursor: pointer; }
.cl-flow-seg:hover { outline: 2px solid #111; }
.cl-flow-legend { font-size: 0.75em; color: #444; margin-top: 4px; display: flex; flex-wrap: wrap; gap: 2px 10px; }
.cl-flow-key i { display: inline-block; width: 12px; height: 8px; margin-right: 3px; }
.cl-flow-twin { margin-top: 6px; }
.cl-did-table td, .cl-did-table th { font-size: 0.95em; }
.cl-did-sig td { font-weight: 600; }
.cl-answer { grid-template-columns: minmax(0, 1fr) minmax(340px, 520px); }
.cl-network-box { position: relative; }
.cl-hotspots { position: absolute; inset: 0; pointer-events: none; }
.cl-hotspots .cl-node { pointer-events: auto; }
.cl-node { position: absolute; transform: translate(-50%, -50%); aspect-ratio: 1; border-radius: 50%; }
.cl-node-firm { cursor: pointer; }
.cl-node:hover, .cl-node:focus { outline: 2px solid rgba(0, 0, 0, 0.35); }
.cl-node-tip { display: none; position: absolute; left: 100%; top: 50%; z-index: 5; background: #fffff4;
  border: 1px solid #bbb; border-radius: 3px; padding: 3px 6px; font-size: 11px; white-space: pre; color: #111;
  pointer-events: none; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.2); }
.cl-node:hover .cl-node-tip, .cl-node:focus .cl-node-tip { display: block; }
.cl-spark-grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 2px 8px;
  margin: 4px 0 6px 0; }
.cl-spark { width: 100%; height: 46px; display: block; }
.cl-firm-series-head { font-size: 0.85em; margin-top: 4px; }
.cl-main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(300px, 340px);
  grid-template-areas: "amp amp" "key log" "more more"; gap: 6px 10px; }
.cl-charts-panel { display: contents; }
.cl-charts-panel > .cl-amplification { grid-area: amp; }
.cl-key-charts { grid-area: key; grid-template-columns: repeat(2, minmax(0, 1fr)); }
.cl-more-charts { grid-area: more; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); }
.cl-charts { display: grid; gap: 6px; }
/* the log's height follows the key charts beside it (it does not stretch their row); its list scrolls */
.cl-main > .cl-events-card { grid-area: log; height: 0; min-height: 100%; display: flex; flex-direction: column;
  overflow: hidden; }
.cl-events { display: flex; flex-direction: column; min-height: 0; flex: 1 1 auto; }
.cl-event-log { flex: 1 1 auto; min-height: 0; overflow-y: auto; margin: 4px 0 0 0; padding-left: 0;
  list-style: none; font-size: 0.82em; }
.cl-event-filters { margin-top: 14px; display: grid; grid-template-columns: 1fr 1fr; gap: 0 8px; }
.cl-ev-loop { font-size: 0.85em; color: #5a4100; background: #fff4cc; border-radius: 6px; padding: 0 4px; }
@media (max-width: 1200px) {
  .cl-main { grid-template-columns: minmax(0, 1fr); grid-template-areas: "amp" "key" "log" "more"; }
  .cl-main > .cl-events-card { height: 420px; min-height: 0; }
  .cl-two { grid-template-columns: minmax(0, 1fr); }
}
.cl-charts img, img.cl-network { width: 100%; height: auto; display: block; }
.cl-chart { border: 1px solid #e3e3e3; border-radius: 4px; background: white; }
.cl-two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(340px, 420px); gap: 10px; margin-top: 10px; }
.cl-amplification { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin: 0 0 2px 0;
  font-size: 0.9em; }
.cl-ratio { background: #fff4cc; border: 1px solid #f2b705; border-radius: 12px; padding: 0 8px; font-size: 0.9em; }
.cl-amp-off, .cl-amp-wait { color: #666; }
.cl-help { color: #666; font-size: 0.78em; line-height: 1.25; display: block; }
.cl-param { padding: 4px 0 6px 0; border-bottom: 1px solid #f0f0f0; }
.cl-param-row { display: flex; justify-content: space-between; align-items: baseline; gap: 6px; }
.cl-param-input { display: flex; align-items: center; gap: 6px; }
.cl-param-input .v-input { margin-top: 0; }
.cl-param-input .cl-param-slider { display: flex; align-items: center; gap: 8px; flex: 1 1 auto; }
.cl-param-slider .cl-slider { flex: 1 1 auto; }
.cl-param-slider .cl-param-box { flex: 0 0 72px; max-width: 72px; font-size: 0.85em; padding-top: 0; }
.cl-toolbar { border: 1px solid #e3e3e3; border-radius: 4px; padding: 2px 12px; margin-bottom: 6px; }
.cl-field-error { color: #b00020; font-size: 0.78em; line-height: 1.25; display: block; white-space: pre-wrap; }
.cl-param-invalid .cl-param-name { color: #b00020; }
.cl-quarter { font-size: 1.05em; font-weight: 600; }
.cl-status { color: #555; font-size: 0.8em; }
.cl-run-status { flex: 1 1 200px; min-width: 0; }
.cl-amp-title { margin-right: 8px; }
.cl-param-name { font-size: 0.86em; font-weight: 600; }
.cl-param-value { font-size: 0.86em; font-family: monospace; white-space: nowrap; }
.cl-param-edited .cl-param-name { color: #b35c00; }
.cl-badge { font-size: 0.75em; color: #777; flex: 0 0 auto !important; padding-right: 8px; font-weight: normal; }
.cl-group-title { font-weight: 600; }
.cl-groups .v-expansion-panel-content__wrap { padding: 0 8px 8px 8px; }
.cl-ev { padding: 2px 4px; border-bottom: 1px solid #f3f3f3; }
.cl-ev-stress { color: #b00020; }
.cl-ev-q { font-family: monospace; color: #555; margin-right: 6px; }
.cl-bs { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin: 6px 0; }
.cl-bs-head { font-weight: 600; font-size: 0.85em; border-bottom: 1px solid #ccc; }
.cl-bs-table, .cl-contracts { width: 100%; border-collapse: collapse; font-size: 0.8em; }
.cl-bs-table td, .cl-contracts td, .cl-contracts th { padding: 1px 4px; }
.cl-contracts th { text-align: left; border-bottom: 1px solid #ccc; font-weight: 600; }
.num { text-align: right; font-family: monospace; white-space: nowrap; }
.cl-total td { font-weight: 600; border-top: 1px solid #ddd; }
.cl-broken td { text-decoration: line-through; color: #b00020; }
.cl-side { display: flex; flex-direction: column; gap: 10px; }
.cl-export { margin-top: 10px; }
.cl-credit { font-size: 0.75em; opacity: 0.85; margin-left: auto; }
.cl-credit a { color: inherit; }
"""


def _warm_up(quarters: int = 3) -> None:
    """Draw the default run's first quarters once per server process, in the background: the chart
    backgrounds and labels are cached and shared, so the first Step of the first visitor is as quick as the
    rest (drawing axes from scratch is what makes a first quarter slow)."""
    try:
        from visualization.charts import ChartSet
        from visualization.network import NetworkView

        state = live.initial_state()
        run = live.LiveRun(state.config, twin=True)
        charts, network = ChartSet(run.horizon, True, run.config.params), NetworkView()
        for _ in range(quarters + 1):
            charts.render_all(run.main, run.twin, run.main_opening, run.twin_opening)
            network.render(run.main, None, run.label)
            run.step()
    except Exception:  # only an optimisation
        pass


# Solara's floating "This website runs on Solara" badge sits over the bottom-right chart; the credit goes into
# the app bar instead. Set at import: the server imports the app before it serves the first page.
solara.server.settings.theme.show_banner = False

_WARM = threading.Thread(target=_warm_up, name="creditloop-warm-up", daemon=True)
if "pytest" not in sys.modules:  # tests measure the cold path themselves
    _WARM.start()


@solara.component
def RunView(
    config: live.RunConfig,
    twin: solara.Reactive[bool],
    selected: solara.Reactive[str | None],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
    pool: dict,
    counterfactual: solara.Reactive[str],
):
    """One run (keyed by the settings' generation: new settings mount a fresh RunView, controller included)."""
    first = solara.use_memo(lambda: live.LiveRun(config, twin.value, counterfactual.value), [])
    run = solara.use_reactive(first)  # Mesa's Reset replaces run.value with LiveRun(**model_parameters)

    def retire_on_unmount():
        # a play loop of the old controller may still hold the old run: make it stop at its next step
        return lambda: run.value.retire()

    solara.use_effect(retire_on_unmount, [])

    def sync_twin():
        r = run.value
        if (r.twin is not None) != twin.value:
            r.set_twin(twin.value)
            force_update()

    solara.use_effect(sync_twin, [twin.value])

    def sync_counterfactual():
        if run.value.counterfactual != counterfactual.value:
            run.value.set_counterfactual(counterfactual.value)
            force_update()

    solara.use_effect(sync_counterfactual, [counterfactual.value])
    model_parameters = {"config": config, "twin": twin.value, "counterfactual": counterfactual.value}
    LivePanels(run, model_parameters, twin, selected, play_interval, render_interval, pool, counterfactual)
    ExportPanel(run.value)  # outside LivePanels: it needs no re-render each quarter


@solara.component
def Page():
    initial = solara.use_memo(live.initial_state, [])
    state = solara.use_reactive(initial)  # this session's settings
    twin = solara.use_reactive(True)
    selected = solara.use_reactive("OpenAI")
    play_interval = solara.use_reactive(100)
    render_interval = solara.use_reactive(1)
    pool = solara.use_memo(dict, [])  # this session's spare figures, reused by its next run
    counterfactual = solara.use_reactive(COUNTERFACTUAL)
    s = state.value
    firm_names = solara.use_memo(lambda: firm_names_of(initial.config), [])

    solara.Title("creditloop")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle("creditloop · circular financing in the AI boom")
        solara.HTML(
            tag="span",
            unsafe_innerHTML="built with <a href='https://mesa.readthedocs.io'>Mesa</a> and "
            "<a href='https://solara.dev'>Solara</a>",
            classes=["cl-credit"],
        )
    with solara.Sidebar():
        SettingsPanel(state, firm_names)
    if s.errors:
        solara.Warning(
            f"{len(s.errors)} setting{'s' if len(s.errors) > 1 else ''} not applied (see the sidebar); the run "
            "below uses every other setting.",
            classes=["cl-settings-warning"],
            dense=True,
        )
    RunView(s.config, twin, selected, play_interval, render_interval, pool, counterfactual).key(
        f"run-{s.generation}"
    )


def firm_names_of(config: live.RunConfig) -> list[str]:
    """Names of the firms of a run with these settings (for the firm-calibration group titles)."""
    try:
        run = live.LiveRun(config, twin=False)
    except Exception:
        return []
    return [] if run.main is None else [f.name for f in run.main.firms]
