"""The twin panel: which counterfactual the twin shows (economy/counterfactuals.py), and the amplification of the
run's shock as a difference-in-differences over seeds (economy/amplify.py), computed in the background.

The design is the one of ``run.py amplify``: each seed runs four arms with common random numbers: the run's
settings (shocked) and the same settings without their scripted shocks (baseline), each as signed and in the
counterfactual. The DiD of a metric is (shocked − baseline) with the deals minus the same in the counterfactual:
how much more the shock does because of the deals. A thread (``solara.lab.use_task``) hands the arms to one
worker process (spawned, so the server's threads and locks are not forked), so the page stays live and keeps
its speed, and reports the progress arm by arm.
"""

from __future__ import annotations

import html
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

import solara
from solara.lab import use_task

from economy import amplify, counterfactuals
from params.schema import Parameters
from visualization.did_arms import arm_metrics
from visualization.live import LiveRun
from visualization.style import fmt

DID_METRICS = (
    "cumulative_capex_lost_usd_bn",
    "peak_to_trough_capex_usd_bn",
    "lender_losses_usd_bn",
    "defaulting_firms",
    "equity_value_lost_usd_bn",
    "bank_capital_ratio_drop",
)
SEED_CHOICES = (5, 10, 20)
DID_LINE = (
    "Difference-in-differences: (shocked − same settings without the shocks) with the deals, minus the same in "
    "the counterfactual, over seeds with common random numbers: how much more the shock does because of the deals."
)


def did_over_seeds(
    params: Parameters,
    counterfactual: str,
    seeds: list[int],
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> dict[str, dict]:
    """:func:`economy.amplify.summarise` of the four arms per seed for these settings (the baseline arm: the
    same settings without their shocks), run in ``workers`` spawned processes."""
    if not params.shocks:
        raise ValueError("these settings have no scripted shock: there is no shock to amplify")
    start = min(s.quarter for s in params.shocks)
    arms = {
        ("shocked", False): params,
        ("baseline", False): params.model_copy(update={"shocks": ()}),
    }
    arms[("shocked", True)] = counterfactuals.apply(arms[("shocked", False)], counterfactual)
    arms[("baseline", True)] = counterfactuals.apply(arms[("baseline", False)], counterfactual)
    rows, total = [], len(seeds) * len(amplify.ARMS)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {
            pool.submit(arm_metrics, arms[(arm, cf)].model_dump(), seed, start): (seed, arm, cf)
            for seed in seeds
            for arm, cf in amplify.ARMS
        }
        for future in as_completed(futures):
            seed, arm, cf = futures[future]
            rows.append({"seed": seed, "arm": arm, "counterfactual": cf, **future.result()})
            if progress is not None:
                progress(len(rows), total)
    return amplify.summarise(rows)


def _num(x: float, digits: int = 3) -> str:
    return "–" if x is None or not math.isfinite(x) else fmt(x, digits)


def did_html(result: dict[str, dict], counterfactual: str, n: int) -> str:
    rows = []
    for metric in DID_METRICS:
        r = result[metric]
        d, ratio = r["did"], r["ratio"]
        sig = "cl-did-sig" if d.get("significant") else "cl-did-ns"
        finite = all(math.isfinite(ratio[k]) for k in ("low", "high"))
        ratio_range = f"{_num(ratio['low'], 3)} to {_num(ratio['high'], 3)}" if finite else "–"
        rows.append(
            f"<tr class='{sig}' data-metric='{metric}'><td title='{html.escape(r['meaning'])}'>"
            f"{html.escape(metric.removesuffix('_usd_bn').replace('_', ' '))}</td>"
            f"<td class='num cl-did-mean'>{_num(d['mean'])}</td><td class='num'>{_num(d['low'])}</td>"
            f"<td class='num'>{_num(d['high'])}</td><td class='num'>×{_num(ratio['mean'], 3)}</td>"
            f"<td class='num'>{ratio_range}</td></tr>"
        )
    return (
        f"<div class='cl-help'>{n} seeds, counterfactual <b>{html.escape(counterfactual)}</b>; bold rows: the "
        "90% interval excludes 0. Amounts in USD bn.</div>"
        "<table class='cl-contracts cl-did-table'><tr><th>metric</th><th class='num'>DiD mean</th>"
        "<th class='num'>90% low</th><th class='num'>90% high</th><th class='num'>ratio</th>"
        f"<th class='num'>ratio 90%</th></tr>{''.join(rows)}</table>"
    )


@solara.component
def TwinPanel(run: LiveRun, counterfactual: solara.Reactive[str]):
    """The counterfactual selector and the DiD over seeds (a background task with progress)."""
    n_seeds = solara.use_reactive(SEED_CHOICES[0])
    params, name = run.config.params, counterfactual.value

    def compute():
        task = did_task

        def progress(done: int, total: int) -> None:
            task.progress = 100.0 * done / total

        seeds = list(range(run.config.seed, run.config.seed + n_seeds.value))
        return (name, len(seeds), did_over_seeds(params, name, seeds, progress))

    did_task = use_task(compute, dependencies=None)
    with solara.Card(classes=["cl-twin-panel"], style={"padding": "6px 10px"}):
        solara.Text("The twin and the amplification", style={"font-weight": "600"})
        solara.Select(
            "counterfactual shown by the twin",
            values=list(counterfactuals.COUNTERFACTUALS),
            value=counterfactual,
            classes=["cl-counterfactual"],
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML="It removes: " + html.escape(counterfactuals.COUNTERFACTUALS[name].removes),
            classes=["cl-help", "cl-counterfactual-removes"],
        )
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(DID_LINE), classes=["cl-help", "cl-did-line"])
        with solara.Row(style={"align-items": "center", "gap": "8px"}):
            solara.Select("seeds", values=list(SEED_CHOICES), value=n_seeds, classes=["cl-did-seeds"])
            solara.Button(
                "Run the DiD over seeds",
                on_click=did_task,
                disabled=did_task.pending or not params.shocks,
                classes=["cl-did-run"],
            )
        if not params.shocks:
            solara.HTML(
                tag="div",
                unsafe_innerHTML="These settings have no scripted shock: nothing to amplify.",
                classes=["cl-help"],
            )
        if did_task.pending:
            solara.ProgressLinear(did_task.progress or True)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"running the arms: {did_task.progress or 0:.0f}%",
                classes=["cl-help", "cl-did-progress"],
            )
        elif did_task.error:
            solara.Error(f"the DiD failed: {did_task.exception}", classes=["cl-did-error"])
        elif did_task.finished and did_task.value is not None:
            cf, n, result = did_task.value
            solara.HTML(tag="div", unsafe_innerHTML=did_html(result, cf, n), classes=["cl-did"])
