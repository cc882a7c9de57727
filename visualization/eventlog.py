"""The event log panel: what happened, newest first, filtered by kind, firm, loop, quarter and text.

The log says which quarter it shows (``data-quarter``), and is rendered from the same ``counter`` as the charts:
see :func:`visualization.panels.LivePanels` for why it sits before them in the page's widget tree.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import solara

from economy.events import Event
from visualization.live import LiveRun

ALL_KINDS = "all kinds"
ALL_FIRMS = "all firms"
ALL_LOOPS = "all loops"
NO_LOOP = "no loop"
ALL_QUARTERS = "all quarters"
LOOP_CHOICES = [ALL_LOOPS, *(f"L{k}" for k in range(1, 11)), NO_LOOP]
# a money amount that reads as zero ("0.00bn", "0.0bn"): such an event says nothing happened
ZERO_MONEY = re.compile(r"(?<![\d.])0\.0+bn\b")


@dataclass(frozen=True)
class LogFilter:
    """What the log shows; the story strip and the loss flows set it too (a click jumps to the events)."""

    kind: str = ALL_KINDS
    firm: str = ALL_FIRMS
    loop: str = ALL_LOOPS
    quarter: str = ALL_QUARTERS
    query: str = ""

    def with_(self, **changes) -> LogFilter:
        return replace(self, **changes)


def shown_events(events: Sequence[Event]) -> list[Event]:
    """The events worth reading: those whose text does not state a zero amount of money."""
    return [e for e in events if not ZERO_MONEY.search(e.text)]


def event_loops(model, events: Sequence[Event]) -> list[tuple[int, ...]]:
    """The circular loops (1-10) each event belongs to: the loop tags of the contracts between its actor and its
    counterparty, and of the losses booked on its actor in its quarter (e.g. a default's write-downs)."""
    if model is None or not events:
        return [() for _ in events]
    c, names = model.ledger.contracts, model.ledger.names
    loop = c.view("loop")
    pairs: dict[tuple[str, str], set[int]] = {}
    for i in np.flatnonzero(loop > 0).tolist():
        a, b, k = names[int(c.view("creditor")[i])], names[int(c.view("debtor")[i])], int(loop[i])
        pairs.setdefault((a, b), set()).add(k)
        pairs.setdefault((b, a), set()).add(k)
    book = model.loss_book
    losses: dict[tuple[int, str], set[int]] = {}
    for q, d, k, x in zip(
        book.view("quarter").tolist(),
        book.view("debtor").tolist(),
        book.view("loop").tolist(),
        book.view("amount").tolist(),
        strict=True,
    ):
        if k > 0 and d >= 0 and abs(x) >= 0.005:
            losses.setdefault((q, names[d]), set()).add(k)
    return [
        tuple(sorted(pairs.get((e.actor, e.counterparty), set()) | losses.get((e.quarter, e.actor), set())))
        for e in events
    ]


def loop_matches(loops: tuple[int, ...], loop: str | None) -> bool:
    if loop in (None, ALL_LOOPS):
        return True
    if loop == NO_LOOP:
        return not loops
    return int(loop.lstrip("L")) in loops


# Newest events written into the page; more on request. The log's update goes to the page before the chart
# images (see LivePanels), so its size is on the path of every Step: 200 events (~40 kB) cost ~50 ms there.
SHOWN = 50
STRESS_WORDS = (
    "default",
    "liquidat",
    "restructur",
    "margin",
    "covenant",
    "gate",
    "stop",
    "shock",
    "short_payment",
)


def event_kinds(events: Iterable[Event]) -> list[str]:
    """The kinds that occur in ``events``, sorted (the kind filter's choices)."""
    return sorted({e.kind for e in events})


def filter_events(
    events: Sequence[Event],
    kind: str | None = None,
    firm: str | None = None,
    query: str = "",
    loop: str | None = None,
    loops: Sequence[tuple[int, ...]] | None = None,
    quarter: str | None = None,
) -> list[Event]:
    """The events of one kind (None or ALL_KINDS: any), with ``firm`` as actor or counterparty (None or ALL_FIRMS:
    any), of loop ``loop`` ("L3", NO_LOOP; None or ALL_LOOPS: any; ``loops`` gives each event's loops), in quarter
    ``quarter`` (a label; None or ALL_QUARTERS: any) and containing ``query`` in their text, kind or quarter label
    (case-insensitive)."""
    q = query.lower()
    loops = loops if loops is not None else [()] * len(events)
    return [
        e
        for e, ls in zip(events, loops, strict=True)
        if (kind in (None, ALL_KINDS) or e.kind == kind)
        and (firm in (None, ALL_FIRMS) or firm in (e.actor, e.counterparty))
        and loop_matches(ls, loop)
        and (quarter in (None, ALL_QUARTERS) or e.label == quarter)
        and (not q or q in e.text.lower() or q in e.kind.lower() or q in e.label.lower())
    ]


def events_html(
    events: Sequence[Event], limit: int = SHOWN, loops: dict[int, tuple[int, ...]] | None = None
) -> str:
    items = []
    loops = loops or {}
    for e in events[:limit]:
        stress = any(w in e.kind for w in STRESS_WORDS)
        ls = loops.get(id(e), ())
        tag = f" <span class='cl-ev-loop'>{','.join(f'L{k}' for k in ls)}</span>" if ls else ""
        items.append(
            f"<li class='cl-ev{' cl-ev-stress' if stress else ''}' data-kind='{html.escape(e.kind)}' "
            f"data-firms='{html.escape(e.actor)}|{html.escape(e.counterparty)}' "
            f"data-loops='{','.join(f'L{k}' for k in ls)}' data-quarter='{e.label}'>"
            f"<span class='cl-ev-q'>{e.label}</span> {html.escape(e.text)}{tag}</li>"
        )
    return "".join(items)


def log_quarter(run: LiveRun) -> str:
    """The quarter the log is up to, as the charts and the story strip name it."""
    return run.label if run.quarters_done else "start"


@solara.component
def EventList(run: LiveRun, counter: int, which: str, flt: LogFilter, limit: int, on_more):
    model = run.twin if which == "twin" and run.twin is not None else run.main
    with run.lock:
        events = [] if model is None else shown_events(model.events.newest_first(len(model.events)))
        loops = event_loops(model, events)
    shown = filter_events(events, flt.kind, flt.firm, flt.query, flt.loop, loops, flt.quarter)
    by_id = {id(e): ls for e, ls in zip(events, loops, strict=True)}
    filtered = len(shown) != len(events)
    if not events:
        note = "Nothing has happened yet."
    elif not shown:
        note = f"{len(events)} events; none matches."
    else:
        note = f"{len(events)} events{f', {len(shown)} match' if filtered else ''}; newest first"
    quarter = log_quarter(run)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<div class='cl-help cl-event-count' data-quarter='{quarter}'>Up to "
        f"<b class='cl-event-quarter'>{quarter}</b>: {note}</div>"
        f"<ol class='cl-event-log'>{events_html(shown, limit, by_id)}</ol>",
        classes=["cl-events"],
    )
    if len(shown) > limit:
        solara.Button(
            "show older events",  # no count in the label: a label that changes is one more update per Step
            on_click=on_more,
            text=True,
            small=True,
            classes=["cl-event-more"],
        )


@solara.component
def EventLog(run: LiveRun, counter: int, log_filter: solara.Reactive[LogFilter] | None = None):
    which, set_which = solara.use_state("run")
    own = solara.use_reactive(LogFilter())
    log_filter = own if log_filter is None else log_filter
    flt = log_filter.value
    limit, set_limit = solara.use_state(SHOWN)
    model = run.twin if which == "twin" and run.twin is not None else run.main
    with run.lock:
        kinds = event_kinds(model.events.events) if model is not None else []
        quarters = sorted({e.label for e in model.events.events}) if model is not None else []
    firms = solara.use_memo(lambda: [f.name for f in run.main.firms] if run.main is not None else [], [run])

    def setter(field: str):
        return lambda value: log_filter.set(log_filter.value.with_(**{field: value}))

    with solara.Card(classes=["cl-events-card"], style={"padding": "6px 10px"}):
        with solara.Row(style={"align-items": "center", "gap": "8px", "flex-wrap": "wrap"}):
            solara.Text("Event log", style={"font-weight": "600"})
            solara.ToggleButtonsSingle(value=which, values=["run", "twin"], on_value=set_which, dense=True)
            if flt != LogFilter():
                solara.Button(
                    "clear filters",
                    on_click=lambda: log_filter.set(LogFilter()),
                    text=True,
                    small=True,
                    classes=["cl-event-clear"],
                )
        with solara.Div(classes=["cl-event-filters"]):
            for label, choices, value in (
                ("kind", [ALL_KINDS, *kinds], flt.kind),
                ("firm", [ALL_FIRMS, *firms], flt.firm),
                ("loop", LOOP_CHOICES, flt.loop),
                (
                    "quarter",
                    [
                        ALL_QUARTERS,
                        *quarters,
                        *(
                            [flt.quarter]
                            if flt.quarter not in quarters and flt.quarter != ALL_QUARTERS
                            else []
                        ),
                    ],
                    flt.quarter,
                ),
            ):
                solara.Select(
                    label,
                    values=choices,
                    value=value,
                    on_value=setter(label),
                    dense=True,
                    classes=[f"cl-event-{label}"],
                )
        solara.InputText(
            "text",
            value=flt.query,
            on_value=setter("query"),
            continuous_update=False,
            classes=["cl-event-text"],
        )
        EventList(run, counter, which, flt, limit, lambda: set_limit(limit + 4 * SHOWN))
