"""The task a worker runs: one sweep run (or twin run) from plain-data settings to result tables.

Everything arrives as task arguments (scenario overrides, shocks, the point's values, the seed): nothing is read
from the worker's environment or files, so the same function runs in a local process pool and on remote Dask
workers. The tables carry the run's id, point, replicate, seed, scenario and parameter values on every row.
"""

from __future__ import annotations

import hashlib
import os
import pkgutil
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

IDENT = ("run_id", "point", "replicate", "seed", "scenario", "circular")
DATASETS = ("series", "agents", "events", "summary")  # summary last: its file marks a run as finished
CODE_PACKAGES = ("accounting", "agents", "economy", "params")
CODE_MODULES = ("sweep.grid", "sweep.designs", "sweep.worker")  # the parts of sweep that decide numbers


@dataclass
class RunOutput:
    """What a worker sends back: each dataset as parquet-encoded bytes (encoding happens on the worker, so the
    process that writes the files stays nearly idle), or the error of a failed run."""

    run_id: int
    tables: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class BatchOutput:
    """What a worker sends back for a chunk of runs: each dataset of every run that finished, concatenated and
    encoded once (one file per dataset per chunk), and the errors of the runs that failed."""

    run_ids: list[int]
    tables: dict[str, bytes] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


class Chunk(list):
    """Tasks submitted together; ``run_id`` (its first run's) names it for engines that key tasks by run."""

    @property
    def run_id(self) -> int:
        return self[0].run_id


def chunks(tasks, total: int, workers: int, largest: int = 8):
    """``tasks`` in chunks of shrinking size (a quarter of each worker's share of what is left, at most
    ``largest``, at least 1), so submission costs little early and the workers finish together at the end."""
    it = iter(tasks)
    left = max(int(total), 0)
    while True:
        size = max(1, min(largest, left // max(4 * workers, 1)))
        chunk = Chunk(task for _, task in zip(range(size), it, strict=False))
        if not chunk:
            return
        left -= len(chunk)
        yield chunk


def execute_batch(config: dict[str, Any], tasks) -> BatchOutput:
    """Run a chunk of tasks; the tables of the runs that finished are concatenated per dataset and encoded once.
    Each run is computed exactly as :func:`execute` computes it (the same rows, in run order)."""
    start = time.perf_counter()
    done: list[int] = []
    parts: dict[str, list[pa.Table]] = {}
    errors: dict[int, str] = {}
    for task in tasks:
        try:
            tables = run_tables(config, task)
        except Exception:
            errors[task.run_id] = traceback.format_exc()
            continue
        done.append(task.run_id)
        for name, table in tables.items():
            parts.setdefault(name, []).append(table)
    encoded = {
        name: _encode(ts[0] if len(ts) == 1 else pa.concat_tables(ts, promote_options="permissive"))
        for name, ts in parts.items()
    }
    return BatchOutput(done, encoded, errors, time.perf_counter() - start)


def execute(config: dict[str, Any], task) -> RunOutput:
    """Run one task; exceptions come back as ``RunOutput.error`` (the sweep records them and carries on)."""
    start = time.perf_counter()
    try:
        tables = {name: _encode(table) for name, table in run_tables(config, task).items()}
    except Exception:
        return RunOutput(task.run_id, error=traceback.format_exc(), seconds=time.perf_counter() - start)
    return RunOutput(task.run_id, tables, seconds=time.perf_counter() - start)


def run_tables(config: dict[str, Any], task) -> dict[str, pa.Table]:
    """The run's tables (series, summary, and agents/events when asked), ids and parameters on every row."""
    from economy.metrics import AMPLIFIED
    from economy.runner import run_simulation, run_twin
    from params.loader import build_parameters, get_value

    params = build_parameters({**config["base"], **task.values}, tuple(config["shocks"]))
    scenario = config["scenario"]
    if config["twin"]:
        with_c, without, ratios = run_twin(params, task.seed, scenario=scenario, agents=config["agents"])
        results = [with_c, without]
    else:
        results = [run_simulation(params, task.seed, scenario=scenario, agents=config["agents"])]
        ratios = None
    values = {name: get_value(params, name) for name in config["columns"]}

    def head(circular: bool) -> dict[str, Any]:
        ident = (task.run_id, task.point, task.replicate, task.seed, scenario, circular)
        return {**dict(zip(IDENT, ident, strict=True)), **values}

    rows = []
    for r in results:
        row = head(r.circular)
        row.update(r.summary)
        if ratios is not None:
            for name, ratio in ratios.items():
                row[f"amp_{name}"] = float("nan") if ratio is None else float(ratio)
            for key, _label in AMPLIFIED.values():
                row[f"extra_{key}"] = float(results[0].summary[key] - results[1].summary[key])
        rows.append(row)
    tables = {"series": _frames([(head(r.circular), r.model_frame) for r in results])}
    if config["agents"]:
        tables["agents"] = _frames([(head(r.circular), r.agent_frame) for r in results])
    if config["events"]:
        tables["events"] = _frames([(head(r.circular), r.events) for r in results])
    tables["summary"] = pa.Table.from_pylist(rows)
    return {name: t for name, t in tables.items() if t.num_rows}


def _frames(parts: list[tuple[dict[str, Any], pd.DataFrame]]) -> pa.Table:
    """Identity and parameter columns, then the frame's own columns (without the duplicated ids)."""
    tables = []
    for head, df in parts:
        n = len(df)
        cols = {k: pa.array([v] * n, type=_arrow_type(v)) for k, v in head.items()}
        for c in df.columns:
            if c not in ("scenario", "seed", "circular"):
                cols[str(c)] = _column(df[c].to_numpy())
        tables.append(pa.table(cols))
    return pa.concat_tables(tables, promote_options="permissive")


def _arrow_type(v: Any) -> pa.DataType:
    if isinstance(v, bool):
        return pa.bool_()
    if isinstance(v, int):
        return pa.int64()
    if isinstance(v, float):
        return pa.float64()
    return pa.string()


def _column(a: np.ndarray) -> pa.Array:
    if a.dtype.kind in "fiub":
        return pa.array(a)
    return pa.array([None if x is None else str(x) for x in a.tolist()], type=pa.string())


def _encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def init_worker() -> None:
    """Process-pool initializer: die with the parent and leave Ctrl-C to it (the parent stops the sweep).

    With ``fork`` the parent's objects arrive frozen (see ``LocalEngine``), so collections here scan only what
    this worker allocates."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """A ``kill -9`` of the sweep must not leave workers behind (they would hold the pool's pipes forever)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
        if os.getppid() != parent:  # parent already gone between fork and prctl
            os._exit(1)
        return
    except (OSError, AttributeError):
        pass
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()


def ping(_: object = None) -> int:
    return os.getpid()


def code_version() -> str:
    """A hash of the source that decides the numbers: equal on every machine with equal code."""
    import importlib
    import importlib.util

    h = hashlib.sha256()
    for package in CODE_PACKAGES:
        module = importlib.import_module(package)
        names = sorted(m.name for m in pkgutil.walk_packages(module.__path__, f"{package}."))
        for name in [package, *names, *(CODE_MODULES if package == "params" else ())]:
            found = importlib.util.find_spec(name)
            loader = found.loader if found is not None else None
            source = loader.get_source(name) if hasattr(loader, "get_source") else None
            h.update(name.encode() + b"\0" + (source or "").encode())
    return h.hexdigest()[:12]
