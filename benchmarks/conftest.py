"""pytest-benchmark setup for ``python run.py bench [--quick] [--json FILE]``.

Registers the ``--json-out`` option and the ``quick``/``bench`` markers, keeps the garbage collector off while a
benchmark runs (collected before each, as Mesa's own benchmarks do; whole-sweep benchmarks keep it on), collects every benchmark's timings, and at
the end of the session prints the key ratios and writes them, with the raw timings, the machine and the date, to
the ``--json-out`` file. Ratios use each benchmark's fastest round (``min``): on a shared machine it is the least
noisy estimate of what the code costs; medians are in the raw timings too.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest

RESULTS: dict[str, dict] = {}
TARGETS = {
    "speedup_vs_reference": (">=", 10.0),
    "ratio_to_numpy_floor": ("<=", 5.0),
    "contracts_cost_exponent": ("<=", 1.2),
    "lean_vs_datacollector": (">=", 1.5),
    "stressed_quarter_cost_exponent": ("<=", 1.1),
}
SWEEP_RUNS, SWEEP_CORES = 1000, 2


def pytest_addoption(parser):
    parser.addoption(
        "--json-out",
        default=None,
        metavar="FILE",
        help="write the key ratios, raw timings, machine and date of this benchmark run to FILE (JSON)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: the benchmarks of `run.py bench --quick` (under a minute)")
    config.addinivalue_line("markers", "bench: performance benchmarks (pytest-benchmark)")
    config.addinivalue_line("markers", "with_gc: run with the garbage collector on, as in real use")
    config.addinivalue_line("markers", "slow: long benchmarks (the 400-run sweep); -m 'not slow' skips them")


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.bench)


@pytest.fixture(autouse=True)
def _no_gc(request):
    """Garbage collector off for micro-benchmarks; benchmarks marked ``with_gc`` (whole sweeps, whose worker
    processes would inherit the switch and never free a model) run as users run them, with it on."""
    if request.node.get_closest_marker("with_gc"):
        yield
        return
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def record(name: str, benchmark, **extra) -> dict:
    """Keep a benchmark's timings (seconds) and extra facts (contracts, agents, ...) for the summary."""
    s = benchmark.stats.stats
    row = {
        "min_s": s.min,
        "median_s": s.median,
        "mean_s": s.mean,
        "stddev_s": s.stddev if s.rounds > 1 else 0.0,
        "rounds": s.rounds,
        **extra,
    }
    benchmark.extra_info.update(extra)
    RESULTS[name] = row
    return row


def record_value(name: str, **values) -> None:
    """Keep a measurement that is not a timing (peak memory)."""
    RESULTS.setdefault(name, {}).update(values)


def _fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) against log(contracts)."""
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def summary() -> dict:
    """The key ratios from whatever benchmarks ran."""
    out: dict = {}
    ours = {k: v for k, v in RESULTS.items() if k.startswith("accounting[")}
    big = RESULTS.get("accounting[10000 agents]")
    if big and "reference[10000 agents]" in RESULTS:
        out["speedup_vs_reference"] = RESULTS["reference[10000 agents]"]["min_s"] / big["min_s"]
    if big and "numpy_floor[10000 agents]" in RESULTS:
        out["ratio_to_numpy_floor"] = big["min_s"] / RESULTS["numpy_floor[10000 agents]"]["min_s"]
    exponent = _fit_exponent(sorted((v["contracts"], v["min_s"]) for v in ours.values()))
    if exponent is not None:
        out["contracts_cost_exponent"] = exponent
        out["contracts_range"] = [
            min(v["contracts"] for v in ours.values()),
            max(v["contracts"] for v in ours.values()),
        ]
    stressed = sorted(
        (v["agents"], v["min_s"]) for k, v in RESULTS.items() if k.startswith("stressed_quarter[")
    )
    exponent = _fit_exponent(stressed)
    if exponent is not None:
        out["stressed_quarter_cost_exponent"] = exponent
    lean, mesa_path = RESULTS.get("run[lean]"), RESULTS.get("run[datacollector]")
    if lean and mesa_path:
        out["lean_vs_datacollector"] = mesa_path["min_s"] / lean["min_s"]
    run = RESULTS.get("baseline_run")
    if run:
        out["baseline_run_s"] = run["min_s"]
        out["sweep_1000_runs_2_cores_minutes"] = SWEEP_RUNS * run["min_s"] / SWEEP_CORES / 60.0
        out["sweep_1000_runs_2_cores_minutes_median"] = SWEEP_RUNS * run["median_s"] / SWEEP_CORES / 60.0
    out["targets"] = {
        name: {"target": f"{op} {bound:g}", "value": out.get(name), "met": _met(out.get(name), op, bound)}
        for name, (op, bound) in TARGETS.items()
    }
    return out


def _met(value, op: str, bound: float):
    if value is None or not math.isfinite(value):
        return None
    return value >= bound if op == ">=" else value <= bound


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import mesa
    import scipy

    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
    }


def pytest_terminal_summary(terminalreporter, config):
    if not RESULTS:
        return
    s = summary()
    tr = terminalreporter
    tr.section("creditloop performance summary")
    for key in TARGETS:
        if key in s:
            t = s["targets"][key]
            tr.write_line(
                f"{key:28s} {s[key]:10.3f}   target {t['target']:8s} {'met' if t['met'] else 'NOT met'}"
            )
    if "baseline_run_s" in s:
        tr.write_line(
            f"{'baseline 29-quarter run':28s} {s['baseline_run_s']:10.3f} s "
            f"-> {SWEEP_RUNS} runs on {SWEEP_CORES} cores: {s['sweep_1000_runs_2_cores_minutes']:.1f} min"
        )
    for name, row in RESULTS.items():
        if "min_s" in row:
            facts = ", ".join(f"{k}={v}" for k, v in row.items() if not k.endswith("_s") and k != "rounds")
            tr.write_line(
                f"  {name:40s} min {row['min_s'] * 1e3:10.3f} ms  median {row['median_s'] * 1e3:10.3f} ms  {facts}"
            )
        else:
            tr.write_line(f"  {name:40s} " + ", ".join(f"{k}={v}" for k, v in row.items()))


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--json-out")
    if not path:
        return
    doc = {
        **summary(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "statistic": "min over rounds (medians in timings)",
        "quick": "quick" in (session.config.getoption("-m") or ""),
        "timings": RESULTS,
    }
    Path(path).write_text(json.dumps(doc, indent=2) + "\n")
