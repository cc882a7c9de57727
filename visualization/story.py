"""The story strip: the top of the page says where the run stands and, in a few generated sentences, what
happened and why.

Everything in it is read from the model: the numbers from its last quarter's series (the opening books before
the first quarter) and its loss book; the sentences from its events (the shock, the first lender that stopped,
the first default), its spread series (the largest quarterly jump) and its loss book (which loop carried most of
the losses, who bore them), and, with the twin on, the difference from the counterfactual. Each sentence names
its quarter (or loop, or firm): clicking it sets the event log's filters there.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import solara

from economy import losses
from economy.events import quarter_label
from visualization.charts import model_series
from visualization.live import LiveRun
from visualization.style import LOOP_NAMES, usd_bn

LENDERS = ("banks", "private_credit", "bond_investors", "protection_sellers")
CREDIT_CLOSING = ("lender_stop", "gate", "vendor_stop")  # event kinds that say credit is closing


def loop_name(k: int) -> str:
    """``L2 (Oracle build-out)``; ``no loop`` for 0."""
    if k == 0:
        return "no loop"
    return f"L{k} ({LOOP_NAMES[k]})" if k in LOOP_NAMES else f"L{k}"


def defaulted_firms(model) -> list[tuple[str, int]]:
    """(firm, quarter of its first default) for each firm that has defaulted, in order: each firm once."""
    seen: dict[str, int] = {}
    for e in model.events.events:
        if e.kind == "default" and e.actor not in seen:
            seen[e.actor] = e.quarter
    return list(seen.items())


@dataclass(frozen=True)
class Sentence:
    text: str
    quarter: int | None = None  # the quarter it is about (the log jumps there)
    firm: str | None = None
    loop: int | None = None  # 0: no loop
    kind: str = ""  # what it says (for the page: data-kind)


def story_facts(run: LiveRun) -> list[tuple[str, str]]:
    """(label, value) pairs of the strip, from the last quarter's row of the series (the opening row before it)
    and the loss book."""
    if run.main is None:
        return [("quarter", "–")]
    with run.lock:
        series = model_series(run.main)
        failed = defaulted_firms(run.main)
        held = losses.by_holder(run.main, credit_only=True)
    row = {k: float(v[-1]) for k, v in series.items() if len(v)} or dict(run.main_opening or {})
    when = (
        f"{run.label} · quarter {run.quarters_done} of {run.horizon}"
        if run.quarters_done
        else "start, before 2025Q4"
    )

    def bn(key: str, suffix: str = "") -> str:
        x = row.get(key, math.nan)
        return "–" if not math.isfinite(x) else usd_bn(x) + suffix

    lender = sum(held[h] for h in LENDERS)
    parts = [f"{h.replace('_', ' ')} {usd_bn(held[h])}" for h in LENDERS if abs(held[h]) >= 0.005]
    return [
        ("quarter", when),
        ("capex", bn("capex", "/q")),
        ("AI revenue", bn("ai_revenue", "/q")),
        ("defaulted firms", f"{len(failed)}"),
        ("lender losses so far", usd_bn(lender) + (f" ({', '.join(parts)})" if parts else "")),
    ]


def story_sentences(run: LiveRun) -> list[Sentence]:
    """What happened and why, so far, in the order it happened (then the losses and the twin's difference)."""
    m = run.main
    if m is None or not run.quarters_done:
        return []
    out: list[Sentence] = []
    with run.lock:
        events = list(m.events.events)
        series = model_series(m)
        failed = defaulted_firms(m)
        by_loop = losses.by_loop(m)
        held = losses.by_holder(m)
        twin = run.twin
        twin_series = model_series(twin) if twin is not None else None
        twin_failed = defaulted_firms(twin) if twin is not None else None
        twin_held = losses.by_holder(twin, credit_only=True) if twin is not None else None
        held_credit = losses.by_holder(m, credit_only=True)
    shock = next((e for e in events if e.kind == "shock"), None)
    if shock is not None:
        out.append(
            Sentence(f"{shock.label}: {shock.text.removeprefix('Shock: ')}.", shock.quarter, kind="shock")
        )
    closing = next((e for e in events if e.kind in CREDIT_CLOSING), None)
    if closing is not None:
        out.append(
            Sentence(
                f"{closing.label}: financing starts to close: {closing.text}.",
                closing.quarter,
                closing.actor,
                kind="credit",
            )
        )
    hy = series.get("hy_spread")
    if hy is not None and len(hy) >= 2:
        jumps = np.diff(hy) * 1e4
        q = int(np.nanargmax(jumps)) + 1
        if jumps[q - 1] >= 10:
            quarter = int(series["quarter"][q])
            out.append(
                Sentence(
                    f"{quarter_label(quarter)}: HY spreads jump most, +{jumps[q - 1]:.0f} bp to {hy[q] * 1e4:.0f} bp.",
                    quarter,
                    kind="spreads",
                )
            )
    if failed:
        first, q = failed[0]
        others = [name for name, _ in failed[1:]]
        more = f"; then {', '.join(others)}" if others else ""
        out.append(
            Sentence(f"{quarter_label(q)}: {first} fails first{more}.", q, first, kind="first_default")
        )
    out.sort(key=lambda s: s.quarter)  # what happened, in the order it happened
    total = float(sum(by_loop.values()))
    if total >= 0.05:
        looped = {k: x for k, x in by_loop.items() if k > 0}
        if looped and max(looped.values()) > 0:
            k = max(looped, key=looped.get)
            x = float(looped[k])
            out.append(
                Sentence(
                    f"Loop {loop_name(k)} carried the most losses of any loop: {usd_bn(x)} of {usd_bn(total)} "
                    f"({100 * x / total:.0f}%; {100 * float(by_loop.get(0, 0.0)) / total:.0f}% in no loop).",
                    loop=k,
                    kind="loop",
                )
            )
        top = max(held, key=held.get)
        out.append(
            Sentence(
                f"{top.replace('_', ' ').capitalize()} bore the most: {usd_bn(held[top])} "
                f"({100 * held[top] / total:.0f}% of all losses).",
                kind="holder",
            )
        )
    if twin is not None and twin_series is not None and len(twin_series.get("capex", ())):
        n = min(len(series["capex"]), len(twin_series["capex"]))
        capex, capex_t = float(series["capex"][:n].sum()), float(twin_series["capex"][:n].sum())
        lost = sum(held_credit[h] for h in LENDERS)
        lost_t = sum(twin_held[h] for h in LENDERS)
        out.append(
            Sentence(
                f"Against the twin ({run.counterfactual}): capex so far {usd_bn(capex)} vs {usd_bn(capex_t)}, "
                f"lender losses {usd_bn(lost)} vs {usd_bn(lost_t)}, defaulted firms {len(failed)} vs "
                f"{len(twin_failed)}.",
                kind="twin",
            )
        )
    return out


def story_html(facts: list[tuple[str, str]]) -> str:
    return " · ".join(
        f"<span class='cl-story-fact' data-fact='{html.escape(k)}'>{html.escape(k)} "
        f"<b>{html.escape(x)}</b></span>"
        for k, x in facts
    )


def sentence_rows(sentences: list[Sentence]) -> list[dict]:
    """What the story template shows of each sentence (and where a click on it goes)."""
    return [
        {
            "text": x.text,
            "kind": x.kind,
            "quarter": "" if x.quarter is None else quarter_label(x.quarter),
            "firm": x.firm or "",
            "loop": "" if x.loop is None else f"L{x.loop}",
            "linked": x.quarter is not None or x.loop is not None or x.firm is not None,
        }
        for x in sentences
    ]


@solara.component_vue("story.vue")
def StoryTemplate(facts: str, sentences: list, event_pick: Callable[[int], None]):
    """The strip as one widget (a Vue template): a click on (or Enter in) a sentence calls ``event_pick``."""


@solara.component
def StoryStrip(run: LiveRun, counter: int, on_pick=None):
    """The current quarter in numbers, then what happened and why (each sentence a link into the log)."""
    frame = (run.quarters_done, run.twin.steps if run.twin is not None else -1, run.counterfactual)
    facts, sentences = solara.use_memo(lambda: (story_facts(run), story_sentences(run)), [run, frame])

    def pick(i: int) -> None:
        if on_pick is not None and 0 <= int(i) < len(sentences):
            on_pick(sentences[int(i)])

    StoryTemplate(facts=story_html(facts), sentences=sentence_rows(sentences), event_pick=pick)
