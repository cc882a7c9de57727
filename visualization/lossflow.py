"""Who lost what, through which loop: the loss book as flows from whose default or write-down it was (the
debtor, or the asset written down) to the holder category that bore it, each split by the loop tag of the contract
it came from. With the twin on, each holder's total beside the twin's (with − without the deals).

Drawn as an HTML stacked table (plotly is not a dependency): one row per flow (debtor → holder), a bar of one
segment per loop. Clicking a row filters the event log to its debtor; clicking a segment to its debtor and loop.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import solara

from economy import losses
from economy.losses import HOLDERS
from visualization.live import LiveRun
from visualization.style import LOOP_COLORS, usd_bn

MIN_BN = 0.005  # flows that round to 0.00bn are left out
NO_DEBTOR = "risk transfer (protection)"  # loss lines without a debtor: protection moving a bank's loss
SHOWN = 12


@dataclass(frozen=True)
class Flow:
    source: str  # the debtor (firm whose default or write-down it is), or what was written down
    holder: str  # a holder category (economy.losses.HOLDERS)
    by_loop: tuple[tuple[int, float], ...]  # (loop tag, USD bn), largest first
    total: float


def loss_flows(model) -> list[Flow]:
    """The run's loss book as flows (source → holder), each split by loop; largest first. Their totals sum to
    the loss book's total. (Plain loops over the book's columns: it runs every quarter, pandas costs ~10 ms.)"""
    if model is None or model.loss_book.n == 0:
        return []
    book, names = model.loss_book, model.ledger.names
    sums: dict[tuple[str, str], dict[int, float]] = {}
    categories: dict[tuple[int, int], str] = {}
    for holder, debtor, loop, kind, amount in zip(
        book.view("holder").tolist(),
        book.view("debtor").tolist(),
        book.view("loop").tolist(),
        book.view("kind").tolist(),
        book.view("amount").tolist(),
        strict=True,
    ):
        cat = categories.get((holder, kind))
        if cat is None:
            cat = categories[(holder, kind)] = losses.holder_category(model, holder, kind)
        source = names[debtor] if debtor >= 0 else NO_DEBTOR
        row = sums.setdefault((source, cat), {})
        row[loop] = row.get(loop, 0.0) + amount
    out = []
    for (source, holder), by in sums.items():
        parts = tuple(sorted(((k, x) for k, x in by.items() if abs(x) >= MIN_BN), key=lambda kx: -abs(kx[1])))
        if parts:
            out.append(Flow(source, holder, parts, float(sum(x for _, x in parts))))
    out.sort(key=lambda fl: -abs(fl.total))
    return out


def holder_totals(model) -> dict[str, float]:
    return losses.by_holder(model) if model is not None else dict.fromkeys(HOLDERS, 0.0)


def loop_label(k: int) -> str:
    return f"L{k}" if k else "no loop"


def flow_rows(flows: list[Flow]) -> list[dict]:
    """What the flow template draws: per flow its names, total and one segment per loop (width ~ amount)."""
    scale = max((abs(fl.total) for fl in flows), default=1.0) or 1.0
    rows = []
    for fl in flows:
        segments = []
        for loop, amount in fl.by_loop:
            width = max(100.0 * abs(amount) / scale, 0.6)
            segments.append(
                {
                    "loop": loop,
                    "label": loop_label(loop),
                    "text": loop_label(loop) if width > 9 else "",
                    "width": f"{width:.2f}%",
                    "color": LOOP_COLORS.get(loop, "#999"),
                    "title": f"{fl.source} → {fl.holder.replace('_', ' ')}, {loop_label(loop)}: {usd_bn(amount)}",
                }
            )
        rows.append(
            {
                "source": fl.source,
                "holder": fl.holder,
                "holder_text": fl.holder.replace("_", " "),
                "total": usd_bn(fl.total),
                "segments": segments,
            }
        )
    return rows


@solara.component_vue("lossflow.vue")
def FlowTable(flows: list, event_pick: Callable[[dict], None]):
    """The flows as one widget (a Vue template): a click on a row or a segment calls ``event_pick``."""


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
    # the loss books only grow: the flows change when a line is added (not every quarter)
    frame = (
        run.main.loss_book.n if run.main is not None else -1,
        run.twin.loss_book.n if run.twin is not None else -1,
        run.twin is not None,
        run.counterfactual,
    )

    def compute():
        with run.lock:
            flows = loss_flows(run.main)
            main = holder_totals(run.main)
            twin = holder_totals(run.twin) if run.twin is not None else None
        return flows, main, twin

    flows, main, twin = solara.use_memo(compute, [run, frame])
    rows = solara.use_memo(lambda: flow_rows(flows[:SHOWN]), [flows])
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
            FlowTable(
                flows=rows,
                event_pick=lambda data: on_pick(data["source"], data["loop"]),
            )
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
