"""The sweep's output folder: a parquet dataset written run by run, safe against ``kill -9`` at any moment.

Layout of ``--out DIR``::

    manifest.json        what the sweep is (the grid or design, scenario, seeds) and its fingerprint
    design.parquet       design sweeps: the SALib sample matrix (unrounded), one row per point
    parameters.parquet   every parameter's value at every point (one row per point; join on ``point``)
    summary/             one row per run (two with --twin: circular on and off): ids, parameters, summary metrics
    series/              one row per run and quarter: ids, parameters, every model series
    agents/, events/     only with --agents / --events
    failed/              runs that raised, with their traceback (retried when the sweep is run again)
    sensitivity.csv      design sweeps, once complete: Morris / Sobol' indices of the bust-severity outcomes
    status.json          counts and timing of the last session

Every dataset folder reads as one table: ``pandas.read_parquet(DIR / "summary")``.

Durability: the runs of each chunk a worker finishes are written as one file per dataset (``batch-<id>.parquet``,
named by the chunk's smallest run id; ``run-<id>.parquet`` for a single run written by :meth:`Store.write_run`)
through a temporary name and an atomic rename, and the summary file is written last, so a run counts as finished
exactly when a summary file holds it. A rerun reads those files' run ids, skips those runs and removes anything
a killed session left half-written. A crash loses only runs not yet written: those of the chunks in flight
(chunks shrink to one run as a sweep ends, see :func:`sweep.worker.chunks`).
When the sweep completes, the per-run files are compacted into a few large ``part-<n>.parquet`` files: the new
folder is built beside the old one and swapped in by two renames; an interrupted swap is finished (or undone) by
the next command, so no reader ever sees a run twice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from params.loader import ParameterError
from sweep.grid import FORMAT, SweepSpec
from sweep.worker import DATASETS, BatchOutput, RunOutput

MANIFEST = "manifest.json"
PARAMETERS = "parameters.parquet"
RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
BATCH_FILE = re.compile(r"^batch-(\d+)\.parquet$")  # the runs of one chunk, named by its smallest run id
PART_ROWS = 1_000_000
OWNED = (
    MANIFEST,
    "design.parquet",
    PARAMETERS,
    "status.json",
    "sensitivity.csv",
    "failed",
    "report",
    *DATASETS,
)


class SweepError(ParameterError):
    """A sweep cannot start or go on (busy or foreign output folder, unreachable cluster...)."""


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_write_table(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    if not path.exists():
        raise ParameterError(
            f"'{out}' is not a sweep folder (it has no {MANIFEST}); run `run.py sweep --out {out}`"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ParameterError(f"{path}: not valid JSON ({err})") from None


def _describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "axes":
            old_axes, new_axes = dict((n, v) for n, v in a or []), dict((n, v) for n, v in b or [])
            for name in sorted(set(old_axes) | set(new_axes)):
                if old_axes.get(name) != new_axes.get(name):
                    parts.append(
                        f"{name}: {old_axes.get(name, 'not swept')} -> {new_axes.get(name, 'not swept')}"
                    )
            if not parts and list(old_axes) != list(new_axes):
                parts.append(f"axis order: {list(old_axes)} -> {list(new_axes)}")
        else:
            text_a, text_b = json.dumps(a), json.dumps(b)
            if len(text_a) + len(text_b) > 160:
                parts.append(f"{key} differs")
            else:
                parts.append(f"{key}: {text_a} -> {text_b}")
    return "; ".join(parts) or "fingerprints differ"


class Store:
    """One sweep's output folder, locked for the lifetime of the object."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._lock_fd: int | None = None

    # -- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls, out: str | Path, spec: SweepSpec, *, overwrite: bool = False, extra: dict[str, Any] | None = None
    ) -> tuple[Store, bool]:
        """Open (or create) ``out`` for ``spec``; returns the store and whether it resumes an earlier session.

        Refuses a folder holding a different sweep (unless ``overwrite``) and a folder that is not a sweep."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise SweepError(f"--out {out}: exists and is not a folder")
        if out.is_dir() and not (out / MANIFEST).exists():
            foreign = sorted(
                p.name for p in out.iterdir() if p.name not in OWNED and not p.name.startswith(".")
            )
            if foreign:
                raise SweepError(
                    f"--out {out}: the folder is not empty and holds no sweep ({', '.join(foreign[:5])}"
                    f"{'...' if len(foreign) > 5 else ''}); choose a new or empty folder"
                )
        out.mkdir(parents=True, exist_ok=True)
        store = cls(out)
        store._lock()
        try:
            resumed = store._prepare(spec, overwrite, extra or {})
        except BaseException:
            store.close()
            raise
        return store, resumed

    def _lock(self) -> None:
        import fcntl

        fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SweepError(
                f"--out {self.out}: another sweep (pid {holder}) is writing to this folder; wait for it or "
                "choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _prepare(self, spec: SweepSpec, overwrite: bool, extra: dict[str, Any]) -> bool:
        path = self.out / MANIFEST
        if not path.exists():
            self._wipe()  # only our own leftovers can be here (checked in open)
            self._write_manifest(spec, extra)
            return False
        manifest = read_manifest(self.out)
        if manifest.get("fingerprint") == spec.fingerprint() and manifest.get("format") == FORMAT:
            self.recover()
            return True
        if not overwrite:
            done = len(self.done_run_ids())
            diff = _describe_difference(manifest.get("spec", {}), spec.canonical())
            raise SweepError(
                f"--out {self.out} holds a different sweep ({done} finished runs); changed: {diff}. "
                "Use a new --out, or --overwrite to discard the finished runs and start again"
            )
        self._wipe()
        self._write_manifest(spec, extra)
        return False

    def _wipe(self) -> None:
        for name in OWNED:
            p = self.out / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        for p in self.out.glob(".*"):
            if p.name != ".lock":
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    def _write_manifest(self, spec: SweepSpec, extra: dict[str, Any]) -> None:
        doc = {
            "format": FORMAT,
            "fingerprint": spec.fingerprint(),
            "description": spec.description,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "points": spec.n_points,
            "replicates": spec.replicates,
            "runs": spec.n_runs,
            "varied": spec.varied,
            "columns": spec.columns,
            "plan": spec.describe(),
            **extra,
            "spec": spec.canonical(),
        }
        _atomic_write_bytes(self.out / MANIFEST, (json.dumps(doc, indent=2, default=str) + "\n").encode())

    # -- recovery and the finished set ---------------------------------------------------------------------
    def recover(self) -> None:
        """Finish or undo an interrupted compaction, drop temporary files and half-written runs."""
        for name in DATASETS:
            live, new, old = self.out / name, self.out / f".{name}.compact", self.out / f".{name}.old"
            if old.exists():
                if not live.exists() and new.exists():
                    os.replace(new, live)
                elif not live.exists():
                    os.replace(old, live)
                shutil.rmtree(old, ignore_errors=True)
            if new.exists():
                shutil.rmtree(new, ignore_errors=True)
        for folder in [*(self.out / n for n in DATASETS), self.out / "failed", self.out]:
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
        done = self.done_run_ids()
        summaries = self.out / "summary"
        for name in DATASETS[:-1]:
            folder = self.out / name
            if folder.is_dir():
                for f in folder.iterdir():
                    m = RUN_FILE.match(f.name)
                    if m and int(m.group(1)) not in done:
                        f.unlink()  # a run killed before its summary was written: it will be run again
                    elif BATCH_FILE.match(f.name) and not (summaries / f.name).exists():
                        f.unlink()  # the same for a chunk of runs

    def done_run_ids(self) -> set[int]:
        """Runs whose summary is on disk (file names of per-run files; the run_id column of compacted parts)."""
        folder = self.out / "summary"
        done: set[int] = set()
        if not folder.is_dir():
            return done
        parts = []
        for f in folder.iterdir():
            m = RUN_FILE.match(f.name)
            if m:
                done.add(int(m.group(1)))
            elif f.suffix == ".parquet" and not f.name.startswith((".", "_")):
                parts.append(f)  # chunks of runs and compacted parts: their run_id column
        for f in parts:
            ids = pq.read_table(f, columns=["run_id"]).column("run_id").to_numpy()
            done.update(int(i) for i in np.unique(ids))
        return done

    # -- writing -------------------------------------------------------------------------------------------
    def write_run(self, output: RunOutput) -> None:
        for name in DATASETS:  # summary last: it marks the run as finished
            data = output.tables.get(name)
            if data is None:
                continue
            folder = self.out / name
            folder.mkdir(exist_ok=True)
            _atomic_write_bytes(folder / f"run-{output.run_id:08d}.parquet", data)
        (self.out / "failed" / f"run-{output.run_id:08d}.json").unlink(missing_ok=True)

    def write_batch(self, output: BatchOutput) -> None:
        """The finished runs of one chunk: one file per dataset, named by the chunk's smallest run id (files on
        disk hold disjoint sets of runs, so the name is unique), summary last: its file marks them finished."""
        if not output.run_ids:
            return
        file = f"batch-{min(output.run_ids):08d}.parquet"
        for name in DATASETS:
            data = output.tables.get(name)
            if data is None:
                continue
            folder = self.out / name
            folder.mkdir(exist_ok=True)
            _atomic_write_bytes(folder / file, data)
        for run_id in output.run_ids:
            (self.out / "failed" / f"run-{run_id:08d}.json").unlink(missing_ok=True)

    def write_failure(self, task, error: str) -> None:
        folder = self.out / "failed"
        folder.mkdir(exist_ok=True)
        doc = {
            "run_id": task.run_id,
            "point": task.point,
            "replicate": task.replicate,
            "seed": task.seed,
            "values": task.values,
            "error": error,
        }
        _atomic_write_bytes(folder / f"run-{task.run_id:08d}.json", json.dumps(doc, indent=2).encode())

    def failures(self) -> list[dict[str, Any]]:
        folder = self.out / "failed"
        if not folder.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(folder.glob("run-*.json"))]

    def save_design(self, matrix: np.ndarray, names: list[str]) -> None:
        df = pd.DataFrame(matrix, columns=names)
        df.insert(0, "point", np.arange(len(df)))
        _atomic_write_table(self.out / "design.parquet", pa.Table.from_pandas(df, preserve_index=False))

    def load_design(self) -> np.ndarray | None:
        return load_design(self.out)

    def save_parameters(self, table: pd.DataFrame) -> None:
        """Every parameter at every point (written once, before the first run)."""
        _atomic_write_table(self.out / PARAMETERS, pa.Table.from_pandas(table, preserve_index=False))

    def has_parameters(self) -> bool:
        return (self.out / PARAMETERS).exists()

    def write_status(self, doc: dict[str, Any]) -> None:
        _atomic_write_bytes(
            self.out / "status.json", (json.dumps(doc, indent=2, default=str) + "\n").encode()
        )

    def write_sensitivity(self, df: pd.DataFrame) -> None:
        tmp = self.out / f".sensitivity.csv.{os.getpid()}.tmp"
        df.to_csv(tmp, index=False)
        os.replace(tmp, self.out / "sensitivity.csv")

    # -- compaction ----------------------------------------------------------------------------------------
    def compact(self) -> None:
        """Merge per-run files into large part files (streaming, so memory stays flat). Crash-safe."""
        for name in DATASETS:
            live = self.out / name
            if not live.is_dir():
                continue
            files = sorted(f for f in live.iterdir() if f.suffix == ".parquet" and not f.name.startswith("."))
            if len(files) <= 1 or not any(RUN_FILE.match(f.name) or BATCH_FILE.match(f.name) for f in files):
                continue
            new, old = self.out / f".{name}.compact", self.out / f".{name}.old"
            shutil.rmtree(new, ignore_errors=True)
            schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
            dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
            ds.write_dataset(
                dataset,
                new,
                format="parquet",
                basename_template="part-{i}.parquet",
                max_rows_per_file=PART_ROWS,
                min_rows_per_group=min(PART_ROWS, 64 * 1024),
                max_rows_per_group=min(PART_ROWS, 256 * 1024),
                preserve_order=True,
                use_threads=False,
                file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
            )
            os.replace(live, old)
            os.replace(new, live)
            shutil.rmtree(old, ignore_errors=True)


def load_design(out: str | Path) -> np.ndarray | None:
    path = Path(out) / "design.parquet"
    if not path.exists():
        return None
    df = pd.read_parquet(path).sort_values("point")
    return df.drop(columns="point").to_numpy(dtype=float)


def read_dataset(out: str | Path, name: str = "summary", columns: list[str] | None = None) -> pd.DataFrame:
    """One dataset of a sweep folder as a DataFrame, sorted by run (empty if nothing is finished yet)."""
    folder = Path(out) / name
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        return pd.DataFrame(columns=columns or [])
    dataset = ds.dataset(str(folder), format="parquet")
    if columns is not None:
        columns = [c for c in columns if c in dataset.schema.names]
    df = dataset.to_table(columns=columns).to_pandas()
    keys = [c for c in ("run_id", "circular", "quarter", "step") if c in df.columns]
    if keys:
        ascending = [k != "circular" for k in keys]
        df = df.sort_values(keys, ascending=ascending, kind="stable").reset_index(drop=True)
    return df
