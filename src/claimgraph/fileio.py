"""Writing outputs without losing anything: temp file in the same folder, fsync, os.replace.
Reading inputs that are what they say: `read_input` / `open_input` take regular files only
(a FIFO or a device would block or never end) of a bounded size."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import ClaimgraphError, InputError


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


# Largest inputs read whole (generous: a real one is a small fraction of this)
MAX_RULES_BYTES = 64 * 1024 * 1024  # --shapes rules files (the bundled shapes: ~1 MB)
MAX_QUERY_BYTES = 16 * 1024 * 1024  # .rq files
MAX_MAPPING_BYTES = 1024 * 1024  # --profile mapping files (TOML)


def _cannot(what: str, path: Path, e: OSError) -> ClaimgraphError:
    reason = "no such file" if isinstance(e, FileNotFoundError) else (e.strerror or "unreadable")
    return InputError(f"cannot read the {what} ({reason})", path=str(path))


def open_input(path: str | Path, *, what: str, max_bytes: int | None = None) -> IO[bytes]:
    """`path` opened for reading, refused unless it is a regular file (a folder, FIFO, socket
    or device never: a FIFO would block, /dev/zero never end) of at most `max_bytes`.

    Opened without blocking and checked on the open file, so nothing swapped in after a check
    is read. Errors are one-line `InputError`s naming the file and `what` it is."""
    import stat

    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise _cannot(what, p, e) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"the {what} is not a regular file", path=str(p))
        if max_bytes is not None and st.st_size > max_bytes:
            raise InputError(f"the {what} is larger than {max_bytes} bytes", path=str(p))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_input(path: str | Path, *, what: str, max_bytes: int | None = None) -> None:
    """Refuse `path` unless it is a regular file of at most `max_bytes` (`open_input`), for a
    reader that opens the file itself."""
    open_input(path, what=what, max_bytes=max_bytes).close()


def read_input(path: str | Path, *, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (`open_input`)."""
    p = Path(path)
    with open_input(p, what=what, max_bytes=max_bytes) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise _cannot(what, p, e) from None
    if len(data) > max_bytes:  # grew since it was opened
        raise InputError(f"the {what} is larger than {max_bytes} bytes", path=str(p))
    return data


def read_text_file(path: str | Path, *, max_bytes: int, what: str) -> str:
    """The text of a small input file (a report, a waivers or profile file), checked first:
    a regular file (no FIFO or device), at most `max_bytes`, UTF-8. `what` names it in errors."""
    data = read_input(path, what=what, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"the {what} is not UTF-8 text", path=str(path), position=f"byte {e.start + 1}"
        ) from None
