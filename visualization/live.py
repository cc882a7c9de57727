"""The UI's state: the settings a browser session edits, and the live run (a model and its twin in lock-step).

Everything here is plain Python (no Solara), so it can be tested directly. The settings are an immutable
:class:`UiState`; each edit returns a new state, validated through the parameter schema
(:func:`params.loader.build_parameters`). An invalid entry is not applied: it stays with its own field, with the
schema's message, while every other valid entry goes on to the run.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

import numpy as np

from accounting.contracts import IS_DEBT, Status
from economy import counterfactuals
from economy.metrics import quarter_metrics
from economy.model import CreditLoopModel
from params.loader import (
    ParameterError,
    Scenario,
    build_parameters,
    get_value,
    load_scenario,
    read_scenario_file,
    scenario_names,
)
from params.schema import Parameters, Shock, spec

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 1  # the default of `run.py simulate --seed`, so the UI and the CLI show the same run
FRAME_WAIT_S = 3.0  # longest a step waits for the page to show the previous quarter


# -- scenarios ----------------------------------------------------------------------------------------------------
def find_scenario(name: str, uploads: tuple[Scenario, ...] = ()) -> Scenario:
    """A scenario by name: an uploaded one first, else one of ``params/scenarios``."""
    for sc in uploads:
        if sc.name == name:
            return sc
    return load_scenario(name)


def scenario_choices(uploads: tuple[Scenario, ...] = ()) -> list[str]:
    names = list(scenario_names())
    return names + [sc.name for sc in uploads if sc.name not in names]


def scenario_from_toml(filename: str, data: bytes) -> Scenario:
    """Read an uploaded scenario file with the same checks as ``run.py simulate --scenario-file``."""
    with tempfile.TemporaryDirectory(prefix="creditloop-upload-") as tmp:
        path = Path(tmp) / (Path(filename).name or "scenario.toml")
        path.write_bytes(data)
        sc = read_scenario_file(path)
    return replace(sc, source=f"uploaded {Path(filename).name}")


# -- shocks -------------------------------------------------------------------------------------------------------
SHOCK_KINDS: tuple[str, ...] = get_args(Shock.model_fields["kind"].annotation)


def shock_bounds(field_name: str) -> tuple[float | None, float | None]:
    """The (ge, le) bounds the schema's :class:`Shock` declares for one of its fields."""
    lo = hi = None
    for m in Shock.model_fields[field_name].metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def shock_dict(shock: Shock | dict[str, Any]) -> dict[str, Any]:
    return shock.model_dump() if isinstance(shock, Shock) else dict(shock)


# -- settings state -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunConfig:
    """What a run is made of: validated parameters, the scenario they came from and the seed."""

    scenario: str
    description: str
    params: Parameters
    seed: int
    modified: bool = False  # differs from the preset (edited in the UI)


@dataclass(frozen=True)
class UiState:
    """The settings of one browser session (immutable; edits return a new state).

    ``edits``, ``shocks`` and ``seed`` only ever hold values that passed the schema: they are what the run uses.
    A value that fails stays with its own field (``rejected`` and ``errors``, keyed by the field: a dotted
    parameter name, ``"seed"``, ``"scenario"``, ``"shocks"`` or ``"shocks.<i>.<field>"``), so it blocks only
    that field, and its message goes as soon as the field gets a valid value.
    """

    scenario: str
    description: str
    scenario_overrides: tuple[tuple[str, Any], ...]  # the preset's values (dotted name, value)
    edits: tuple[tuple[str, Any], ...]  # the user's changes on top of the preset
    shocks: tuple[dict[str, Any], ...]  # the current scripted shocks (starts as the preset's)
    preset_shocks: tuple[dict[str, Any], ...]  # the preset's shocks
    seed: int
    config: RunConfig  # the configuration of the applied settings: what the run shows
    generation: int = 0  # bumped whenever ``config`` changes: a new run starts
    rejected: tuple[tuple[str, Any], ...] = ()  # field -> the value entered that could not be applied
    errors: tuple[tuple[str, str], ...] = ()  # field -> why that value could not be applied
    uploads: tuple[Scenario, ...] = field(default=(), compare=False)

    # -- reading ---------------------------------------------------------------------------------------------
    def value(self, name: str) -> Any:
        """The value a parameter has in the run: the user's edit, else the preset's, else the schema default."""
        edits = dict(self.edits)
        if name in edits:
            return edits[name]
        preset = dict(self.scenario_overrides)
        if name in preset:
            return preset[name]
        return spec(name).default

    def preset_value(self, name: str) -> Any:
        return dict(self.scenario_overrides).get(name, spec(name).default)

    def is_edited(self, name: str) -> bool:
        return name in dict(self.edits)

    def field_error(self, key: str) -> str | None:
        return dict(self.errors).get(key)

    def rejected_value(self, key: str, default: Any = None) -> Any:
        """What the user entered in a field whose value could not be applied (else ``default``)."""
        return dict(self.rejected).get(key, default)

    def shown_shock(self, i: int) -> dict[str, Any]:
        """Shock ``i`` as its fields show it: the applied values, with any rejected entry in place."""
        prefix = f"shocks.{i}."
        return {**self.shocks[i], **{k[len(prefix) :]: x for k, x in self.rejected if k.startswith(prefix)}}

    @property
    def error(self) -> str | None:
        """Every field's message, one per line (None when every entry is applied)."""
        return "\n".join(message for _, message in self.errors) or None

    @property
    def modified(self) -> bool:
        """Settings differ from the preset (edits, or changed shocks)."""
        return bool(self.edits) or self.shocks != self.preset_shocks

    @property
    def overrides(self) -> dict[str, Any]:
        return {**dict(self.scenario_overrides), **dict(self.edits)}

    @property
    def applied(self) -> bool:
        """The shown settings are the ones the run uses."""
        return not self.errors


def _config(state: UiState) -> RunConfig:
    """The run configuration of ``state``'s settings; ParameterError with the schema's message if invalid."""
    if state.seed < 0:
        raise ParameterError(f"seed: value {state.seed} is not allowed; use a non-negative integer")
    try:
        params = build_parameters(state.overrides, tuple(state.shocks))
    except ParameterError:
        raise
    except Exception as err:  # a bug elsewhere must not take the page down
        raise ParameterError(f"{type(err).__name__}: {err}") from err
    return RunConfig(state.scenario, state.description, params, state.seed, state.modified)


def _with_field(state: UiState, key: str, error: str | None = None, value: Any = None) -> UiState:
    """``state`` with field ``key``'s error (and the rejected value) set, or cleared when ``error`` is None."""
    errors = {k: m for k, m in state.errors if k != key}
    rejected = {k: x for k, x in state.rejected if k != key}
    if error is not None:
        errors[key], rejected[key] = error, value
    return replace(state, errors=tuple(errors.items()), rejected=tuple(rejected.items()))


def _settle(state: UiState, candidate: UiState, key: str, value: Any) -> UiState:
    """Apply ``candidate`` (``state`` with field ``key`` set to ``value``) if it validates; else keep ``state``'s
    settings and give field ``key`` the schema's message. The applied settings are always valid, so a failure
    is this field's own: other fields' entries are never held up by it."""
    try:
        config = _config(candidate)
    except ParameterError as err:
        return _with_field(state, key, str(err), value)
    settled = _with_field(candidate, key)
    if config == settled.config:
        return settled
    return replace(settled, config=config, generation=settled.generation + 1)


def with_invalid(state: UiState, key: str, value: Any, message: str) -> UiState:
    """An entry that cannot even be read (e.g. text in a number box): field ``key`` shows ``message``."""
    return _with_field(state, key, message, value)


def _preset(sc: Scenario) -> dict:
    """The settings a scenario preset sets (its values and shocks; edits and field errors cleared)."""
    shocks = tuple(shock_dict(s) for s in sc.shocks)
    return {
        "scenario": sc.name,
        "description": sc.description,
        "scenario_overrides": tuple(sc.overrides.items()),
        "edits": (),
        "shocks": shocks,
        "preset_shocks": shocks,
        "rejected": (),
        "errors": (),
    }


def initial_state(scenario: str = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED) -> UiState:
    sc = load_scenario(scenario)
    params = build_parameters(sc.overrides, sc.shocks)
    return UiState(**_preset(sc), seed=seed, config=RunConfig(sc.name, sc.description, params, seed))


def with_scenario(state: UiState, name: str) -> UiState:
    """Load a preset: its values and shocks replace the current settings (the seed stays)."""
    try:
        sc = find_scenario(name, state.uploads)
    except ParameterError as err:
        return _with_field(state, "scenario", str(err), name)
    return _settle(state, replace(state, **_preset(sc)), "scenario", name)


def with_upload(state: UiState, sc: Scenario) -> UiState:
    uploads = (*(u for u in state.uploads if u.name != sc.name), sc)
    return with_scenario(replace(state, uploads=uploads), sc.name)


def with_edit(state: UiState, name: str, value: Any) -> UiState:
    """Set one parameter; setting it back to the preset's value drops the edit."""
    edits = dict(state.edits)
    if value == state.preset_value(name):
        edits.pop(name, None)
    else:
        edits[name] = value
    return _settle(state, replace(state, edits=tuple(edits.items())), name, value)


def with_shock(state: UiState, i: int, name: str, value: Any) -> UiState:
    """Set field ``name`` of shock ``i`` (its own field: a bad size does not hold up another shock's quarter)."""
    shocks = [dict(s) for s in state.shocks]
    shocks[i][name] = value
    return _settle(state, replace(state, shocks=tuple(shocks)), f"shocks.{i}.{name}", value)


def _renumbered(state: UiState, removed: int) -> UiState:
    """Field keys of the shocks after shock ``removed`` move up one; the removed shock's keys go."""

    def key(k: str) -> str | None:
        if not k.startswith("shocks."):
            return k
        _, i, rest = k.split(".", 2)
        return None if int(i) == removed else f"shocks.{int(i) - (int(i) > removed)}.{rest}"

    errors = tuple((key(k), m) for k, m in state.errors if key(k) is not None)
    rejected = tuple((key(k), x) for k, x in state.rejected if key(k) is not None)
    return replace(state, errors=errors, rejected=rejected)


def without_shock(state: UiState, i: int) -> UiState:
    shocks = tuple(s for j, s in enumerate(state.shocks) if j != i)
    return _settle(state, _renumbered(replace(state, shocks=shocks), i), "shocks", shocks)


def with_shocks(state: UiState, shocks: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> UiState:
    """Replace the whole list of shocks (one field: ``"shocks"``)."""
    shocks = tuple(dict(s) for s in shocks)
    return _settle(state, replace(state, shocks=shocks), "shocks", shocks)


def with_seed(state: UiState, seed: int) -> UiState:
    return _settle(state, replace(state, seed=int(seed)), "seed", seed)


def applied_value(params: Parameters, name: str) -> Any:
    return get_value(params, name)


# -- the live run -------------------------------------------------------------------------------------------------
# Per-quarter flows the model books only while a quarter runs: before the first quarter its books hold no value
# for them (they read 0), so the opening point leaves them out instead of showing a false zero.
BOOKED_IN_QUARTER = ("ai_revenue", "capex_revenue_gap", "compute_contract_revenue", "circularity_index")


def opening_metrics(model: CreditLoopModel | None) -> dict[str, float] | None:
    """The model's series at its opening books, before the first step (quarter -1): what quarter 0 of the page
    draws. :func:`economy.metrics.quarter_metrics` only reads the books, so the run itself is unchanged."""
    if model is None or model.steps:
        return None
    try:
        row = quarter_metrics(model)
    except Exception:  # the charts then start at the first quarter, as they did before
        log.warning("no opening point: %s", traceback.format_exc())
        return None
    return {**row, **dict.fromkeys(BOOKED_IN_QUARTER, float("nan"))}


class LiveRun:
    """A model and (optionally) its twin without circular financing, stepped in lock-step.

    Mesa's ``ModelController`` drives it like a model: ``step()``, ``running`` and re-creation with
    ``LiveRun(config=..., twin=...)`` on Reset. Errors inside the model never propagate to the page: the run
    stops and ``error`` says why.
    """

    _serials = itertools.count(1)

    def __init__(self, config: RunConfig, twin: bool = True, counterfactual: str = counterfactuals.DEFAULT):
        self.serial = next(LiveRun._serials)  # which run the page shows (data-run): tests wait for a new one
        self.config = config
        self.counterfactual = (
            counterfactual if counterfactual in counterfactuals.COUNTERFACTUALS else "vendor_deals_off"
        )
        self.error: str | None = None
        self.twin_error: str | None = None
        self.retired = False
        self.twin: CreditLoopModel | None = None
        self.step_ms: float | None = None  # wall time of the last step (model and twin)
        self.step_started: float | None = None  # perf_counter() when the last step began
        self.frame_ms: float | None = None  # from that to the page's widgets updated (set by the page)
        # one step, one twin switch or one read for drawing at a time (play runs in a thread)
        self.lock = threading.RLock()
        # Frame pacing, on while a page shows this run: a step waits until the page has drawn the previous
        # quarter. Without it, Play runs ahead while another thread is busy drawing, and the page jumps.
        self.paced = False
        self._shown = threading.Event()
        self._shown.set()
        self.main: CreditLoopModel | None = self._build(config.params, "the model")
        self.main_opening = opening_metrics(self.main)  # before any step: the books as they open
        # per-firm series of the run (quarter -1 = the opening books), for the firm panel
        self.firm_history: dict[str, dict[str, list[float]]] = {}
        self.history_quarters: list[int] = []
        self._record_firms()
        self.twin_opening: dict[str, float] | None = None
        if twin:
            self.set_twin(True)

    def _build(self, params: Parameters, what: str) -> CreditLoopModel | None:
        try:
            return CreditLoopModel(params, rng=self.config.seed, scenario=self.config.scenario)
        except Exception as err:
            log.warning("cannot start %s: %s", what, traceback.format_exc())
            msg = f"{what} cannot start with these settings: {type(err).__name__}: {err}"
            if what == "the model":
                self.error = msg
            else:
                self.twin_error = msg
            return None

    # -- what the controller uses ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.main is not None and self.main.running and self.error is None and not self.retired

    def frame_shown(self) -> None:
        """The page has drawn the current quarter (called by the page after each render)."""
        self._shown.set()

    def step(self) -> None:
        if self.paced:
            self._shown.wait(FRAME_WAIT_S)  # bounded: a closed page never blocks the run for long
        with self.lock:
            if not self.running:
                return
            self._shown.clear()
            t0 = self.step_started = time.perf_counter()
            try:
                self.main.step()
            except Exception as err:
                log.warning("model step failed: %s", traceback.format_exc())
                self.error = f"the model stopped in {self.label}: {type(err).__name__}: {err}"
                return
            self._record_firms()
            self._catch_up_twin()
            self.step_ms = (time.perf_counter() - t0) * 1000.0

    def _record_firms(self) -> None:
        """Append this quarter's cash, debt on and off balance sheet, equity, spread and DebtRank of every firm."""
        m = self.main
        if m is None:
            return
        try:
            rows = firm_rows(m)
        except Exception:  # only for the firm panel: never stop the run for it
            log.warning("firm series: %s", traceback.format_exc())
            return
        self.history_quarters.append(int(m.steps) - 1)
        for name, row in rows.items():
            h = self.firm_history.setdefault(name, {k: [] for k in FIRM_SERIES})
            for k in FIRM_SERIES:
                h[k].append(row[k])

    def _catch_up_twin(self) -> None:
        twin = self.twin
        if twin is None:
            return
        try:
            while twin.running and twin.steps < self.main.steps:
                twin.step()
        except Exception as err:
            log.warning("twin step failed: %s", traceback.format_exc())
            self.twin_error = f"the twin stopped in {twin.label}: {type(err).__name__}: {err}"
            self.twin = None

    def retire(self) -> None:
        """Stop for good (its page was replaced): a play loop still holding it ends at its next step."""
        self.retired = True

    # -- twin -------------------------------------------------------------------------------------------------
    @property
    def circular_on(self) -> bool:
        return bool(self.config.params.circular.circular_financing)

    def set_twin(self, on: bool) -> None:
        """Switch the counterfactual on (built and caught up to the run's quarter) or off."""
        with self.lock:
            if not on:
                self.twin = None
                return
            if self.twin is not None or self.main is None:
                return
            self.twin_error = None
            self.twin = self._build(
                counterfactuals.apply(self.config.params, self.counterfactual), "the twin"
            )
            self.twin_opening = opening_metrics(self.twin)  # before it catches up
            self._catch_up_twin()

    def set_counterfactual(self, name: str) -> None:
        """Show counterfactual ``name`` in the twin (rebuilt and caught up when the twin is on)."""
        if name not in counterfactuals.COUNTERFACTUALS:
            raise ValueError(f"unknown counterfactual {name!r}")
        with self.lock:
            if name == self.counterfactual:
                return
            self.counterfactual = name
            if self.twin is not None or self.twin_error is not None:
                self.twin = None
                self.set_twin(True)

    @property
    def counterfactual_text(self) -> str:
        return counterfactuals.COUNTERFACTUALS[self.counterfactual].removes

    # -- reading ----------------------------------------------------------------------------------------------
    @property
    def quarters_done(self) -> int:
        return 0 if self.main is None else int(self.main.steps)

    @property
    def horizon(self) -> int:
        return int(self.config.params.run.quarters)

    @property
    def label(self) -> str:
        """The last simulated quarter (or "start")."""
        if self.main is None or self.main.steps == 0:
            return "start"
        return self.main.label

    @property
    def status(self) -> str:
        if self.error:
            return "stopped"
        if self.main is not None and not self.main.running:
            return "finished"
        return "running" if self.quarters_done else "ready"


FIRM_SERIES = ("cash", "debt_on_bs", "debt_off_bs", "equity", "spread_bp", "debtrank")
FIRM_SERIES_LABELS = {
    "cash": "cash, USD bn",
    "debt_on_bs": "debt on balance sheet, USD bn",
    "debt_off_bs": "debt off balance sheet, USD bn",
    "equity": "book equity, USD bn",
    "spread_bp": "credit spread, bp",
    "debtrank": "DebtRank (share of system equity)",
}


def firm_rows(model: CreditLoopModel) -> dict[str, dict[str, float]]:
    """Each firm's cash, debt on and off its balance sheet (its SPV facilities and the debt of project companies
    it sponsors count as off), book equity, credit spread (bp) and DebtRank, from the books as they stand."""
    c, ledger = model.ledger.contracts, model.ledger
    n = ledger.n_parties
    debt = (c.view("status") == Status.ACTIVE) & IS_DEBT[c.view("kind")]
    off = c.view("off_balance_sheet").astype(bool)
    principal, debtor = c.view("principal"), c.view("debtor")
    on_bs = np.bincount(debtor[debt & ~off], principal[debt & ~off], n)
    off_bs = np.bincount(debtor[debt & off], principal[debt & off], n)
    pc = model.project_company
    if pc is not None and getattr(pc, "sponsor", None) is not None:
        off_bs[pc.sponsor.party] += on_bs[pc.party] + off_bs[pc.party]
    ranks = model.debtrank_cache
    out = {}
    for f in model.firms:
        try:
            spread = float(f.credit_spread) * 1e4
        except Exception:
            spread = float("nan")
        out[f.name] = {
            "cash": float(ledger.cash[f.party]),
            "debt_on_bs": float(on_bs[f.party]),
            "debt_off_bs": float(off_bs[f.party]),
            "equity": float(f.equity),
            "spread_bp": spread,
            "debtrank": float(ranks[f.party]) if f.party < len(ranks) else float("nan"),
        }
    return out
