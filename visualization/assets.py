"""Offline front-end assets for the Solara UI.

Solara serves its JavaScript, CSS and fonts through its ``/_solara/cdn/`` proxy, which downloads them
from a public CDN (jsdelivr) on first request and keeps them in a cache directory. Where that CDN is
unreachable (CI, sandboxes, air-gapped machines) the proxy answers 404 and the page stays blank. The npm
registry serves the same files, so ``ensure_frontend_assets()`` fills the cache from it with ``npm pack``
and the server never needs the CDN.
"""

import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

# What solara==1.64.1 (pinned in pyproject.toml) requests through its proxy with ipyvue/ipyvuetify < 2.
# After bumping solara, run the server with an empty cache and `grep "Could not load URL"` its log.
SOLARA_VERSION = "1.64.1"
FRONTEND_PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
)

# Files (relative to the cache dir) that a SolaraViz page requests through the proxy (--production,
# ipywidgets 8), recorded from the browser's requests to /_solara/cdn/ with a filled cache. With an empty
# cache the server log's "Could not load URL" lines name only the first five, as the page stops there.
# The woff2 files are the Roboto and Material Design Icons fonts that fonts.css and main8.css point to.
REQUIRED_FILES = (
    "@widgetti/solara-vuetify-app@10.1.1/dist/main8.css",
    "@widgetti/solara-vuetify-app@10.1.1/dist/fonts.css",
    "@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js",
    "requirejs@2.3.6/require.js",
    "font-awesome@4.5.0/css/font-awesome.min.css",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/vue-grid-layout.umd.js",
    "@widgetti/solara-vuetify-app@10.1.1/dist/06db94b5fad70e44175d.woff2",
    "@widgetti/solara-vuetify-app@10.1.1/dist/1ab7bbddcdbde1b6f274.woff2",
    "@widgetti/solara-vuetify-app@10.1.1/dist/2d241905f5d9b81989af.woff2",
    "@widgetti/solara-vuetify-app@10.1.1/dist/cb41c1e71debe927815c.woff2",
    "@widgetti/solara-vuetify-app@10.1.1/dist/d9f39587ab2751b33bcf.woff2",
    "@widgetti/solara-vuetify-app@10.1.1/dist/f9ca3454c3a66edb5a81.woff2",
)

NPM_TIMEOUT_S = 300


def cache_dir() -> Path:
    """Solara's proxy cache dir (``SOLARA_ASSETS_PROXY_CACHE_DIR``, default ``<venv>/share/solara/cdn``)."""
    from solara.server import settings  # slow import (~1.5 s), only when needed

    return Path(settings.assets.proxy_cache_dir)


def _is_complete(spec: str, package_dir: Path) -> bool:
    """``package_dir`` holds every REQUIRED_FILE of package ``spec``."""
    required = [f.removeprefix(spec + "/") for f in REQUIRED_FILES if f.startswith(spec + "/")]
    return package_dir.is_dir() and all((package_dir / f).is_file() for f in required)


def missing_packages(cache: Path) -> list[str]:
    """Packages of FRONTEND_PACKAGES whose directory or required files are absent from ``cache``."""
    return [spec for spec in FRONTEND_PACKAGES if not _is_complete(spec, Path(cache) / spec)]


def _npm_pack(spec: str, workdir: Path) -> Path:
    """Download ``spec``'s tarball from the npm registry into ``workdir``; return its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"cannot fetch {spec}: npm is not installed (e.g. `apt-get install -y npm`)")
    try:
        proc = subprocess.run(
            [npm, "pack", "--silent", spec],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"`npm pack {spec}` timed out after {NPM_TIMEOUT_S}s") from e
    tarballs = list(workdir.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {spec}` failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    return tarballs[0]


def _extract_package(tarball: Path, dest: Path) -> None:
    """Extract ``tarball`` into ``dest`` minus its leading ``package/`` dir; refuse unsafe members."""
    with tarfile.open(tarball) as tar:
        members = []
        for m in tar.getmembers():
            parts = PurePosixPath(m.name).parts
            if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                raise RuntimeError(f"unsafe entry {m.name!r} in {tarball.name}")
            if len(parts) > 1:  # drop the top-level "package" dir itself
                members.append(m.replace(name="/".join(parts[1:]), deep=False))
        tar.extractall(dest, members=members, filter="data")  # the data filter re-checks every path


def _install(spec: str, tarball: Path, dest: Path) -> None:
    """Extract next to ``dest`` and rename into place, so ``dest`` is either absent or complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        _extract_package(tarball, tmp)
        if not _is_complete(spec, tmp):
            raise RuntimeError(f"{spec} from npm lacks some REQUIRED_FILES; did solara's asset list change?")
        if dest.exists():  # incomplete, e.g. partly filled by solara's own proxy: swap it out
            old = tmp.with_suffix(".old")
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                tmp.rename(dest)
            except OSError:  # another process installed it meanwhile
                if not _is_complete(spec, dest):
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_frontend_assets(cache: Path | None = None, *, quiet: bool = False) -> Path:
    """Fill Solara's proxy cache (default: ``cache_dir()``) with FRONTEND_PACKAGES from npm; return the cache.

    A no-op when everything is present. Raises RuntimeError naming the package if npm is missing or fails.
    """
    cache = Path(cache) if cache is not None else cache_dir()
    for spec in missing_packages(cache):
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="npm-pack-") as work:
            _install(spec, _npm_pack(spec, Path(work)), cache / spec)
        if not quiet:
            print(f"fetched {spec} from npm in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return cache
