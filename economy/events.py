"""The event log: what happened, in words and in fields (quarter, kind, actor, counterparty, amount)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def quarter_label(q: int) -> str:
    """Quarter index 0 is 2025Q4."""
    year, idx = divmod(2025 * 4 + 3 + q, 4)
    return f"{year}Q{idx + 1}"


def quarter_year(q: int) -> int:
    return (2025 * 4 + 3 + q) // 4


@dataclass(frozen=True)
class Event:
    quarter: int
    kind: str
    actor: str
    counterparty: str
    amount_usd_bn: float
    text: str

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


class EventLog:
    def __init__(self):
        self.events: list[Event] = []

    def add(
        self, quarter: int, kind: str, actor: str, text: str, counterparty: str = "", amount: float = 0.0
    ) -> None:
        self.events.append(Event(quarter, kind, actor, counterparty, float(amount), text))

    def frame(self) -> pd.DataFrame:
        cols = ["quarter", "label", "kind", "actor", "counterparty", "amount_usd_bn", "text"]
        if not self.events:
            return pd.DataFrame([], columns=cols)
        ev = self.events
        quarters = [e.quarter for e in ev]
        labels = {q: quarter_label(q) for q in set(quarters)}
        return pd.DataFrame(
            {
                "quarter": quarters,
                "label": [labels[q] for q in quarters],
                "kind": [e.kind for e in ev],
                "actor": [e.actor for e in ev],
                "counterparty": [e.counterparty for e in ev],
                "amount_usd_bn": [e.amount_usd_bn for e in ev],
                "text": [e.text for e in ev],
            },
            columns=cols,
        )

    def newest_first(self, limit: int = 200) -> list[Event]:
        return self.events[::-1][:limit]

    def __len__(self) -> int:
        return len(self.events)
