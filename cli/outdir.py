"""The output folder of ``run.py simulate``: checked before the run, written beside it, swapped in at once.

A folder is replaced only when it is new, empty, or an earlier ``simulate`` output (its ``summary.json``
carries the ``creditloop`` marker and it holds only files simulate writes), or when the user passes
``--overwrite``. A file is never replaced. The outputs are written to a temporary folder beside the target
whose name carries this process's id: it is removed on every exit path, and one left by a killed process is
removed by the next run once that process is gone. The final path only ever holds a complete output.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from params.loader import ParameterError

FORMAT = 1
MARKER_KEY = "creditloop"
TABLES = ("model", "agents", "events", "losses")
OUTPUT_FILES = frozenset({"summary.json", *(f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv"))})
ALLOWED = (
    "a new folder, an empty folder or an earlier simulate output (--overwrite replaces any other folder)"
)

_TEMP_TAG = ".creditloop-tmp-"
# tempfile.mkdtemp appends 8 characters of [a-z0-9_] to the prefix ".<name>.creditloop-tmp-<pid>-"
_TEMP_NAME = re.compile(r"^\..*\.creditloop-tmp-(\d+)-[a-z0-9_]{8}$")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def marker() -> dict[str, Any]:
    """What summary.json carries so that a later run recognises the folder as its own."""
    return {"format": FORMAT, "command": "simulate"}


def _refuse(out: Path, problem: str, allowed: str = ALLOWED) -> ParameterError:
    return ParameterError(f"--out {out}: {problem}; allowed: {allowed}")


def _listing(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _has_marker(summary: Path) -> bool:
    try:
        doc = json.loads(summary.read_text())
    except (OSError, ValueError):
        return False
    mark = doc.get(MARKER_KEY) if isinstance(doc, dict) else None
    return (
        isinstance(mark, dict) and mark.get("command") == "simulate" and isinstance(mark.get("format"), int)
    )


def foreign_contents(folder: Path) -> str | None:
    """None when ``folder`` is empty or an earlier simulate output; otherwise why it is somebody else's."""
    entries = sorted(folder.iterdir())
    if not entries:
        return None
    strangers = [p.name for p in entries if p.name not in OUTPUT_FILES or p.is_symlink() or not p.is_file()]
    if strangers:
        return f"it holds {_listing(strangers)}, which simulate does not write"
    if not _has_marker(folder / "summary.json"):
        return f"it has no summary.json with simulate's {MARKER_KEY!r} marker"
    return None


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _temp_prefix(target: Path) -> str:
    return f".{target.name}{_TEMP_TAG}{os.getpid()}-"


def _make_temp(target: Path, where: Path | None = None) -> Path:
    return Path(tempfile.mkdtemp(prefix=_temp_prefix(target), dir=where or target.parent))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_writable(out: Path, target: Path, where: Path) -> None:
    """Try what the run will do at the end (create a folder there), rather than guess from permission bits:
    root, ACLs, read-only and immutable folders all answer honestly this way."""
    try:
        _make_temp(target, where).rmdir()
    except OSError as err:
        raise _refuse(
            out, f"cannot write in {where} ({err.strerror})", "a folder in a place you can write"
        ) from None


def check_out(out: Path, *, overwrite: bool = False) -> Path:
    """Refuse an ``--out`` that must not be written (exit status 2 through ParameterError); the target folder."""
    target = Path(out).expanduser().resolve()
    existing = _nearest_existing(target.parent)
    if not existing.is_dir():
        raise _refuse(
            out,
            f"{existing} is a file, so no folder can be made under it",
            "a path whose parents are folders",
        )
    if target.exists():
        if not target.is_dir():
            raise _refuse(out, "it is a file (simulate writes a folder)")
        if Path.cwd().resolve().is_relative_to(target):
            raise _refuse(
                out, "it is the current folder or one of its parents", "a folder outside the current one"
            )
        reason = foreign_contents(target)
        if reason and not overwrite:
            raise _refuse(out, f"the folder is not empty and is not an earlier simulate output ({reason})")
    _check_writable(out, target, existing)
    return target


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary folders that killed simulate runs left in ``folder`` (their process is gone)."""
    removed = []
    for p in folder.glob(f".*{_TEMP_TAG}*"):
        m = _TEMP_NAME.match(p.name)
        if m and p.is_dir() and not p.is_symlink() and not _alive(int(m[1])):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # old kernel or a filesystem without it
        return False
    raise OSError(code, os.strerror(code), str(b))


def _move_into_place(tmp: Path, target: Path) -> None:
    """Put the finished folder ``tmp`` at ``target``. Afterwards ``tmp`` holds what was replaced, if anything."""
    if not target.exists():
        os.rename(tmp, target)
    elif not _exchange(tmp, target):
        # No atomic swap here: move the old folder aside under a temporary name (which the stale-folder
        # cleanup recognises if we are killed in between), then the new one in.
        aside = _make_temp(target)
        os.replace(target, aside)
        os.replace(tmp, target)
        os.replace(aside, tmp)


@contextmanager
def output_folder(out: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """A temporary folder to write the outputs into; when the block succeeds, it replaces ``out`` in one step.
    On any exit (exception, or :class:`cli.signals.Interrupted`) nothing is left behind."""
    target = check_out(out, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent)
    tmp = _make_temp(target)
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would become the output folder's permissions
    try:
        yield tmp
        check_out(out, overwrite=overwrite)  # the folder may have changed while the outputs were written
        _move_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the partial outputs, or the folder that was replaced
