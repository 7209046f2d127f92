"""Patient data stays private: quiet libraries and private temporary folders.

- rdflib logs literal values it cannot convert, pyshacl adds a stderr handler to its logger on
  every `validate()` call and prints the shapes it finds odd, owlready2 prints what it parses:
  `quiet_libraries()` disables those loggers (a disabled logger drops every record, whatever
  handlers are added to it later; its children inherit a level above CRITICAL) and ignores
  the warnings those libraries raise.
- `private_tempdir()` is the one way claimgraph makes temporary files: a folder only the user
  can read (0700, files 0600 by umask), removed in `finally` whatever happens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

# loggers whose records may quote claim content (literal values, file text, shapes)
LIBRARY_LOGGERS = (
    "rdflib",
    "pyshacl",
    "pyshacl-validate",
    "pyshacl-rules",
    "owlready2",
    "pyoxigraph",
    "pyparsing",
    "py.warnings",
)
_WARNING_MODULES = r"(rdflib|pyshacl|owlready2|pyparsing|pyoxigraph)(\..*)?$"


def quiet_libraries() -> None:
    """Disable the loggers and warnings of the RDF libraries (idempotent, cheap)."""
    for name in LIBRARY_LOGGERS:
        log = logging.getLogger(name)
        log.disabled = True  # the logger itself: pyshacl resets its level, never this flag
        log.setLevel(logging.CRITICAL + 1)  # its children ("rdflib.term") inherit the level
        log.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())  # else logging's last resort prints
    warnings.filterwarnings("ignore", module=_WARNING_MODULES)


@contextlib.contextmanager
def private_tempdir(prefix: str = "claimgraph-") -> Iterator[Path]:
    """A fresh folder readable only by the user, removed (with its content) on exit."""
    old = os.umask(0o077)
    try:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    finally:
        os.umask(old)
    try:
        os.chmod(path, 0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
