"""`run.py simulate`: the output files, reproducibility on disk, nothing half-written, nothing of the user's
deleted, and bad --out or --seed values refused before the run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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


def refused(done) -> str:
    """The one-line refusal (exit status 2, no traceback) of a finished command."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def leftovers(folder: Path) -> list[str]:
    """Hidden entries (temporary or backup folders) in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_simulate_refuses_to_replace_what_it_did_not_write(tmp_path):
    notes = tmp_path / "mine" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("the user's notes")
    a_file = tmp_path / "results.txt"
    a_file.write_text("a file")
    for out, says in (
        (notes.parent, "it holds notes.txt, which simulate does not write"),
        (a_file, "it is a file"),
        (a_file / "run", f"{a_file} is a file"),
    ):
        message = refused(simulate("--quarters", "2", "--out", str(out), check=False))
        assert f"--out {out}: " in message and says in message and "allowed: " in message, message
    assert notes.read_text() == "the user's notes" and a_file.read_text() == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "results.txt"]


def test_simulate_replaces_its_own_output_whole_and_leaves_no_copies(tmp_path):
    out = tmp_path / "run"
    simulate("--quarters", "2", "--seed", "3", "--csv", "--out", str(out))
    simulate("--quarters", "2", "--seed", "4", "--out", str(out))
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert not (out / "model.csv").exists()  # the whole folder was replaced, not file by file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

    # a file the user added makes it theirs: refused, and their file survives
    (out / "notes.txt").write_text("keep")
    message = refused(simulate("--quarters", "2", "--out", str(out), check=False))
    assert "notes.txt" in message and (out / "notes.txt").read_text() == "keep"

    # --overwrite says the user wants it gone
    simulate("--quarters", "2", "--seed", "5", "--overwrite", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "agents.parquet",
        "events.parquet",
        "losses.parquet",
        "model.parquet",
        "summary.json",
    ]
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@contextlib.contextmanager
def unwritable(folder: Path):
    """Make ``folder`` unwritable, also for root (who ignores permission bits, but not the immutable flag)."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    try:
        if immutable and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root on a filesystem without chattr +i: cannot make a folder unwritable")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


def test_simulate_refuses_an_out_in_an_unwritable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        message = refused(simulate("--quarters", "2", "--out", str(locked / "run"), check=False))
    assert f"--out {locked / 'run'}: cannot write in {locked}" in message and "allowed: " in message
    assert list(locked.iterdir()) == []


def test_seed_out_of_range_is_refused_before_the_run(tmp_path):
    out = tmp_path / "never"
    for seed in (2**63, 2**70, -1):
        message = refused(simulate("--seed", str(seed), "--out", str(out), check=False))
        assert f"--seed: value {seed} " in message and "9223372036854775807" in message, message
    assert not out.exists()
    simulate("--quarters", "2", "--seed", str(2**63 - 1), "--out", str(out))  # the largest seed works
    assert json.loads((out / "summary.json").read_text())["seed"] == 2**63 - 1
