"""Running a sweep: open the output folder, skip finished runs, stream results to disk, report progress.

:func:`run_sweep` is the one code path behind ``run.py sweep`` for every engine. The output folder is opened (and
a changed grid refused) before any run starts; each finished run is written at once (see :mod:`sweep.store`),
so an interrupted sweep resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sweep.engines import Engine, InProcessEngine
from sweep.grid import SweepSpec
from sweep.store import Store, read_dataset
from sweep.worker import BatchOutput, RunOutput, chunks, execute_batch


@dataclass
class SweepOutcome:
    out: Path
    total: int
    done: int  # finished runs on disk now
    resumed: int  # finished before this session
    ran: int  # finished in this session
    failed: int  # failed in this session
    seconds: float
    engine: str
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if self.complete and not self.failed else 1

    @property
    def rate(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else 0.0


# ----------------------------------------------------------------------------------------------------------
# Progress
# ----------------------------------------------------------------------------------------------------------


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} runs/s" if speed else "-- runs/s", style="progress.data.speed")


class _Progress:
    """Rich bar on a terminal; a plain line every ``interval`` seconds otherwise (logs, CI, pipes)."""

    def __init__(self, console: Console, total: int, enabled: bool, interval: float = 10.0):
        self.console, self.total, self.enabled, self.interval = console, total, enabled, interval
        self.done = self.failed = 0
        self.start = self.last = time.perf_counter()
        self.bar: Progress | None = None

    def __enter__(self) -> _Progress:
        if self.enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs"),
                TaskProgressColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[failed]}", style="red"),
                console=self.console,
                speed_estimate_period=60.0,
            )
            self.bar.start()
            self.task = self.bar.add_task("sweep", total=self.total, failed="")
        return self

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.update(self.task, advance=1, failed=f"{self.failed} failed" if self.failed else "")
            return
        now = time.perf_counter()
        if self.enabled and (now - self.last >= self.interval or self.done == self.total):
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        failed = f", {self.failed} failed" if self.failed else ""
        self.console.print(
            f"sweep: {self.done}/{self.total} runs ({100 * self.done / max(self.total, 1):.0f}%), "
            f"{rate:.2f} runs/s, elapsed {_clock(elapsed)}, ETA {_clock(eta)}{failed}",
            highlight=False,
        )

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "--:--"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# ----------------------------------------------------------------------------------------------------------
# The sweep
# ----------------------------------------------------------------------------------------------------------


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    engine: Engine | None = None,
    *,
    overwrite: bool = False,
    compact: bool = True,
    progress: bool = True,
    console: Console | None = None,
    extra_manifest: dict[str, Any] | None = None,
    abort_after: int = 10,
) -> SweepOutcome:
    """Run every unfinished run of ``spec`` into ``out`` and return what happened (never raises on run errors:
    failed runs are recorded under ``out/failed`` and retried next time). If the first ``abort_after`` runs of the
    session all fail, the sweep stops early rather than fail every remaining run the same way."""
    from sweep.worker import code_version

    console = console or Console(stderr=True)
    engine = engine or InProcessEngine()
    out = Path(out)
    extra = {"code_version": code_version(), **(extra_manifest or {})}
    store, resumed = Store.open(out, spec, overwrite=overwrite, extra=extra)
    notes: list[str] = []
    try:
        if spec.design is not None:
            matrix = store.load_design()
            if matrix is None:
                store.save_design(spec.design_matrix(), spec.design.names)
            else:
                spec.set_design_matrix(matrix)
        if not store.has_parameters():
            store.save_parameters(spec.parameter_table())
        if resumed:
            stored = read_manifest_quiet(out).get("code_version")
            if stored and stored != extra["code_version"]:
                notes.append(
                    f"the model code changed since this sweep started ({stored} -> {extra['code_version']}); "
                    "finished runs were made with the old code. Use --overwrite to redo them all"
                )
                console.print(f"[yellow]warning:[/] {notes[-1]}")
        done = store.done_run_ids()
        resumed_runs = len(done)
        todo = spec.n_runs - resumed_runs
        if resumed:
            console.print(
                f"resuming {out}: {resumed_runs} of {spec.n_runs} runs already finished, {todo} to go"
            )
        ran = failed = 0
        interrupted = aborted = False
        start = time.perf_counter()
        label = engine.describe()
        if todo > 0:
            config = spec.worker_config()
            try:
                with engine:
                    label = engine.describe()
                    console.print(f"running {todo} runs on {label}", highlight=False)
                    # chunks of runs: submitted together, written together (one file per dataset each)
                    batches = chunks(spec.tasks(skip=done), todo, max(engine.workers, 1))
                    with _Progress(console, todo, progress) as bar:
                        for chunk, output in engine.map_unordered(config, batches, execute_batch):
                            if isinstance(output, RunOutput):  # the chunk never ran (a Dask worker died)
                                output = BatchOutput([], errors={t.run_id: output.error for t in chunk})
                            store.write_batch(output)
                            for task in chunk:
                                error = output.errors.get(task.run_id)
                                if error is None:
                                    ran += 1
                                else:
                                    store.write_failure(task, error)
                                    failed += 1
                                bar.advance(error is not None)
                            if failed >= abort_after and ran == 0:
                                aborted = True
                                break
            except KeyboardInterrupt:
                interrupted = True
        if aborted:
            notes.append(
                f"stopped: the first {failed} runs of this session all failed (the model or the grid is broken "
                f"here); see {out}/failed/ for the tracebacks"
            )
        seconds = time.perf_counter() - start
        finished = resumed_runs + ran
        if finished == spec.n_runs and compact:
            store.compact()
        if spec.design is not None and finished == spec.n_runs:
            from sweep.analysis import sensitivity

            indices, sens_notes = sensitivity(out)
            notes.extend(sens_notes)
            if not indices.empty:
                store.write_sensitivity(indices)
        result = SweepOutcome(
            out, spec.n_runs, finished, resumed_runs, ran, failed, seconds, label, interrupted, notes
        )
        store.write_status(
            {
                "runs": spec.n_runs,
                "finished": finished,
                "failed": len(store.failures()),
                "complete": result.complete,
                "last_session": {
                    "engine": label,
                    "ran": ran,
                    "failed": failed,
                    "resumed": resumed_runs,
                    "seconds": round(seconds, 3),
                    "runs_per_second": round(result.rate, 3),
                    "interrupted": interrupted,
                    "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
            }
        )
    finally:
        store.close()
    return result


def read_manifest_quiet(out: Path) -> dict[str, Any]:
    from sweep.store import read_manifest

    try:
        return read_manifest(out)
    except Exception:
        return {}


# ----------------------------------------------------------------------------------------------------------
# The final summary
# ----------------------------------------------------------------------------------------------------------


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        if x != x:
            return "n/a"
        return f"{x:,.3f}" if abs(x) < 1e5 else f"{x:,.0f}"
    return str(x)


def print_summary(outcome: SweepOutcome, spec: SweepSpec, console: Console | None = None) -> None:
    """The rich tables printed at the end of ``run.py sweep``."""
    from sweep.analysis import outcome_stats
    from sweep.designs import main_index
    from sweep.store import Store

    console = console or Console()
    t = Table(title=f"creditloop sweep: {outcome.out}", show_header=False, title_justify="left")
    t.add_column("", style="bold")
    t.add_column("")
    t.add_row("plan", spec.describe())
    status = "complete" if outcome.complete else ("interrupted" if outcome.interrupted else "incomplete")
    t.add_row(
        "runs",
        f"{outcome.done} of {outcome.total} finished ({status}); {outcome.ran} this session, "
        f"{outcome.resumed} from earlier sessions, {outcome.failed} failed",
    )
    if outcome.ran:
        t.add_row("time", f"{outcome.seconds:.1f} s, {outcome.rate:.2f} runs/s on {outcome.engine}")
    t.add_row(
        "output",
        f"{outcome.out}/summary, series{', agents' if spec.agents else ''}"
        f"{', events' if spec.events else ''} (parquet); `python run.py report {outcome.out}` for plots",
    )
    console.print(t)

    summary = read_dataset(outcome.out, "summary")
    if not summary.empty:
        stats = outcome_stats(summary)
        if not stats.empty:
            st = Table(title="outcomes across runs", title_justify="left")
            for col in ("metric", "mean", "sd", "min", "p10", "median", "p90", "max"):
                st.add_column(col, justify="left" if col == "metric" else "right")
            for _, r in stats.iterrows():
                st.add_row(
                    r["metric"],
                    *(_fmt(float(r[c])) for c in ("mean", "sd", "min", "p10", "median", "p90", "max")),
                )
            console.print(st)
        if spec.twin:
            tw = Table(title="with vs without circular financing (mean across runs)", title_justify="left")
            for col in ("metric", "with", "without"):
                tw.add_column(col, justify="left" if col == "metric" else "right")
            for key in (
                "peak_capex_usd_bn_per_quarter",
                "bust_depth",
                "defaults",
                "lender_losses_usd_bn",
                "trough_equity_index",
            ):
                on = summary.loc[summary["circular"], key].mean()
                off = summary.loc[~summary["circular"], key].mean()
                tw.add_row(key, _fmt(float(on)), _fmt(float(off)))
            console.print(tw)
    sens_path = outcome.out / "sensitivity.csv"
    if spec.design is not None and sens_path.exists():
        import pandas as pd

        sens = pd.read_csv(sens_path)
        key = main_index(spec.design.method)
        sn = Table(title=f"{spec.design.method} sensitivity: top parameters by {key}", title_justify="left")
        sn.add_column("outcome")
        sn.add_column("parameters (index)")
        for outcome_name, g in sens.groupby("outcome", sort=False):
            top = g.sort_values(key, ascending=False).head(4)
            sn.add_row(
                outcome_name,
                ", ".join(f"{p} ({v:.3g})" for p, v in zip(top["parameter"], top[key], strict=True)),
            )
        console.print(sn)
    for note in outcome.notes:
        console.print(f"note: {note}", highlight=False)
    with Store(outcome.out) as store:
        fails = store.failures()
    if fails:
        last = fails[0]["error"].strip().splitlines()[-1]
        console.print(
            f"[red]{len(fails)} runs failed[/]; details in {outcome.out}/failed/ (first: run {fails[0]['run_id']}: "
            f"{last}). Rerun the same command to retry them.",
            highlight=False,
        )
    if outcome.interrupted:
        console.print(
            f"interrupted: {outcome.done} of {outcome.total} runs are saved; rerun the same command to resume"
        )
