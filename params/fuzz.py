"""Random parameter sets drawn over the whole declared schema, and what a run on one must satisfy (issue 14).

A draw sets every parameter uniformly in its declared range (integers uniformly over their whole range, switches
at random), with 0-3 random shocks of random kinds, sizes within their kind's range, quarters within the horizon
and durations of 1-8 quarters for the kinds that last. Two families of parameters are drawn over narrower ranges, so that a thousand draws
run in minutes rather than days, and the report says so: the horizon ``run.quarters`` over 1-40 quarters (the long
horizons have their own profile: :data:`LONG`), and the population counts over 0-30 synthetic firms of each type
(the population's own tests and benchmarks cover thousands). ``run.check_invariants`` is always on: it is what the
draw tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from params.schema import SHOCK_KINDS, parameter_specs

QUARTERS = (1, 40)
LONG = (100, 120)
POPULATION_MAX = 30
POPULATION_COUNTS = (
    "population.neoclouds",
    "population.ai_labs",
    "population.hyperscalers",
    "population.funds",
    "population.banks",
)


def draw(
    rng: np.random.Generator, *, quarters: tuple[int, int] = QUARTERS
) -> tuple[dict[str, Any], list[dict]]:
    """One parameter set (dotted overrides) and its shocks."""
    overrides: dict[str, Any] = {}
    for s in parameter_specs():
        if s.type is bool:
            overrides[s.name] = bool(rng.integers(0, 2))
        elif s.type is int:
            lo, hi = int(s.lo), int(s.hi)
            if s.name in POPULATION_COUNTS:
                hi = min(hi, POPULATION_MAX)
            overrides[s.name] = int(rng.integers(lo, hi + 1))
        else:
            overrides[s.name] = float(rng.uniform(s.lo, s.hi))
    overrides["run.quarters"] = int(rng.integers(quarters[0], quarters[1] + 1))
    overrides["run.check_invariants"] = True
    shocks = []
    for _ in range(int(rng.integers(0, 4))):
        kind = SHOCK_KINDS[str(rng.choice(sorted(SHOCK_KINDS)))]
        size = float(rng.uniform(kind.lo, kind.hi))
        if kind.lo_open and size <= kind.lo:
            size = kind.hi
        shock = {"kind": kind.name, "quarter": int(rng.integers(0, overrides["run.quarters"])), "size": size}
        if kind.windowed:  # a one-off shock has no duration
            shock["duration"] = int(rng.integers(1, 9))
        shocks.append(shock)
    return overrides, shocks
