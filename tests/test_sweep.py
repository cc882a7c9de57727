"""Batch sweeps: identical numbers on every engine, resumable after kill -9, designs, report, refusals."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from params.loader import ParameterError  # noqa: E402
from sweep import DaskEngine, InProcessEngine, LocalEngine, build_spec, read_dataset, run_sweep  # noqa: E402
from sweep.designs import Design, analyze, sample  # noqa: E402
from sweep.report import write_report  # noqa: E402
from sweep.store import Store, SweepError  # noqa: E402
from sweep.worker import Chunk, chunks, execute, execute_batch  # noqa: E402

GROWTH, STRESS = "demand.ai_growth_initial_annual", "lenders.fund_stress_loss_rate"
SMALL = [f"{GROWTH}=0.2,0.8", f"{STRESS}=0.01,0.05"]
QUARTERS = 6


def small_spec(**kw):
    return build_spec(sets=kw.pop("sets", SMALL), replicates=kw.pop("replicates", 2), quarters=QUARTERS, **kw)


def results(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_dataset(out, "summary"), read_dataset(out, "series")


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``run.py`` in this process (fast); returns exit code, stdout and stderr."""
    import run

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The small sweep run in this process: the numbers every engine must reproduce."""
    out = tmp_path_factory.mktemp("sweeps") / "reference"
    outcome = run_sweep(small_spec(), out, InProcessEngine(), progress=False)
    assert outcome.complete and outcome.exit_code == 0
    return out


# ----------------------------------------------------------------------------------------------------------
# Identical results whatever the engine
# ----------------------------------------------------------------------------------------------------------


def test_reference_sweep_has_every_run_once_with_ids_parameters_and_series(reference):
    summary, series = results(reference)
    assert sorted(summary["run_id"]) == list(range(8))
    assert {GROWTH, STRESS, "run_id", "point", "replicate", "seed", "scenario", "circular"} <= set(summary)
    assert {"bust_depth", "defaults", "lender_losses_usd_bn", "peak_capex_usd_bn_per_quarter"} <= set(summary)
    assert len(series) == 8 * QUARTERS and series.groupby(["run_id", "quarter"]).size().max() == 1
    assert {GROWTH, STRESS, "seed", "capex", "equity_index", "defaults_cumulative"} <= set(series)
    assert not (reference / "agents").exists(), "agent rows are written only on request"
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["runs"] == 8 and manifest["varied"] == [GROWTH, STRESS]
    # a point's parameter values are those of its grid position (growth outer, stress inner)
    first = summary[summary["point"] == 1].iloc[0]
    assert first[GROWTH] == 0.2 and first[STRESS] == 0.05


def test_every_parameter_of_every_point_is_in_parameters_parquet(reference):
    """The run tables carry the varied columns; parameters.parquet carries all of them, one row per point, so a
    summary row joined on ``point`` tells every value that run used."""
    from params.loader import build_parameters, get_value
    from params.schema import parameter_specs

    table = pd.read_parquet(reference / "parameters.parquet")
    names = [s.name for s in parameter_specs()]
    assert list(table.columns) == ["point", *names] and sorted(table["point"]) == [0, 1, 2, 3]
    summary = read_dataset(reference, "summary")
    joined = summary.merge(table, on="point", suffixes=("", "_all"))
    assert (joined[GROWTH] == joined[f"{GROWTH}_all"]).all() and (
        joined[STRESS] == joined[f"{STRESS}_all"]
    ).all()
    row = table.set_index("point").loc[1]
    built = build_parameters({GROWTH: 0.2, STRESS: 0.05, "run.quarters": QUARTERS})
    for name in names:
        assert row[name] == get_value(built, name), name


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_local_pool_with_two_workers_gives_identical_results(reference, tmp_path):
    # pytest's plugins run threads, so the engine would pick forkserver (a 2-3 s re-import); the CLI, being
    # single-threaded, forks, and so does this test (the kill -9 test below runs the CLI's own choice)
    outcome = run_sweep(
        small_spec(), tmp_path / "local2", LocalEngine(2, start_method="fork"), progress=False
    )
    assert outcome.complete
    for ref, got in zip(results(reference), results(tmp_path / "local2"), strict=True):
        pd.testing.assert_frame_equal(ref, got, check_exact=True)


def test_dask_localcluster_threads_gives_identical_results(reference, tmp_path):
    engine = DaskEngine(workers=1, processes=False, threads_per_worker=2)
    outcome = run_sweep(small_spec(), tmp_path / "dask", engine, progress=False)
    assert outcome.complete and outcome.engine.startswith("dask")
    for ref, got in zip(results(reference), results(tmp_path / "dask"), strict=True):
        pd.testing.assert_frame_equal(ref, got, check_exact=True)


def test_dask_localcluster_worker_processes_give_identical_results(reference, tmp_path):
    """Real worker processes: catches anything that does not pickle or depends on the worker's state."""
    engine = DaskEngine(workers=1, processes=True, threads_per_worker=2)
    outcome = run_sweep(small_spec(), tmp_path / "daskp", engine, progress=False)
    assert outcome.complete
    for ref, got in zip(results(reference), results(tmp_path / "daskp"), strict=True):
        pd.testing.assert_frame_equal(ref, got, check_exact=True)


# ----------------------------------------------------------------------------------------------------------
# Resumability
# ----------------------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def test_kill9_midway_then_rerun_gives_every_run_exactly_once(reference, tmp_path):
    out = tmp_path / "killed"
    argv = [
        sys.executable,
        str(ROOT / "run.py"),
        "sweep",
        "--quarters",
        str(QUARTERS),
        "--replicates",
        "10",
        "--out",
        str(out),
        *(x for s in SMALL for x in ("--set", s)),
    ]
    proc = subprocess.Popen(
        [*argv, "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    try:
        while len(Store(out).done_run_ids()) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no run finished within 60 s"
            time.sleep(0.01)
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    import psutil

    _, alive = psutil.wait_procs([psutil.Process(p) for p in workers if psutil.pid_exists(p)], timeout=5)
    for p in alive:
        p.kill()
    assert workers and not alive, "pool workers outlived the killed sweep"
    finished = len(Store(out).done_run_ids())
    assert 3 <= finished < 40, "the sweep was not interrupted mid-way"

    code, _, err = run_cli(*argv[2:], "--workers", "1")  # the same command again (in this process: faster)
    assert code == 0, err
    assert f"resuming {out}: {finished} of 40 runs already finished" in err.replace("\n", " ")
    summary, series = results(out)
    assert sorted(summary["run_id"]) == list(range(40))
    assert len(series) == 40 * QUARTERS and series.groupby(["run_id", "quarter"]).size().max() == 1
    assert not list(out.rglob(".*.tmp")) and not list((out / "summary").glob("batch-*"))  # compacted
    # seeds depend on (master seed, point, replicate) only: replicates 0-1 equal the 2-replicate reference
    ref = results(reference)[0].drop(columns="run_id").set_index(["point", "replicate"]).sort_index()
    got = summary.drop(columns="run_id").set_index(["point", "replicate"]).loc[ref.index]
    pd.testing.assert_frame_equal(ref, got, check_exact=True)

    # a changed grid in the same folder is refused before anything runs
    code, _, err = run_cli(*argv[2:], "--replicates", "11")
    assert code == 2 and "holds a different sweep (40 finished runs)" in err
    assert "replicates: 10 -> 11" in err and "--overwrite" in err


def test_interrupted_compaction_is_finished_by_the_next_command(tmp_path, monkeypatch):
    spec = small_spec(sets=[f"{GROWTH}=0.2,0.8"], replicates=2)
    out = tmp_path / "compact"
    run_sweep(spec, out, InProcessEngine(), progress=False, compact=False)
    before = results(out)
    real_replace, calls = os.replace, []

    def crash_between_renames(src, dst):
        calls.append(src)
        if str(src).endswith(".compact"):
            raise KeyboardInterrupt  # killed after moving the old folder away, before moving the new one in
        real_replace(src, dst)

    store, _ = Store.open(out, spec)
    monkeypatch.setattr(os, "replace", crash_between_renames)
    with pytest.raises(KeyboardInterrupt):
        store.compact()
    monkeypatch.setattr(os, "replace", real_replace)
    store.close()
    assert not (out / "series").exists() or not (out / "summary").exists()
    outcome = run_sweep(spec, out, InProcessEngine(), progress=False)  # recovers, nothing left to run
    assert outcome.ran == 0 and outcome.resumed == 4
    for a, b in zip(before, results(out), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not [p for p in out.iterdir() if p.name.startswith((".series", ".summary"))]


class _FailingEngine(InProcessEngine):
    def map_unordered(self, config, tasks, fn=execute_batch):
        for chunk in tasks:
            for task in chunk:
                broken = {**config, "base": {"no.such.parameter": 1}}
                yield Chunk([task]), fn(broken if task.run_id == 1 else config, Chunk([task]))


def test_a_failing_run_is_recorded_the_rest_finish_and_a_rerun_retries_it(tmp_path):
    spec = small_spec(sets=[f"{GROWTH}=0.2,0.8"], replicates=2)
    out = tmp_path / "failing"
    first = run_sweep(spec, out, _FailingEngine(), progress=False)
    assert (first.ran, first.failed, first.exit_code) == (3, 1, 1)
    failure = json.loads((out / "failed" / "run-00000001.json").read_text())
    assert "no.such.parameter" in failure["error"] and failure["seed"] == spec.seed_for(0, 1)
    second = run_sweep(spec, out, InProcessEngine(), progress=False)
    assert (second.ran, second.failed, second.exit_code) == (1, 0, 0)
    assert not list((out / "failed").glob("*.json"))
    assert sorted(read_dataset(out, "summary")["run_id"]) == [0, 1, 2, 3]


def test_a_folder_that_is_not_a_sweep_is_refused_and_overwrite_replaces_a_different_sweep(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty and holds no sweep"):
        run_sweep(small_spec(), foreign, InProcessEngine(), progress=False)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"] and (
        foreign / "notes.txt"
    ).read_text() == "mine"
    out = tmp_path / "over"
    one = build_spec(replicates=1, quarters=2)
    run_sweep(one, out, InProcessEngine(), progress=False)
    two = build_spec(replicates=2, quarters=2)
    with pytest.raises(SweepError, match=r"replicates: 1 -> 2"):
        run_sweep(two, out, InProcessEngine(), progress=False)
    outcome = run_sweep(two, out, InProcessEngine(), progress=False, overwrite=True)
    assert outcome.ran == 2 and sorted(read_dataset(out)["run_id"]) == [0, 1]


# ----------------------------------------------------------------------------------------------------------
# Designs and the report
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "samples", "index"), [("morris", 3, "mu_star"), ("sobol", 4, "ST")])
def test_designs_produce_indices_of_bust_severity(tmp_path, method, samples, index):
    spec = build_spec(
        sets=[f"{GROWTH}=0.1:1.5", "technology.chip_cost_usd_bn_per_gw"],
        design=method,
        samples=samples,
        quarters=QUARTERS,
    )
    assert spec.design.ranges[1] == ("technology.chip_cost_usd_bn_per_gw", 15.0, 60.0)  # the schema's range
    out = tmp_path / method
    outcome = run_sweep(spec, out, InProcessEngine(), progress=False)
    assert outcome.complete and outcome.total == spec.design.n_points
    indices = pd.read_csv(out / "sensitivity.csv")
    bust = indices[indices["outcome"] == "bust_depth"]
    assert list(bust["parameter"]) == [GROWTH, "technology.chip_cost_usd_bn_per_gw"]
    assert np.isfinite(bust[index]).all() and (bust[index] > 0).any()
    design = pd.read_parquet(out / "design.parquet")
    assert len(design) == spec.design.n_points and design[GROWTH].between(0.1, 1.5).all()
    if method == "morris":  # one design report is enough (plots are slow); the twin test covers the rest
        files = {p.name for p in write_report(out)}
        assert {"sensitivity_morris.png", "morris_mu_sigma.png", "index.html", "sensitivity.csv"} <= files
        assert any(f.startswith("heatmap_") for f in files)


def test_design_analysis_ranks_a_known_function_correctly():
    """The SALib glue (sample -> our point order -> analyze) on y = 5 x1 + 0.1 x2^2, x3 inert."""
    ranges = (("a", 0.0, 1.0), ("b", 0.0, 1.0), ("c", 0.0, 1.0))
    for method, n, key in (("morris", 20, "mu_star"), ("sobol", 64, "ST")):
        design = Design(method, n, ranges=ranges)
        x = sample(design, seed=3)
        assert x.shape == (design.n_points, 3)
        y = 5 * x[:, 0] + 0.1 * x[:, 1] ** 2
        ix = analyze(design, x, y, seed=3).set_index("parameter")[key]
        assert ix["a"] > 10 * ix["b"] > 0 and abs(ix["c"]) < 1e-6 + 0.05 * ix["a"]


def test_twin_sweep_with_agents_and_the_report(tmp_path):
    out = tmp_path / "twin"
    code, stdout, stderr = run_cli(
        "sweep",
        "--set",
        f"{GROWTH}=0.2,0.8",
        "--set",
        f"{STRESS}=0.01,0.05",
        "--quarters",
        str(QUARTERS),
        "--twin",
        "--agents",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert "with vs without circular financing" in stdout and "outcomes across runs" in stdout
    summary = read_dataset(out, "summary")
    assert len(summary) == 8 and summary.groupby("run_id")["circular"].apply(set).eq({True, False}).all()
    on = summary[summary["circular"]].set_index("run_id")
    off = summary[~summary["circular"]].set_index("run_id")
    assert np.allclose(
        on["extra_lender_losses_usd_bn"], on["lender_losses_usd_bn"] - off["lender_losses_usd_bn"]
    )
    assert (on["seed"] == off["seed"]).all()
    agents = read_dataset(out, "agents")
    assert {"run_id", "seed", GROWTH, "agent_id", "cash"} <= set(agents) and set(agents["run_id"]) == set(
        range(4)
    )

    code, stdout, _ = run_cli("report", str(out))
    assert code == 0
    folder = out / "report"
    expected = {
        f"outcome_vs_{GROWTH.replace('.', '_')}.png",
        f"outcome_vs_{STRESS.replace('.', '_')}.png",
        f"heatmap_{GROWTH.replace('.', '_')}__{STRESS.replace('.', '_')}.png",
        "circular_with_vs_without.png",
        "series_fan.png",
        "points.csv",
        "outcome_stats.csv",
        "index.html",
    }
    assert expected <= {p.name for p in folder.iterdir()}
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = (folder / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 5 and "sortable" in page
    points = pd.read_csv(folder / "points.csv")
    assert len(points) == 4 and "amp_bust_depth" in points


def test_report_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    code, _, err = run_cli("report", str(tmp_path))
    assert code == 2 and "is not a sweep folder" in err


# ----------------------------------------------------------------------------------------------------------
# Grids: parsing, seeds, refusals
# ----------------------------------------------------------------------------------------------------------


def test_grid_file_lists_ranges_nested_tables_fixed_values_and_cli_overrides(tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text(
        'description = "test"\nscenario = "baseline"\nquarters = 5\nreplicates = 3\nseed = 9\n'
        "[params]\n"
        '"demand.ai_growth_initial_annual" = [0.2, 0.45]\n'
        '"technology.build_lag_quarters" = { start = 2, stop = 8, step = 3 }\n'
        '"circular.circular_financing" = [true, false]\n'
        "[params.lenders]\nfund_stress_loss_rate = { start = 0.01, stop = 0.05, num = 3 }\n"
        "[params.credit]\nreference_rate_annual = 0.05\n"
    )
    spec = build_spec(grid)
    assert dict(spec.axes) == {
        "demand.ai_growth_initial_annual": (0.2, 0.45),
        "technology.build_lag_quarters": (2, 5, 8),
        "circular.circular_financing": (True, False),
        STRESS: (0.01, 0.03, 0.05),
    }
    assert spec.fixed == {"run.quarters": 5, "credit.reference_rate_annual": 0.05}
    assert (spec.n_points, spec.replicates, spec.seed) == (36, 3, 9)
    assert spec.columns[-2:] == ["run.quarters", "credit.reference_rate_annual"]
    over = build_spec(grid, sets=[f"{GROWTH}=0.3"], replicates=1, seed=2)
    assert GROWTH not in dict(over.axes) and over.fixed[GROWTH] == 0.3
    assert (over.replicates, over.seed, over.n_points) == (1, 2, 18)
    assert over.fingerprint() != spec.fingerprint() and build_spec(grid).fingerprint() == spec.fingerprint()


def test_no_set_means_only_seeds_vary():
    spec = build_spec(replicates=4, quarters=3)
    tasks = list(spec.tasks())
    assert spec.n_points == 1 and [t.values for t in tasks] == [{}] * 4
    assert len({t.seed for t in tasks}) == 4


def test_seeds_derive_from_master_point_and_replicate_only():
    spec = small_spec(replicates=3)
    ss = np.random.SeedSequence(spec.seed)
    assert spec.seed_for(2, 1) == int(ss.spawn(3)[2].spawn(2)[1].generate_state(1)[0])
    assert spec.seed_for(2, 1) == small_spec(replicates=7).seed_for(2, 1)
    assert spec.seed_for(2, 1) != build_spec(sets=SMALL, replicates=3, quarters=QUARTERS, seed=2).seed_for(
        2, 1
    )
    common = small_spec(replicates=3, common_seeds=True)
    assert common.seed_for(0, 1) == common.seed_for(3, 1) != common.seed_for(3, 2)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=0, max_size=3), replicates=st.integers(1, 3))
def test_every_run_is_planned_exactly_once_with_its_grid_values(sizes, replicates):
    names = [GROWTH, STRESS, "technology.chip_cost_usd_bn_per_gw"][: len(sizes)]
    sets = [
        f"{n}={','.join(str(20 + i) if 'chip' in n else str(0.01 * (i + 1)) for i in range(k))}"
        for n, k in zip(names, sizes, strict=True)
    ]
    spec = build_spec(sets=sets, replicates=replicates, quarters=2)
    tasks = list(spec.tasks())
    assert (
        sorted(t.run_id for t in tasks)
        == list(range(spec.n_runs))
        == list(range(int(np.prod(sizes)) * replicates))
    )
    assert len({t.seed for t in tasks}) == len(tasks)
    for t in tasks:
        assert t.values == spec.point(t.point) and t.run_id == spec.run_id(t.point, t.replicate)
    done = {0, spec.n_runs - 1}
    assert {t.run_id for t in spec.tasks(skip=done)} == set(range(spec.n_runs)) - done


BAD_GRIDS = [
    (
        ["--set", "demand.ai_growth_initia=0.1,0.2"],
        "unknown parameter 'demand.ai_growth_initia'; did you mean demand.ai_growth_initial_annual",
    ),
    (["--set", f"{GROWTH}=0.2,3"], f"--set {GROWTH}: value 3.0 is out of range; allowed: a number in [0, 2]"),
    (["--set", f"{GROWTH}="], "empty grid, no values given"),
    (["--set", "technology.build_lag_quarters=1:12:4"], "non-integer values"),
    (
        ["--set", "technology.build_lag_quarters=2.5"],
        "value 2.5 is not valid; allowed: an integer in [1, 12]",
    ),
    (
        ["--design", "sobol", "--samples", "8", "--set", "circular.circular_financing"],
        "numeric parameters only",
    ),
    (["--design", "morris", "--samples", "4", "--set", f"{GROWTH}=0.2,0.4"], "a design needs a range"),
    (["--set", f"{GROWTH}=0.2:0.5"], "only works with a design"),
    (["--samples", "5"], "need --design morris|sobol"),
    (["--twin", "--set", "circular.circular_financing=true,false"], "--twin already runs every point"),
    (["--replicates", "0"], "--replicates: value 0 is out of range; allowed: an integer >= 1"),
    (["--scenario", "nope"], "unknown scenario 'nope'"),
    (["--engine", "local", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
]
BAD_FILES = [
    ("x = [", "TOML syntax error"),
    ("", "empty grid file"),
    ("replicate = 3\n", "unknown key 'replicate'; allowed: description, scenario"),
    ('[params]\n"demand.ai_growth_initial_annual" = []\n', "demand.ai_growth_initial_annual: empty grid"),
    (
        '[params]\n"lenders.fund_stress_loss_rate" = { start = 0.05, stop = 0.01, step = 0.01 }\n',
        "empty grid",
    ),
    (
        '[params]\n"demand.ai_growth_initial_annual" = { lo = -1, hi = 1 }\n[design]\nmethod = "morris"\nsamples = 4\n',
        "range bound -1.0 is out of range; allowed: a number in [0, 2]",
    ),
    ("[params.demand]\nnot_a_parameter = [1, 2]\n", "unknown parameter 'demand.not_a_parameter'"),
    ('[params]\n"circular.circular_financing" = [true, 2]\n', "value 2 is not valid; allowed: true or false"),
    (
        '[design]\nmethod = "fast"\nsamples = 4\n',
        "design.method: value 'fast' is not valid; allowed: morris or sobol",
    ),
]


@pytest.mark.parametrize(("argv", "message"), BAD_GRIDS)
def test_bad_grids_are_refused_before_anything_runs(tmp_path, argv, message):
    out = tmp_path / "never"
    code, _, err = run_cli("sweep", *argv, "--out", str(out))
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert not out.exists()


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_grid_files_are_refused_naming_the_field(tmp_path, text, message):
    grid = tmp_path / "bad.toml"
    grid.write_text(text)
    with pytest.raises(ParameterError) as info:
        build_spec(grid)
    assert message in str(info.value) and str(info.value).startswith("bad.toml: ")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    code, _, err = run_cli(
        "sweep",
        "--design",
        "sobol",
        "--samples",
        "6",
        "--quarters",
        "4",
        "--dry-run",
        "--out",
        str(tmp_path / "dry"),
    )
    assert code == 0 and "sobol design over 17 parameters, 6 samples -> 114 points" in err
    assert "not a power of 2" in err and not (tmp_path / "dry").exists()


def test_only_one_sweep_writes_to_a_folder_at_a_time(tmp_path):
    spec = build_spec(quarters=2)
    store, _ = Store.open(tmp_path / "busy", spec)
    try:
        with pytest.raises(SweepError, match="another sweep"):
            Store.open(tmp_path / "busy", spec)
    finally:
        store.close()
    shutil.rmtree(tmp_path / "busy")


def test_a_swept_circular_switch_gets_the_with_vs_without_plot(tmp_path):
    spec = build_spec(sets=["circular.circular_financing=true,false"], replicates=2, quarters=4)
    out = tmp_path / "switch"
    run_sweep(spec, out, InProcessEngine(), progress=False)
    summary = read_dataset(out)
    assert (
        summary["circular.circular_financing"].tolist()
        == summary["circular"].tolist()
        == [True, True, False, False]
    )
    names = {p.name for p in write_report(out)}
    assert {"circular_with_vs_without.png", "outcome_vs_circular_circular_financing.png"} <= names


def test_progress_without_a_terminal_prints_plain_lines():
    from rich.console import Console

    from sweep.runner import _Progress

    buffer = io.StringIO()
    with _Progress(Console(file=buffer, width=200), total=4, enabled=True, interval=0.0) as bar:
        for failed in (False, True, False, False):
            bar.advance(failed)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("sweep: 4/4 runs (100%), ")
    assert "runs/s, elapsed 0:00, ETA 0:00, 1 failed" in lines[-1]


def test_designs_do_not_import_the_grid():
    """One direction only: sweep.grid builds designs (sweep.designs); sweep.designs knows nothing of grids."""
    import ast

    tree = ast.parse((ROOT / "sweep" / "designs.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith("sweep")}, imported


def test_rules_are_checked_at_the_extremes_not_only_the_first_and_last_values(tmp_path):
    """A list axis is not sorted: its first and last values may both keep a rule that its smallest breaks."""
    cut = tmp_path / "cut.toml"
    cut.write_text('[[shocks]]\nkind = "reference_rate"\nquarter = 2\nsize = -0.03\nduration = 4\n')
    with pytest.raises(ParameterError, match=r"at a grid point: credit.reference_rate_annual = 0.01 plus"):
        build_spec(scenario_file=cut, sets=["credit.reference_rate_annual=0.05,0.01,0.04"])
    fine = build_spec(
        scenario_file=cut, sets=["credit.reference_rate_annual=0.05,0.03,0.04", "run.quarters=8,10"]
    )
    assert fine.n_points == 6


@pytest.mark.parametrize("name", ["growth_x_stress.toml", "morris_bust_drivers.toml"])
def test_the_example_grid_files_are_valid(name):
    spec = build_spec(ROOT / "sweep" / "examples" / name)
    assert spec.n_runs > 100 and spec.twin


# ----------------------------------------------------------------------------------------------------------
# Chunks and batches
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("total,workers", [(0, 2), (1, 2), (7, 1), (40, 2), (400, 2), (100, 8)])
def test_chunks_cover_every_task_once_in_order_and_shrink_to_one(total, workers):
    got = list(chunks(iter(range(total)), total, workers))
    assert [t for c in got for t in c] == list(range(total))
    sizes = [len(c) for c in got]
    assert all(1 <= n <= 8 for n in sizes) and sizes == sorted(sizes, reverse=True)
    assert not sizes or sizes[-1] == 1


def test_a_batch_holds_exactly_the_rows_of_its_runs_one_by_one(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = small_spec(events=True, agents=True)
    config = spec.worker_config()
    tasks = list(spec.tasks())[:3]
    batch = execute_batch(config, Chunk(tasks))
    assert batch.run_ids == [t.run_id for t in tasks] and not batch.errors
    for name, data in batch.tables.items():
        one_by_one = pa.concat_tables(
            [pq.read_table(pa.BufferReader(execute(config, t).tables[name])) for t in tasks],
            promote_options="permissive",
        )
        assert pq.read_table(pa.BufferReader(data)).equals(one_by_one), name


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_warm_pool_serves_two_sweeps_with_the_same_workers(reference, tmp_path):
    engine = LocalEngine(2, start_method="fork", keep_warm=True)
    try:
        run_sweep(small_spec(), tmp_path / "a", engine, progress=False)
        pool = engine.pool
        run_sweep(small_spec(), tmp_path / "b", engine, progress=False)
        assert engine.pool is pool is not None
    finally:
        engine.close()
    assert engine.pool is None
    for out in ("a", "b"):
        for ref, got in zip(results(reference), results(tmp_path / out), strict=True):
            pd.testing.assert_frame_equal(ref, got, check_exact=True)
