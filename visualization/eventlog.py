"""The event log panel: what happened, newest first, filtered by kind, by firm and by text.

The log says which quarter it shows (``data-quarter``), and is rendered from the same ``counter`` as the charts:
see :func:`visualization.panels.LivePanels` for why it sits before them in the page's widget tree.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import solara

from economy.events import Event
from visualization.live import LiveRun

ALL_KINDS = "all kinds"
ALL_FIRMS = "all firms"
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
    events: Sequence[Event], kind: str | None = None, firm: str | None = None, query: str = ""
) -> list[Event]:
    """The events of one kind (None or ALL_KINDS: any), with ``firm`` as actor or counterparty (None or ALL_FIRMS:
    any) and containing ``query`` in their text, kind or quarter label (case-insensitive)."""
    q = query.lower()
    return [
        e
        for e in events
        if (kind in (None, ALL_KINDS) or e.kind == kind)
        and (firm in (None, ALL_FIRMS) or firm in (e.actor, e.counterparty))
        and (not q or q in e.text.lower() or q in e.kind.lower() or q in e.label.lower())
    ]


def events_html(events: Sequence[Event], limit: int = SHOWN) -> str:
    items = []
    for e in events[:limit]:
        stress = any(w in e.kind for w in STRESS_WORDS)
        items.append(
            f"<li class='cl-ev{' cl-ev-stress' if stress else ''}' data-kind='{html.escape(e.kind)}' "
            f"data-firms='{html.escape(e.actor)}|{html.escape(e.counterparty)}'>"
            f"<span class='cl-ev-q'>{e.label}</span> {html.escape(e.text)}</li>"
        )
    return "".join(items)


def log_quarter(run: LiveRun) -> str:
    """The quarter the log is up to, as the charts and the story strip name it."""
    return run.label if run.quarters_done else "start"


@solara.component
def EventList(run: LiveRun, counter: int, which: str, kind: str, firm: str, query: str, limit: int, on_more):
    model = run.twin if which == "twin" and run.twin is not None else run.main
    with run.lock:
        events = [] if model is None else model.events.newest_first(len(model.events))
    shown = filter_events(events, kind, firm, query)
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
        f"<ol class='cl-event-log'>{events_html(shown, limit)}</ol>",
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
def EventLog(run: LiveRun, counter: int):
    which, set_which = solara.use_state("run")
    kind, set_kind = solara.use_state(ALL_KINDS)
    firm, set_firm = solara.use_state(ALL_FIRMS)
    query, set_query = solara.use_state("")
    limit, set_limit = solara.use_state(SHOWN)
    model = run.twin if which == "twin" and run.twin is not None else run.main
    with run.lock:
        kinds = event_kinds(model.events.events) if model is not None else []
    firms = solara.use_memo(lambda: [f.name for f in run.main.firms] if run.main is not None else [], [run])
    with solara.Card(classes=["cl-events-card"], style={"padding": "6px 10px"}):
        with solara.Row(style={"align-items": "center", "gap": "8px", "flex-wrap": "wrap"}):
            solara.Text("Event log", style={"font-weight": "600"})
            solara.ToggleButtonsSingle(value=which, values=["run", "twin"], on_value=set_which, dense=True)
        with solara.Row(style={"align-items": "center", "gap": "8px"}, classes=["cl-event-filters"]):
            for label, choices, value, set_value in (
                ("kind", [ALL_KINDS, *kinds], kind, set_kind),
                ("firm", [ALL_FIRMS, *firms], firm, set_firm),
            ):
                solara.Select(
                    label,
                    values=choices,
                    value=value,
                    on_value=set_value,
                    dense=True,
                    classes=[f"cl-event-{label}"],
                )
        solara.InputText(
            "text", value=query, on_value=set_query, continuous_update=False, classes=["cl-event-text"]
        )
        EventList(run, counter, which, kind, firm, query, limit, lambda: set_limit(limit + 4 * SHOWN))
