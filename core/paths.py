"""Output paths given on the command line, checked before any work is done.

A long command must not run for an hour and then fail to write its answer: each ``--out``
or ``--html`` path is proved writable first, and a path that is not becomes one line
saying which option to fix (:class:`~core.errors.ConfigError`, exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import ConfigError


def _fail(option: str, path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{option} {path}: {why}", hint=f"give {option} a path in a folder you can write to"
    )


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def writable_dir(path: Path, option: str) -> Path:
    """``path`` as a folder that exists (created if missing) and takes new files."""
    if path.exists() and not path.is_dir():
        raise _fail(option, path, "is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(option, path, f"cannot create the folder ({_reason(exc)})") from None
    probe = path / f".h2i-write-probe-{os.getpid()}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise _fail(option, path, f"cannot write in this folder ({_reason(exc)})") from None
    return path


def writable_file(path: Path, option: str) -> Path:
    """``path`` as a file we can (re)write: its folder is created if missing."""
    if path.is_dir():
        raise _fail(option, path, "is a folder: give a file name")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise _fail(option, path, f"cannot write this file ({_reason(exc)})") from None
    if not existed:
        path.unlink()  # the probe made it; the command writes it for real
    return path
