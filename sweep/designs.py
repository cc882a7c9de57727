"""Global sensitivity designs (SALib): Morris elementary effects and Sobol' indices.

The sample is drawn once from the master seed over the parameters' ranges (the schema's ``lo``/``hi`` or the
grid file's); integer parameters are rounded when a point is run, and the unrounded sample is kept in
``design.parquet`` so the analysis sees exactly the matrix SALib produced. The model is stochastic: each design
point runs ``replicates`` seeds and the indices are computed on the mean over replicates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class DesignOptions(BaseModel):
    """A grid file's ``[design]`` table merged with the options ``--design``, ``--samples``, ``--levels`` and
    ``--second-order``. ``method`` and ``samples`` may be missing in the file (given on the command line);
    :func:`sweep.grid.build_spec` says so when they are missing from both."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: Literal["morris", "sobol"] | None = None
    samples: int | None = Field(default=None, ge=2)  # Morris trajectories / Sobol' base samples N
    levels: int = Field(default=4, ge=2)  # Morris grid levels (best even)
    second_order: bool = False  # Sobol' second-order indices


@dataclass(frozen=True)
class Design:
    method: str  # morris | sobol
    samples: int
    levels: int = 4
    second_order: bool = False
    ranges: tuple[tuple[str, float, float], ...] = ()

    @property
    def names(self) -> list[str]:
        return [r[0] for r in self.ranges]

    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.ranges),
            "names": self.names,
            "bounds": [[lo, hi] for _, lo, hi in self.ranges],
        }

    @property
    def n_points(self) -> int:
        """Counted, not sampled: the sweep's size limit is checked before any sample is drawn."""
        d = len(self.ranges)
        if self.method == "morris":
            return self.samples * (d + 1)
        return self.samples * ((2 * d + 2) if self.second_order else (d + 2))


def sample(design: Design, seed: int) -> np.ndarray:
    """The SALib sample matrix (points x parameters)."""
    problem = design.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy: "balance properties ... power of 2"; reported in the plan
        if design.method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, design.samples, num_levels=design.levels, seed=seed)
        from SALib.sample import sobol

        return sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=seed)


def design_notes(design: Design) -> list[str]:
    notes = []
    n = design.samples
    if design.method == "sobol" and n & (n - 1):
        notes.append(f"Sobol' samples = {n} is not a power of 2; convergence is best with 2^k (e.g. 64, 128)")
    if design.method == "morris" and design.levels % 2:
        notes.append(f"Morris levels = {design.levels} is odd; SALib recommends an even number")
    return notes


def analyze(design: Design, matrix: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices of one outcome ``y`` (one value per design point), one row per parameter."""
    problem = design.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design.method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(problem, matrix, y, num_levels=design.levels, seed=seed)
            keys = ("mu", "mu_star", "sigma", "mu_star_conf")
        else:
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=design.second_order, seed=seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        return pd.DataFrame(
            {"parameter": problem["names"], **{k: np.asarray(si[k], dtype=float) for k in keys}}
        )


def main_index(method: str) -> str:
    """The column that ranks parameters: mu_star (Morris) or ST (Sobol')."""
    return "mu_star" if method == "morris" else "ST"
