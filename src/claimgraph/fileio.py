"""Writing outputs without losing anything: temp file in the same folder, fsync, os.replace."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import ClaimgraphError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output(
    target: str | Path, *, force: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Refuse an output that would lose data: an input file (or one inside an input folder of
    the same name), a symbolic link, anything but a regular file, an existing file without
    `force`. `-` (stdout) is always fine."""
    if str(target) == "-":
        return
    path = Path(target)
    for given in inputs:
        if str(given) != "-" and _same_file(path, Path(given)):
            raise ClaimgraphError(
                "the output is one of the input files; write the output elsewhere", path=str(path)
            )
    if path.is_symlink():
        raise ClaimgraphError("refusing to write through a symbolic link", path=str(path))
    if path.exists():
        if not path.is_file():  # a folder, FIFO, socket or device is never replaced
            raise ClaimgraphError(
                "not a regular file; claimgraph replaces only regular files", path=str(path)
            )
        if not force:
            raise ClaimgraphError("file exists; pass --force to replace it", path=str(path))
    if not path.parent.is_dir():
        raise ClaimgraphError("the folder to write into does not exist", path=str(path))


@contextlib.contextmanager
def atomic_writer(
    target: str | Path,
    *,
    force: bool = False,
    private: bool = True,
    binary: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    spool: bool = False,
) -> Iterator[IO]:
    """Open `target` for writing; it appears whole on success, untouched on any failure.

    `-` writes to stdout; with `spool`, into a nameless temp file (in a private folder) that
    is copied to stdout on success only, so a failure half-way leaves stdout empty (a pipe
    never gets a partial data set). An existing regular file is replaced only with `force`; a
    symlink, a device, a FIFO or a folder never, nor one of the `inputs`. `private` makes the
    file mode 0600 (outputs that may hold claim data).
    """
    if str(target) == "-":
        stream = sys.stdout.buffer if binary else sys.stdout
        if spool:
            with _spooled(stream, binary) as f:
                yield f
            return
        yield stream
        stream.flush()
        return
    path = Path(target)
    check_output(path, force=force, inputs=inputs)
    if not path.parent.is_dir():
        raise ClaimgraphError("the folder to write into does not exist", path=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".claimgraph-", suffix=".tmp", dir=path.parent)
    except OSError as e:  # read-only folder or file system: a usage error, not a crash
        reason = e.strerror or type(e).__name__
        raise ClaimgraphError(f"cannot write in this folder ({reason})", path=str(path)) from None
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        try:
            with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ClaimgraphError("no space left writing the file", path=str(path)) from None
            raise
        if path.exists() and not path.is_file():  # became a device or FIFO meanwhile
            raise ClaimgraphError(
                "not a regular file; claimgraph replaces only regular files", path=str(path)
            )
        try:
            os.replace(tmp, path)
        except OSError as e:  # e.g. the target is a folder
            reason = e.strerror or type(e).__name__
            raise ClaimgraphError(f"cannot replace the file ({reason})", path=str(path)) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _spooled(stream: IO, binary: bool) -> Iterator[IO]:
    import shutil

    from .privacy import private_tempdir

    with private_tempdir() as folder:
        mode = "w+b" if binary else "w+"
        encoding = None if binary else "utf-8"
        try:
            spool = tempfile.TemporaryFile(mode, encoding=encoding, dir=folder)  # noqa: SIM115
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise ClaimgraphError(f"cannot make a temporary file ({reason})") from None
        with spool:
            try:
                yield spool
                spool.flush()
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise ClaimgraphError(
                        "no space left for the temporary copy of the output"
                    ) from None
                raise
            spool.seek(0)
            shutil.copyfileobj(spool, stream)
            stream.flush()


def read_text_file(path: str | Path, *, max_bytes: int, what: str) -> str:
    """The text of a small input file (a report, a waivers or profile file), checked first:
    a regular file (no FIFO or device), at most `max_bytes`, UTF-8. `what` names it in errors."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        reason = (
            "no such file" if isinstance(e, FileNotFoundError) else (e.strerror or "unreadable")
        )
        raise ClaimgraphError(f"cannot read the {what} ({reason})", path=str(p)) from None
    import stat

    if not stat.S_ISREG(st.st_mode):
        raise ClaimgraphError(f"the {what} is not a regular file", path=str(p))
    if st.st_size > max_bytes:
        raise ClaimgraphError(f"the {what} is larger than {max_bytes} bytes", path=str(p))
    try:
        with p.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise ClaimgraphError(f"cannot read the {what} ({e.strerror})", path=str(p)) from None
    if len(data) > max_bytes:
        raise ClaimgraphError(f"the {what} is larger than {max_bytes} bytes", path=str(p))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ClaimgraphError(
            f"the {what} is not UTF-8 text", path=str(p), position=f"byte {e.start + 1}"
        ) from None
