"""The output folder of `run.py simulate` (cli/outdir.py): temporary folders go away on every exit path, those
of killed runs at the next run, and only simulate's own outputs are replaced without --overwrite."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli import outdir
from cli.outdir import check_out, marker, output_folder, remove_stale_temps
from params.loader import ParameterError

ROOT = Path(__file__).resolve().parent.parent

# Writes half an output into the temporary folder, says where, and waits to be stopped: the same calls as
# `simulate` (signals raise, output_folder cleans up in its finally).
HALF_WRITTEN = """
import sys, time
from pathlib import Path
from cli.outdir import output_folder
from cli.signals import Interrupted, stop_signals_raise
try:
    with stop_signals_raise(), output_folder(Path(sys.argv[1])) as tmp:
        (tmp / "model.parquet").write_bytes(b"half")
        print(tmp, flush=True)
        time.sleep(120)
except Interrupted as stop:
    sys.exit(stop.exit_code)
"""


def start_half_written(out: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITTEN, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline().strip()  # blocks until the temporary folder exists
    assert line, f"the writer exited with {proc.wait()}"
    tmp = Path(line)
    assert tmp.is_dir() and tmp.parent == out.parent
    return proc, tmp


def our_output(folder: Path, seed: int = 1) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"creditloop": marker(), "seed": seed}))
    (folder / "model.parquet").write_bytes(b"old")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_removes_the_temporary_folder_and_leaves_out_alone(tmp_path, sig):
    out = tmp_path / "run"
    our_output(out)
    proc, tmp = start_half_written(out)
    try:
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 128 + sig
    finally:
        proc.kill()
        proc.wait()
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "model.parquet").read_bytes() == b"old"


def test_the_next_run_removes_the_temporary_folder_of_a_killed_run(tmp_path):
    out = tmp_path / "run"
    proc, tmp = start_half_written(out)
    proc.kill()  # SIGKILL: no finally runs
    proc.wait()
    assert tmp.exists()
    done = subprocess.run(
        [sys.executable, "run.py", "simulate", "--quarters", "2", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_temporary_folder_of_a_running_writer_is_kept(tmp_path):
    proc, tmp = start_half_written(tmp_path / "run")
    try:
        assert remove_stale_temps(tmp_path) == []
        assert tmp.exists()
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_without_an_atomic_swap_the_replacement_still_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)  # a system without renameat2
    out = tmp_path / "run"
    our_output(out, seed=1)
    with output_folder(out) as tmp:
        (tmp / "summary.json").write_text(json.dumps({"creditloop": marker(), "seed": 2}))
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert not (out / "model.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_exception_while_writing_leaves_the_earlier_output(tmp_path):
    out = tmp_path / "run"
    our_output(out)
    with pytest.raises(RuntimeError), output_folder(out) as tmp:
        (tmp / "model.parquet").write_bytes(b"half")
        raise RuntimeError("disk full")
    assert (out / "model.parquet").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_only_simulate_outputs_count_as_ours(tmp_path):
    their_summary = tmp_path / "theirs"
    their_summary.mkdir()
    (their_summary / "summary.json").write_text('{"my": "own"}')
    nested = tmp_path / "nested"
    our_output(nested)
    (nested / "model.csv").mkdir()  # an output name, but a folder
    ours = tmp_path / "ours"
    our_output(ours)
    for folder, says in ((their_summary, "no summary.json with simulate's"), (nested, "it holds model.csv")):
        with pytest.raises(ParameterError, match=f"--out {folder}: the folder is not empty.*{says}"):
            check_out(folder)
        assert check_out(folder, overwrite=True) == folder
    assert check_out(ours) == ours
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_out(empty) == empty
