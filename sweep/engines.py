"""Where runs execute: in this process, a local process pool, or a Dask cluster, behind one interface.

Every engine takes the same task function (:func:`sweep.worker.execute`, or :func:`sweep.worker.execute_batch` for
a :class:`~sweep.worker.Chunk` of runs, as sweeps submit them), the shared settings and an iterator of tasks
(:class:`~sweep.grid.RunTask` or chunks), and yields ``(task, output)`` pairs as they finish. Only a bounded number of tasks
is in flight, so memory stays flat however large the sweep. Results do not depend on the engine: each task
carries its own seed.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from sweep.store import SweepError
from sweep.worker import RunOutput, code_version, execute, init_worker, ping

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_PACKAGES = ("accounting", "agents", "economy", "params", "sweep")
LOOPBACK = "127.0.0.1"
SCHEDULER_SCHEMES = ("tcp", "tls")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class Engine:
    """Base class: a context manager that maps the task function over tasks, unordered."""

    name = "engine"
    workers = 1

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def describe(self) -> str:
        return self.name

    def map_unordered(
        self, config: dict[str, Any], tasks: Iterable, fn: Callable = execute
    ) -> Iterator[tuple[Any, RunOutput]]:
        raise NotImplementedError


class InProcessEngine(Engine):
    """Runs one task after the other in this process (``--workers 1``; easiest to debug)."""

    name = "local"
    workers = 1

    def describe(self) -> str:
        return "local, 1 worker (in this process)"

    def map_unordered(self, config, tasks, fn=execute):
        for task in tasks:
            yield task, fn(config, task)


def _start_method() -> str:
    """``fork`` (no re-import, workers start in milliseconds) when it is safe: on POSIX and while this process
    has a single thread; otherwise ``forkserver`` (one import, then forks) or ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1 and os.name == "posix":
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


class LocalEngine(Engine):
    """A process pool on this machine (``--engine local --workers N``, the default)."""

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        in_flight: int | None = None,
        start_method: str | None = None,
        *,
        keep_warm: bool = False,
    ):
        self.workers = workers or cpu_count()
        self.in_flight = in_flight or 4 * self.workers
        self.pool: ProcessPoolExecutor | None = None
        self.start_method = start_method  # None: fork when this process is single-threaded, else forkserver
        self.method = ""
        # keep_warm: the pool outlives the ``with`` block, for the next sweep (amplify's arms, notebooks,
        # benchmarks); call close() when done
        self.keep_warm = keep_warm

    def describe(self) -> str:
        return f"local process pool, {self.workers} workers ({self.method})"

    def __enter__(self) -> LocalEngine:
        if self.pool is not None:  # kept warm from an earlier sweep
            return self
        import economy.runner  # noqa: F401  (imported before forking, so workers start warm)

        self.method = self.start_method or _start_method()
        ctx = multiprocessing.get_context(self.method)
        if self.method == "forkserver":
            ctx.set_forkserver_preload(["sweep.worker", "economy.runner", "params.loader"])
        self.pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_worker)
        # Start every worker now, before any progress-bar thread exists (fork must happen single-threaded).
        # Freezing the parent's objects first keeps the children's garbage collector off the pages they share
        # with the parent (otherwise each child copies most of the parent's heap on its first collection).
        # No gc.collect() before: it costs ~50 ms in a large parent, and garbage frozen here is unfrozen (and
        # collected) in the parent right after; in a child it only stays uncollected.
        gc.freeze()
        try:
            list(self.pool.map(ping, range(self.workers)))
        finally:
            gc.unfreeze()
        return self

    def __exit__(self, *exc) -> None:
        if not self.keep_warm or exc[:1] not in ((None,), ()):
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def map_unordered(self, config, tasks, fn=execute):
        if self.pool is None:
            raise RuntimeError("use the engine as a context manager")
        it = iter(tasks)
        pending: dict = {}

        def fill() -> None:
            for task in itertools.islice(it, self.in_flight - len(pending)):
                pending[self.pool.submit(fn, config, task)] = task

        fill()
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = pending.pop(fut)
                    try:
                        output = fut.result()
                    except BrokenProcessPool as err:
                        raise SweepError(
                            f"a worker process died ({err}); the finished runs are saved, rerun the same "
                            "command to resume"
                        ) from None
                    yield task, output
                fill()
        finally:
            for fut in pending:
                fut.cancel()


class DaskEngine(Engine):
    """Dask distributed: a cluster at ``scheduler`` (``tcp://HOST:8786`` or ``tls://HOST:8786``) or, without
    one, a LocalCluster whose scheduler, workers and dashboard listen on 127.0.0.1 only.

    Workers need the project importable (``pip install -e .`` on each worker, or ``upload_code=True``, which
    ships model/agents/params/sweep as a zip with ``Client.upload_file``). Before any run, every worker's code
    version is compared with this machine's, so a stale worker cannot mix different numbers into the sweep.

    A scheduler runs and unpickles whatever its clients and workers send, and results come back pickled: over
    ``tcp://`` that is unauthenticated and unencrypted. Across machines pass ``security`` (a
    ``distributed.Security`` with ``require_encryption=True``, see :func:`tls_security`) and a ``tls://``
    address."""

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        *,
        processes: bool = True,
        threads_per_worker: int = 1,
        upload_code: bool = False,
        in_flight: int | None = None,
        connect_timeout: float = 20.0,
        security=None,
    ):
        self.scheduler = scheduler
        self.security = security
        self.n_workers = workers
        self.processes = processes
        self.threads_per_worker = threads_per_worker
        self.upload_code = upload_code
        self.in_flight = in_flight
        self.connect_timeout = connect_timeout
        self.client = None
        self.cluster = None
        self.workers = 0

    def describe(self) -> str:
        where = self.scheduler or ("LocalCluster" + ("" if self.processes else ", threads"))
        link = self.dashboard_link()
        return f"dask {where}, {self.workers} worker threads" + (f" (dashboard {link})" if link else "")

    def dashboard_link(self) -> str | None:
        """The remote scheduler's own link; for a LocalCluster the address it is bound to (Dask's link would
        name this machine's network address when the workers are threads)."""
        if self.client is None or self.cluster is None:
            return getattr(self.client, "dashboard_link", None)
        port = self.client.scheduler_info()["services"].get("dashboard")
        return f"http://{LOOPBACK}:{port}/status" if port else None

    def __enter__(self) -> DaskEngine:
        from distributed import Client, LocalCluster

        try:
            if self.scheduler:
                try:
                    self.client = Client(
                        self.scheduler, timeout=f"{self.connect_timeout}s", security=self.security
                    )
                except OSError as err:
                    raise SweepError(
                        f"--scheduler {self.scheduler}: cannot reach the Dask scheduler ({err})"
                    ) from None
            else:
                self.cluster = LocalCluster(
                    n_workers=self.n_workers or cpu_count(),
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    # Loopback only, the HTTP servers too: with ":0" the dashboard binds 0.0.0.0 whatever
                    # `host` is, and so does each worker's (metrics) server when workers are threads, which
                    # talk inproc:// and take no host.
                    host=LOOPBACK if self.processes else None,
                    dashboard_address=f"{LOOPBACK}:0",
                    worker_dashboard_address=f"{LOOPBACK}:0",
                )
                self.client = Client(self.cluster)
            try:
                self.client.wait_for_workers(1, timeout=self.connect_timeout)
            except TimeoutError:
                raise SweepError(
                    f"--scheduler {self.scheduler}: no worker joined within {self.connect_timeout:g} s; start "
                    f"workers with `dask worker {self.scheduler}`"
                ) from None
            if self.upload_code:
                self._upload()
            self._check_versions()
            self.workers = sum(self.client.nthreads().values())
        except BaseException:
            self.__exit__()
            raise
        return self

    def _upload(self) -> None:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="creditloop-upload-"))
        path = folder / f"creditloop_code_{code_version()}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for package in UPLOAD_PACKAGES:
                for f in sorted((ROOT / package).rglob("*")):
                    if f.suffix in (".py", ".toml") and "__pycache__" not in f.parts:
                        z.write(f, f.relative_to(ROOT).as_posix())
        self.client.upload_file(str(path))

    def _check_versions(self) -> None:
        mine = code_version()
        try:
            theirs = self.client.run(code_version)
        except ModuleNotFoundError as err:
            raise SweepError(
                f"the Dask workers cannot import creditloop ({err}); install it on every worker "
                "(`pip install -e .` in the project folder) or pass --upload-code"
            ) from None
        stale = sorted(addr for addr, version in theirs.items() if version != mine)
        if stale:
            raise SweepError(
                f"{len(stale)} Dask worker(s) run different creditloop code than this machine "
                f"({', '.join(stale[:3])}: {theirs[stale[0]]} vs {mine}); update them (or pass --upload-code "
                "to fresh workers) so every run uses the same model"
            )

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def map_unordered(self, config, tasks, fn=execute):
        from distributed import as_completed

        client = self.client
        if client is None:
            raise RuntimeError("use the engine as a context manager")
        token = uuid.uuid4().hex[:8]
        limit = self.in_flight or max(4, 2 * sum(client.nthreads().values()))
        it = iter(tasks)
        pending: dict[str, Any] = {}

        def submit(task):
            fut = client.submit(fn, config, task, pure=False, key=f"creditloop-run-{task.run_id}-{token}")
            pending[fut.key] = (fut, task)
            return fut

        queue = as_completed([submit(t) for t in itertools.islice(it, limit)])
        try:
            for fut in queue:
                _, task = pending.pop(fut.key)
                try:
                    output = fut.result()
                except Exception as err:  # a worker died repeatedly (KilledWorker) or the task could not run
                    output = RunOutput(task.run_id, error=f"{type(err).__name__}: {err}")
                fut.release()
                nxt = next(it, None)
                if nxt is not None:
                    queue.add(submit(nxt))
                yield task, output
        finally:
            if pending:
                client.cancel([f for f, _ in pending.values()])


def tls_security(
    scheduler: str | None, ca_file: Path | None, cert: Path | None, key: Path | None
) -> Any | None:
    """The ``distributed.Security`` for ``--tls-ca-file/--tls-cert/--tls-key`` (None without them), after
    checking that they fit the ``--scheduler`` address. Encryption is required: no silent fallback to tcp."""
    scheme = scheduler.split("://", 1)[0] if scheduler and "://" in scheduler else "tcp"
    if scheduler and scheme not in SCHEDULER_SCHEMES:
        raise SweepError(
            f"--scheduler: value {scheduler!r} is not allowed; allowed: tcp://HOST:PORT, or tls://HOST:PORT "
            "with --tls-ca-file and --tls-cert"
        )
    given = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
    if not any(given.values()):
        if scheme == "tls":
            raise SweepError(
                f"--scheduler: value {scheduler!r} needs TLS options; allowed: tls://HOST:PORT with "
                "--tls-ca-file and --tls-cert (and --tls-key), or tcp://HOST:PORT"
            )
        return None
    if not scheduler:
        raise SweepError(
            "--tls-ca-file/--tls-cert/--tls-key: given without --scheduler; allowed: with --engine dask "
            "--scheduler tls://HOST:PORT (a LocalCluster listens on 127.0.0.1 only)"
        )
    if scheme != "tls":
        raise SweepError(
            f"--scheduler: value {scheduler!r} is not allowed with --tls-*; allowed: tls://HOST:PORT"
        )
    for option, path in given.items():
        if path is None and option != "--tls-key":  # the key may be inside the certificate file
            raise SweepError(f"{option}: missing; TLS needs --tls-ca-file and --tls-cert (and --tls-key)")
        if path is not None and not Path(path).is_file():
            raise SweepError(f"{option}: value {str(path)!r} is not a file; allowed: a PEM file")
    from distributed.security import Security

    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=str(key) if key else None,
        require_encryption=True,
    )


def make_engine(
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    upload_code: bool = False,
    security=None,
) -> Engine:
    """The engine the CLI options ask for (``security``: from :func:`tls_security`)."""
    if engine == "local":
        if scheduler:
            raise SweepError("--scheduler needs --engine dask")
        if workers is not None and workers < 1:
            raise SweepError(f"--workers: value {workers} is not allowed; use an integer >= 1")
        n = workers or cpu_count()
        return InProcessEngine() if n == 1 else LocalEngine(n)
    if engine == "dask":
        if workers is not None and workers < 1:
            raise SweepError(f"--workers: value {workers} is not allowed; use an integer >= 1")
        if scheduler and workers:
            raise SweepError(
                "--workers sets the size of a LocalCluster; with --scheduler the cluster decides"
            )
        return DaskEngine(scheduler, workers, upload_code=upload_code, security=security)
    raise SweepError(f"--engine: value {engine!r} is not allowed; allowed: local, dask")
