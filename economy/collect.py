"""Collecting a run's series: the lean path of the CLI and sweeps, and Mesa's DataCollector for the app.

:class:`LeanCollector` writes each quarter's model series (``model.metrics``, computed once per quarter by
:func:`economy.metrics.quarter_metrics`) as one row of a preallocated float array and, only when asked, keeps the
agents' rows as plain tuples; the tables are built once, at the end of the run. :class:`MesaCollector` is Mesa's
DataCollector with the same reporters (a list per series per quarter and a deep copy of every value), which the
app reads while it runs. Both give the same frames, value for value and dtype for dtype
(``tests/test_collect.py``).
"""

from __future__ import annotations

from operator import attrgetter

import mesa
import numpy as np
import pandas as pd

from economy.metrics import MODEL_SERIES

AGENT_SERIES = {
    "name": "name",
    "type": "type_label",
    "cash": "cash",
    "debt": "debt",
    "equity": "equity",
    "valuation": "valuation",
    "capex": "capex_q",
    "revenue": "revenue_q",
    "in_default": "in_default",
    "liquidated": "liquidated",
    "credit_spread": "credit_spread",
    "debtrank": "debtrank",
}
COLLECTORS = ("lean", "datacollector")


class LeanCollector:
    """Model series in a preallocated ``(quarters, series)`` float array; agents' rows only when asked."""

    def __init__(self, quarters: int, agents: bool):
        self.names = MODEL_SERIES
        self.series = np.empty((max(int(quarters), 1), len(self.names)))
        self.n = 0
        self.agents = agents
        self._values = attrgetter(*AGENT_SERIES.values())
        self._agent_rows: list[tuple] = []

    def collect(self, model) -> None:
        if self.n == self.series.shape[0]:  # stepped past the horizon (the app may): grow by doubling
            self.series = np.concatenate((self.series, np.empty_like(self.series)))
        metrics = model.metrics
        self.series[self.n] = [metrics[k] for k in self.names]
        self.n += 1
        if self.agents:
            values, time = self._values, model.time
            self._agent_rows.extend((time, a.unique_id, *values(a)) for a in model.agents)

    @property
    def model_vars(self) -> dict[str, list[float]]:
        """The series so far, as the DataCollector's ``model_vars`` (a list per series)."""
        return {k: self.series[: self.n, j].tolist() for j, k in enumerate(self.names)}

    def model_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.series[: self.n].copy(), columns=list(self.names))

    def agent_frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(
            data=self._agent_rows,
            columns=["Step", "AgentID", *AGENT_SERIES],
            index=["Step", "AgentID"],
        )


class MesaCollector(mesa.DataCollector):
    """Mesa's DataCollector with the model's reporters (what the app reads as the run goes)."""

    def __init__(self, agents: bool):
        super().__init__(
            model_reporters={k: (lambda m, k=k: m.metrics[k]) for k in MODEL_SERIES},
            agent_reporters=AGENT_SERIES if agents else {},
        )

    def model_frame(self) -> pd.DataFrame:
        return self.get_model_vars_dataframe()

    def agent_frame(self) -> pd.DataFrame:
        return self.get_agent_vars_dataframe()


def make_collector(kind: str, quarters: int, agents: bool):
    if kind == "lean":
        return LeanCollector(quarters, agents)
    if kind == "datacollector":
        return MesaCollector(agents)
    raise ValueError(f"collector: value {kind!r} is not allowed; allowed: {', '.join(COLLECTORS)}")
