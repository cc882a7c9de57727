"""``python run.py ui``: serve the Solara app (visualization/app.py) with its front-end assets from a local cache.

The server is a child process, ``python -m visualization.server``: Solara's own ``solara run APP --production``
with :class:`OriginGuard` in front of Solara's Starlette app. The guard answers only requests addressed to this
server (the Host header) and coming from its own pages (the Origin header, which browsers always send on a
websocket). Without it any web page the user visits could open the app's websocket (``ws://127.0.0.1:8765``)
and drive it, directly or through DNS rebinding. The child ends with its parent: on SIGTERM and SIGINT the
parent stops it, and if the parent is killed the kernel sends the child SIGTERM (Linux).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from cli.signals import Interrupted, stop_signals_raise
from params.loader import ParameterError

ROOT = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().parent / "app.py"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")
DEFAULT_PORTS = {"http": 80, "https": 443}
_PR_SET_PDEATHSIG = 1

log = logging.getLogger("creditloop.ui")

Origin = tuple[str, str, int]  # scheme, host name (lower case, no brackets), port


def parse_origin(url: str, where: str = "--allow-origin") -> Origin:
    """``http(s)://HOST[:PORT]`` as an :data:`Origin`, or ParameterError naming ``where``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        ok = parts.scheme in DEFAULT_PORTS and bool(parts.hostname) and parts.path in ("", "/")
    except ValueError:  # a bad port or IPv6 literal
        ok = False
    if not ok:
        raise ParameterError(
            f"{where}: value {url!r} is not allowed; allowed: an origin as a browser shows it, "
            "http(s)://HOST[:PORT] without a path, e.g. http://myhost.local:8765"
        )
    return parts.scheme, parts.hostname, port


def allowed_origins(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[Origin]:
    """Loopback on the served port, the bound host (unless it is a wildcard) and the ``--allow-origin`` URLs."""
    names = [*LOOPBACK_NAMES, *([] if host in WILDCARDS else [host.strip("[]").lower()])]
    return frozenset({("http", name, port) for name in names} | {parse_origin(url) for url in extra})


def _host_key(netloc: str) -> tuple[str, int | None] | None:
    """A Host header as (name, port or None); None when it does not parse."""
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname, parts.port) if parts.hostname else None
    except ValueError:
        return None


class OriginGuard:
    """ASGI middleware: refuses a request whose Host header is not one of the allowed origins' hosts (DNS
    rebinding), an HTTP request whose Origin is not allowed, and a websocket without an allowed Origin.

    Hand-written because Starlette's TrustedHostMiddleware ignores the port, cannot parse ``[::1]:8765`` and
    has no Origin check; CORSMiddleware only adds response headers and never refuses a websocket."""

    def __init__(self, app, origins: Iterable[Origin]):
        self.app = app
        self.origins = frozenset(origins)
        # A Host header carries the port unless it is the scheme's default (e.g. behind a TLS proxy).
        self.hosts = {(name, port) for _, name, port in self.origins} | {
            (name, None) for scheme, name, port in self.origins if DEFAULT_PORTS[scheme] == port
        }

    def problem(self, scope) -> str | None:
        """Why this request is refused, or None."""
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        if _host_key(headers.get("host", "")) not in self.hosts:
            return "the Host header is not this server's"
        origin = headers.get("origin")
        if origin is None:
            return "a websocket without an Origin header" if scope["type"] == "websocket" else None
        try:
            allowed = parse_origin(origin, "Origin") in self.origins
        except ParameterError:
            allowed = False
        return None if allowed else "the request comes from a page of another origin"

    async def __call__(self, scope, receive, send):
        problem = self.problem(scope) if scope["type"] in ("http", "websocket") else None
        if problem is None:
            return await self.app(scope, receive, send)
        from starlette.datastructures import Headers
        from starlette.responses import PlainTextResponse
        from starlette.websockets import WebSocketClose

        headers = Headers(scope=scope)
        log.warning(
            "refused %s %s: %s (Host %r, Origin %r); allow another origin with `run.py ui --allow-origin URL`",
            scope["type"],
            scope.get("path", ""),
            problem,
            headers.get("host"),
            headers.get("origin"),
        )
        if scope["type"] == "websocket":
            await WebSocketClose(code=1008)(scope, receive, send)  # before accept: the server answers 403
        else:
            await PlainTextResponse(f"refused: {problem}\n", status_code=403)(scope, receive, send)


def app_command(
    host: str, port: int, allow_origins: Iterable[str] = (), parent_pid: int | None = None
) -> list[str]:
    """The server process's command line (``solara run ... --production`` behind the guard)."""
    cmd = [sys.executable, "-m", "visualization.server", "--host", host, "--port", str(port)]
    for url in allow_origins:
        cmd += ["--allow-origin", url]
    return [*cmd, "--parent-pid", str(os.getpid() if parent_pid is None else parent_pid)]


def solara_args(host: str, port: int) -> list[str]:
    """``solara run`` in production mode (dev mode reaches out to the internet), without the PyPI version
    check (the app works offline)."""
    app = str(APP.relative_to(ROOT))
    return [
        "run",
        app,
        "--production",
        "--no-open",
        "--no-check-version",
        "--host",
        host,
        "--port",
        str(port),
    ]


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home: the app works offline
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(host: str = "127.0.0.1", port: int = 8765, allow_origins: Iterable[str] = ()) -> int:
    """Fill the front-end asset cache if needed, print the address, run the server until stopped; exit code."""
    from visualization.assets import ensure_frontend_assets

    allow_origins = list(allow_origins)
    allowed_origins(host, port, allow_origins)  # refuses a malformed --allow-origin before anything starts
    try:
        ensure_frontend_assets()
    except RuntimeError as err:
        print(f"error: cannot prepare the UI's front-end files: {err}", file=sys.stderr)
        return 1
    print(f"creditloop UI: {url_for(host, port)}", flush=True)
    if host in WILDCARDS:
        print(
            f"(listening on all interfaces; on this machine open {url_for('127.0.0.1', port)}; from other "
            f"machines add --allow-origin http://THIS-HOST:{port})",
            flush=True,
        )
    proc = subprocess.Popen(app_command(host, port, allow_origins), cwd=ROOT, env=app_env())
    try:
        with stop_signals_raise():
            return proc.wait()
    except Interrupted:
        return 0
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server: ask, then insist after ten seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _end_with_parent(parent_pid: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies, even by SIGKILL (elsewhere: nothing)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    """The server process: ``solara run`` in this process, with the guard added to Solara's app before the
    server starts (uvicorn imports ``solara.server.starlette:app``, which is then this very object)."""
    p = argparse.ArgumentParser(prog="python -m visualization.server", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--allow-origin", action="append", default=[], metavar="URL")
    p.add_argument("--parent-pid", type=int, default=os.getppid())
    args = p.parse_args(argv)
    _end_with_parent(args.parent_pid)
    # solara.server.app registers the default app on import from $SOLARA_APP, which `solara run` sets only
    # later, just before uvicorn imports the server module.
    os.environ["SOLARA_APP"] = str(APP.relative_to(ROOT))
    import solara.server.starlette
    from solara.__main__ import cli

    solara.server.starlette.app.add_middleware(
        OriginGuard, origins=allowed_origins(args.host, args.port, args.allow_origin)
    )
    cli(solara_args(args.host, args.port))


if __name__ == "__main__":
    main()
