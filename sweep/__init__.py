"""Batch sweeps of creditloop: grids and SALib designs, run locally or on Dask, streamed to parquet.

Command line: ``python run.py sweep ...`` and ``python run.py report DIR`` (see README.md, "Batch sweeps and sensitivity analysis").
From Python::

    from sweep import build_spec, run_sweep, LocalEngine, read_dataset
    spec = build_spec(sets=["demand.ai_growth_initial_annual=0.2,0.8"], replicates=3, quarters=12)
    run_sweep(spec, "sweeps/growth", LocalEngine(2))
    summary = read_dataset("sweeps/growth", "summary")

The names below are imported lazily, so a Dask worker that imports :mod:`sweep.worker` does not pull in the
driver's dependencies (rich, distributed, SALib).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DaskEngine": "sweep.engines",
    "InProcessEngine": "sweep.engines",
    "LocalEngine": "sweep.engines",
    "make_engine": "sweep.engines",
    "SweepSpec": "sweep.grid",
    "build_spec": "sweep.grid",
    "SweepOutcome": "sweep.runner",
    "run_sweep": "sweep.runner",
    "SweepError": "sweep.store",
    "read_dataset": "sweep.store",
    "read_manifest": "sweep.store",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sweep' has no attribute {name!r}")
