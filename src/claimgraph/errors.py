"""The one error type the CLI turns into a one-line message, and the exit codes.

Messages name the file and position and say what to do. They never quote input content:
claims carry patient data.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class ClaimgraphError(Exception):
    """Bad input or usage: printed as one line on stderr, exit code 2 (or `exit_code`)."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str | None = None, position: str | None = None):
        self.message = message
        self.path = path
        self.position = position
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.position}" if self.position else "") + ": "
        return where + self.message


class InputError(ClaimgraphError):
    """A file that cannot be read as what it claims to be."""


class QueryError(ClaimgraphError):
    """A query that is refused (not read-only, remote access) or does not parse."""


class InternalError(ClaimgraphError):
    """A failure of claimgraph itself, not of the input (exit 3)."""

    exit_code = EXIT_INTERNAL
