"""The UI server's exposure, without a browser: Host and Origin checks on real sockets, only loopback
listeners, and `run.py ui` taking its server process down with it (SIGTERM, SIGINT, parent killed)."""

from __future__ import annotations

import asyncio
import http.client
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from conftest import SERVER_START_TIMEOUT_S, _free_port, assert_loopback_only
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from visualization.server import OriginGuard, allowed_origins, parse_origin

ROOT = Path(__file__).resolve().parent.parent
KERNEL_WS = "jupyter/api/kernels/origin-test/channels?session_id=origin-test"
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
STOP_TIMEOUT_S = 20


def _ws(url: str) -> str:
    return url.replace("http://", "ws://", 1) + KERNEL_WS


def _status(url: str, path: str, headers: dict[str, str]) -> int:
    """The status of a raw HTTP request to the server at ``url`` with exactly these headers (Host included)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("GET", "/" + path, skip_host=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_cross_origin_websocket_is_refused_and_a_same_origin_one_accepted(ui_url):
    for origin in ("http://evil.example", f"http://evil.example:{urlsplit(ui_url).port}", None):
        with pytest.raises(InvalidStatus) as refused:
            connect(_ws(ui_url), origin=origin, proxy=None, open_timeout=30).close()
        assert refused.value.response.status_code == 403, origin
    with connect(_ws(ui_url), origin=ui_url.rstrip("/"), proxy=None, open_timeout=30) as ws:
        assert ws.protocol.state.name == "OPEN"  # the handshake completed: 101 Switching Protocols


def test_a_foreign_host_header_is_refused(ui_url):
    port = urlsplit(ui_url).port
    origin = ui_url.rstrip("/")
    assert _status(ui_url, "readyz", {"Host": f"127.0.0.1:{port}"}) == 200
    assert _status(ui_url, "readyz", {"Host": f"localhost:{port}"}) == 200
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", ""):
        assert _status(ui_url, "readyz", {"Host": host}) == 403, host
        # DNS rebinding: the attacker's name resolves to 127.0.0.1, the page is then "same-origin"
        assert _status(ui_url, KERNEL_WS, {**UPGRADE, "Host": host, "Origin": f"http://{host}"}) == 403, host
    assert _status(ui_url, KERNEL_WS, {**UPGRADE, "Host": f"127.0.0.1:{port}", "Origin": origin}) == 101


def _listener_pid(port: int) -> int:
    pids = {
        c.pid for c in psutil.net_connections(kind="inet") if c.laddr.port == port and c.status == "LISTEN"
    }
    assert len(pids) == 1, pids
    return pids.pop()


def test_the_ui_server_listens_on_loopback_only(ui_url):
    server = _listener_pid(urlsplit(ui_url).port)
    assert_loopback_only({server, *(p.pid for p in psutil.Process(server).children(recursive=True))})


def _start_ui(port: int) -> tuple[subprocess.Popen, psutil.Process]:
    """`run.py ui` on ``port``, once /readyz answers; and its server process."""
    proc = subprocess.Popen(
        [sys.executable, "run.py", "ui", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        assert proc.poll() is None, f"run.py ui exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, f"run.py ui was not ready in {SERVER_START_TIMEOUT_S}s"
        time.sleep(0.2)
    children = psutil.Process(proc.pid).children()
    assert len(children) == 1, children
    return proc, children[0]


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(server: psutil.Process, port: int) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _running(server) or not _port_closed(port):
        assert time.monotonic() < deadline, f"the server (pid {server.pid}) still runs or port {port} is open"
        time.sleep(0.1)


def _cleanup(*procs) -> None:
    for p in procs:
        try:
            p.kill()
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_py_ui_stops_its_server_on_a_stop_signal(sig):
    port = _free_port()
    proc, server = _start_ui(port)
    try:
        proc.send_signal(sig)
        assert proc.wait(timeout=STOP_TIMEOUT_S) == 0
        _wait_gone(server, port)
    finally:
        _cleanup(proc, server)
        proc.wait()


def test_the_ui_server_ends_when_run_py_ui_is_killed():
    port = _free_port()
    proc, server = _start_ui(port)
    try:
        proc.kill()  # SIGKILL: no handler, no finally in the parent
        proc.wait()
        _wait_gone(server, port)
    finally:
        _cleanup(server)


def test_a_malformed_allow_origin_is_refused():
    done = subprocess.run(
        [sys.executable, "run.py", "ui", "--allow-origin", "myhost:8765"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: --allow-origin: value 'myhost:8765' is not allowed; allowed: ")


def _decide(guard: OriginGuard, kind: str, host: str, origin: str | None) -> str:
    """Run one request through the guard: "passed" to the app, or the refusal's first message type."""
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    scope = {"type": kind, "path": "/", "headers": headers, "query_string": b""}
    sent: list[dict] = []

    async def app(scope, receive, send):
        sent.append({"type": "passed"})

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    guard.app = app
    # In a thread of its own: in the full run Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, guard(scope, receive, send)).result()
    return sent[0]["type"]


def test_allow_origin_and_the_bound_host_extend_what_the_guard_accepts():
    guard = OriginGuard(
        None, allowed_origins("box.lan", 8765, ["https://proxy.example", "http://[fd00::7]:9000"])
    )
    for host, origin in (
        ("box.lan:8765", "http://box.lan:8765"),
        ("[::1]:8765", "http://[::1]:8765"),
        ("proxy.example", "https://proxy.example"),  # behind a TLS proxy: default port, none in Host
        ("[fd00::7]:9000", "http://[fd00::7]:9000"),
    ):
        assert _decide(guard, "websocket", host, origin) == "passed", host
    assert _decide(guard, "websocket", "box.lan:8765", "http://proxy.example") == "websocket.close"
    assert _decide(guard, "http", "box.lan:8765", None) == "passed"  # plain page loads carry no Origin
    assert _decide(guard, "http", "box.lan:8765", "null") == "http.response.start"
    wildcard = OriginGuard(None, allowed_origins("0.0.0.0", 8765))
    assert _decide(wildcard, "http", "0.0.0.0:8765", None) == "http.response.start"
    assert parse_origin("HTTP://LocalHost:8765/") == ("http", "localhost", 8765)
