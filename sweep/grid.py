"""What a sweep runs: the grid (or design), its points, replicates and per-run seeds.

A sweep is described once, by :class:`SweepSpec`, built from a grid TOML file and/or the ``run.py sweep``
options. Everything is checked against the one parameter schema (:mod:`params.schema`) before any run starts:
unknown names, out-of-range values, empty value lists and malformed files raise :class:`ParameterError` naming
the field and what is allowed.

Grid file format (every key optional)::

    description = "why this sweep"
    scenario = "baseline"            # or scenario_file = "my_scenario.toml" (relative to this file)
    quarters = 12                    # run.quarters for every run
    replicates = 3                   # seeds per point
    seed = 7                         # master seed
    common_seeds = false             # true: replicate r uses the same seed at every point
    twin = false                     # run each point with and without circular financing

    [params]                         # lists and ranges are swept (full factorial); scalars are fixed
    "demand.ai_growth_initial_annual" = [0.2, 0.45, 0.8]
    "lenders.fund_stress_loss_rate" = { start = 0.01, stop = 0.05, num = 5 }
    "technology.build_lag_quarters" = { start = 2, stop = 8, step = 2 }
    "circular.circular_financing" = [true, false]
    "credit.reference_rate_annual" = 0.05          # fixed

    [design]                         # instead of a factorial grid: a SALib design
    method = "morris"                # or "sobol"
    samples = 20                     # Morris trajectories / Sobol base samples N
    levels = 4                       # Morris grid levels
    second_order = false             # Sobol second-order indices
    # with a design, [params] gives ranges: { lo = 0.1, hi = 0.9 } or "schema" (the schema's range)

Seeds: run ``(point, replicate)`` gets the first 32-bit word of
``numpy.random.SeedSequence(seed, spawn_key=(point, replicate))`` (the same as
``SeedSequence(seed).spawn(...)[point].spawn(...)[replicate]``), so a run's seed depends only on the master seed
and its position in the sweep, never on which worker ran it or when. With ``common_seeds`` the key is
``(replicate,)``: every point sees the same random draws (common random numbers), which sharpens comparisons
between points.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from params.loader import (
    ParameterError,
    build_parameters,
    check_names,
    get_value,
    load_scenario,
    read_scenario_file,
    read_toml,
)
from params.schema import parameter_specs, spec
from sweep.designs import Design, sample

FORMAT = "creditloop-sweep/1"
GRID_KEYS = (
    "description",
    "scenario",
    "scenario_file",
    "quarters",
    "replicates",
    "seed",
    "common_seeds",
    "twin",
    "agents",
    "events",
    "params",
    "design",
)
DESIGN_KEYS = ("method", "samples", "levels", "second_order")
DESIGN_METHODS = ("morris", "sobol")
GRID_RANGE_KEYS = frozenset({"start", "stop", "num", "step"})
DESIGN_RANGE_KEYS = frozenset({"lo", "hi"})
MAX_RUNS = 50_000_000


# ----------------------------------------------------------------------------------------------------------
# Entries: what the user said about one parameter, before it is checked against the schema
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One parameter's setting as written: ``kind`` is list, linspace, arange, range, schema or fixed."""

    kind: str
    args: tuple
    where: str  # "grid.toml: params." or "--set " for messages


def entry_from_toml(value: Any, where: str) -> Entry:
    if isinstance(value, list):
        return Entry("list", tuple(value), where)
    if isinstance(value, dict):
        keys = set(value)
        if keys and keys <= DESIGN_RANGE_KEYS:
            if keys != DESIGN_RANGE_KEYS:
                raise ParameterError(
                    f"{where}: a design range needs both lo and hi, e.g. {{ lo = 0.1, hi = 0.9 }}"
                )
            return Entry("range", (value["lo"], value["hi"]), where)
        if keys and keys <= GRID_RANGE_KEYS:
            if not {"start", "stop"} <= keys or ("num" in keys) == ("step" in keys):
                raise ParameterError(
                    f"{where}: a grid range needs start, stop and one of num or step, "
                    "e.g. { start = 0.1, stop = 0.5, num = 5 }"
                )
            if "num" in keys:
                return Entry("linspace", (value["start"], value["stop"], value["num"]), where)
            return Entry("arange", (value["start"], value["stop"], value["step"]), where)
        raise ParameterError(
            f"{where}: unknown range keys {sorted(keys)}; allowed: start/stop/num, start/stop/step (grids) "
            "or lo/hi (designs)"
        )
    if isinstance(value, str):
        if value.strip().lower() == "schema":
            return Entry("schema", (), where)
        raise ParameterError(
            f"{where}: value {value!r} is not allowed; give a number, true/false, a list, a range table or "
            '"schema"'
        )
    if isinstance(value, bool | int | float):
        return Entry("fixed", (value,), where)
    raise ParameterError(f"{where}: value {value!r} is not allowed")


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParameterError(f"{where}: '{text}' is not a number") from None


def entry_from_cli(item: str) -> tuple[str, Entry]:
    """``--set NAME=V1,V2`` (list), ``NAME=LO:HI:NUM`` (grid range), ``NAME=LO:HI`` or ``NAME`` (design range),
    ``NAME=V`` (fixed)."""
    name, eq, text = item.partition("=")
    name = name.strip()
    where = f"--set {name}"
    if not name:
        raise ParameterError(f"--set: '{item}' has no parameter name; use NAME=VALUES")
    if not eq or text.strip().lower() == "schema":
        return name, Entry("schema", (), where)
    text = text.strip()
    if not text:
        raise ParameterError(
            f"{where}: empty grid, no values given; use {name}=V1,V2,... or {name}=LO:HI:NUM"
        )
    if "," in text:
        parts = [p.strip() for p in text.split(",")]
        if any(not p for p in parts):
            raise ParameterError(f"{where}: empty value in the list '{text}'")
        return name, Entry("list", tuple(_cli_value(name, p, where) for p in parts), where)
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) == 2:
            return name, Entry("range", (_number(parts[0], where), _number(parts[1], where)), where)
        if len(parts) == 3:
            num = _number(parts[2], where)
            return name, Entry("linspace", (_number(parts[0], where), _number(parts[1], where), num), where)
        raise ParameterError(f"{where}: '{text}' is not LO:HI (design) or LO:HI:NUM (grid)")
    return name, Entry("fixed", (_cli_value(name, text, where),), where)


def _cli_value(name: str, text: str, where: str) -> Any:
    """Type a CLI string by the schema (booleans as true/false), leaving range checks to :func:`check_value`."""
    check_names({name: None}, "--set: ")
    s = spec(name)
    low = text.lower()
    bad = ParameterError(f"--set {name}: value '{text}' is not valid; allowed: {s.allowed} ({s.unit})")
    if s.type is bool:
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise bad
    try:
        return float(text) if any(c in text for c in ".eE") or s.type is float else int(text)
    except ValueError:
        raise bad from None


# ----------------------------------------------------------------------------------------------------------
# Checking values against the schema
# ----------------------------------------------------------------------------------------------------------


def _tidy(x: float) -> float:
    """Round away float noise from ranges (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def check_value(name: str, value: Any, where: str = "") -> Any:
    """The value typed by the schema, or a ParameterError naming the field, the value and what is allowed."""
    s = spec(name)
    bad = ParameterError(f"{where}{name}: value {value!r} is not valid; allowed: {s.allowed} ({s.unit})")
    if s.type is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise bad
    if s.type is int:
        if float(value) != int(value):
            raise bad
        value = int(value)
    else:
        value = float(value)
    if (s.lo is not None and value < s.lo) or (s.hi is not None and value > s.hi):
        raise ParameterError(
            f"{where}{name}: value {value!r} is out of range; allowed: {s.allowed} ({s.unit})"
        )
    return value


def _prefix(entry: Entry) -> str:
    """``"--set "`` or ``"grid.toml: "``: where the value came from, for messages."""
    return "--set " if entry.where.startswith("--set") else entry.where.rsplit("params.", 1)[0]


def axis_values(name: str, entry: Entry) -> tuple:
    """The values of a grid axis, checked."""
    s = spec(name)
    where = _prefix(entry)
    if entry.kind == "list":
        if not entry.args:
            raise ParameterError(
                f"{where}{name}: empty grid, the list has no values; give at least one value"
            )
        values = tuple(check_value(name, v, where) for v in entry.args)
    elif entry.kind in ("linspace", "arange"):
        if s.type is bool:
            raise ParameterError(f"{where}{name}: a boolean takes a list, e.g. [true, false], not a range")
        start, stop, third = entry.args
        for v in (start, stop, third):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ParameterError(f"{where}{name}: range bounds must be numbers, got {v!r}")
        if entry.kind == "linspace":
            if float(third) != int(third) or third < 1:
                raise ParameterError(
                    f"{where}{name}: num = {third!r} is not allowed; the number of values must be an integer >= 1"
                )
            raw = np.linspace(start, stop, int(third)) if third > 1 else np.array([start], dtype=float)
        else:
            step = float(third)
            if step <= 0:
                raise ParameterError(f"{where}{name}: step = {third!r} is not allowed; it must be > 0")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count < 1:
                raise ParameterError(
                    f"{where}{name}: empty grid, start {start!r} is above stop {stop!r}; nothing to sweep"
                )
            raw = start + step * np.arange(count)
        raw = [_tidy(x) for x in raw]
        if s.type is int and any(x != round(x) for x in raw):
            raise ParameterError(
                f"{where}{name}: the range gives non-integer values {raw}; {name} is an integer, use a list "
                "or a whole step"
            )
        values = tuple(check_value(name, round(x) if s.type is int else x, where) for x in raw)
    elif entry.kind in ("range", "schema"):
        raise ParameterError(
            f"{where}{name}: a range without a count only works with a design (--design morris|sobol); "
            f"in a grid give a list or LO:HI:NUM, e.g. {name}=0.1:0.5:5"
        )
    else:
        raise AssertionError(entry.kind)
    if len(set(values)) != len(values):
        dupes = sorted({v for v in values if values.count(v) > 1})
        raise ParameterError(f"{where}{name}: value {dupes[0]!r} appears more than once in the grid")
    return values


def design_range(name: str, entry: Entry) -> tuple[float, float]:
    s = spec(name)
    where = _prefix(entry)
    if s.type is bool:
        raise ParameterError(
            f"{where}{name}: designs (morris/sobol) vary numeric parameters only; sweep a boolean in a grid, "
            "e.g. --set circular.circular_financing=true,false"
        )
    if entry.kind == "schema":
        return float(s.lo), float(s.hi)
    if entry.kind != "range":
        raise ParameterError(
            f"{where}{name}: a design needs a range, not a {entry.kind}; give LO:HI (--set), "
            '{ lo = ..., hi = ... } or "schema" (grid file), or a single value to fix it'
        )
    lo, hi = entry.args
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ParameterError(f"{where}{name}: range bounds must be numbers, got {v!r}")
    lo, hi = float(lo), float(hi)
    for v in (lo, hi):
        if (s.lo is not None and v < s.lo) or (s.hi is not None and v > s.hi):
            raise ParameterError(
                f"{where}{name}: range bound {v!r} is out of range; allowed: {s.allowed} ({s.unit})"
            )
    if not lo < hi:
        raise ParameterError(f"{where}{name}: range [{lo!r}, {hi!r}] is empty; lo must be below hi")
    return lo, hi


def default_design_parameters() -> list[str]:
    """The UI's key numeric levers (``ui=True`` in the schema), without the run settings."""
    return [
        s.name for s in parameter_specs() if s.ui and s.type is not bool and not s.name.startswith("run.")
    ]


# ----------------------------------------------------------------------------------------------------------
# The sweep
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTask:
    """One run of the sweep: everything a worker needs besides the shared settings (all plain data)."""

    run_id: int
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]


@dataclass
class SweepSpec:
    """A validated sweep. Build it with :func:`build_spec`; never by hand."""

    scenario: str
    scenario_overrides: dict[str, Any]
    shocks: tuple[dict[str, Any], ...]
    fixed: dict[str, Any]
    axes: tuple[tuple[str, tuple], ...]
    design: Design | None
    replicates: int
    seed: int
    common_seeds: bool = False
    twin: bool = False
    agents: bool = False
    events: bool = False
    description: str = ""
    _design_matrix: np.ndarray | None = field(default=None, repr=False)

    # -- identity ------------------------------------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """Everything that decides the numbers; two sweeps with equal canonical forms give equal results."""
        return {
            "format": FORMAT,
            "scenario": self.scenario,
            "scenario_overrides": dict(sorted(self.scenario_overrides.items())),
            "shocks": list(self.shocks),
            "fixed": dict(sorted(self.fixed.items())),
            "axes": [[name, list(values)] for name, values in self.axes],
            "design": None
            if self.design is None
            else {
                "method": self.design.method,
                "samples": self.design.samples,
                "levels": self.design.levels,
                "second_order": self.design.second_order,
                "ranges": [list(r) for r in self.design.ranges],
            },
            "replicates": self.replicates,
            "seed": self.seed,
            "common_seeds": self.common_seeds,
            "twin": self.twin,
            "agents": self.agents,
            "events": self.events,
        }

    def fingerprint(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- shape ---------------------------------------------------------------------------------------------
    @property
    def varied(self) -> list[str]:
        """The parameters that change from point to point."""
        return self.design.names if self.design else [name for name, _ in self.axes]

    @property
    def columns(self) -> list[str]:
        """Parameter columns written with every row: the varied ones, then the fixed ones."""
        return self.varied + [n for n in self.fixed if n not in self.varied]

    @property
    def n_points(self) -> int:
        if self.design:
            return self.design.n_points
        return math.prod(len(v) for _, v in self.axes)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def run_id(self, point: int, replicate: int) -> int:
        return point * self.replicates + replicate

    def seed_for(self, point: int, replicate: int) -> int:
        key = (replicate,) if self.common_seeds else (point, replicate)
        return int(np.random.SeedSequence(self.seed, spawn_key=key).generate_state(1)[0])

    # -- points --------------------------------------------------------------------------------------------
    def set_design_matrix(self, matrix: np.ndarray) -> None:
        if self.design is None or matrix.shape != (self.design.n_points, len(self.design.ranges)):
            raise ValueError("design matrix does not match the design")
        self._design_matrix = matrix

    def design_matrix(self) -> np.ndarray:
        """The SALib sample (unrounded), generated once from the master seed."""
        if self.design is None:
            raise ValueError("not a design sweep")
        if self._design_matrix is None:
            self._design_matrix = sample(self.design, self.seed)
        return self._design_matrix

    def point(self, index: int) -> dict[str, Any]:
        """The varied parameters' values at one point (ints rounded for designs)."""
        if self.design:
            row = self.design_matrix()[index]
            out = {}
            for (name, lo, hi), x in zip(self.design.ranges, row, strict=True):
                out[name] = int(min(max(round(x), lo), hi)) if spec(name).type is int else float(x)
            return out
        out = {}
        for name, values in reversed(self.axes):
            index, i = divmod(index, len(values))
            out[name] = values[i]
        return dict(reversed(list(out.items())))

    def points(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.design:
            for i in range(self.n_points):
                yield i, self.point(i)
            return
        names = [n for n, _ in self.axes]
        for i, combo in enumerate(itertools.product(*(v for _, v in self.axes))):
            yield i, dict(zip(names, combo, strict=True))

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunTask]:
        """Runs not in ``skip``, replicate by replicate, so a partial sweep covers every point early."""
        for rep in range(self.replicates):
            for point, values in self.points():
                run_id = self.run_id(point, rep)
                if run_id not in skip:
                    yield RunTask(run_id, point, rep, self.seed_for(point, rep), values)

    def parameter_table(self) -> pd.DataFrame:
        """Every parameter's value at every point, one row per point: the run tables carry only the varied and
        fixed columns, this carries the rest (join on ``point``). With ``--twin`` the two runs of a point differ
        only in ``circular.circular_financing`` (on, then off; the ``circular`` column of the run tables)."""
        names = [s.name for s in parameter_specs()]
        base = build_parameters(self.base_overrides(), tuple(self.shocks))
        defaults = {n: get_value(base, n) for n in names}
        rows = [{"point": point, **defaults, **values} for point, values in self.points()]
        return pd.DataFrame(rows, columns=["point", *names])

    def base_overrides(self) -> dict[str, Any]:
        return {**self.scenario_overrides, **self.fixed}

    def worker_config(self) -> dict[str, Any]:
        """The settings every run shares, as plain data (sent to workers with every task)."""
        return {
            "scenario": self.scenario,
            "base": self.base_overrides(),
            "shocks": list(self.shocks),
            "columns": self.columns,
            "twin": self.twin,
            "agents": self.agents,
            "events": self.events,
        }

    def describe(self) -> str:
        if self.design:
            what = (
                f"{self.design.method} design over {len(self.design.ranges)} parameters, "
                f"{self.design.samples} samples -> {self.n_points} points"
            )
        elif self.axes:
            what = " x ".join(f"{len(v)} {n}" for n, v in self.axes) + f" = {self.n_points} points"
        else:
            what = "1 point (only seeds vary)"
        twin = ", each with and without circular financing" if self.twin else ""
        reps = f"{self.replicates} replicate{'s' if self.replicates > 1 else ''}"
        return (
            f"scenario {self.scenario}: {what} x {reps} = {self.n_runs} runs{twin} "
            f"(master seed {self.seed}{', common seeds' if self.common_seeds else ''})"
        )


# ----------------------------------------------------------------------------------------------------------
# Building a spec from a grid file and/or CLI options
# ----------------------------------------------------------------------------------------------------------


def read_grid_file(path: str | Path) -> dict[str, Any]:
    """Parse a grid TOML file into raw settings (entries not yet checked against the schema)."""
    path = Path(path)
    where = f"{path.name}: "
    data = read_toml(path, "grid file")
    if not data:
        raise ParameterError(
            f"{where}empty grid file; give [params] lists or ranges, a [design] or replicates"
        )
    for key in data:
        if key not in GRID_KEYS:
            raise ParameterError(f"{where}unknown key '{key}'; allowed: {', '.join(GRID_KEYS)}")
    raw: dict[str, Any] = {k: v for k, v in data.items() if k not in ("params", "design")}
    for key, kind in (
        ("quarters", int),
        ("replicates", int),
        ("seed", int),
        ("common_seeds", bool),
        ("twin", bool),
        ("agents", bool),
        ("events", bool),
        ("scenario", str),
        ("scenario_file", str),
        ("description", str),
    ):
        if key in raw and (not isinstance(raw[key], kind) or (kind is int and isinstance(raw[key], bool))):
            raise ParameterError(f"{where}{key} = {raw[key]!r} is not allowed; expected {kind.__name__}")
    if "scenario_file" in raw:
        raw["scenario_file"] = str((path.parent / raw["scenario_file"]).resolve())
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ParameterError(f"{where}params must be a table of parameter = values")
    raw["params"] = _flatten_entries(params, f"{where}params.")
    if "design" in data:
        design = data["design"]
        if not isinstance(design, dict):
            raise ParameterError(f"{where}design must be a table with method and samples")
        for key in design:
            if key not in DESIGN_KEYS:
                raise ParameterError(f"{where}design: unknown key '{key}'; allowed: {', '.join(DESIGN_KEYS)}")
        raw["design"] = dict(design)
    return raw


def _flatten_entries(table: dict[str, Any], where: str, prefix: str = "") -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        is_range = isinstance(value, dict) and value and set(value) <= (GRID_RANGE_KEYS | DESIGN_RANGE_KEYS)
        if isinstance(value, dict) and not is_range:
            if not value:
                raise ParameterError(f"{where}{name}: empty table; give values")
            out.update(_flatten_entries(value, where, f"{name}."))
        else:
            out[name] = entry_from_toml(value, f"{where}{name}")
    return out


def build_spec(
    grid: str | Path | None = None,
    *,
    scenario: str | None = None,
    scenario_file: str | Path | None = None,
    sets: list[str] | tuple[str, ...] = (),
    replicates: int | None = None,
    quarters: int | None = None,
    seed: int | None = None,
    common_seeds: bool | None = None,
    design: str | None = None,
    samples: int | None = None,
    levels: int | None = None,
    second_order: bool | None = None,
    twin: bool | None = None,
    agents: bool | None = None,
    events: bool | None = None,
) -> SweepSpec:
    """Merge a grid file with CLI options (the options win) and check everything. Raises ParameterError."""
    raw = read_grid_file(grid) if grid else {"params": {}}
    entries: dict[str, Entry] = dict(raw["params"])
    for item in sets:
        name, entry = entry_from_cli(item)
        entries.pop(name, None)
        entries[name] = entry
    if scenario is not None and scenario_file is not None:
        raise ParameterError("--scenario and --scenario-file cannot be combined; give one")
    if scenario is not None or scenario_file is not None:
        raw.pop("scenario", None)
        raw.pop("scenario_file", None)
    scenario = scenario if scenario is not None else raw.get("scenario")
    scenario_file = scenario_file if scenario_file is not None else raw.get("scenario_file")
    if scenario and scenario_file:
        raise ParameterError("grid file: give scenario or scenario_file, not both")
    sc = read_scenario_file(scenario_file) if scenario_file else load_scenario(scenario or "baseline")

    def pick(cli_value, key, default):
        return cli_value if cli_value is not None else raw.get(key, default)

    replicates = pick(replicates, "replicates", 1)
    seed = pick(seed, "seed", 1)
    quarters = pick(quarters, "quarters", None)
    if replicates < 1:
        raise ParameterError(f"replicates: value {replicates} is not allowed; use an integer >= 1")
    if seed < 0:
        raise ParameterError(f"seed: value {seed} is not allowed; use a non-negative integer")

    design_raw = dict(raw.get("design", {}))
    dwhere = f"{Path(grid).name}: design: " if grid and design_raw else "design: "
    if design is not None:
        design_raw["method"] = design
    if samples is not None:
        design_raw["samples"] = samples
    if levels is not None:
        design_raw["levels"] = levels
    if second_order is not None:
        design_raw["second_order"] = second_order
    twin = bool(pick(twin or None, "twin", False))

    for name, entry in entries.items():
        check_names({name: None}, "--set: " if entry.where.startswith("--set") else _prefix(entry))

    fixed: dict[str, Any] = {}
    if quarters is not None:
        fixed["run.quarters"] = check_value("run.quarters", quarters, "quarters: ")
    axes: list[tuple[str, tuple]] = []
    ranges: list[tuple[str, float, float]] = []
    design_spec: Design | None = None
    if design_raw:
        method = design_raw.get("method")
        if method is None:
            raise ParameterError("--samples, --levels and --second-order need --design morris|sobol")
        if method not in DESIGN_METHODS:
            raise ParameterError(f"{dwhere}method {method!r} is not allowed; allowed: morris, sobol")
        n = design_raw.get("samples")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ParameterError(
                f"{dwhere}samples = {n!r} is not allowed; give --samples N with an integer N >= 2"
            )
        lv = design_raw.get("levels", 4)
        if isinstance(lv, bool) or not isinstance(lv, int) or lv < 2:
            raise ParameterError(f"{dwhere}levels = {lv!r} is not allowed; use an (even) integer >= 2")
        so = design_raw.get("second_order", False)
        if not isinstance(so, bool):
            raise ParameterError(f"{dwhere}second_order = {so!r} is not allowed; use true or false")
        for name, entry in entries.items():
            if entry.kind == "fixed":
                fixed[name] = check_value(name, entry.args[0], _prefix(entry))
            else:
                lo, hi = design_range(name, entry)
                ranges.append((name, lo, hi))
        if not ranges:
            ranges = [(n, float(spec(n).lo), float(spec(n).hi)) for n in default_design_parameters()]
            ranges = [r for r in ranges if r[0] not in fixed]
        design_spec = Design(method, n, lv, so, tuple(ranges))
    else:
        for name, entry in entries.items():
            if entry.kind == "fixed":
                fixed[name] = check_value(name, entry.args[0], _prefix(entry))
            else:
                axes.append((name, axis_values(name, entry)))
    if twin and "circular.circular_financing" in {*fixed, *(n for n, _ in axes)}:
        raise ParameterError(
            "circular.circular_financing: --twin already runs every point with and without circular "
            "financing; don't also set or sweep it"
        )

    out = SweepSpec(
        scenario=sc.name,
        scenario_overrides=dict(sc.overrides),
        shocks=tuple(s.model_dump() for s in sc.shocks),
        fixed=fixed,
        axes=tuple(axes),
        design=design_spec,
        replicates=replicates,
        seed=seed,
        common_seeds=bool(pick(common_seeds or None, "common_seeds", False)),
        twin=twin,
        agents=bool(pick(agents or None, "agents", False)),
        events=bool(pick(events or None, "events", False)),
        description=str(raw.get("description", "")),
    )
    if out.n_runs > MAX_RUNS:
        raise ParameterError(
            f"the sweep has {out.n_runs:,} runs; at most {MAX_RUNS:,} are allowed in one --out"
        )
    _check_corners(out)
    return out


def _check_corners(sw: SweepSpec) -> None:
    """Validate the merged parameters at the grid's corners (cross-field checks, if the schema has any)."""
    base = sw.base_overrides()
    shocks = tuple(sw.shocks)
    if sw.design:
        corners = [{n: lo for n, lo, _ in sw.design.ranges}, {n: hi for n, _, hi in sw.design.ranges}]
        corners = [{n: (round(v) if spec(n).type is int else v) for n, v in c.items()} for c in corners]
    elif sw.axes:
        corners = [{n: v[0] for n, v in sw.axes}, {n: v[-1] for n, v in sw.axes}]
    else:
        corners = [{}]
    for c in corners:
        build_parameters({**base, **c}, shocks)
