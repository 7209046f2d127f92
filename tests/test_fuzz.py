"""Fuzzing the claim readers through the CLI: a report or one line, never a traceback or a hang.

Random JSON claims (the claim schema with values of any JSON type), random bytes under every
input file name, and every format's fixture truncated at a random byte go to `convert` and
`validate` (both engines). The outcome must be exit 0/1 with a report, or exit 2 with exactly
one `claimgraph: error:` line and nothing on stdout; never exit 3, never a traceback, and every
run ends within `HANG_SECONDS` (an alarm interrupts a hang). Examples are derandomised (stable
in CI) and few enough that the module runs in well under a minute. SECURITY.md points here.
"""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from security_support import run

FORMATS = Path(__file__).parent / "data" / "formats"
NAMES = [
    "claims.json", "claims.jsonl", "claims.csv", "claims.ttl", "claims.nt", "claims.jsonld",
    "claims.fhir.json", "claims.837", "claims.x12", "claims.edi", "claims",
]  # fmt: skip
FIXTURES = sorted(p.name for p in FORMATS.iterdir() if not p.name.endswith(".documents.csv"))
HANG_SECONDS = 20
RUNNER = CliRunner()

FUZZ = settings(
    max_examples=60,
    deadline=None,  # the alarm below is the hang guard
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Hang(Exception):
    pass


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no outcome within {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_outcome(result: Any, output: Path | None = None) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert result.exit_code in (0, 1, 2), (result.exit_code, text[-2000:])
    if not isinstance(result.exception, SystemExit | None):
        raise AssertionError(f"uncaught {type(result.exception).__name__}") from result.exception
    if result.exit_code == 2:
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("claimgraph: error:")]
        assert len(errors) == 1, result.stderr
        assert result.stdout == ""
        assert output is None or not output.exists()
    elif output is not None:
        assert output.exists()
    else:
        assert result.stdout.strip()  # a report, even when it finds nothing


def both_commands(path: Path, engine: str) -> None:
    out = path.parent / "out.nt"
    with alarm(HANG_SECONDS):
        converted = run(RUNNER, "convert", str(path), "--to", "ntriples", "-o", str(out))
    check_outcome(converted, out)
    with alarm(HANG_SECONDS):
        validated = run(RUNNER, "validate", str(path), "-f", "json", "--engine", engine, "-q")
    check_outcome(validated)
    if converted.exit_code == 2:  # what convert cannot read, validate cannot either
        assert validated.exit_code == 2


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="claimgraph-fuzz-") as d:
        yield Path(d)


# --- random JSON claims -------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["E1392", "97112", "M54.59", "J44.9", "KX", "GP", "59", "medicare",
                     "aetna", "2026-03-02", "2026-02-30", "order", "abn", "oxygen-test", ""]),
)  # fmt: skip
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
line = st.fixed_dictionaries(
    {},
    optional={
        "code": anything, "modifiers": anything, "units": anything, "service_date": anything,
        "body_site": anything, "description": anything, "line": anything,
    },
)  # fmt: skip
document = st.fixed_dictionaries(
    {},
    optional={"type": anything, "date": anything, "signed": anything, "spo2": anything,
              "line": anything, "duration_months": anything, "minutes": anything},
)  # fmt: skip
claim = st.fixed_dictionaries(
    {},
    optional={
        "id": anything, "payer": anything, "patient": anything, "diagnoses": anything,
        "lines": st.lists(line, max_size=3) | anything,
        "documents": st.lists(document, max_size=2) | anything,
    },
)  # fmt: skip


@FUZZ
@given(
    claims=st.lists(claim, max_size=3) | anything,
    jsonl=st.booleans(),
    engine=st.sampled_from(["fast", "reference"]),
)
def test_random_json_claims(claims: Any, jsonl: bool, engine: str) -> None:
    with folder() as d:
        if jsonl and isinstance(claims, list):
            path = d / "claims.jsonl"
            path.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
        else:
            path = d / "claims.json"
            path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
        both_commands(path, engine)


# --- random bytes under every file name ---------------------------------------------------------


@FUZZ
@given(
    name=st.sampled_from(NAMES),
    data=st.binary(max_size=300)
    | st.text(alphabet='{}[]":,<>@.;_ -*~\n0123456789abcISAGSTCLM^', max_size=300).map(
        lambda t: t.encode()
    ),
    engine=st.sampled_from(["fast", "reference"]),
)
def test_random_bytes(name: str, data: bytes, engine: str) -> None:
    with folder() as d:
        path = d / name
        path.write_bytes(data)
        both_commands(path, engine)


# --- every format's fixture, truncated ----------------------------------------------------------


@FUZZ
@given(
    fixture=st.sampled_from(FIXTURES),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    engine=st.sampled_from(["fast", "reference"]),
)
def test_truncated_files(fixture: str, fraction: float, engine: str) -> None:
    data = (FORMATS / fixture).read_bytes()
    with folder() as d:
        path = d / fixture
        path.write_bytes(data[: int(len(data) * fraction)])
        both_commands(path, engine)


# --- lone surrogates and huge numbers anywhere (issue 16, point 9) ------------------------------

HOSTILE = ["\\ud800", "\\udc00x", "\\uD800", "\\U0000DFFF", "\\ud83d\\ude00", "\\\\ud800",
           "9" * 5000, "-" + "1" * 4400, "0." + "5" * 5000]  # fmt: skip


@settings(FUZZ, max_examples=40)
@given(
    fixture=st.sampled_from(FIXTURES),
    token=st.sampled_from(HOSTILE),
    spot=st.integers(min_value=0, max_value=10_000),
    engine=st.sampled_from(["fast", "reference"]),
)
def test_surrogates_and_long_numbers_anywhere(
    fixture: str, token: str, spot: int, engine: str
) -> None:
    """A hostile token at the start of a string or a number of each format's fixture."""
    import re

    text = (FORMATS / fixture).read_text(encoding="utf-8")
    spots = [m.end() for m in re.finditer(r'"|(?<=[:*, ])(?=\d)', text)]
    at = spots[spot % len(spots)]
    with folder() as d:
        path = d / fixture
        path.write_text(text[:at] + token + text[at:], encoding="utf-8")
        both_commands(path, engine)
