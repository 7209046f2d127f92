"""Shared by the security tests (tests/test_security_*.py, tests/test_fuzz.py): a loopback HTTP
server that counts connections, the canary, and one-line error checks."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

from typer.testing import CliRunner

from claimgraph.cli import app

# a fake name and a fake SSN (078-05-1120 is the famous specimen number): never to be printed
CANARY_NAME = "Zebulon Canaryfield"
CANARY_SSN = "078-05-1120"
CANARIES = (CANARY_NAME, CANARY_SSN, "Canaryfield", "078051120")


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args))


def one_line_error(result: Any, *needles: str, code: int = 2) -> str:
    """exit `code`, nothing on stdout, exactly one `claimgraph: error:` line on stderr."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    err: str = result.stderr
    prefix = "claimgraph: internal error (" if code == 3 else "claimgraph: error:"
    assert err.count("\n") == 1 and err.startswith(prefix), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


class Server:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests.append(self.path)
                if self.command == "POST":  # a SPARQL query: an empty SELECT result
                    length = int(self.headers.get("Content-Length") or 0)
                    self.rfile.read(length)
                    body = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": []}})
                    media = "application/sparql-results+json"
                else:  # anything else: a JSON-LD context / Turtle document
                    body = '{"@context": {"@vocab": "http://127.0.0.1/leak#"}}'
                    media = "application/ld+json"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args: object) -> None:
                pass

        class Counting(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request: object, client_address: object) -> None:
                outer.connections += 1
                super().process_request(request, client_address)  # type: ignore[arg-type]

        self.httpd = Counting(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reachable(self) -> bool:
        """The server answers (checked outside claimgraph runs, so the guard is off)."""
        with urllib.request.urlopen(self.url + "/ping", timeout=5) as r:
            return r.status == 200


def serve() -> Iterator[Server]:
    """A started Server, shut down when the generator closes (a fixture body)."""
    s = Server()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
