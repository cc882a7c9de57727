"""Shared fixtures. The browser fixtures start nothing unless a test asks for them (the e2e test does).

* ``ui_url``: the Solara app (``solara run visualization/app.py --production``) on a free local port, started
  from the repository root after filling the front-end asset cache, ready when ``/readyz`` answers; its log goes to
  ``artifacts/ui-server.log``.
* pytest-playwright's ``browser``/``page`` fixtures run Debian's Chromium (``/usr/bin/chromium``, or
  ``$CHROMIUM_PATH``): ``playwright install`` cannot download a browser here.
* ``artifacts``: the (gitignored) folder for screenshots, logs and timings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests without their own example count (the whole-schema model test) run 25 examples in the unit run;
# `python run.py test -- tests/test_properties.py --hypothesis-profile=deep` runs 1,000 (the deep profile).
settings.register_profile("quick", max_examples=25)
settings.register_profile("deep", max_examples=1000)
settings.load_profile("quick")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_loopback_only(pids: set[int]) -> list[tuple[int, str, int]]:
    """Every TCP socket these processes listen on is bound to 127.0.0.1 or ::1 (and there is one at least);
    the (pid, address, port) list, printed for the log."""
    import psutil

    listening = [
        (pid, c.laddr.ip, c.laddr.port)
        for pid in pids
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    print("listening:", sorted(listening))
    assert listening and all(ip in ("127.0.0.1", "::1") for _, ip, _ in listening), listening
    return listening


@pytest.fixture(scope="session")
def ui_url(artifacts):
    """Start the app as `python run.py ui` would, on a free port; yield its URL; stop it."""
    from visualization.assets import ensure_frontend_assets
    from visualization.server import app_command, app_env, stop

    ensure_frontend_assets()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = artifacts / "ui-server.log"
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            app_command("127.0.0.1", port), cwd=ROOT, env=app_env(), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the UI server exited with {proc.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(url + "readyz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the UI server was not ready in {SERVER_START_TIMEOUT_S}s; see {log_path}"
                    )
                time.sleep(0.1)
            print(f"\n[UI server ready in {time.perf_counter() - t0:.1f}s at {url}]")
            yield url
        finally:
            stop(proc)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: launch Debian's Chromium with the flags of DEVELOPERS.md."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
