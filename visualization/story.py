"""The story strip: the top line of the page, where the run stands this quarter.

A slot for the fuller story strip that comes later; for now one line read from the model's series (or, before
the first quarter, from its opening books): quarter, capex, AI revenue, defaults and lender losses so far.
"""

from __future__ import annotations

import html
import math

import solara

from visualization.charts import model_series
from visualization.live import LiveRun
from visualization.style import usd_bn


def story_facts(run: LiveRun) -> list[tuple[str, str]]:
    """(label, value) pairs of the strip, from the last quarter's row of the series (the opening row before it)."""
    if run.main is None:
        return [("quarter", "–")]
    with run.lock:
        series = model_series(run.main)
    row = {k: float(v[-1]) for k, v in series.items() if len(v)} or dict(run.main_opening or {})
    when = (
        f"{run.label} · quarter {run.quarters_done} of {run.horizon}"
        if run.quarters_done
        else "start, before 2025Q4"
    )

    def bn(key: str, suffix: str = "") -> str:
        x = row.get(key, math.nan)
        return "–" if not math.isfinite(x) else usd_bn(x) + suffix

    defaults = row.get("defaults_cumulative", math.nan)
    return [
        ("quarter", when),
        ("capex", bn("capex", "/q")),
        ("AI revenue", bn("ai_revenue", "/q")),
        ("defaults so far", "–" if not math.isfinite(defaults) else f"{defaults:.0f}"),
        ("lender losses so far", bn("lender_losses_cumulative")),
    ]


def story_html(facts: list[tuple[str, str]]) -> str:
    return " · ".join(
        f"<span class='cl-story-fact' data-fact='{html.escape(k)}'>{html.escape(k)} "
        f"<b>{html.escape(x)}</b></span>"
        for k, x in facts
    )


@solara.component
def StoryStrip(run: LiveRun, counter: int):
    """The slot at the top of the page for the story strip (one line for now)."""
    solara.HTML(tag="div", unsafe_innerHTML=story_html(story_facts(run)), classes=["cl-story"])
