"""The user cache: files derived from the bundled data (knowledge graph, compiled engine),
so a run does not rebuild them.

One folder (`$CLAIMGRAPH_CACHE_DIR`, else the platform's user cache folder), mode 0700; files
are written atomically (temp file, fsync, rename) with mode 0600 and read only when they are
ours: a regular file, not a symlink, owned by this user, not writable by others.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

ENV_DIR = "CLAIMGRAPH_CACHE_DIR"
ENV_OFF = "CLAIMGRAPH_NO_CACHE"  # turns off the optional caches (graph, engine)


def cache_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("claimgraph", appauthor=False))


def enabled() -> bool:
    """False when the user turned the optional caches off."""
    return not os.environ.get(ENV_OFF)


def is_ours(path: Path) -> bool:
    """True for a regular file and folder of this user, neither writable by others."""
    try:
        st, folder = path.lstat(), path.parent.lstat()
    except OSError:
        return False
    for s in (st, folder):
        if s.st_uid != os.getuid() or s.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return stat.S_ISREG(st.st_mode)


def read(path: Path) -> bytes | None:
    """The cached bytes, or None when absent or not safely ours."""
    if not is_ours(path):
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def write(path: Path, fill: Callable[[IO[bytes]], object], *, replaces: str | None = None) -> None:
    """Write `path` atomically and privately with `fill(file)`; then delete the older files
    matching the glob `replaces` (earlier versions of the same thing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.is_symlink():
        raise OSError(f"cache folder {path.parent} is a symbolic link")
    fd, tmp = tempfile.mkstemp(prefix=".cache-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if replaces:
        for old in path.parent.glob(replaces):
            if old != path:
                with contextlib.suppress(OSError):
                    old.unlink()
