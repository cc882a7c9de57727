"""Population mode: synthetic firms drawn around the calibrated ones (docs/ODD.md, "Population mode")."""

from __future__ import annotations


def add_population(model) -> None:
    """Add the synthetic firms the parameters ask for (none by default)."""
    pop = model.p.population
    if not (pop.neoclouds or pop.ai_labs or pop.hyperscalers or pop.funds or pop.banks):
        return
    raise NotImplementedError("population mode is built in model/population.py")
