"""No network during a command: an audit hook that refuses connections while a CLI run is armed.

claimgraph works offline. The parsers and the query engine are kept from reaching out by
checks of their own (queries on their algebra, inputs as local files, inline JSON-LD contexts,
no owl:imports); this hook is the backstop behind them. While a command runs (`arm()` ...
`disarm()`, done by the CLI root callback), any socket connect, name lookup, `sendto` or URL
opening is refused with `NetworkRefused`, except to the host and port of a URL the user gave
to `--endpoint` / `publish`: `claimgraph.remote` registers it with `allow(url)`.

Audit hooks cannot be removed, so the hook is installed once and does nothing outside a run
(tests start servers and use sockets between runs). The state is process-wide (not a context
variable), so threads started during a run are covered too; forked children inherit it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

from .errors import ClaimgraphError

MESSAGE = (
    "network access refused: claimgraph reads local files only "
    "(only the URL given to --endpoint or publish may be contacted)"
)

# audit events that reach out (https://docs.python.org/3/library/audit_events.html)
_ADDRESS_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_LOOKUP_EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"})
_ALWAYS_REFUSED = frozenset({
    "ftplib.connect", "smtplib.connect", "poplib.connect", "imaplib.open", "nntplib.connect",
    "telnetlib.Telnet.open", "webbrowser.open", "socket.getnameinfo",
})  # fmt: skip
_EVENTS = (
    _ADDRESS_EVENTS
    | _LOOKUP_EVENTS
    | _ALWAYS_REFUSED
    | {
        "urllib.Request",
        "http.client.connect",
    }
)

_installed = False
_depth = 0  # > 0 while a CLI run is armed
_allowed: set[tuple[str, int]] = set()  # (host or address, port)
_local = threading.local()  # `bypass` set while allow() resolves a name itself
_refused = 0


class NetworkRefused(ClaimgraphError):
    """A connection attempted during a run to somewhere the user did not name."""


def install() -> None:
    """Install the audit hook (once per process; it cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def arm() -> None:
    """Start refusing network access (nested calls count)."""
    global _depth, _refused
    install()
    if _depth == 0:
        _allowed.clear()
        _refused = 0
    _depth += 1


def disarm() -> None:
    global _depth
    _depth = max(0, _depth - 1)
    if _depth == 0:
        _allowed.clear()


def armed() -> bool:
    return _depth > 0


def refused_count() -> int:
    """How many attempts were refused in this run (libraries may swallow the exception)."""
    return _refused


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """`with offline():` arms the guard for the block (for library callers and tests)."""
    arm()
    try:
        yield
    finally:
        disarm()


def guard_click_context(ctx: Any) -> None:
    """Arm for the command of this click/Typer context; disarm when the context closes."""
    arm()
    ctx.call_on_close(disarm)


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def allow(url: str) -> None:
    """Let the current run contact the host and port of `url` (an http(s) URL the user gave)."""
    if not armed():
        return
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host, port = parts.hostname, _port(parts.scheme, parts.port)
    except ValueError:
        return
    if parts.scheme not in ("http", "https") or not host:
        return
    _allowed.add((host.lower(), port))
    import socket

    _local.bypass = True
    try:
        for *_, address in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP):
            _allowed.add((str(address[0]).lower(), port))
    except OSError:
        pass  # the connection itself will fail with a clear message
    finally:
        _local.bypass = False


def _is_allowed(host: Any, port: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        number = int(port)
    except (TypeError, ValueError):
        return False
    return (host.strip("[]").lower(), number) in _allowed


def _address_allowed(address: Any) -> bool:
    if isinstance(address, tuple) and len(address) >= 2:
        return _is_allowed(address[0], address[1])
    return False  # AF_UNIX paths and anything else: not needed by claimgraph, refused


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _depth == 0 or event not in _EVENTS or getattr(_local, "bypass", False):
        return
    if event == "urllib.Request":
        parts = urllib.parse.urlsplit(str(args[0]))
        try:
            ok = parts.scheme in ("http", "https") and _is_allowed(
                parts.hostname or "", _port(parts.scheme, parts.port)
            )
        except ValueError:
            ok = False
    elif event == "http.client.connect":
        ok = _is_allowed(args[1], args[2])
    elif event == "socket.getaddrinfo":
        ok = _is_allowed(args[0], args[1] if args[1] is not None else 0) or (
            args[1] is None and any(h == args[0] for h, _ in _allowed)
        )
    elif event in ("socket.gethostbyname", "socket.gethostbyaddr"):
        ok = any(h == args[0] for h, _ in _allowed)
    elif event == "socket.sendmsg":
        ok = args[1] is None or _address_allowed(args[1])
    elif event in _ADDRESS_EVENTS:
        ok = _address_allowed(args[1])
    else:
        ok = False
    if not ok:
        global _refused
        _refused += 1
        raise NetworkRefused(MESSAGE)
