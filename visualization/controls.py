"""The settings sidebar: scenario picker, seed, every parameter of the schema as a slider or switch (grouped,
with unit and help text), and the scenario's scripted shocks.

Nothing here declares a parameter: names, types, defaults, ranges, units and help text all come from
``params.schema.parameter_specs()``, shock fields and bounds from ``params.schema.Shock``. Every edit goes
through :mod:`visualization.live`, which validates it with the schema; an invalid combination shows the
schema's message instead of starting a run.
"""

from __future__ import annotations

import html
import inspect
import math
import re
from collections.abc import Callable
from typing import Any

import solara
import solara.lab
from solara.alias import rv as v

from economy.events import quarter_label
from params.schema import GROUP_TITLES, ParamSpec, Shock, parameter_specs
from visualization import live
from visualization.style import fmt, humanize

# the issue names these groups first (in this order); shocks come right after them
PRIMARY_GROUPS = ("demand", "credit", "circular", "lenders", "markets")


# -- groups -------------------------------------------------------------------------------------------------------
def group_title(group: str, firm_names: dict[str, str] | None = None) -> str:
    if group in GROUP_TITLES:
        return GROUP_TITLES[group]
    name = (firm_names or {}).get(group) or humanize(group)
    return f"Firm calibration: {name}"


def grouped_specs() -> list[tuple[str, list[ParamSpec]]]:
    """(group, specs) in display order: the issue's groups, the other schema groups, then the firm tables."""
    groups: dict[str, list[ParamSpec]] = {}
    for s in parameter_specs():
        groups.setdefault(s.group, []).append(s)
    order = [g for g in PRIMARY_GROUPS if g in groups]
    order += [g for g in GROUP_TITLES if g in groups and g not in order]
    order += [g for g in groups if g not in order]
    return [(g, sorted(groups[g], key=lambda s: not s.ui)) for g in order]  # key levers first


def firm_group_names(firm_names: list[str]) -> dict[str, str]:
    """Firm-table keys of the schema (``"deutsche_bank"``) -> display names (``"Deutsche Bank"``)."""
    return {n.lower().replace(" ", "_").replace("-", "_"): n for n in firm_names}


# -- sliders ------------------------------------------------------------------------------------------------------
def slider_step(s: ParamSpec, *values: Any) -> float:
    """A round step (1, 2 or 5 x 10^k, about 1/200 of the range) that lands exactly on the default and on
    ``values`` (so the slider never rounds a preset's value), for ints at least 1."""
    lo, hi = float(s.lo), float(s.hi)
    span = hi - lo
    if span <= 0:
        return 1.0
    raw = span / 200.0
    k = math.floor(math.log10(raw))
    step = max(m * 10**k for m in (1, 2, 5) if m * 10**k <= raw * 1.0000001)
    points = [float(s.default), *(float(x) for x in values if isinstance(x, int | float))]

    def fits(st: float) -> bool:
        return all(abs((p - lo) / st - round((p - lo) / st)) < 1e-6 for p in points)

    for _ in range(12):
        if fits(step) or step < 1e-9:
            break
        step /= 10.0
    if s.type is int:
        step = max(1.0, round(step))
    return step


def _coerce(s: ParamSpec, value: Any) -> Any:
    if s.type is bool:
        return bool(value)
    if s.type is int:
        return round(float(value))
    return float(value)


def param_head_html(spec: ParamSpec, value: Any) -> str:
    """Name, value with unit, and help text of a parameter (one HTML block: fewer widgets, faster page)."""
    shown = ("on" if value else "off") if spec.type is bool else f"{fmt(value)} {spec.unit}"
    tip = f"{spec.name} · default {fmt(spec.default)} · source: {spec.source}"
    rng = "" if spec.type is bool else f" Range {fmt(spec.lo)}–{fmt(spec.hi)}."
    return (
        f"<div class='cl-param-row' title='{html.escape(tip, quote=True)}'>"
        f"<span class='cl-param-name'>{html.escape(humanize(spec.name))}</span>"
        f"<span class='cl-param-value'>{html.escape(shown)}</span></div>"
        f"<div class='cl-help'>{html.escape(spec.description)}{rng}</div>"
    )


@solara.component
def ParamControl(spec: ParamSpec, value: Any, edited: bool, preset: Any, on_value: Callable[[Any], None]):
    """One parameter: name, value and unit, its help text from the schema, and a slider (or switch)."""
    with solara.Div(classes=["cl-param", "cl-param-edited" if edited else "cl-param-plain"]):
        solara.HTML(tag="div", unsafe_innerHTML=param_head_html(spec, value), classes=["cl-param-head"])
        with solara.Div(classes=["cl-param-input"]):
            if spec.type is bool:
                solara.Switch(
                    label=humanize(spec.name), value=bool(value), on_value=lambda x: on_value(bool(x))
                )
            else:
                slider = v.Slider(
                    v_model=value,
                    min=spec.lo,
                    max=spec.hi,
                    step=slider_step(spec, value, preset),
                    thumb_label=True,
                    hide_details=True,
                    dense=True,
                    class_="cl-slider",
                )

                def changed(_widget, _event, data):
                    try:
                        on_value(_coerce(spec, data))
                    except (TypeError, ValueError):
                        pass

                v.use_event(slider, "change", changed)  # on release: one new run per edit, not per pixel
            if edited:
                solara.Button(
                    icon_name="mdi-undo",
                    icon=True,
                    small=True,
                    on_click=lambda: on_value(preset),
                    classes=["cl-param-undo"],
                )


@solara.component
def GroupBody(specs: list[ParamSpec], state: solara.Reactive[live.UiState], show_all_first: bool = False):
    """The key levers of a group, and the rest behind a switch (built only when asked for)."""
    show_all, set_show_all = solara.use_state(show_all_first or not any(s.ui for s in specs))
    s = state.value
    levers = [p for p in specs if p.ui]
    others = [p for p in specs if not p.ui]
    shown = levers + (others if show_all else [])

    def setter(name):
        return lambda value: state.set(live.with_edit(state.value, name, value))

    for p in shown:
        ParamControl(p, s.value(p.name), s.is_edited(p.name), s.preset_value(p.name), setter(p.name)).key(
            p.name
        )
    if others and levers:
        solara.Switch(
            label=f"show all {len(specs)} parameters of this group",
            value=show_all,
            on_value=set_show_all,
            classes=["cl-show-all"],
        )


@solara.component
def FirmCalibrations(groups: list[tuple[str, list[ParamSpec]]], state: solara.Reactive[live.UiState], names):
    """The per-firm calibration tables, one firm at a time."""
    keys = [g for g, _ in groups]
    labels = {g: (names or {}).get(g) or humanize(g) for g in keys}
    chosen, set_chosen = solara.use_state(keys[0])
    solara.Select(
        "Firm",
        values=[labels[g] for g in keys],
        value=labels[chosen],
        on_value=lambda label: set_chosen(next(g for g in keys if labels[g] == label)),
        dense=True,
    )
    GroupBody(dict(groups)[chosen], state, show_all_first=True).key(f"firm-{chosen}")


SHOCKS = "shocks"
FIRMS = "firms"


def panel_order() -> list[tuple[str, list[ParamSpec]]]:
    """The sidebar's panels: the issue's groups, the shocks, the other schema groups, then the firm tables."""
    groups = grouped_specs()
    primary = [g for g in groups if g[0] in PRIMARY_GROUPS]
    others = [g for g in groups if g[0] not in PRIMARY_GROUPS and g[0] in GROUP_TITLES]
    firms = [g for g in groups if g[0] not in PRIMARY_GROUPS and g[0] not in GROUP_TITLES]
    out = [*primary, (SHOCKS, []), *others]
    if firms:
        out.append((FIRMS, [spec for _, specs in firms for spec in specs]))
    return out


@solara.component
def ParameterGroups(state: solara.Reactive[live.UiState], firm_names: list[str]):
    panels = panel_order()
    firm_groups = [g for g in grouped_specs() if g[0] not in GROUP_TITLES]
    names = firm_group_names(firm_names)
    default_open = [i for i, (g, _) in enumerate(panels) if g in (*PRIMARY_GROUPS, SHOCKS)]
    opened, set_opened = solara.use_state(default_open)
    s = state.value
    edits = dict(s.edits)
    with v.ExpansionPanels(
        multiple=True, v_model=opened, on_v_model=set_opened, accordion=True, flat=True, class_="cl-groups"
    ):
        for i, (group, specs) in enumerate(panels):
            if group == SHOCKS:
                title = "Shocks"
                badge = f"{len(s.shocks)} scripted" + (" · edited" if s.shocks != s.preset_shocks else "")
            else:
                n_edited = sum(1 for p in specs if p.name in edits)
                levers = sum(1 for p in specs if p.ui)
                title = "Firm calibrations" if group == FIRMS else group_title(group, names)
                badge = (
                    f"{levers} key lever{'s' if levers != 1 else ''}"
                    if levers
                    else f"{len(specs)} parameters"
                )
                if n_edited:
                    badge += f" · {n_edited} edited"
            with v.ExpansionPanel(class_=f"cl-group cl-group-{group}"):
                v.ExpansionPanelHeader(
                    children=[
                        v.Html(tag="span", class_="cl-group-name", children=[title]),
                        v.Html(tag="span", class_="cl-badge", children=[badge]),
                    ],
                    class_="cl-group-title",
                )
                with v.ExpansionPanelContent():
                    if opened and i in opened:  # built only while open: 244 sliders would slow the page
                        if group == SHOCKS:
                            ShockEditor(state).key("shocks")
                        elif group == FIRMS:
                            FirmCalibrations(firm_groups, state, names).key("firms")
                        else:
                            GroupBody(specs, state).key(f"body-{group}")


# -- shocks -------------------------------------------------------------------------------------------------------
def shock_kind_help() -> dict[str, str]:
    """What each shock kind means and its size unit, read from the comments of ``Shock.kind`` in the schema
    (the schema's one description of them)."""
    try:
        source = inspect.getsource(Shock)
    except (OSError, TypeError):
        return {}
    return {m.group(1): m.group(2).strip() for m in re.finditer(r'"([a-z_]+)",\s*#\s*(.+)', source)}


@solara.component
def ShockEditor(state: solara.Reactive[live.UiState]):
    s = state.value
    shocks = list(s.shocks)
    helps = solara.use_memo(shock_kind_help, [])
    q_lo, q_hi = live.shock_bounds("quarter")
    d_lo, d_hi = live.shock_bounds("duration")
    size_lo, size_hi = live.shock_bounds("size")
    horizon = int(s.config.params.run.quarters)
    q_max = int(min(q_hi, max(horizon - 1, 0)))

    def update(i: int, **changes):
        new = [dict(x) for x in shocks]
        new[i].update(changes)
        state.set(live.with_shocks(state.value, new))

    def remove(i: int):
        state.set(live.with_shocks(state.value, [x for j, x in enumerate(shocks) if j != i]))

    def add():
        new = {"kind": live.SHOCK_KINDS[0], "quarter": min(4, q_max), "size": 0.0, "duration": 1}
        state.set(live.with_shocks(state.value, [*shocks, new]))

    solara.Text(
        f"The scenario's scripted shocks ({len(shocks)}). Quarter 0 is 2025Q4; size bounds {fmt(size_lo)} to "
        f"{fmt(size_hi)}, its unit depends on the kind.",
        classes=["cl-help"],
    )
    for i, sh in enumerate(shocks):
        with solara.Card(classes=["cl-shock"], style={"padding": "6px", "margin-bottom": "6px"}):
            with solara.Row(justify="space-between", style={"align-items": "center"}):
                solara.Select(
                    "kind",
                    values=list(live.SHOCK_KINDS),
                    value=sh.get("kind"),
                    on_value=lambda k, i=i: update(i, kind=k),
                    dense=True,
                )
                solara.Button(icon_name="mdi-delete", icon=True, small=True, on_click=lambda i=i: remove(i))
            if sh.get("kind") in helps:
                solara.Text(helps[sh["kind"]], classes=["cl-help"])
            quarter = int(sh.get("quarter", 0))
            solara.SliderInt(
                f"quarter: {quarter_label(quarter)}",
                value=min(max(quarter, int(q_lo)), max(q_max, quarter)),
                min=int(q_lo),
                max=max(q_max, quarter),
                on_value=lambda q, i=i: update(i, quarter=int(q)),
            )
            with solara.Row(gap="8px"):
                solara.InputFloat(
                    "size",
                    value=float(sh.get("size", 0.0)),
                    on_value=lambda x, i=i: update(i, size=x),
                    dense=True,
                    classes=["cl-shock-size"],
                )
                solara.InputInt(
                    f"duration (quarters, {int(d_lo)}–{int(d_hi)})",
                    value=int(sh.get("duration", 1)),
                    on_value=lambda x, i=i: update(i, duration=x),
                    dense=True,
                )
    solara.Button("Add a shock", icon_name="mdi-plus", on_click=add, text=True, classes=["cl-add-shock"])


# -- scenario and seed --------------------------------------------------------------------------------------------
@solara.component
def ScenarioPicker(state: solara.Reactive[live.UiState]):
    s = state.value
    upload_error, set_upload_error = solara.use_state(None)

    def on_file(info):
        try:
            sc = live.scenario_from_toml(info["name"], info["data"] or info["file_obj"].read())
        except live.ParameterError as err:
            set_upload_error(str(err))
            return
        set_upload_error(None)
        state.set(live.with_upload(state.value, sc))

    solara.Select(
        "Scenario",
        values=live.scenario_choices(s.uploads),
        value=s.scenario,
        on_value=lambda name: state.set(live.with_scenario(state.value, name)),
        classes=["cl-scenario"],
    )
    solara.Text(s.description or "(no description)", classes=["cl-scenario-description"])
    with solara.Row(style={"align-items": "center"}):
        solara.InputInt(
            "Seed",
            value=s.seed,
            on_value=lambda x: state.set(live.with_seed(state.value, x if x is not None else 0)),
            classes=["cl-seed"],
            dense=True,
        )
        solara.Button(
            "Undo all edits",
            icon_name="mdi-undo",
            text=True,
            disabled=not s.modified,
            on_click=lambda: state.set(live.with_scenario(state.value, state.value.scenario)),
        )
    solara.FileDrop(
        label="Drop a scenario .toml here (e.g. one saved from Export) to load it",
        on_file=on_file,
        lazy=False,
    )
    if upload_error:
        solara.Error(upload_error, classes=["cl-upload-error"])


@solara.component
def SettingsPanel(state: solara.Reactive[live.UiState], firm_names: list[str]):
    s = state.value
    ScenarioPicker(state)
    if s.error:
        solara.Error(
            f"Not applied (the run keeps the last valid settings): {s.error}",
            classes=["cl-settings-error"],
            style={"white-space": "pre-wrap"},
        )
    solara.Text(
        "Changing a setting starts a new run at 2025Q4. Hover a name for its source; ↺ returns to the preset.",
        classes=["cl-help"],
    )
    ParameterGroups(state, firm_names)
