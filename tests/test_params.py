"""The parameter schema: declared once, traceable, validated, with clear errors."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from params.loader import (
    SEED_MAX,
    ParameterError,
    build_parameters,
    check_seed,
    load_scenario,
    parse_assignments,
    read_scenario_file,
    resolve,
    scenario_names,
    scenario_toml,
)
from params.schema import RULES, SHOCK_KINDS, Parameters, Shock, parameter_specs, shock_kind
from params.table import odd_is_current, parameter_table, parameters_only

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT.parent / "shared" / "calibration" / "facts.csv"


def test_every_parameter_has_unit_range_description_and_source():
    specs = parameter_specs()
    assert len(specs) > 150
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), "a parameter is declared twice"
    for s in specs:
        assert s.unit and s.description, s.name
        assert s.source.startswith("assumption") or re.match(r"^[SEX]\d{3}", s.source), (s.name, s.source)
        if s.type is not bool:
            assert s.lo is not None and s.hi is not None and s.lo <= s.default <= s.hi, s.name


@pytest.mark.skipif(not FACTS.exists(), reason="shared/calibration/facts.csv is not beside this checkout")
def test_every_cited_fact_id_exists_in_facts_csv():
    with FACTS.open() as fh:
        ids = {row["id"] for row in csv.DictReader(fh)}
    cited = set()
    for s in parameter_specs():
        cited.update(re.findall(r"\b[SEX]\d{3}\b", s.source))
    missing = sorted(cited - ids)
    assert not missing, f"sources cite unknown fact ids: {missing}"
    assert len(cited) > 60


def test_defaults_validate_and_scenarios_load():
    Parameters()
    names = scenario_names()
    for required in (
        "baseline",
        "openai_miss",
        "revenue_disappoints",
        "slow_deflation",
        "tech_obsolescence",
        "energy_bottleneck",
        "bull",
        "rate_shock",
        "private_credit_run",
    ):
        assert required in names
        resolve(required)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (
            {"demand.ai_growth_intial_annual": 0.3},
            r"unknown parameter 'demand.ai_growth_intial_annual'.*did you mean",
        ),
        ({"demand.ai_growth_initial_annual": 3.0}, r"demand.ai_growth_initial_annual: value 3.0 .*\[0, 2\]"),
        ({"run.quarters": 0}, r"run.quarters: value 0 .*an integer in \[1, 120\]"),
        ({"meta.cash_usd_bn": "lots"}, r"meta.cash_usd_bn: value 'lots'"),
    ],
)
def test_bad_overrides_name_field_value_and_allowed(overrides, pattern):
    with pytest.raises(ParameterError, match=pattern):
        build_parameters(overrides)


def test_cli_values_are_typed_by_the_schema():
    assert parse_assignments(["run.quarters=8", "circular.circular_financing=off"]) == {
        "run.quarters": 8,
        "circular.circular_financing": False,
    }
    with pytest.raises(ParameterError, match=r"run.quarters: value 'eight' is not an integer"):
        parse_assignments(["run.quarters=eight"])
    with pytest.raises(ParameterError, match="not of the form name=value"):
        parse_assignments(["run.quarters"])


def test_bad_scenario_files(tmp_path):
    bad_syntax = tmp_path / "broken.toml"
    bad_syntax.write_text("name = 'x\n")
    with pytest.raises(ParameterError, match=r"broken\.toml: TOML syntax error"):
        read_scenario_file(bad_syntax)
    bad_shock = tmp_path / "shock.toml"
    bad_shock.write_text('[[shocks]]\nkind = "meteor"\nquarter = 2\nsize = 1\n')
    with pytest.raises(ParameterError, match=r"shock.toml: shocks\[0\]: kind"):
        read_scenario_file(bad_shock)
    bad_param = tmp_path / "param.toml"
    bad_param.write_text("[params.credit]\nreference_rate_annual = 0.9\n")
    with pytest.raises(ParameterError, match=r"param.toml: credit.reference_rate_annual: value 0.9"):
        read_scenario_file(bad_param)
    with pytest.raises(ParameterError, match=r"unknown scenario 'nope'; available: .*baseline"):
        load_scenario("nope")


def test_settings_round_trip_through_scenario_toml(tmp_path):
    _, params = resolve("openai_miss", overrides={"demand.ai_growth_initial_annual": 0.3})
    path = tmp_path / "mine.toml"
    path.write_text(scenario_toml("mine", "exported", params))
    again = read_scenario_file(path)
    assert build_parameters(again.overrides, again.shocks) == params


def test_run_py_params_prints_the_table_and_errors_are_clean():
    out = subprocess.run(
        [sys.executable, "run.py", "params"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "demand.ai_growth_initial_annual" in out.stdout and "S054" in out.stdout
    assert out.stdout.splitlines()[0].split()[:5] == ["name", "default", "unit", "range", "source"]
    bad = subprocess.run(
        [
            sys.executable,
            "run.py",
            "simulate",
            "--set",
            "credit.reference_rate_annual=2",
            "--out",
            "/nonexistent/x",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "credit.reference_rate_annual: value 2.0" in bad.stderr and "Traceback" not in bad.stderr


def test_odd_parameter_table_is_generated_and_current():
    odd = ROOT / "docs" / "ODD.md"
    assert odd_is_current(odd), "docs/ODD.md's parameter table is stale: run `python run.py docs`"
    assert parameters_only(markdown=True).count("\n") == len(parameter_specs()) + 1
    table = parameter_table(markdown=True)
    for kind in SHOCK_KINDS.values():
        assert f"| {kind.name} | {kind.unit} | {kind.range_text} |" in table
    for rule in RULES:
        assert rule.description in table


def test_run_py_params_lists_the_shock_kinds_and_the_rules():
    out = subprocess.run(
        [sys.executable, "run.py", "params", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "**Shock kinds**" in out and "| gpu_obsolescence | years | [1, 8] |" in out
    assert (
        "**Cross-field rules**" in out
        and "credit.reference_rate_annual plus the reference_rate shocks in force" in out
    )


def test_each_shock_kind_declares_its_range_and_the_size_field_spans_them_all():
    assert Shock.model_fields["kind"].annotation.__args__ == tuple(SHOCK_KINDS)
    bounds = {type(m).__name__: m for m in Shock.model_fields["size"].metadata}
    assert bounds["Ge"].ge == min(k.lo for k in SHOCK_KINDS.values())
    assert bounds["Le"].le == max(k.hi for k in SHOCK_KINDS.values())
    assert (shock_kind("openai_revenue").lo, shock_kind("openai_revenue").hi) == (0.0, 1.0)
    assert (shock_kind("gpu_obsolescence").lo, shock_kind("gpu_obsolescence").hi) == (1.0, 8.0)  # a GPU life
    assert shock_kind("grid_capacity").lo_open and not shock_kind("grid_capacity").contains(0.0)
    one_off = {k.name for k in SHOCK_KINDS.values() if not k.windowed}
    assert one_off == {"ai_demand_level", "fund_redemptions", "sentiment"}
    for k in SHOCK_KINDS.values():
        Shock(kind=k.name, quarter=0, size=k.hi)  # the ends of each range are sizes of that kind
        # just outside the kind's range, inside the envelope: the kind's own check refuses it
        outside = k.hi + 0.5 if k.hi < bounds["Le"].le else (k.lo if k.lo_open else k.lo - 0.5)
        with pytest.raises(ValueError, match=f"out of range for a {k.name} shock"):
            Shock(kind=k.name, quarter=0, size=outside)


def test_python_callers_get_the_same_strict_checks_as_files():
    """One path: build_parameters (the UI, the sweeps' workers) refuses what a scenario file refuses."""
    with pytest.raises(ParameterError, match=r"run.quarters: value '6' is not valid; allowed: an integer"):
        build_parameters({"run.quarters": "6"})
    with pytest.raises(ParameterError, match=r"circular.circular_financing: value 'false' is not valid"):
        build_parameters({"circular.circular_financing": "false"})
    with pytest.raises(ParameterError, match=r"shocks\[0\]: quarter: value '4' is not valid"):
        build_parameters(shocks=({"kind": "sentiment", "quarter": "4", "size": 0.1},))
    # what was valid stays valid: a whole number for an integer, an integer for a number
    assert build_parameters({"run.quarters": 6.0, "credit.reference_rate_annual": 0}).run.quarters == 6


def test_seeds_have_one_declared_range():
    assert check_seed(0) == 0 and check_seed(SEED_MAX) == SEED_MAX == 2**63 - 1
    for bad in (-1, 2**63, 2**70):
        with pytest.raises(
            ParameterError, match=rf"--seed: value {bad} is out of range; allowed: an integer in"
        ):
            check_seed(bad)
    for bad in ("5", True, 1.5):
        with pytest.raises(ParameterError, match="is not valid"):
            check_seed(bad, "--seed")
