"""One arm of the app's difference-in-differences, in a module that imports only the model: the twin panel's
worker process loads this, not Solara."""

from __future__ import annotations

from economy import amplify
from economy.runner import run_simulation
from params.schema import Parameters


def arm_metrics(params: dict, seed: int, window_start: int) -> dict[str, float]:
    """The run metrics of one arm (economy/amplify.py: run_metrics) for these parameters (``model_dump()``: the
    schema's classes are made at import and do not pickle) and seed."""
    p = Parameters.model_validate(params)
    return amplify.run_metrics(run_simulation(p, seed, agents=False), window_start)
