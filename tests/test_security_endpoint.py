"""The endpoint client against hostile loopback servers (SECURITY.md, "Offline" and "Bounded").

Each server is a plain `http.server` thread on 127.0.0.1 that answers what a test scripts: a
slow drip (one byte at a time, every byte in time for a per-read timeout), a redirect to a
second server, a JSON-LD `@context` naming a local file or another server, malformed answers
of every kind, an error body holding a canary. `query --endpoint` and `validate --endpoint`
must end within `--timeout` (plus the child-process grace), exit 2 with one line, read no
local file, contact no other host and never show what the server said.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimgraph import remote
from claimgraph.errors import ClaimgraphError
from security_support import CANARY_NAME, one_line_error, run

GRAPH = "https://example.org/claims/g"
EMPTY = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": []}}).encode()
RESULTS = "application/sparql-results+json"
# (status, headers, body chunks, seconds between chunks)
Answer = tuple[int, dict[str, str], list[bytes], float]
Script = Callable[[str, str, bytes], Answer]


class Scripted:
    """A loopback HTTP server whose answers come from `script(method, path, body)`."""

    def __init__(self, script: Script):
        self.script = script
        self.connections = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, chunks, pause = outer.script(self.command, self.path, body)
                try:
                    if status == 0:  # a raw, broken answer: the chunks are the whole stream
                        for c in chunks:
                            self.wfile.write(c)
                            self.wfile.flush()
                            time.sleep(pause)
                        return
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in headers:
                        self.send_header("Content-Length", str(sum(map(len, chunks))))
                    self.end_headers()
                    for c in chunks:
                        self.wfile.write(c)
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:  # the client hung up (a deadline passed): fine
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        class Counting(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request: Any, client_address: Any) -> None:
                outer.connections += 1
                super().process_request(request, client_address)

        self.httpd = Counting(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def serve() -> Iterator[Callable[[Script], Scripted]]:
    started: list[Scripted] = []

    def start(script: Script) -> Scripted:
        s = Scripted(script)
        s.thread.start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.httpd.shutdown()
        s.httpd.server_close()


def ok(body: bytes, media: str = RESULTS) -> Answer:
    return 200, {"Content-Type": media}, [body], 0.0


def endpoint_server(answer: Answer) -> Script:
    """A server that plays along with `validate --endpoint` (LATERAL probe, facts, Graph Store
    PUT and DELETE) and gives `answer` to the checks."""

    def script(method: str, path: str, body: bytes) -> Answer:
        if method in ("PUT", "DELETE"):
            return 204, {}, [], 0.0
        text = body.decode("utf-8", "replace")
        if "LATERAL+%7B+BIND" in text:  # the probe (form-encoded)
            row = {"b": {"type": "literal", "value": "1"}}
            return ok(
                json.dumps({"head": {"vars": ["b"]}, "results": {"bindings": [row]}}).encode()
            )
        if "SELECT+DISTINCT+%3Fp+%3Fo" in text:  # the codes of the claims
            return ok(EMPTY)
        return answer

    return script


def timed(runner: CliRunner, *args: str) -> tuple[Any, float]:
    start = time.monotonic()
    result = run(runner, *args)
    return result, time.monotonic() - start


# --------------------------------------------------------------------------- deadlines


def drip(header_too: bool) -> Script:
    """One byte every 0.2 s, forever: each read succeeds in time, the whole never ends."""

    def script(method: str, path: str, body: bytes) -> Answer:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
        if header_too:
            return 0, {}, [bytes([b]) for b in head] * 1000, 0.2
        return 0, {}, [head + b"Content-Length: 100000\r\n\r\n"] + [b" "] * 100000, 0.2

    return script


@pytest.mark.parametrize("header_too", [False, True], ids=["body", "headers"])
def test_slow_drip_ends_at_the_query_timeout(
    serve: Callable[[Script], Scripted], runner: CliRunner, header_too: bool
) -> None:
    server = serve(drip(header_too))
    result, took = timed(runner, "query", "code-card", "-p", "code=E1392",
                         "--endpoint", server.url, "--timeout", "1.5")  # fmt: skip
    one_line_error(result, "did not answer within 1.5 s")
    assert took < 1.5 + 3.0


def test_slow_drip_ends_at_the_validate_timeout(
    serve: Callable[[Script], Scripted], runner: CliRunner
) -> None:
    server = serve(drip(False))
    result, took = timed(runner, "validate", "--endpoint", server.url, "--graph", GRAPH,
                         "--timeout", "1.5")  # fmt: skip
    one_line_error(result, "did not answer within 1.5 s")
    assert took < 1.5 + 3.0


def test_slow_checks_end_at_the_validate_timeout(
    serve: Callable[[Script], Scripted], runner: CliRunner
) -> None:
    """The probe and the upload answer at once; the checks drip: the run's deadline holds."""
    slow: Answer = 0, {}, [b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n"] + [b" "] * 9999, 0.2
    server = serve(endpoint_server(slow))
    result, took = timed(runner, "validate", "--endpoint", server.url, "--graph", GRAPH,
                         "--timeout", "2")  # fmt: skip
    one_line_error(result, "did not answer within 2 s")
    assert took < 2 + remote_cleanup_grace() + 3.0


def remote_cleanup_grace() -> float:
    from claimgraph.engine.endpoint import CLEANUP_TIMEOUT

    return min(CLEANUP_TIMEOUT, 2.0)


def test_the_size_cap_holds_while_streaming(serve: Callable[[Script], Scripted]) -> None:
    endless: Answer = (
        0,
        {},
        [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"] + [b"x" * 4096] * 10_000,
        0.0,
    )  # no Content-Length: read until the cap
    server = serve(lambda m, p, b: endless)
    ep = remote.query_url(server.url)
    with pytest.raises(ClaimgraphError, match="larger than 100000 bytes"):
        remote.request(ep, "GET", None, {}, 10, limit=100_000)
    announced: Answer = 200, {"Content-Length": str(10**12)}, [b"x"], 0.0
    big = serve(lambda m, p, b: announced)
    with pytest.raises(ClaimgraphError, match="larger than"):
        remote.request(remote.query_url(big.url), "GET", None, {}, 10, limit=100_000)


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(
    serve: Callable[[Script], Scripted], runner: CliRunner, status: int
) -> None:
    elsewhere = serve(lambda m, p, b: ok(EMPTY))
    moved: Answer = status, {"Location": elsewhere.url + "/query"}, [], 0.0
    server = serve(lambda m, p, b: moved)
    for args in (
        ["query", "code-card", "-p", "code=E1392", "--endpoint", server.url],
        ["validate", "--endpoint", server.url, "--graph", GRAPH],
        ["publish", "--endpoint", server.url],
    ):
        one_line_error(run(runner, *args), f"HTTP {status} (a redirect, not followed)")
    assert elsewhere.connections == 0


# --------------------------------------------------------------------------- JSON-LD contexts


def test_jsonld_context_naming_a_file_is_not_read(
    serve: Callable[[Script], Scripted], runner: CliRunner, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.jsonld"
    secret.write_text(json.dumps({"@context": {"leak": f"https://example.org/{CANARY_NAME}#"}}))
    contexts = serve(lambda m, p, b: ok(secret.read_bytes(), "application/ld+json"))
    query = tmp_path / "c.rq"
    query.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1")
    for context in (
        secret.as_uri(),
        "file:///dev/zero",
        contexts.url + "/context.jsonld",
        [{"ok": "https://example.org/"}, secret.as_uri()],
        {"@import": contexts.url + "/context.jsonld"},
        {"scoped": {"@id": "https://example.org/s", "@context": secret.as_uri()}},
    ):
        doc = {"@context": context, "@id": "https://example.org/a", "leak:x": "y"}
        body = json.dumps(doc).encode()
        server = serve(lambda m, p, b, body=body: ok(body, "application/ld+json"))
        result, took = timed(runner, "query", str(query), "--endpoint", server.url, "-f", "nt")
        one_line_error(result, "only inline contexts are read")
        assert CANARY_NAME not in result.output and took < 20
    assert contexts.connections == 0


def test_jsonld_with_an_inline_context_is_read(
    serve: Callable[[Script], Scripted], runner: CliRunner, tmp_path: Path
) -> None:
    doc = {"@context": {"ex": "https://example.org/"}, "@id": "ex:a", "ex:p": "v"}
    server = serve(lambda m, p, b: ok(json.dumps(doc).encode(), "application/ld+json"))
    query = tmp_path / "c.rq"
    query.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    result = run(runner, "query", str(query), "--endpoint", server.url, "-f", "nt")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == '<https://example.org/a> <https://example.org/p> "v" .'


# --------------------------------------------------------------------------- malformed answers

MALFORMED: dict[str, Answer] = {
    "not json": ok(b"<html>oops</html>"),
    "a json list": ok(b"[1, 2]"),
    "no results": ok(b'{"head": {"vars": ["s"]}}'),
    "bindings not a list": ok(b'{"head": {"vars": ["s"]}, "results": {"bindings": 3}}'),
    "value not an object": ok(b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": 1}]}}'),
    "unknown term type": ok(
        b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": {"type": "x", "value": "a"}}]}}'
    ),
    "value a number": ok(
        b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":7}}]}}'
    ),
    "lone surrogate": ok(
        b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"\\ud800"}}]}}'
    ),
    "huge integer": ok(
        b'{"head": {"vars": ["s"]}, "results": {"bindings": [], "n": ' + b"9" * 5000 + b"}}"
    ),
    "not utf-8": ok(b'{"head": {"vars": ["\xff"]}, "results": {"bindings": []}}'),
    "deeply nested": ok(
        b'{"head": {"vars": []}, "results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    ),
    "xml results": ok(b"<?xml version='1.0'?><sparql/>", "application/sparql-results+xml"),
    "cut short": (200, {"Content-Type": RESULTS, "Content-Length": "5000"}, [EMPTY], 0.0),
    "broken status line": (0, {}, [b"HTTP/1.1 abc\r\n\r\n"], 0.0),
    "no http at all": (0, {}, [b"\x00\x01\x02 garbage\r\n\r\n"], 0.0),
    "bad language tag": ok(
        b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"a",'
        b'"xml:lang":"not a tag!"}}]}}'
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_answer_to_a_query_is_exit_2(
    serve: Callable[[Script], Scripted], runner: CliRunner, name: str
) -> None:
    server = serve(lambda m, p, b: MALFORMED[name])
    result, took = timed(runner, "query", "code-card", "-p", "code=E1392",
                         "--endpoint", server.url, "--timeout", "10")  # fmt: skip
    one_line_error(result)
    assert took < 15


ROWS_MALFORMED = {
    **{k: v for k, v in MALFORMED.items() if k != "bad language tag"},
    "check number not a number": ok(
        b'{"head":{"vars":["_k"]},"results":{"bindings":[{"_k":{"type":"literal","value":"x"},'
        b'"this":{"type":"uri","value":"https://example.org/c"}}]}}'
    ),
    "check number unknown": ok(
        b'{"head":{"vars":["_k"]},"results":{"bindings":[{"_k":{"type":"literal","value":"9999"},'
        b'"this":{"type":"uri","value":"https://example.org/c"}}]}}'
    ),
    "no focus node": ok(
        b'{"head":{"vars":["_k"]},"results":{"bindings":[{"_k":{"type":"literal","value":"0"}}]}}'
    ),
    "an ask answer": ok(b'{"head": {}, "boolean": true}'),
}


@pytest.mark.parametrize("name", sorted(ROWS_MALFORMED))
def test_malformed_answer_to_validate_is_exit_2(
    serve: Callable[[Script], Scripted], runner: CliRunner, name: str
) -> None:
    server = serve(endpoint_server(ROWS_MALFORMED[name]))
    result, took = timed(runner, "validate", "--endpoint", server.url, "--graph", GRAPH,
                         "--timeout", "10")  # fmt: skip
    one_line_error(result)
    assert took < 15


def test_malformed_graph_answers_are_exit_2(
    serve: Callable[[Script], Scripted], runner: CliRunner, tmp_path: Path
) -> None:
    query = tmp_path / "c.rq"
    query.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    for body, media in (
        (b"<a> <b> .", "application/n-triples"),
        (b'<https://e.org/a> <https://e.org/b> "\\uD800" .', "application/n-triples"),
        (b"@prefix : <https://e.org/> . :a :b :c", "text/turtle"),
        (b"\xff\xfe", "text/turtle"),
        (b'{"@id": "https://e.org/a", "https://e.org/p": "\\udc00"}', "application/ld+json"),
        (b"<rdf:RDF/>", "application/rdf+xml"),
    ):
        server = serve(lambda m, p, b, body=body, media=media: ok(body, media))
        one_line_error(run(runner, "query", str(query), "--endpoint", server.url))


# --------------------------------------------------------------------------- error bodies


@pytest.mark.parametrize("status", [400, 403, 500])
def test_server_error_bodies_are_not_shown(
    serve: Callable[[Script], Scripted], runner: CliRunner, status: int
) -> None:
    body = f"Parse error near '{CANARY_NAME}'\nsecond line".encode()
    server = serve(lambda m, p, b: (status, {"Content-Type": "text/plain"}, [body], 0.0))
    for args in (
        ["query", "code-card", "-p", "code=E1392", "--endpoint", server.url],
        ["validate", "--endpoint", server.url, "--graph", GRAPH],
    ):
        err = one_line_error(run(runner, *args), f"HTTP {status}")
        assert CANARY_NAME not in err and "Parse error" not in err


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
