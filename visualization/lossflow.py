"""Who lost what, through which loop: the loss book as flows from whose default or write-down it was (the
debtor, or the asset written down) to the holder category that bore it, each split by the loop tag of the contract
it came from. With the twin on, each holder's total beside the twin's (with − without the deals).

Drawn as an HTML stacked table (plotly is not a dependency): one row per flow (debtor → holder), a bar of one
segment per loop. Clicking a row filters the event log to its debtor; clicking a segment to its debtor and loop.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import solara
from reacton.ipyvue import use_event
from solara.alias import rv

from economy import losses
from economy.losses import HOLDERS
from visualization.live import LiveRun
from visualization.style import LOOP_COLORS, usd_bn

MIN_BN = 0.005  # flows that round to 0.00bn are left out
SHOWN = 12


@dataclass(frozen=True)
class Flow:
    source: str  # the debtor (firm whose default or write-down it is), or what was written down
    holder: str  # a holder category (economy.losses.HOLDERS)
    by_loop: tuple[tuple[int, float], ...]  # (loop tag, USD bn), largest first
    total: float


def loss_flows(model) -> list[Flow]:
    """The run's loss book as flows (source → holder), each split by loop; largest first. Their totals sum to
    the loss book's total."""
    if model is None or model.loss_book.n == 0:
        return []
    f = losses.frame(model)
    f["source"] = f["debtor"].where(f["debtor"] != "", "risk transfer (protection)")
    out = []
    for (source, holder), g in f.groupby(["source", "holder_category"], sort=False):
        by = g.groupby("loop")["amount_usd_bn"].sum()
        by = by[by.abs() >= MIN_BN]
        if by.empty:
            continue
        parts = tuple(sorted(((int(k), float(x)) for k, x in by.items()), key=lambda kx: -abs(kx[1])))
        out.append(Flow(str(source), str(holder), parts, float(sum(x for _, x in parts))))
    out.sort(key=lambda fl: -abs(fl.total))
    return out


def holder_totals(model) -> dict[str, float]:
    return losses.by_holder(model) if model is not None else dict.fromkeys(HOLDERS, 0.0)


def loop_label(k: int) -> str:
    return f"L{k}" if k else "no loop"


@solara.component
def Segment(flow: Flow, loop: int, amount: float, scale: float, on_pick):
    width = max(100.0 * abs(amount) / scale, 0.6)
    el = rv.Html(
        tag="span",
        children=[loop_label(loop) if width > 9 else ""],
        class_="cl-flow-seg",
        style_=f"width: {width:.2f}%; background: {LOOP_COLORS.get(loop, '#999')};",
        attributes={
            "title": f"{flow.source} → {flow.holder.replace('_', ' ')}, {loop_label(loop)}: {usd_bn(amount)}",
            "data-loop": loop_label(loop),
        },
    )
    use_event(el, "click.stop", lambda *_: on_pick(flow.source, loop))
    return el


@solara.component
def FlowRow(flow: Flow, scale: float, on_pick):
    with rv.Html(
        tag="div",
        class_="cl-flow",
        attributes={
            "data-source": flow.source,
            "data-holder": flow.holder,
            "role": "button",
            "tabindex": "0",
        },
    ) as row:
        solara.HTML(
            tag="span",
            unsafe_innerHTML=f"{html.escape(flow.source)} → {html.escape(flow.holder.replace('_', ' '))}",
            classes=["cl-flow-name"],
        )
        with rv.Html(tag="span", class_="cl-flow-bar"):
            for loop, amount in flow.by_loop:
                Segment(flow, loop, amount, scale, on_pick)
        solara.HTML(tag="span", unsafe_innerHTML=usd_bn(flow.total), classes=["cl-flow-total", "num"])
    use_event(row, "click", lambda *_: on_pick(flow.source, None))


def versus_html(main: dict[str, float], twin: dict[str, float], counterfactual: str) -> str:
    rows = "".join(
        f"<tr data-holder='{h}'><td>{h.replace('_', ' ')}</td><td class='num'>{usd_bn(main[h])}</td>"
        f"<td class='num'>{usd_bn(twin[h])}</td><td class='num'>{usd_bn(main[h] - twin[h])}</td></tr>"
        for h in HOLDERS
        if abs(main[h]) >= MIN_BN or abs(twin[h]) >= MIN_BN
    )
    return (
        f"<table class='cl-contracts cl-flow-versus'><tr><th>holder</th><th class='num'>with deals</th>"
        f"<th class='num'>twin: {html.escape(counterfactual)}</th><th class='num'>difference</th></tr>{rows}</table>"
    )


@solara.component
def LossFlowPanel(run: LiveRun, counter: int, on_pick):
    """Who lost what, through which loop (and, with the twin, how much of it the deals added)."""
    frame = (run.quarters_done, run.twin.steps if run.twin is not None else -1, run.counterfactual)

    def compute():
        with run.lock:
            flows = loss_flows(run.main)
            main = holder_totals(run.main)
            twin = holder_totals(run.twin) if run.twin is not None else None
        return flows, main, twin

    flows, main, twin = solara.use_memo(compute, [run, frame])
    with solara.Card(classes=["cl-lossflow"], style={"padding": "6px 10px"}):
        solara.Text("Who lost what, through which loop", style={"font-weight": "600"})
        solara.HTML(
            tag="div",
            unsafe_innerHTML="From whose default or write-down (left) to who bore the loss, split by the loop of the "
            "contract it came from. Click a row or a loop to see its events in the log.",
            classes=["cl-help"],
        )
        if not flows:
            solara.HTML(tag="div", unsafe_innerHTML="No losses yet.", classes=["cl-help", "cl-flow-empty"])
        else:
            scale = max(abs(fl.total) for fl in flows)
            for fl in flows[:SHOWN]:
                FlowRow(fl, scale, on_pick)
            if len(flows) > SHOWN:
                rest = sum(fl.total for fl in flows[SHOWN:])
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"… and {len(flows) - SHOWN} smaller flows, {usd_bn(rest)} in all",
                    classes=["cl-help"],
                )
            used = sorted({k for fl in flows[:SHOWN] for k, _ in fl.by_loop})
            legend = "".join(
                f"<span class='cl-flow-key'><i style='background:{LOOP_COLORS.get(k, '#999')}'></i>{loop_label(k)}</span>"
                for k in used
            )
            solara.HTML(tag="div", unsafe_innerHTML=legend, classes=["cl-flow-legend"])
        if twin is not None:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=versus_html(main, twin, run.counterfactual),
                classes=["cl-flow-twin"],
            )
