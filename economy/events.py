"""The event log: what happened, in words and in fields (quarter, kind, actor, counterparty, amount)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

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
        rows = [{**asdict(e), "label": e.label} for e in self.events]
        return pd.DataFrame(rows, columns=cols)

    def newest_first(self, limit: int = 200) -> list[Event]:
        return self.events[::-1][:limit]

    def __len__(self) -> int:
        return len(self.events)
