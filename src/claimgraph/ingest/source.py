"""One claim input: a local file (plain or gzip-compressed) or standard input ('-').

A `Source` is what every reader receives. It opens like a `pathlib.Path` (`open(...)`,
`read_text(...)`, `str(source)` is the name as given, which errors and findings name), so a
reader written for paths reads gzip files and standard input unchanged:

- gzip is recognised by its magic bytes, whatever the name, and decompressed while reading;
- text is UTF-8 (a BOM is skipped) unless the input starts with a UTF-16 BOM or is UTF-16
  without one (every other byte zero), which the opened text stream then decodes;
- standard input is read once, as a stream: its first bytes are kept for format detection and
  replayed. A reader that opens its input twice (`InputFormat.seeks`) gets standard input
  spooled first: in memory up to `SPOOL_MEMORY`, beyond that into a private temporary folder
  (0700, removed when the source is closed).

`head()` gives the first `HEAD_SIZE` bytes (decompressed), decoded, for detection.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

HEAD_SIZE = 64 * 1024
SPOOL_MEMORY = 64 << 20
GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"


@dataclass(frozen=True)
class Head:
    """The first bytes of an input, for telling its format."""

    data: bytes  # up to HEAD_SIZE bytes, decompressed
    text: str  # decoded (BOM removed; undecodable bytes replaced)
    complete: bool  # the whole input is in `data`
    encoding: str  # what text streams decode with: utf-8-sig, utf-16-le, utf-16-be, utf-16
    compressed: bool
    hint: str  # the name's ending without .gz ('.json'), '' for standard input

    @property
    def start(self) -> str:
        """The text from its first character that is not white space."""
        return self.text.lstrip("\ufeff \t\r\n")


def _encoding(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:200]
    if len(sample) >= 8:
        odd, even = sample[1::2], sample[0::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return "utf-8-sig"


class _Replay(io.RawIOBase):
    """The bytes already read, then the rest of a stream."""

    def __init__(self, first: bytes, rest: IO[bytes] | None):
        self.first = first
        self.pos = 0
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.pos < len(self.first):
            n = min(len(view), len(self.first) - self.pos)
            view[:n] = self.first[self.pos : self.pos + n]
            self.pos += n
            return n
        if self.rest is None:
            return 0
        data = self.rest.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class Source:
    """A claim input (see the module docstring). `path` is None for standard input."""

    def __init__(self, name: str, path: Path | None, stream: IO[bytes] | None = None):
        self.name = name
        self.path = path
        self._stream = stream  # standard input, not yet consumed
        self._head: Head | None = None
        self._stdin_replay: IO[bytes] | None = None
        self._spool_bytes: bytes | None = None  # spooled standard input, in memory
        self._spool_path: Path | None = None  # ... or in a private temporary folder
        self._spool_dir: contextlib.ExitStack | None = None

    @classmethod
    def file(cls, path: Path, name: str | None = None) -> Source:
        return cls(name or str(path), path)

    @classmethod
    def stdin(cls) -> Source:
        return cls(STDIN, None, sys.stdin.buffer)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Source({self.name!r})"

    @property
    def is_stdin(self) -> bool:
        return self.path is None

    @property
    def hint(self) -> str:
        """The name's ending, lower case, without a .gz ('' for standard input)."""
        if self.path is None:
            return ""
        name = self.path.name.lower()
        if name.endswith(".gz"):
            name = name[:-3]
        return Path(name).suffix

    # -- reading ---------------------------------------------------------------------------

    def _raw_file(self) -> IO[bytes]:
        assert self.path is not None
        f = self.path.open("rb")
        magic = f.read(2)
        f.seek(0)
        if magic == GZIP_MAGIC:
            return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
        return f

    def head(self) -> Head:
        if self._head is not None:
            return self._head
        compressed = False
        try:
            if self.path is not None:
                with self._raw_file() as f:
                    compressed = isinstance(f, gzip.GzipFile)
                    data = _read_up_to(f, HEAD_SIZE + 1)
            else:
                assert self._stream is not None
                raw = _read_up_to(self._stream, HEAD_SIZE + 1)
                stream: IO[bytes] = io.BufferedReader(_Replay(raw, self._stream))
                if raw.startswith(GZIP_MAGIC):
                    compressed = True
                    stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
                data = _read_up_to(stream, HEAD_SIZE + 1)
                self._stdin_replay = io.BufferedReader(_Replay(data, stream))
                self._stream = None
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise self._read_error(e) from None
        complete = len(data) <= HEAD_SIZE
        data = data[:HEAD_SIZE]
        encoding = _encoding(data)
        text = data.decode(encoding, "replace")
        self._head = Head(data, text, complete, encoding, compressed, self.hint)
        return self._head

    def _read_error(self, e: BaseException) -> InputError:
        if isinstance(e, gzip.BadGzipFile | EOFError):
            return InputError("not a valid gzip file (truncated or corrupt)", path=self.name)
        reason = getattr(e, "strerror", None) or type(e).__name__
        return InputError(f"cannot read the file ({reason})", path=self.name)

    def open_binary(self) -> IO[bytes]:
        """The input's bytes (decompressed). Standard input: once, unless spooled."""
        self.head()
        if self.path is not None:
            try:
                return self._raw_file()
            except OSError as e:
                raise self._read_error(e) from None
        if self._spool_bytes is not None:
            return io.BytesIO(self._spool_bytes)
        if self._spool_path is not None:
            return self._spool_path.open("rb")
        if self._stdin_replay is None:
            raise InputError("standard input can be read only once", path=self.name)
        stream, self._stdin_replay = self._stdin_replay, None
        return stream

    def open(
        self, mode: str = "r", encoding: str | None = None, newline: str | None = None
    ) -> IO[Any]:
        """Like `Path.open` for reading ('r' or 'rb'); text in the input's own encoding."""
        binary = self.open_binary()
        if "b" in mode:
            return binary
        enc = self.head().encoding
        if enc == "utf-8-sig" and encoding not in (None, "utf-8", "utf-8-sig"):
            enc = encoding
        return io.TextIOWrapper(binary, encoding=enc, newline=newline)

    def read_text(self, encoding: str | None = None) -> str:
        with self.open("r", encoding=encoding) as f:
            return f.read()

    def spool(self) -> None:
        """Make standard input readable more than once (no-op for files)."""
        if self.path is not None or self._spool_bytes is not None or self._spool_path:
            return
        stream = self.open_binary()
        memory = io.BytesIO()
        out: IO[bytes] = memory
        try:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
                if out is memory and memory.tell() > SPOOL_MEMORY:
                    out = self._private_file()
                    out.write(memory.getbuffer())
                    memory = io.BytesIO()
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise self._read_error(e) from None
        if out is memory:
            self._spool_bytes = memory.getvalue()
        else:
            out.close()

    def _private_file(self) -> IO[bytes]:
        from ..privacy import private_tempdir

        self._spool_dir = contextlib.ExitStack()
        folder = self._spool_dir.enter_context(private_tempdir("claimgraph-stdin-"))
        self._spool_path = folder / "input"
        fd = os.open(self._spool_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return os.fdopen(fd, "wb")

    def close(self) -> None:
        """Drop spooled standard input (and its private folder)."""
        self._spool_bytes = None
        self._spool_path = None
        if self._spool_dir is not None:
            self._spool_dir.close()
            self._spool_dir = None


Input = Path | Source  # what readers accept: both open() and str() the same way
