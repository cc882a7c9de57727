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
from visualization.fileinput import FileBrowse
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

    round_step = step
    for _ in range(12):
        if fits(step) or step < 1e-9:
            break
        step /= 10.0
    if not fits(step) and s.type is not int:
        # no round step lands on the default (a share computed from other figures, e.g. 39.75/139): a step of
        # about the round size that divides the distance from the low end to the default exactly
        gap = float(s.default) - lo
        step = gap / max(round(gap / round_step), 1) if gap > 0 else round_step
    if s.type is int:
        step = max(1.0, round(step))
    return step


def clamped(s: ParamSpec, value: Any) -> int | float:
    """A number inside the schema range [lo, hi] of ``s`` (ints rounded), for every way a slider or its box is
    moved. Vuetify's slider clamps the thumb but emits its ``change`` event with the unclamped value of a key
    press (End then → gives hi + step, PageUp adds ten steps past either end, a step that does not divide the
    range overshoots hi), and a typed number can be anything. ValueError if ``value`` is not a number."""
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{value!r} is not a finite number")
    x = min(max(x, float(s.lo)), float(s.hi))
    if s.type is int:
        return int(min(max(round(x), math.ceil(s.lo)), math.floor(s.hi)))
    return float(f"{x:.12g}")  # drop the float noise of step arithmetic (0.1 + 0.2)


def box_text(value: Any) -> str:
    """A parameter's value as its number box shows it (what ``float()`` reads back)."""
    return fmt(value, 12) if isinstance(value, int | float) else str(value)


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
def FieldError(message: str | None):
    """A field's own message, under the field (it goes as soon as the field holds a valid value)."""
    if message:
        solara.Text(message, classes=["cl-field-error"])


@solara.component
def NumberSlider(spec: ParamSpec, value: Any, preset: Any, on_value: Callable[[Any], None], on_invalid):
    """A slider and a number box for one numeric parameter; whatever moves them, the value that reaches
    ``on_value`` is inside the schema range (:func:`clamped`)."""
    step = slider_step(spec, value, preset)
    with solara.Div(classes=["cl-param-slider"]):
        slider = v.Slider(
            v_model=value,
            min=spec.lo,
            max=spec.hi,
            step=step,
            thumb_label=True,
            hide_details=True,
            dense=True,
            class_="cl-slider",
        )
        box = v.TextField(
            v_model=box_text(value),
            type="number",
            dense=True,
            hide_details=True,
            single_line=True,
            class_="cl-param-box",
            attributes={"min": spec.lo, "max": spec.hi, "step": step, "aria-label": humanize(spec.name)},
        )

    def slid(_widget, _event, data):
        try:
            on_value(clamped(spec, data))
        except (TypeError, ValueError):
            pass

    v.use_event(slider, "change", slid)  # on release: one new run per edit, not per pixel

    def typed(widget, _event, text):
        try:
            x = clamped(spec, text)
        except (TypeError, ValueError):
            on_invalid(text, f"{spec.name}: '{text}' is not {spec.allowed} ({spec.unit})")
            return
        # the box may hold what was typed (e.g. 5 for a range [0, 2]): show the value that is used instead
        widget.v_model = box_text(x)
        on_value(x)

    v.use_event(box, "change", typed)  # Enter or leaving the box


@solara.component
def ParamControl(
    spec: ParamSpec,
    value: Any,
    edited: bool,
    preset: Any,
    on_value: Callable[[Any], None],
    error: str | None = None,
    on_invalid: Callable[[Any, str], None] | None = None,
):
    """One parameter: name, value and unit, its help text from the schema, a slider and number box (or a
    switch), and the field's own error message."""
    classes = ["cl-param", "cl-param-edited" if edited else "cl-param-plain"] + (
        ["cl-param-invalid"] * bool(error)
    )
    with solara.Div(classes=classes, attributes={"data-param": spec.name}):
        solara.HTML(tag="div", unsafe_innerHTML=param_head_html(spec, value), classes=["cl-param-head"])
        with solara.Div(classes=["cl-param-input"]):
            if spec.type is bool:
                solara.Switch(
                    label=humanize(spec.name), value=bool(value), on_value=lambda x: on_value(bool(x))
                )
            else:
                NumberSlider(spec, value, preset, on_value, on_invalid or (lambda _text, _message: None))
            if edited or error:
                solara.Button(
                    icon_name="mdi-undo",
                    icon=True,
                    small=True,
                    on_click=lambda: on_value(preset),
                    classes=["cl-param-undo"],
                )
        FieldError(error)


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

    def invalid(name):
        return lambda text, message: state.set(live.with_invalid(state.value, name, text, message))

    for p in shown:
        ParamControl(
            p,
            s.value(p.name),
            s.is_edited(p.name),
            s.preset_value(p.name),
            setter(p.name),
            s.field_error(p.name),
            invalid(p.name),
        ).key(p.name)
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


def last_shock_quarter(s: live.UiState) -> int:
    """The last quarter a shock can start in: the schema's bound, or the run's last quarter if earlier."""
    return int(min(live.shock_bounds("quarter")[1], max(int(s.config.params.run.quarters) - 1, 0)))


@solara.component
def ShockCard(state: solara.Reactive[live.UiState], i: int, helps: dict[str, str]):
    """One scripted shock; each of its fields carries its own error (a bad size holds up only the size)."""
    s = state.value
    sh = s.shown_shock(i)
    q_lo = live.shock_bounds("quarter")[0]
    d_lo, d_hi = live.shock_bounds("duration")
    q_max = last_shock_quarter(s)

    def update(name: str):
        return lambda x: state.set(live.with_shock(state.value, i, name, x))

    def error(name: str):
        FieldError(s.field_error(f"shocks.{i}.{name}"))

    with solara.Card(classes=["cl-shock"], style={"padding": "6px", "margin-bottom": "6px"}):
        with solara.Row(justify="space-between", style={"align-items": "center"}):
            solara.Select(
                "kind",
                values=list(live.SHOCK_KINDS),
                value=sh.get("kind"),
                on_value=update("kind"),
                dense=True,
            )
            solara.Button(
                icon_name="mdi-delete",
                icon=True,
                small=True,
                on_click=lambda: state.set(live.without_shock(state.value, i)),
            )
        error("kind")
        if sh.get("kind") in helps:
            solara.Text(helps[sh["kind"]], classes=["cl-help"])
        quarter = int(sh.get("quarter", 0))
        solara.SliderInt(
            f"quarter: {quarter_label(quarter)}",
            value=min(max(quarter, int(q_lo)), max(q_max, quarter)),
            min=int(q_lo),
            max=max(q_max, quarter),
            on_value=lambda q: update("quarter")(int(q)),
        )
        error("quarter")
        with solara.Row(gap="8px"):
            solara.InputFloat(
                "size",
                value=float(sh.get("size", 0.0)),
                on_value=update("size"),
                dense=True,
                classes=["cl-shock-size"],
            )
            solara.InputInt(
                f"duration (quarters, {int(d_lo)}–{int(d_hi)})",
                value=int(sh.get("duration", 1)),
                on_value=update("duration"),
                dense=True,
                classes=["cl-shock-duration"],
            )
        error("size")
        error("duration")


@solara.component
def ShockEditor(state: solara.Reactive[live.UiState]):
    s = state.value
    helps = solara.use_memo(shock_kind_help, [])
    size_lo, size_hi = live.shock_bounds("size")

    def add():
        new = {
            "kind": live.SHOCK_KINDS[0],
            "quarter": min(4, last_shock_quarter(s)),
            "size": 0.0,
            "duration": 1,
        }
        state.set(live.with_shocks(state.value, [*state.value.shocks, new]))

    solara.Text(
        f"The scenario's scripted shocks ({len(s.shocks)}). Quarter 0 is 2025Q4; size bounds {fmt(size_lo)} to "
        f"{fmt(size_hi)}, its unit depends on the kind.",
        classes=["cl-help"],
    )
    FieldError(s.field_error("shocks"))
    for i in range(len(s.shocks)):
        ShockCard(state, i, helps).key(f"shock-{i}")
    solara.Button("Add a shock", icon_name="mdi-plus", on_click=add, text=True, classes=["cl-add-shock"])


# -- scenario and seed --------------------------------------------------------------------------------------------
@solara.component
def ScenarioPicker(state: solara.Reactive[live.UiState]):
    s = state.value
    upload_error, set_upload_error = solara.use_state(None)

    def on_file(info):
        """A scenario file, dropped or chosen: the same checks as ``run.py simulate --scenario-file``."""
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
    FieldError(s.field_error("scenario"))
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
            disabled=not (s.modified or s.errors),
            on_click=lambda: state.set(live.with_scenario(state.value, state.value.scenario)),
            classes=["cl-undo-all"],
        )
    FieldError(s.field_error("seed"))
    with solara.Div(classes=["cl-scenario-file"]):
        solara.FileDrop(
            label="Drop a scenario .toml here (e.g. one saved from Export)", on_file=on_file, lazy=False
        )
        with solara.Div(classes=["cl-file-input"]):  # a template widget puts no class on its own root
            FileBrowse("…or choose a scenario file", on_file, accept=".toml")
    if upload_error:
        solara.Error(upload_error, classes=["cl-upload-error"])


@solara.component
def SettingsPanel(state: solara.Reactive[live.UiState], firm_names: list[str]):
    s = state.value
    ScenarioPicker(state)
    if s.errors:
        solara.Error(
            "Not applied (each shows under its field; every other setting is in the run):\n" + s.error,
            classes=["cl-settings-error"],
            style={"white-space": "pre-wrap"},
        )
    solara.Text(
        "Changing a setting starts a new run at 2025Q4. Hover a name for its source; ↺ returns to the preset.",
        classes=["cl-help"],
    )
    ParameterGroups(state, firm_names)
