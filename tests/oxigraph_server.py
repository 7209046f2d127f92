"""A live Oxigraph SPARQL server for tests: `oxigraph serve` on a free loopback port.

The binary comes with the `oxigraph` PyPI package (a test dependency): it is looked for next to
the Python running the tests, then on PATH. The fixture is module-scoped (one short-lived server
per test module that asks for it), waits a bounded time for the server to answer, yields its base
URL (`http://127.0.0.1:PORT`: query at /query, Graph Store at /store) and stops it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 20.0  # seconds for the server to answer
STOP_TIMEOUT = 5.0


def oxigraph_binary() -> str | None:
    name = "oxigraph.exe" if sys.platform == "win32" else "oxigraph"
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which("oxigraph")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/query?query=ASK%7B%7D", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_oxigraph(location: Path) -> Iterator[str]:
    """Start `oxigraph serve`, yield its base URL, stop it (skip when there is no binary)."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = location / "oxigraph.log"
    data = location / "data"
    data.mkdir()
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [binary, "serve", "--location", str(data), "--bind", f"127.0.0.1:{port}"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(url):
                if proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-500:]
                    pytest.fail(f"oxigraph serve exited with {proc.returncode}: {tail}")
                if time.monotonic() > deadline:
                    pytest.fail(f"oxigraph serve did not answer within {START_TIMEOUT} s")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh, empty Oxigraph server that lives as long as the test module."""
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph")) as url:
        yield url
