"""What a sweep runs: the grid (or design), its points, replicates and per-run seeds.

A sweep is described once, by :class:`SweepSpec`, built from a grid TOML file and/or the ``run.py sweep``
options. Everything is checked before any run starts, by pydantic models: the file's layout by
:class:`GridFile` (and :class:`sweep.designs.DesignOptions`), ranges by :class:`Linspace`, :class:`Arange` and
:class:`DesignRange`, every parameter value by the schema's own validator (:func:`params.loader.check_value`)
and the cross-field rules of :mod:`params.schema` at the extremes of the sweep. Unknown names, out-of-range
values, empty or inverted ranges, non-finite bounds, malformed files and sweeps beyond the size limits raise
:class:`ParameterError` naming the field, the value and what is allowed.

Size limits (counted before any array or sample is made): at most ``MAX_AXIS_VALUES`` values per grid axis and
``MAX_RUNS`` runs (points x replicates) per sweep.

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
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from params.loader import (
    ParameterError,
    Seed,
    build_parameters,
    check_names,
    check_seed,
    check_value,
    explain,
    get_value,
    load_scenario,
    parse_text,
    read_scenario_file,
    read_toml,
)
from params.schema import RULES, WholeInt, own_error, parameter_specs, spec
from sweep.designs import Design, DesignOptions, sample

FORMAT = "creditloop-sweep/1"
GRID_RANGE_KEYS = frozenset({"start", "stop", "num", "step"})
DESIGN_RANGE_KEYS = frozenset({"lo", "hi"})
# A grid axis of 10,000 values is already far finer than any model output can resolve; a million runs is
# about a week on 16 cores. Both are counted before anything is made, so a typo (a step of 1e-9, a num of
# 10**8) is refused at once instead of exhausting memory.
MAX_AXIS_VALUES = 10_000
MAX_RUNS = 1_000_000
FiniteNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]


# ----------------------------------------------------------------------------------------------------------
# The layout of a grid file and of its ranges
# ----------------------------------------------------------------------------------------------------------


class GridFile(BaseModel):
    """The top level of a grid file; also checks the same settings given as options (``--replicates`` ...).
    Unset (None) means "not given": the option, then the default, applies."""

    model_config = ConfigDict(extra="forbid", strict=True)

    description: str = ""
    scenario: str | None = None
    scenario_file: str | None = None
    quarters: int | None = None  # run.quarters: its range is the schema's, checked by check_value
    replicates: int | None = Field(default=None, ge=1)
    seed: Seed | None = None
    common_seeds: bool | None = None
    twin: bool | None = None
    agents: bool | None = None
    events: bool | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    design: DesignOptions | None = None


GRID_KEYS = tuple(GridFile.model_fields)


def _check_count(count: float) -> None:
    if count > MAX_AXIS_VALUES:
        text = f"{count:,.0f}" if count < 1e15 else f"{float(count):.3g}"
        raise own_error(
            f"the range has {text} values; allowed: at most {MAX_AXIS_VALUES:,} values per axis "
            "(a larger step or a smaller num)"
        )


def _check_order(start: float, stop: float) -> None:
    if start > stop:
        raise own_error(f"start {start:g} is above stop {stop:g}: an empty grid; allowed: start <= stop")


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Linspace(_Range):
    """``{ start, stop, num }`` or ``LO:HI:NUM``: num evenly spaced values from start to stop."""

    start: FiniteNumber
    stop: FiniteNumber
    num: WholeInt = Field(ge=1)

    @model_validator(mode="after")
    def _sane(self) -> Linspace:
        _check_order(self.start, self.stop)
        _check_count(self.num)
        return self

    def values(self) -> np.ndarray:
        if self.num == 1:
            return np.array([self.start], dtype=float)
        return np.linspace(self.start, self.stop, self.num)


class Arange(_Range):
    """``{ start, stop, step }``: start, start + step, ... up to stop (within float noise)."""

    start: FiniteNumber
    stop: FiniteNumber
    step: FiniteNumber = Field(gt=0)

    @property
    def count(self) -> int:
        return math.floor((self.stop - self.start) / self.step + 1e-9) + 1

    @model_validator(mode="after")
    def _sane(self) -> Arange:
        _check_order(self.start, self.stop)
        ratio = (self.stop - self.start) / self.step  # finite bounds, step > 0: at worst inf, never nan
        _check_count(ratio + 1 if math.isfinite(ratio) else math.inf)
        return self

    def values(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.count)


class DesignRange(_Range):
    """``{ lo, hi }`` or ``LO:HI``: a design samples the parameter between lo and hi."""

    lo: FiniteNumber
    hi: FiniteNumber

    @model_validator(mode="after")
    def _not_empty(self) -> DesignRange:
        if not self.lo < self.hi:
            raise own_error(f"range [{self.lo!r}, {self.hi!r}] is empty; lo must be below hi")
        return self


def _validated(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise explain(err, where, model) from None


# ----------------------------------------------------------------------------------------------------------
# Entries: what the user said about one parameter, before it is checked against the schema
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One parameter's setting as written: ``kind`` is list, linspace, arange, range, schema or fixed;
    ``args`` the values (list, fixed) or the validated range (linspace, arange, range)."""

    kind: str
    args: tuple
    where: str  # "grid.toml: params.NAME" or "--set NAME", for messages


def _check_list_length(count: int, where: str) -> None:
    if count > MAX_AXIS_VALUES:
        raise ParameterError(
            f"{where}: the list has {count:,} values; allowed: at most {MAX_AXIS_VALUES:,} values per axis"
        )


def entry_from_toml(value: Any, where: str) -> Entry:
    if isinstance(value, list):
        _check_list_length(len(value), where)
        return Entry("list", tuple(value), where)
    if isinstance(value, dict):
        keys = set(value)
        if keys and keys <= DESIGN_RANGE_KEYS:
            if keys != DESIGN_RANGE_KEYS:
                raise ParameterError(
                    f"{where}: a design range needs both lo and hi, e.g. {{ lo = 0.1, hi = 0.9 }}"
                )
            return Entry("range", (_validated(DesignRange, value, f"{where}: "),), where)
        if keys and keys <= GRID_RANGE_KEYS:
            if not {"start", "stop"} <= keys or ("num" in keys) == ("step" in keys):
                raise ParameterError(
                    f"{where}: a grid range needs start, stop and one of num or step, "
                    "e.g. { start = 0.1, stop = 0.5, num = 5 }"
                )
            if "num" in keys:
                return Entry("linspace", (_validated(Linspace, value, f"{where}: "),), where)
            return Entry("arange", (_validated(Arange, value, f"{where}: "),), where)
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
        _check_list_length(text.count(",") + 1, where)  # counted before the list is split
        parts = [p.strip() for p in text.split(",")]
        if any(not p for p in parts):
            raise ParameterError(f"{where}: empty value in the list '{text}'")
        return name, Entry("list", tuple(parse_text(name, p) for p in parts), where)
    if ":" in text:
        parts = [_number(p.strip(), where) for p in text.split(":")]
        if len(parts) == 2:
            lo, hi = parts
            return name, Entry("range", (_validated(DesignRange, {"lo": lo, "hi": hi}, f"{where}: "),), where)
        if len(parts) == 3:
            start, stop, num = parts
            linspace = _validated(Linspace, {"start": start, "stop": stop, "num": num}, f"{where}: ")
            return name, Entry("linspace", (linspace,), where)
        raise ParameterError(f"{where}: '{text}' is not LO:HI (design) or LO:HI:NUM (grid)")
    return name, Entry("fixed", (parse_text(name, text),), where)


# ----------------------------------------------------------------------------------------------------------
# Checking values against the schema
# ----------------------------------------------------------------------------------------------------------


def _tidy(x: float) -> float:
    """Round away float noise from ranges (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def _prefix(entry: Entry) -> str:
    """``"--set "`` or ``"grid.toml: "``: where the value came from, for messages."""
    return "--set " if entry.where.startswith("--set") else entry.where.rsplit("params.", 1)[0]


def axis_values(name: str, entry: Entry) -> tuple:
    """The values of a grid axis, checked (at most MAX_AXIS_VALUES of them, counted before they are made)."""
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
        raw = [_tidy(x) for x in entry.args[0].values()]
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
    bounds = entry.args[0]
    for v in (bounds.lo, bounds.hi):
        check_value(name, v, where, what="range bound", as_number=True)
    return bounds.lo, bounds.hi


def design_value(name: str, x: float, lo: float, hi: float) -> int | float:
    """A design sample's value of one parameter: integers rounded (within the range), numbers as drawn."""
    return int(min(max(round(x), lo), hi)) if spec(name).type is int else float(x)


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
                out[name] = design_value(name, x, lo, hi)
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
    doc = _validated(GridFile, data, where)
    raw: dict[str, Any] = doc.model_dump(exclude_unset=True, exclude={"params", "design"})
    if "scenario_file" in raw:
        raw["scenario_file"] = str((path.parent / raw["scenario_file"]).resolve())
    raw["params"] = _flatten_entries(doc.params, f"{where}params.")
    if doc.design is not None:
        raw["design"] = doc.design.model_dump(exclude_unset=True)
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


def _design(
    design_raw: dict[str, Any], where: str, entries: dict[str, Entry], fixed: dict[str, Any]
) -> Design:
    """The design of the merged ``[design]`` settings and options; its ranges from the entries (or, with none,
    the UI's levers)."""
    if design_raw.get("method") is None:
        raise ParameterError("--samples, --levels and --second-order need --design morris|sobol")
    opts = _validated(DesignOptions, design_raw, f"{where}design.")
    if opts.samples is None:
        raise ParameterError(f"{where}design.samples: missing; give --samples N (an integer >= 2)")
    ranges: list[tuple[str, float, float]] = []
    for name, entry in entries.items():
        if entry.kind != "fixed":
            lo, hi = design_range(name, entry)
            ranges.append((name, lo, hi))
    if not ranges:
        ranges = [(n, float(spec(n).lo), float(spec(n).hi)) for n in default_design_parameters()]
        ranges = [r for r in ranges if r[0] not in fixed]
    return Design(opts.method, opts.samples, opts.levels, opts.second_order, tuple(ranges))


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

    options = {"replicates": replicates, "quarters": quarters}
    _validated(GridFile, {k: v for k, v in options.items() if v is not None}, "--")
    if seed is not None:
        check_seed(seed, "--seed")

    def pick(cli_value, key, default):
        return cli_value if cli_value is not None else raw.get(key, default)

    replicates = pick(replicates, "replicates", 1)
    seed = pick(seed, "seed", 1)
    quarters = pick(quarters, "quarters", None)

    design_raw = dict(raw.get("design", {}))
    dwhere = f"{Path(grid).name}: " if grid and design_raw else ""
    for key, value in (("method", design), ("samples", samples), ("levels", levels)):
        if value is not None:
            design_raw[key] = value
    if second_order is not None:
        design_raw["second_order"] = second_order
    twin = bool(pick(twin or None, "twin", False))

    for name, entry in entries.items():
        check_names({name: None}, "--set: " if entry.where.startswith("--set") else _prefix(entry))

    fixed: dict[str, Any] = {}
    if quarters is not None:
        qwhere = "--quarters: " if raw.get("quarters") != quarters else f"{Path(grid).name}: quarters: "
        fixed["run.quarters"] = check_value("run.quarters", quarters, qwhere)
    for name, entry in entries.items():
        if entry.kind == "fixed":
            fixed[name] = check_value(name, entry.args[0], _prefix(entry))
    axes: list[tuple[str, tuple]] = []
    design_spec: Design | None = None
    if design_raw:
        design_spec = _design(design_raw, dwhere, entries, fixed)
    else:
        axes = [(n, axis_values(n, e)) for n, e in entries.items() if e.kind != "fixed"]
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
    if out.n_runs > MAX_RUNS:  # counted from the axes' lengths or the design's size: nothing is made yet
        raise ParameterError(
            f"the sweep has {out.n_runs:,} runs ({out.n_points:,} points x {out.replicates:,} replicates); "
            f"allowed: at most {MAX_RUNS:,} runs in one sweep"
        )
    _check_rules(out)
    return out


def _extremes(sw: SweepSpec) -> dict[str, tuple]:
    """Each varied parameter's extreme values: the ends of its range, or both booleans."""
    if sw.design:
        return {
            n: (design_value(n, lo, lo, hi), design_value(n, hi, lo, hi)) for n, lo, hi in sw.design.ranges
        }
    return {n: tuple(sorted(set(v))) if spec(n).type is bool else (min(v), max(v)) for n, v in sw.axes}


def _check_rules(sw: SweepSpec) -> None:
    """Validate the merged parameters where each cross-field rule is most at risk: every combination of the
    extremes of the varied parameters it involves, the others at their first value. The rules are monotone in
    each of their fields (params/schema.py), so a sweep that keeps them there keeps them at every point."""
    extremes = _extremes(sw)
    first = {n: v[0] for n, v in extremes.items()}
    base, shocks = sw.base_overrides(), tuple(sw.shocks)
    seen: set[tuple] = set()
    where = "at a design point: " if sw.design else "at a grid point: " if sw.axes else ""
    for rule in RULES:
        names = [n for n in rule.fields if n in extremes]
        for values in itertools.product(*(extremes[n] for n in names)):
            point = {**first, **dict(zip(names, values, strict=True))}
            key = tuple(sorted(point.items()))
            if key not in seen:
                seen.add(key)
                build_parameters({**base, **point}, shocks, where)
