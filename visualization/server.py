"""``python run.py ui``: serve the Solara app (visualization/app.py) with its front-end assets from a local cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().parent / "app.py"


def app_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line (production mode: dev mode reaches out to the internet)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP.relative_to(ROOT)),
        "--production",
        "--no-open",
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


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Fill the front-end asset cache if needed, print the address, run the server until stopped; exit code."""
    from visualization.assets import ensure_frontend_assets

    try:
        ensure_frontend_assets()
    except RuntimeError as err:
        print(f"error: cannot prepare the UI's front-end files: {err}", file=sys.stderr)
        return 1
    print(f"creditloop UI: {url_for(host, port)}", flush=True)
    if host in ("0.0.0.0", "::"):
        print(f"(listening on all interfaces; on this machine open {url_for('127.0.0.1', port)})", flush=True)
    proc = subprocess.Popen(app_command(host, port), cwd=ROOT, env=app_env())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop(proc)
        return 0


def stop(proc: subprocess.Popen) -> None:
    """Stop the server: ask, then insist after ten seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
