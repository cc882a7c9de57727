"""Bad input through the real command line: every case exits with status 2 and one line naming the field, the
value and what is allowed, and writes nothing.

Each command runs in a subprocess with its address space capped (``MEMORY_CAP``): input that was once read or
expanded without bound (``/dev/zero``, a step of 1e-9) must then fail fast with a MemoryError instead of
exhausting the machine, and a FIFO that was once waited on must hit ``TIMEOUT_S``. Most cases run
``sweep --dry-run``, which checks a scenario file or a grid exactly as ``simulate`` and a real sweep do, without
importing the model."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from params.loader import MAX_FILE_BYTES, SCENARIO_DIR
from sweep.grid import MAX_AXIS_VALUES, MAX_RUNS

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP = 2 << 30  # bytes; a normal run needs well under 1 GiB
TIMEOUT_S = 60
GROWTH, STRESS = "demand.ai_growth_initial_annual", "lenders.fund_stress_loss_rate"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def refused(tmp_path: Path, command: str, *args: str, expect: tuple[str, ...]) -> str:
    """Run ``run.py COMMAND ARGS --out DIR``; assert exit 2, one ``error:`` line containing every ``expect``, and
    no DIR. Returns the message."""
    out = tmp_path / "never"
    done = subprocess.run(
        [sys.executable, "run.py", command, *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_cap_memory,
    )
    message = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert message.startswith("error: ") and "\n" not in message, message
    for text in expect:
        assert text in message, (text, message)
    assert not out.exists()
    return message


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def fifo(tmp_path: Path) -> str:
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    return str(path)


def big(tmp_path: Path) -> str:
    """A valid (empty) TOML file just over the limit."""
    return write(tmp_path, "# padding\n" * (MAX_FILE_BYTES // 10 + 1), "big.toml")


def outside_scenario(tmp_path: Path, relative: bool) -> str:
    """The name of a valid scenario file outside params/scenarios, as a relative or an absolute path."""
    path = Path(write(tmp_path, 'name = "elsewhere"\n', "elsewhere.toml")).with_suffix("")
    return os.path.relpath(path, SCENARIO_DIR) if relative else str(path)


def grid(line: str) -> Callable[[Path], list[str]]:
    """``sweep --grid FILE --dry-run`` with one range of the fund stress loss rate."""
    return lambda t: ["--grid", write(t, f'[params]\n"{STRESS}" = {line}\n', "g.toml"), "--dry-run"]


def scenario(text: str) -> Callable[[Path], list[str]]:
    """``sweep --scenario-file FILE --dry-run``."""
    return lambda t: ["--scenario-file", write(t, text), "--dry-run"]


def sweep(*args: str) -> Callable[[Path], list[str]]:
    return lambda t: [*args, "--dry-run"]


SHOCK = '[[shocks]]\nkind = "sentiment"\nquarter = 4\nsize = -0.1\n'
WINDOW = '[[shocks]]\nkind = "{}"\nquarter = 2\nsize = {}\nduration = 4\n'
RULE = "rule: "
PER_AXIS = f"at most {MAX_AXIS_VALUES:,} values per axis"

CASES = [
    # scenario files: wrong table types, strings for booleans and integers
    (
        "sweep",
        scenario("params = 5\n"),
        ("bad.toml: params: value 5 is not valid; allowed: a table",),
        "params=5",
    ),
    (
        "sweep",
        scenario("shocks = 5\n"),
        ("bad.toml: shocks: value 5 is not valid; allowed: an array of tables [[shocks]]",),
        "shocks=5",
    ),
    (
        "sweep",
        scenario("shocks = [1, 2]\n"),
        ("bad.toml: shocks[0]: value 1 is not valid; allowed: a table with kind, quarter, size, duration",),
        "shock-not-a-table",
    ),
    (
        "simulate",
        lambda t: ["--scenario-file", write(t, '[params.circular]\ncircular_financing = "false"\n')],
        ("bad.toml: circular.circular_financing: value 'false' is not valid; allowed: true or false",),
        "bool-string",
    ),
    (
        "sweep",
        scenario('[params.run]\nquarters = "6"\n'),
        ("bad.toml: run.quarters: value '6' is not valid; allowed: an integer in [1, 120]",),
        "int-string",
    ),
    (
        "sweep",
        scenario(SHOCK.replace("quarter = 4", 'quarter = "4"')),
        ("bad.toml: shocks[0]: quarter: value '4' is not valid; allowed: an integer in [0, 119]",),
        "quarter-string",
    ),
    # shocks at or past the horizon: of an override, of the file itself, of a sweep
    (
        "simulate",
        lambda t: ["--scenario-file", write(t, SHOCK), "--quarters", "4"],
        ("shocks[0] (sentiment at quarter 4) never fires", "horizon run.quarters = 4", "[0, 3]", RULE),
        "horizon-simulate",
    ),
    ("sweep", scenario("[params.run]\nquarters = 3\n" + SHOCK), ("run.quarters = 3", RULE), "horizon-file"),
    (
        "sweep",
        sweep("--scenario", "openai_miss", "--quarters", "3"),
        ("shocks[0] (openai_revenue at quarter 4) never fires", "horizon run.quarters = 3"),
        "horizon-sweep",
    ),
    # shock sizes against their kind's range
    (
        "sweep",
        scenario(SHOCK.replace("-0.1", "1.5")),
        ("size 1.5 is out of range for a sentiment shock; allowed: a number in [-1, 1]",),
        "size-beyond-its-kind",
    ),
    (
        "sweep",
        scenario(WINDOW.format("grid_capacity", 0.0)),
        ("size 0 is out of range for a grid_capacity shock; allowed: a number in (0, 10]",),
        "multiplier-not-positive",
    ),
    (
        "sweep",
        scenario(SHOCK + "duration = 4\n"),
        ("duration 4 is not valid for a sentiment shock; allowed: 1",),
        "one-off-with-a-duration",
    ),
    # files that are not small regular files
    (
        "simulate",
        lambda t: ["--scenario-file", "/dev/zero"],
        ("scenario file '/dev/zero' is a character device, not a regular file",),
        "dev-zero-scenario",
    ),
    (
        "sweep",
        sweep("--grid", "/dev/zero"),
        ("grid file '/dev/zero' is a character device",),
        "dev-zero-grid",
    ),
    ("simulate", lambda t: ["--scenario-file", fifo(t)], ("is a named pipe (FIFO)",), "fifo"),
    (
        "simulate",
        lambda t: ["--scenario-file", big(t)],
        (f"is larger than {MAX_FILE_BYTES:,} bytes", "at most 1 MiB"),
        "huge-scenario",
    ),
    ("sweep", lambda t: ["--grid", big(t), "--dry-run"], ("at most 1 MiB",), "huge-grid"),
    # scenario names stay inside params/scenarios (files need --scenario-file)
    (
        "simulate",
        lambda t: ["--scenario", outside_scenario(t, relative=True)],
        ("unknown scenario '..", "--scenario-file"),
        "name-relative-path",
    ),
    (
        "simulate",
        lambda t: ["--scenario", outside_scenario(t, relative=False)],
        ("unknown scenario '/",),
        "name-absolute-path",
    ),
    # grids: size limits counted before anything is made, non-finite and inverted ranges
    (
        "sweep",
        grid("{ start = 0.01, stop = 0.05, step = 1e-9 }"),
        (STRESS, "the range has 40,000,001 values", PER_AXIS),
        "tiny-step",
    ),
    (
        "sweep",
        sweep("--set", f"{STRESS}=0.01:0.05:100000000"),
        (f"--set {STRESS}", "100,000,000 values", PER_AXIS),
        "huge-num",
    ),
    (
        "sweep",
        sweep("--set", f"{GROWTH}=0:2:4000", "--set", f"{STRESS}=0:0.5:2500"),  # 10**7 points
        ("the sweep has 10,000,000 runs", f"at most {MAX_RUNS:,} runs"),
        "ten-million-points",
    ),
    (
        "sweep",
        grid("{ start = 0.01, stop = inf, num = 3 }"),
        (STRESS, "stop: value inf is not valid; allowed: a finite number"),
        "infinite-stop",
    ),
    (
        "sweep",
        grid("{ start = nan, stop = 0.05, num = 3 }"),
        (STRESS, "start: value nan is not valid; allowed: a finite number"),
        "nan-start",
    ),
    (
        "sweep",
        grid("{ start = 0.05, stop = 0.01, num = 3 }"),
        (STRESS, "start 0.05 is above stop 0.01", "allowed: start <= stop"),
        "inverted",
    ),
    # seeds
    (
        "sweep",
        sweep("--seed", str(2**70)),
        (f"--seed: value {2**70} is out of range; allowed: an integer in [0, {2**63 - 1}]",),
        "seed-2**70",
    ),
    # cross-field rules
    # a part of a whole is declared as its share, so no draw of the schema can exceed the whole
    (
        "simulate",
        lambda t: ["--set", "deals.hyperion_pimco_usd_bn=30"],
        ("unknown parameter 'deals.hyperion_pimco_usd_bn'; did you mean", "deals.hyperion_pimco_share"),
        "part-as-share-hyperion",
    ),
    (
        "sweep",
        sweep("--set", "circular.coreweave_openai_share=1.5"),
        ("circular.coreweave_openai_share: value 1.5 is out of range; allowed: a number in [0, 1]",),
        "part-as-share-coreweave",
    ),
    (
        "sweep",
        scenario(WINDOW.format("reference_rate", -0.05)),
        ("credit.reference_rate_annual = 0.0395 plus the reference_rate shocks in force in quarter 2", RULE),
        "rule-rate-floor",
    ),
    (
        "sweep",
        scenario(WINDOW.format("ai_demand_growth", -0.6) * 2),  # each of the two alone is allowed
        ("ai_demand_growth shocks in force in quarter 2 (-1.2)", RULE),
        "rule-growth-floor",
    ),
    (
        "sweep",
        lambda t: [
            "--scenario-file",
            write(t, WINDOW.format("reference_rate", -0.03)),
            "--set",
            "credit.reference_rate_annual=0.05,0.01,0.04",
            "--dry-run",
        ],
        ("at a grid point: credit.reference_rate_annual = 0.01 plus the reference_rate shocks", RULE),
        "rule-at-a-grid-extreme",
    ),
    (
        "sweep",
        sweep(
            "--design", "morris", "--samples", "2", "--set", "run.quarters=2:10", "--scenario", "openai_miss"
        ),
        ("at a design point: shocks[0] (openai_revenue at quarter 4) never fires", RULE),
        "rule-at-a-design-extreme",
    ),
]


@pytest.mark.parametrize(("command", "args", "expect"), [pytest.param(*c[:3], id=c[3]) for c in CASES])
def test_bad_input_is_refused_in_one_line_and_writes_nothing(tmp_path, command, args, expect):
    refused(tmp_path, command, *args(tmp_path), expect=expect)
