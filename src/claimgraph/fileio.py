"""Writing outputs without losing anything: temp file in the same folder, fsync, os.replace."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import ClaimgraphError


@contextlib.contextmanager
def atomic_writer(
    target: str | Path, *, force: bool = False, private: bool = True, binary: bool = False
) -> Iterator[IO]:
    """Open `target` for writing; it appears whole on success, untouched on any failure.

    `-` writes to stdout. An existing file is replaced only with `force`; a symlink never.
    `private` makes the file mode 0600 (outputs that may hold claim data).
    """
    if str(target) == "-":
        stream = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    path = Path(target)
    if path.is_symlink():
        raise ClaimgraphError("refusing to write through a symbolic link", path=str(path))
    if path.exists() and not force:
        raise ClaimgraphError("file exists; pass --force to replace it", path=str(path))
    if not path.parent.is_dir():
        raise ClaimgraphError("the folder to write into does not exist", path=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".claimgraph-", suffix=".tmp", dir=path.parent)
    except OSError as e:  # read-only folder or file system: a usage error, not a crash
        reason = e.strerror or type(e).__name__
        raise ClaimgraphError(f"cannot write in this folder ({reason})", path=str(path)) from None
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except OSError as e:  # e.g. the target is a folder
            reason = e.strerror or type(e).__name__
            raise ClaimgraphError(f"cannot replace the file ({reason})", path=str(path)) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
