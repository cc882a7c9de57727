"""Scenarios and overrides: turn TOML files and ``key=value`` strings into validated :class:`Parameters`.

Every failure becomes one :class:`ParameterError` whose message names the field, the value given and what is
allowed, so the CLI and the UI can show it without a traceback.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from params.schema import Parameters, Shock, parameter_specs, spec

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


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


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


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


def parse_value(name: str, text: str) -> Any:
    """Parse one ``--set`` value according to the parameter's type."""
    try:
        s = spec(name)
    except KeyError:
        raise _unknown(name, "--set: ") from None
    raw = text.strip()
    try:
        if s.type is bool:
            lowered = raw.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if s.type is int:
            return int(raw)
        return float(raw)
    except ValueError:
        raise ParameterError(f"{name}: value '{text}' is not {s.allowed} ({s.unit})") from None


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", ...]`` -> ``{"a.b": 1}`` with each value typed by the schema."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"--set: '{item}' is not of the form name=value")
        name, text = item.split("=", 1)
        out[name.strip()] = parse_value(name.strip(), text)
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


def _explain(err: ValidationError, where: str) -> ParameterError:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        try:
            allowed = f"allowed: {spec(loc).allowed} ({spec(loc).unit})"
        except KeyError:
            allowed = e["msg"]
        value = e.get("input")
        lines.append(f"{where}{loc}: value {value!r} is not valid; {allowed}")
    return ParameterError("\n".join(lines))


def build_parameters(
    overrides: dict[str, Any] | None = None, shocks: tuple[Shock, ...] = (), where: str = ""
) -> Parameters:
    """Validate dotted overrides (and shocks) against the schema."""
    overrides = overrides or {}
    check_names(overrides, where)
    data = _nest(overrides)
    data["shocks"] = [s.model_dump() if isinstance(s, Shock) else s for s in shocks]
    try:
        return Parameters.model_validate(data)
    except ValidationError as err:
        raise _explain(err, where) from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read a TOML file; a missing file, a folder or a syntax error becomes a ParameterError naming the file."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ParameterError(f"{what} '{path}' does not exist") from None
    except IsADirectoryError:
        raise ParameterError(f"{what} '{path}' is a directory, not a TOML file") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path.name}: not a text (TOML) file") from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(f"{path.name}: TOML syntax error: {err}") from None


def read_scenario_file(path: str | Path) -> Scenario:
    path = Path(path)
    where = f"{path.name}: "
    data = read_toml(path, "scenario file")
    allowed_keys = {"name", "description", "params", "shocks"}
    for key in data:
        if key not in allowed_keys:
            raise ParameterError(
                f"{where}unknown top-level key '{key}'; allowed: {', '.join(sorted(allowed_keys))}"
            )
    overrides = _flatten(data.get("params", {}))
    check_names(overrides, where)
    shocks = []
    for i, raw in enumerate(data.get("shocks", [])):
        try:
            shocks.append(Shock.model_validate(raw))
        except ValidationError as err:
            detail = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in err.errors()
            )
            raise ParameterError(f"{where}shocks[{i}]: {detail}") from None
    scenario = Scenario(
        str(data.get("name", path.stem)),
        str(data.get("description", "")),
        overrides,
        tuple(shocks),
        str(path),
    )
    build_parameters(scenario.overrides, scenario.shocks, where)  # validate now, not later
    return scenario


def load_scenario(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.toml"
    if not path.exists():
        raise ParameterError(f"unknown scenario '{name}'; available: {', '.join(scenario_names())}")
    return read_scenario_file(path)


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
        node: Any = params
        for part in s.name.split("."):
            node = getattr(node, part)
        if node != s.default:
            out[s.name] = node
    return out


def get_value(params: Parameters, name: str) -> Any:
    node: Any = params
    for part in name.split("."):
        node = getattr(node, part)
    return node


def scenario_toml(name: str, description: str, params: Parameters) -> str:
    """Serialise settings as a scenario file that `run.py simulate --scenario-file` accepts."""
    doc: dict[str, Any] = {"name": name, "description": description, "params": _nest(differences(params))}
    if params.shocks:
        doc["shocks"] = [s.model_dump() for s in params.shocks]
    return tomli_w.dumps(doc)
