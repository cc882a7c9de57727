"""Tests of visualization.assets: filling Solara's CDN proxy cache from npm (offline but the last test)."""

import importlib.metadata
import importlib.util
import io
import os
import tarfile
from pathlib import Path

import pytest

from visualization import assets
from visualization.assets import FRONTEND_PACKAGES, REQUIRED_FILES, ensure_frontend_assets, missing_packages


def _tgz(path: Path, files: dict[str, bytes], extra: tuple[tarfile.TarInfo, ...] = ()) -> Path:
    """Write a gzipped tarball with ``files`` (name -> content) plus raw ``extra`` members."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return path


def _fake_npm_pack(calls: list[str]):
    """Stand-in for assets._npm_pack: an npm-style tarball (``package/...``) with the required files."""

    def npm_pack(spec: str, workdir: Path) -> Path:
        calls.append(spec)
        files = {"package/package.json": b"{}"}
        files |= {"package/" + f.removeprefix(spec + "/"): b"x" for f in REQUIRED_FILES if f.startswith(spec)}
        return _tgz(workdir / "pkg.tgz", files)

    return npm_pack


def test_pinned_versions_match_installed_solara():
    assert importlib.metadata.version("solara") == assets.SOLARA_VERSION
    assert int(importlib.metadata.version("ipyvue").split(".")[0]) < 2  # else solara wants the vuetify3 app
    solara_dir = Path(importlib.util.find_spec("solara").submodule_search_locations[0])
    sources = "".join(
        (solara_dir / f).read_text()
        for f in ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue", "server/settings.py")
    )
    for spec in FRONTEND_PACKAGES:
        assert spec in sources, f"solara {assets.SOLARA_VERSION} no longer requests {spec}"


def test_every_required_file_belongs_to_a_package():
    for f in REQUIRED_FILES:
        assert any(f.startswith(spec + "/") for spec in FRONTEND_PACKAGES), f
    for spec in FRONTEND_PACKAGES:
        assert any(f.startswith(spec + "/") for f in REQUIRED_FILES), spec


def test_missing_packages(tmp_path):
    assert missing_packages(tmp_path) == list(FRONTEND_PACKAGES)
    for f in REQUIRED_FILES:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("x")
    assert missing_packages(tmp_path) == []
    (tmp_path / "requirejs@2.3.6/require.js").unlink()  # dir present but incomplete
    assert missing_packages(tmp_path) == ["requirejs@2.3.6"]


def test_ensure_fills_cache_once_and_strips_package_dir(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(assets, "_npm_pack", _fake_npm_pack(calls))
    assert ensure_frontend_assets(tmp_path) == tmp_path
    assert calls == list(FRONTEND_PACKAGES)
    assert missing_packages(tmp_path) == []
    assert (tmp_path / "requirejs@2.3.6/package.json").is_file()
    assert not (tmp_path / "requirejs@2.3.6/package").exists()
    assert "fetched requirejs@2.3.6 from npm" in capsys.readouterr().err
    ensure_frontend_assets(tmp_path, quiet=True)  # everything there: no npm call
    assert len(calls) == len(FRONTEND_PACKAGES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"@widgetti", "requirejs@2.3.6", "font-awesome@4.5.0"}
    )  # no temp dirs left behind


def test_incomplete_package_dir_is_replaced(tmp_path, monkeypatch):
    stale = tmp_path / "requirejs@2.3.6/stale.js"  # e.g. a file solara's own proxy cached
    stale.parent.mkdir()
    stale.write_text("old")
    monkeypatch.setattr(assets, "_npm_pack", _fake_npm_pack([]))
    ensure_frontend_assets(tmp_path, quiet=True)
    assert (tmp_path / "requirejs@2.3.6/require.js").is_file()
    assert not stale.exists()


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


@pytest.mark.parametrize(
    "evil",
    [
        _member("package/../../evil.txt"),
        _member("/tmp/evil.txt"),
        _member("package/link", tarfile.SYMTYPE, "/etc/passwd"),
        _member("package/hard", tarfile.LNKTYPE, "../../etc/passwd"),
    ],
    ids=["dotdot", "absolute", "symlink", "hardlink"],
)
def test_unsafe_tarball_is_rejected(tmp_path, evil):
    tarball = _tgz(tmp_path / "evil.tgz", {"package/ok.js": b"x"}, (evil,))
    dest = tmp_path / "a/b/dest"
    with pytest.raises(RuntimeError, match="unsafe entry"):
        assets._extract_package(tarball, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not dest.exists()


@pytest.mark.parametrize("failure", ["truncated download", "interrupted extraction"])
def test_failed_install_leaves_no_partial_package(tmp_path, monkeypatch, failure):
    cache = tmp_path / "cache"
    if failure == "truncated download":
        good = _fake_npm_pack([])("requirejs@2.3.6", tmp_path)
        data = good.read_bytes()
        good.write_bytes(data[: len(data) // 2])
        monkeypatch.setattr(assets, "_npm_pack", lambda spec, workdir: good)
        expected = (tarfile.TarError, EOFError)
    else:
        real_extract = assets._extract_package

        def extract_then_die(tarball, dest):
            real_extract(tarball, dest)  # files are on disk, then the process is "interrupted"
            raise KeyboardInterrupt

        monkeypatch.setattr(assets, "_npm_pack", _fake_npm_pack([]))
        monkeypatch.setattr(assets, "_extract_package", extract_then_die)
        expected = KeyboardInterrupt
    with pytest.raises(expected):
        ensure_frontend_assets(cache, quiet=True)
    assert list(cache.rglob("*")) in ([], [cache / "@widgetti"])  # neither a package dir nor a temp dir


def test_npm_failure_names_package_and_stderr(tmp_path, monkeypatch):
    fake = tmp_path / "npm"
    fake.write_text(
        "#!/bin/sh\necho 'npm error 404 Not Found - GET https://registry.npmjs.org/x' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        RuntimeError, match=r"(?s)npm pack @widgetti/solara-vuetify-app@10\.1\.1.*404 Not Found"
    ):
        ensure_frontend_assets(tmp_path / "cache", quiet=True)


def test_missing_npm_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    with pytest.raises(RuntimeError, match="npm is not installed"):
        ensure_frontend_assets(tmp_path / "cache", quiet=True)


def test_real_cache_has_every_required_file():
    """Solara's configured cache, filled from npm if needed (network on the first run only)."""
    cache = ensure_frontend_assets()
    assert cache == assets.cache_dir()
    for f in REQUIRED_FILES:
        assert os.path.getsize(cache / f) > 0, f
