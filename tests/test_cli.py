"""`run.py simulate`: the output files, reproducibility on disk, and nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def simulate(*args, check=True):
    return subprocess.run(
        [sys.executable, "run.py", "simulate", *args], cwd=ROOT, capture_output=True, text=True, check=check
    )


def test_simulate_writes_the_outputs_and_a_readable_summary(tmp_path):
    out = tmp_path / "twin"
    done = simulate(
        "--scenario", "openai_miss", "--twin", "--quarters", "10", "--seed", "4", "--csv", "--out", str(out)
    )
    assert "circular on" in done.stdout and "ratio on/off" in done.stdout
    for name in ("model", "agents", "events"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "openai_miss" and summary["seed"] == 4
    assert set(summary["amplification"]) >= {"boom_peak", "bust_depth", "defaults", "lender_losses"}
    model = pd.read_parquet(out / "model.parquet")
    assert set(model["circular"]) == {True, False} and len(model) == 20
    assert {"seed", "scenario", "label", "capex", "circularity_index"} <= set(model.columns)


def test_same_seed_gives_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    simulate("--quarters", "8", "--seed", "9", "--out", str(a))
    simulate("--quarters", "8", "--seed", "9", "--out", str(b))
    for name in ("model", "agents", "events"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet")
        )
    assert json.loads((a / "summary.json").read_text()) == json.loads((b / "summary.json").read_text())


def test_bad_input_is_refused_before_anything_runs_and_nothing_is_written(tmp_path):
    out = tmp_path / "never"
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text("[params.demand]\nai_growth_initial_annual = -1\n")
    for args in (
        ["--scenario", "nope"],
        ["--scenario-file", str(bad_file)],
        ["--set", "x.y=1"],
        ["--quarters", "0"],
        ["--twin", "--no-circular"],
    ):
        done = simulate(*args, "--out", str(out), check=False)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr, done.stderr
        assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad_file]
