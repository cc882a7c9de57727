"""The parameter schema: declared once, traceable, validated, with clear errors."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from params.loader import (
    ParameterError,
    build_parameters,
    load_scenario,
    parse_assignments,
    read_scenario_file,
    resolve,
    scenario_names,
    scenario_toml,
)
from params.schema import Parameters, parameter_specs
from params.table import odd_is_current, parameter_table

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
    assert parameter_table(markdown=True).count("\n") == len(parameter_specs()) + 1
