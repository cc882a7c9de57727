"""Dask exposure: a local cluster listens on loopback only; a remote one is reached over TLS when asked,
with encryption required, and TLS options that do not fit the address are refused before anything runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import assert_loopback_only

from sweep import DaskEngine, read_dataset

ROOT = Path(__file__).resolve().parent.parent
SELF_SIGNED = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=creditloop-test".split()


def dask_sweep(*argv: str) -> subprocess.CompletedProcess:
    """`run.py sweep --engine dask ARGV` as a subprocess."""
    cmd = [sys.executable, "run.py", "sweep", "--engine", "dask", *argv]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def _own_process_tree() -> set[int]:
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.children(recursive=True))}


@pytest.mark.parametrize("processes", [True, False])
def test_a_local_dask_cluster_listens_on_loopback_only(processes):
    # processes (as `--engine dask` starts them): scheduler and dashboard here, workers and nannies below
    with DaskEngine(workers=1, processes=processes) as engine:
        listening = assert_loopback_only(_own_process_tree())
        link = re.search(r"dashboard http://127\.0\.0\.1:(\d+)/status", engine.describe())
        assert link and ("127.0.0.1", int(link[1])) in {(ip, port) for _, ip, port in listening}, (
            engine.describe()
        )


@pytest.fixture
def tls_files(tmp_path) -> dict[str, Path]:
    """A self-signed certificate (its own CA) and key, as `openssl` makes them."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return {"ca": cert, "cert": cert, "key": key}


def test_a_sweep_runs_on_a_tls_scheduler_with_the_tls_options(tmp_path, tls_files):
    from distributed import LocalCluster
    from distributed.security import Security

    ca, cert, key = (str(tls_files[k]) for k in ("ca", "cert", "key"))
    roles = {
        f"tls_{r}_{part}": path
        for r in ("scheduler", "worker", "client")
        for part, path in (("cert", cert), ("key", key))
    }
    security = Security(tls_ca_file=ca, require_encryption=True, **roles)
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        host="127.0.0.1",
        security=security,
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        out = tmp_path / "sweep"
        sweep = ["--scheduler", address, "--quarters", "2", "--quiet", "--out", str(out)]
        plain = dask_sweep(*sweep)
        assert plain.returncode == 2 and "needs TLS options; allowed: tls://HOST:PORT with" in plain.stderr
        done = dask_sweep(*sweep, "--tls-ca-file", ca, "--tls-cert", cert, "--tls-key", key)
        assert done.returncode == 0, done.stderr
    assert len(read_dataset(out, "summary")) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--scheduler", "tcp://127.0.0.1:1", "--tls-ca-file", "CA", "--tls-cert", "CERT"],
            "allowed: tls://HOST:PORT",
        ),
        (
            ["--scheduler", "ucx://127.0.0.1:1"],
            "--scheduler: value 'ucx://127.0.0.1:1' is not allowed; allowed: tcp://",
        ),
        (["--scheduler", "tls://127.0.0.1:1", "--tls-ca-file", "CA"], "--tls-cert: missing"),
        (
            ["--scheduler", "tls://127.0.0.1:1", "--tls-ca-file", "nope.pem", "--tls-cert", "CERT"],
            "--tls-ca-file: value 'nope.pem' is not a file",
        ),
        (
            ["--tls-ca-file", "CA", "--tls-cert", "CERT"],
            "given without --scheduler; allowed: with --engine dask --scheduler tls://",
        ),
    ],
)
def test_tls_options_that_do_not_fit_are_refused(tmp_path, tls_files, argv, message):
    argv = [str(tls_files["ca"]) if a == "CA" else str(tls_files["cert"]) if a == "CERT" else a for a in argv]
    done = dask_sweep(*argv, "--out", str(tmp_path / "never"))
    assert done.returncode == 2 and done.stderr.startswith("error: ") and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "never").exists()


def test_a_plain_tcp_scheduler_gets_a_note_on_trust():
    done = dask_sweep("--scheduler", "tcp://127.0.0.1:1", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "tcp:// is neither encrypted nor authenticated" in done.stderr and "use tls://" in done.stderr
