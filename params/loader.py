"""Scenarios and overrides: turn TOML files and ``key=value`` strings into validated :class:`Parameters`.

There is one path from input to a validated value: :func:`check_value` validates a (name, value) with the
pydantic validator the schema builds for that parameter (:func:`params.schema.value_adapter`), for scenario
files, grid files, ``--set`` and Python callers alike; the files' own layout is validated by pydantic models
(:class:`ScenarioFile` here, the grid file's in :mod:`sweep.grid`) and the cross-field rules by
:class:`Parameters` itself. Every failure becomes one :class:`ParameterError` of one line that names the
field, the value given and what is allowed, so the CLI and the UI can show it without a traceback.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError

from params.schema import (
    OWN_ERROR,
    Parameters,
    Shock,
    allowed_text,
    parameter_specs,
    spec,
    value_adapter,
    value_of,
)

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
# Scenario and grid files are a few hundred bytes; 1 MiB is far beyond any real one and keeps /dev/zero or a
# multi-gigabyte file from being read into memory.
MAX_FILE_BYTES = 1 << 20
# Seeds end up in int64 columns of the parquet outputs (a seed of 2**70 overflows pyarrow after the run);
# numpy's SeedSequence and Mesa take any non-negative integer.
SEED_MIN, SEED_MAX = 0, 2**63 - 1
Seed = Annotated[int, Strict(), Field(ge=SEED_MIN, le=SEED_MAX)]
_SEED = TypeAdapter(Seed)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


class ParameterError(ValueError):
    """Bad input: unknown field, wrong type, out of range, malformed file, unknown scenario."""


@dataclass(frozen=True)
class Scenario:
    """A named set of overrides and shocks on top of the schema defaults."""

    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    shocks: tuple[Shock, ...] = ()
    source: str = ""  # the file it came from


class ScenarioFile(BaseModel):
    """The layout of a scenario file; its ``[params]`` are checked name by name against the schema."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = None
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    shocks: list[Shock] = Field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------
# One-line refusals
# ----------------------------------------------------------------------------------------------------------


def refusal(
    where: str, field_text: str, value: Any, error_type: str, allowed: str, what: str = "value"
) -> ParameterError:
    """``{where}{field}: value {value} is out of range | is not valid; allowed: {allowed}``."""
    verb = "is out of range" if error_type in _RANGE_ERRORS else "is not valid"
    return ParameterError(f"{where}{field_text}: {what} {value!r} {verb}; allowed: {allowed}")


def _loc_text(loc: tuple) -> str:
    """("shocks", 0, "kind") -> "shocks[0]: kind"; ("design", "method") -> "design.method"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += (": " if out.endswith("]") else "." if out else "") + str(part)
    return out


def _inner(annotation: Any) -> Any:
    """The item type of list[X] / tuple[X, ...] / X | None; ``annotation`` itself otherwise."""
    args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if get_origin(annotation) in (list, tuple) or (args and type(None) in get_args(annotation)):
        return _inner(args[0]) if args else annotation
    return annotation


def _field_at(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel], Any, Any] | None:
    """The (model, field info, item type) that ``loc`` points into, or None."""
    node: Any = model
    found = None
    for part in loc:
        if isinstance(part, int):
            continue  # an item of the list field found last
        if not (isinstance(node, type) and issubclass(node, BaseModel)) or part not in node.model_fields:
            return None
        info = node.model_fields[part]
        found = (node, info, _inner(info.annotation))
        node = found[2]
    return found


def _constraints(annotation: Any, info: Any) -> dict[str, Any]:
    """ge/gt/le/lt/allow_inf_nan of a field, also from an Annotated type inside ``X | None`` (pydantic keeps
    those on the type, not on the field)."""
    metadata = list(getattr(info, "metadata", ()))
    for arg in (annotation, *get_args(annotation)):
        if get_origin(arg) is Annotated:
            for m in get_args(arg)[1:]:
                metadata += getattr(m, "metadata", [m])  # a Field(...) carries its constraints as metadata
    names = ("ge", "gt", "le", "lt", "allow_inf_nan")
    return {n: getattr(m, n) for m in metadata for n in names if getattr(m, n, None) is not None}


def describe(annotation: Any, info: Any = None) -> str:
    """What a field of this type may hold, in the words of a TOML file."""
    c = _constraints(annotation, info)
    annotation = _inner(annotation)
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"a table with {', '.join(annotation.model_fields)}"
    if get_args(annotation) and all(isinstance(a, str) for a in get_args(annotation)):  # a Literal
        choices = list(get_args(annotation))
        return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
    if annotation is str:
        return "a string"
    if get_origin(annotation) is dict or annotation is dict:
        return "a table"
    if annotation not in (bool, int, float):
        return str(annotation)
    text = allowed_text(annotation, c.get("ge"), c.get("le"))
    if "gt" in c:
        text = f"{text} > {c['gt']:g}"
    if c.get("allow_inf_nan") is False:
        text = text.replace("a number", "a finite number")
    return text


def explain(err: ValidationError, where: str = "", model: type[BaseModel] = Parameters) -> ParameterError:
    """The first problem of a pydantic error, as one line naming the field, the value and what is allowed."""
    e = err.errors()[0]
    loc = tuple(e["loc"])
    if e["type"] == OWN_ERROR:
        return ParameterError(f"{where}{_loc_text(loc) + ': ' if loc else ''}{e['msg']}")
    if e["type"] == "extra_forbidden":
        parent = _field_at(model, loc[:-1])
        keys = list((parent[2] if parent else model).model_fields)
        at = f"{_loc_text(loc[:-1])}: " if loc[:-1] else ""
        return ParameterError(f"{where}{at}unknown key '{loc[-1]}'; allowed: {', '.join(keys)}")
    name = ".".join(str(x) for x in loc)
    if name in {s.name for s in parameter_specs()}:
        return refusal(where, name, e.get("input"), e["type"], f"{spec(name).allowed} ({spec(name).unit})")
    found = _field_at(model, loc)
    if found is None:
        allowed = e["msg"]
    elif isinstance(loc[-1], int):  # the item of a list, e.g. shocks[0] = 5
        allowed = describe(found[2])
    elif get_origin(found[1].annotation) in (list, tuple):  # the list itself, e.g. shocks = 5
        allowed = f"an array of tables [[{loc[-1]}]], each {describe(found[2]).replace('a table ', '')}"
    else:
        allowed = describe(found[1].annotation, found[1])
    if e["type"] == "missing":
        return ParameterError(f"{where}{_loc_text(loc)}: missing; give {allowed}")
    return refusal(where, _loc_text(loc), e.get("input"), e["type"], allowed)


# ----------------------------------------------------------------------------------------------------------
# Values: the one path from (name, value) to a validated value
# ----------------------------------------------------------------------------------------------------------


def _unknown(name: str, where: str) -> ParameterError:
    names = [s.name for s in parameter_specs()]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = (
        f"; did you mean {', '.join(close)}?" if close else "; `python run.py params` lists every parameter"
    )
    return ParameterError(f"{where}unknown parameter '{name}'{hint}")


def check_names(overrides: dict[str, Any], where: str = "") -> None:
    for name in overrides:
        try:
            spec(name)
        except KeyError:
            raise _unknown(name, where) from None


def check_value(
    name: str, value: Any, where: str = "", *, what: str = "value", as_number: bool = False
) -> Any:
    """``value`` validated by the schema's declaration of ``name`` (typed: ints, floats or bools), or a
    ParameterError naming the field, the value and what is allowed. ``what`` names the value in the message
    ("range bound"); ``as_number`` takes an integer parameter's range as a number (design ranges)."""
    check_names({name: None}, where)
    try:
        return value_adapter(name, as_number=as_number).validate_python(value)
    except ValidationError as err:
        s = spec(name)
        raise refusal(where, name, value, err.errors()[0]["type"], f"{s.allowed} ({s.unit})", what) from None


def check_seed(value: Any, where: str = "--seed") -> int:
    """A seed the model and its outputs accept (``SEED_MIN <= seed <= SEED_MAX``), or a ParameterError."""
    try:
        return _SEED.validate_python(value)
    except ValidationError as err:
        allowed = allowed_text(int, SEED_MIN, SEED_MAX)
        raise refusal("", where, value, err.errors()[0]["type"], allowed) from None


def parse_text(name: str, text: str, where: str = "--set ") -> Any:
    """A command-line string typed by the parameter's schema type (booleans as true/false, yes/no, on/off,
    1/0); the range is left to :func:`check_value`."""
    try:
        s = spec(name)
    except KeyError:
        raise _unknown(name, where.rstrip() + ": " if where.strip() else "") from None
    raw = text.strip()
    try:
        if s.type is bool:
            if raw.lower() in _TRUE + _FALSE:
                return raw.lower() in _TRUE
            raise ValueError
        if s.type is int:
            try:
                return int(raw)
            except ValueError:
                return float(raw)  # 6.0 is the integer 6; 2.5 is refused by check_value, naming 2.5
        return float(raw)
    except ValueError:
        raise ParameterError(f"{where}{name}: value '{text}' is not {s.allowed} ({s.unit})") from None


def parse_value(name: str, text: str) -> Any:
    """Parse and check one ``--set`` value."""
    return check_value(name, parse_text(name, text), "--set ")


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", ...]`` -> ``{"a.b": 1}`` with each value typed and checked by the schema."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"--set: '{item}' is not of the form name=value")
        name, text = item.split("=", 1)
        out[name.strip()] = parse_value(name.strip(), text)
    return out


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        node = nested
        *parents, leaf = name.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return nested


def build_parameters(
    overrides: dict[str, Any] | None = None, shocks: tuple[Shock, ...] = (), where: str = ""
) -> Parameters:
    """Validate dotted overrides (and shocks) against the schema, its shock kinds and cross-field rules."""
    checked = {name: check_value(name, value, where) for name, value in (overrides or {}).items()}
    data = _nest(checked)
    data["shocks"] = [s.model_dump() if isinstance(s, Shock) else s for s in shocks]
    try:
        return Parameters.model_validate(data)
    except ValidationError as err:
        raise explain(err, where, Parameters) from None


# ----------------------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------------------

_FILE_TYPES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read_bounded(path: Path, what: str) -> bytes:
    """At most MAX_FILE_BYTES of a regular file. Opened without blocking, so that a FIFO is refused instead of
    waiting for a writer, and checked on the open file, so that nothing can be swapped in between."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ParameterError(f"{what} '{path}' does not exist") from None
    except OSError as err:
        raise ParameterError(f"{what} '{path}' cannot be read: {err.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ParameterError(f"{what} '{path}' is a directory, not a TOML file")
        if not stat.S_ISREG(mode):
            kind = next((text for test, text in _FILE_TYPES if test(mode)), "not a regular file")
            raise ParameterError(f"{what} '{path}' is {kind}, not a regular file; allowed: a TOML file")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ParameterError(
            f"{what} '{path}' is larger than {MAX_FILE_BYTES:,} bytes; allowed: a TOML file of at most "
            f"{MAX_FILE_BYTES // (1 << 20)} MiB ({MAX_FILE_BYTES:,} bytes)"
        )
    return data


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read a TOML file of at most MAX_FILE_BYTES; a missing file, a folder, a device, a FIFO, a huge file or
    a syntax error becomes a ParameterError naming the file."""
    data = _read_bounded(Path(path), what)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ParameterError(f"{Path(path).name}: not a text (TOML) file") from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(f"{Path(path).name}: TOML syntax error: {err}") from None


def read_scenario_file(path: str | Path) -> Scenario:
    path = Path(path)
    where = f"{path.name}: "
    try:
        doc = ScenarioFile.model_validate(read_toml(path, "scenario file"))
    except ValidationError as err:
        raise explain(err, where, ScenarioFile) from None
    overrides = _flatten(doc.params)
    for name, value in overrides.items():
        check_value(name, value, where)  # the values are kept as written: sweep fingerprints hash them
    scenario = Scenario(doc.name or path.stem, doc.description, overrides, tuple(doc.shocks), str(path))
    build_parameters(scenario.overrides, scenario.shocks, where)  # the rules, now rather than later
    return scenario


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name: str) -> Scenario:
    """A scenario of ``params/scenarios/`` by name. Only those names: a name is never a path (a file is read
    with ``--scenario-file``)."""
    names = scenario_names()
    if name not in names:
        raise ParameterError(
            f"unknown scenario '{name}'; available: {', '.join(names)} (a file: --scenario-file FILE)"
        )
    return read_scenario_file(SCENARIO_DIR / f"{name}.toml")


def resolve(
    scenario: str | None = "baseline",
    scenario_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Scenario, Parameters]:
    """The scenario (by name or file) with overrides applied on top, validated."""
    sc = read_scenario_file(scenario_file) if scenario_file else load_scenario(scenario or "baseline")
    merged = {**sc.overrides, **(overrides or {})}
    return sc, build_parameters(merged, sc.shocks)


def differences(params: Parameters) -> dict[str, Any]:
    """Dotted parameters whose value differs from the schema default."""
    out = {}
    for s in parameter_specs():
        value = value_of(params, s.name)
        if value != s.default:
            out[s.name] = value
    return out


get_value = value_of  # the name the UI and the sweeps import


def scenario_toml(name: str, description: str, params: Parameters) -> str:
    """Serialise settings as a scenario file that `run.py simulate --scenario-file` accepts."""
    doc: dict[str, Any] = {"name": name, "description": description, "params": _nest(differences(params))}
    if params.shocks:
        doc["shocks"] = [s.model_dump() for s in params.shocks]
    return tomli_w.dumps(doc)
