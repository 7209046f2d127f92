"""Patient data stays private: a canary in every input format, through every failure path.

A fake name and SSN (security_support.CANARY_NAME / CANARY_SSN) are put in the patient id, the
line description and the free-text fields of the claims of every input format (built from the
parity fixtures in tests/data/formats). Each variant (clean, a syntax error at the canary, the
canary in typed fields, an ill-typed RDF literal that rdflib logs, ...) goes through `convert`
and `validate`, to a writable, a read-only and a symlinked target, and through an injected
internal error. The canary must never appear on stdout or stderr, nor in any file left in the
temporary or cache folders. The one place it may appear is where the user asked for the claim
data itself: the `convert` output file (mode 0600) and `validate --format turtle`.
SECURITY.md ("Private") points here.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from security_support import CANARIES, CANARY_NAME, CANARY_SSN, run

FORMATS = Path(__file__).parent / "data" / "formats"
PATIENT = f"{CANARY_NAME} {CANARY_SSN}"
TEXT = f"seen by {CANARY_NAME}, SSN {CANARY_SSN}"


def _canary_text(text: str) -> str:
    for n in (1, 2, 3):
        text = text.replace(f"PT-CANARY-{n}", PATIENT)
    return text.replace("neuromuscular reeducation, canary text", TEXT).replace(
        "CANARYSON*TESTY", "CANARYFIELD*ZEBULON*" + CANARY_SSN
    )


def _jsonl(json_text: str) -> str:
    return "".join(json.dumps(c) + "\n" for c in json.loads(json_text)["claims"])


# name -> text of a claims file holding the canary (every input format)
def canary_files() -> dict[str, str]:
    files = {
        "claims.json": _canary_text((FORMATS / "claims.json").read_text()),
        "claims.csv": _canary_text((FORMATS / "claims.csv").read_text()),
        "claims.ttl": _canary_text((FORMATS / "claims.ttl").read_text()),
        "claims.nt": _canary_text((FORMATS / "claims.nt").read_text()),
        "claims.jsonld": _canary_text((FORMATS / "claims.jsonld").read_text()),
        "claims.fhir.json": _canary_text((FORMATS / "claims.fhir.json").read_text()),
        "claims.837": _canary_text((FORMATS / "claims.837").read_text()),
    }
    files["claims.jsonl"] = _jsonl(files["claims.json"])
    for name, text in files.items():
        assert CANARY_NAME in text or "CANARYFIELD" in text, name
    return files


def _first(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _syntax_error(name: str, text: str) -> str:
    """Break the file right at the canary."""
    if name.endswith(".837"):
        return _first(text, "CANARYFIELD*ZEBULON*", "CANARYFIELD*ZEBULON~ZZ*" + PATIENT + "~~*")
    if name.endswith(".csv"):
        return _first(text, PATIENT, f'"{PATIENT}",{PATIENT},"{PATIENT}')
    if name.endswith((".ttl", ".nt")):
        return _first(text, f'"{PATIENT}"', f'"{PATIENT} ;')
    return _first(text, f'"{PATIENT}"', f'"{PATIENT}')  # JSON family: unterminated string


def _typed_fields(name: str, text: str) -> str:
    """The canary where a number or a date belongs (units, service date)."""
    if name.endswith(".837"):
        text = _first(text, "DTP*472*D8*20260302", "DTP*472*D8*" + PATIENT)
        return _first(text, "*UN*1*", f"*UN*{CANARY_SSN}*")
    if name.endswith(".csv"):
        return _first(text, ",1,2026-03-02,", f",{CANARY_SSN},{PATIENT},")
    if name.endswith(".ttl"):
        return _first(text, "cg:serviceDate ", f'cg:serviceDate "{PATIENT}"^^xsd:date , ')
    if name.endswith(".nt"):
        date = '"2026-03-02"^^<http://www.w3.org/2001/XMLSchema#date>'
        return _first(text, date, f'"{PATIENT}"^^<http://www.w3.org/2001/XMLSchema#date>')
    if name.endswith(".fhir.json"):
        return text.replace('"2026-03-02"', json.dumps(PATIENT))
    if name.endswith(".jsonld"):
        return text.replace('"2026-03-02"', json.dumps(PATIENT))
    return text.replace('"2026-03-02"', json.dumps(PATIENT)).replace(
        '"units": 1', f'"units": "{CANARY_SSN}"'
    )


def _truncated(name: str, text: str) -> str:
    cut = text.find(CANARY_NAME)
    if cut < 0:
        cut = text.find("CANARYFIELD")
    return text[: cut + 8]  # ends inside the canary


VARIANTS: dict[str, Callable[[str, str], str]] = {
    "clean": lambda name, text: text,
    "syntax-error": _syntax_error,
    "typed-fields": _typed_fields,
    "truncated": _truncated,
}


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Temp and cache folders of their own, scanned for the canary when the test ends."""
    dirs = {name: tmp_path / name for name in ("tmp", "cache", "xdg-cache", "data", "out")}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(dirs["tmp"]))
    monkeypatch.setenv("TMPDIR", str(dirs["tmp"]))
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(dirs["cache"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs["xdg-cache"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs["data"]))
    monkeypatch.delenv("CLAIMGRAPH_DEBUG", raising=False)
    yield dirs
    for key in ("tmp", "cache", "xdg-cache", "data"):
        assert_no_canary_in_files(dirs[key])


def assert_no_canary_in_files(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for c in CANARIES:
                assert c.encode() not in data, f"canary left in {path}"


def assert_clean(result: object, *, allowed_exits: tuple[int, ...] = (0, 1, 2)) -> None:
    r = result
    out = r.stdout + r.stderr  # type: ignore[attr-defined]
    for c in CANARIES:
        assert c not in out and c.upper() not in out, out
    assert "Traceback" not in out
    assert r.exit_code in allowed_exits, (r.exit_code, out)  # type: ignore[attr-defined]
    if r.exit_code == 2:  # type: ignore[attr-defined]
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("claimgraph: error:")]  # type: ignore[attr-defined]
        assert len(errors) == 1, r.stderr  # type: ignore[attr-defined]


FILES = canary_files()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(FILES))
def test_convert_never_prints_the_canary(
    name: str, variant: str, runner: CliRunner, private_dirs: dict[str, Path]
) -> None:
    src = private_dirs["out"] / name
    src.write_text(VARIANTS[variant](name, FILES[name]), encoding="utf-8")
    target = private_dirs["out"] / "converted.ttl"
    result = run(runner, "convert", str(src), "-o", str(target))
    assert_clean(result)
    if variant == "clean":
        assert result.exit_code == 0, result.stderr
    if result.exit_code == 0:  # the output the user asked for holds claim data: private
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    else:
        assert not target.exists()
    assert sorted(p.name for p in private_dirs["out"].iterdir()) == sorted(
        {name, *(["converted.ttl"] if target.exists() else [])}
    )  # no temp file left next to the target


@pytest.mark.parametrize("name", sorted(FILES))
def test_convert_to_a_refused_target_never_prints_the_canary(
    name: str, runner: CliRunner, private_dirs: dict[str, Path]
) -> None:
    src = private_dirs["out"] / name
    src.write_text(FILES[name], encoding="utf-8")
    locked = private_dirs["out"] / "locked"
    locked.mkdir()
    victim = private_dirs["out"] / "victim.ttl"
    victim.write_text("previous\n")
    (locked / "link.ttl").symlink_to(victim)
    existing = private_dirs["out"] / "existing.ttl"
    existing.write_text("previous\n")
    os.chmod(locked, 0o500)
    # root writes into a 0500 folder anyway: /proc takes no new files, whoever asks
    read_only = locked / "new.ttl" if os.geteuid() else Path("/proc/claimgraph-test.ttl")
    try:
        for target in (read_only, locked / "link.ttl", existing, private_dirs["out"]):
            args = ["convert", str(src), "-o", str(target)]
            if target.name == "link.ttl" or target.is_dir():
                args.append("--force")
            result = run(runner, *args)
            assert_clean(result, allowed_exits=(2,))
        assert victim.read_text() == "previous\n" and existing.read_text() == "previous\n"
    finally:
        os.chmod(locked, 0o700)


@pytest.mark.parametrize("name", ["claims.json", "claims.ttl", "claims.837"])
def test_internal_error_names_its_type_only(
    name: str, runner: CliRunner, private_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimgraph.cli import convert

    def boom(claims: object, to: object, out: object) -> int:
        for claim in claims:  # type: ignore[attr-defined]
            raise RuntimeError(f"cannot handle {claim.patient}: {PATIENT}")
        return 0

    monkeypatch.setattr(convert, "write_rdf", boom)
    src = private_dirs["out"] / name
    src.write_text(FILES[name], encoding="utf-8")
    result = run(runner, "convert", str(src), "-o", str(private_dirs["out"] / "x.ttl"))
    assert_clean(result, allowed_exits=(3,))
    assert "RuntimeError" in result.stderr and result.stderr.count("\n") == 1


def test_ill_typed_literal_is_not_logged(
    runner: CliRunner, private_dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """rdflib logs the lexical form of a literal it cannot convert; claimgraph silences it."""
    src = private_dirs["out"] / "claims.ttl"
    src.write_text(
        _first(FILES["claims.ttl"], "cg:units 1", f'cg:units "{PATIENT}"^^xsd:integer'),
        encoding="utf-8",
    )
    result = run(runner, "convert", str(src), "-o", str(private_dirs["out"] / "x.ttl"))
    assert_clean(result)
    for record in caplog.records:
        assert CANARY_NAME not in record.getMessage()


def test_library_loggers_stay_silent(capfd: pytest.CaptureFixture[str]) -> None:
    """pyshacl adds a stderr handler on every validate(); rdflib logs literal values: the
    disabled loggers drop every record whatever handlers are added later."""
    import logging

    import pyshacl
    from rdflib import XSD, Graph, Literal

    from claimgraph.privacy import quiet_libraries

    quiet_libraries()
    pyshacl.validate(Graph(), shacl_graph=Graph())
    log = logging.getLogger("pyshacl-validate")
    assert log.handlers  # pyshacl did add its handler again ...
    log.warning("shape problem near %s", PATIENT)  # ... and it prints nothing
    logging.getLogger("rdflib.term").warning("cannot convert %s", PATIENT)
    Literal(PATIENT, datatype=XSD.integer)  # rdflib's own ill-typed literal warning
    captured = capfd.readouterr()
    assert CANARY_NAME not in captured.err + captured.out


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(FILES))
def test_validate_never_prints_the_canary(
    name: str, variant: str, runner: CliRunner, private_dirs: dict[str, Path]
) -> None:
    src = private_dirs["out"] / name
    src.write_text(VARIANTS[variant](name, FILES[name]), encoding="utf-8")
    # reports in every format that is not the claim data itself (turtle is, by request)
    formats = ["table", "json", "csv"] if variant in ("clean", "typed-fields") else ["json"]
    for fmt in formats:  # both engines: json through pyshacl, the others through the fast one
        engine = "reference" if fmt == "json" else "fast"
        result = run(runner, "validate", str(src), "--format", fmt, "--engine", engine)
        assert_clean(result)
        if variant == "clean":
            assert result.exit_code == 1, result.stderr  # the parity claims have findings
            assert result.stdout.strip()


def test_validate_output_file_is_private(runner: CliRunner, private_dirs: dict[str, Path]) -> None:
    src = private_dirs["out"] / "claims.json"
    src.write_text(FILES["claims.json"], encoding="utf-8")
    target = private_dirs["out"] / "report.ttl"
    result = run(runner, "validate", str(src), "--format", "turtle", "-o", str(target))
    assert result.exit_code in (0, 1), result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# --- the installed command, real file descriptors (nothing written around Python's streams) ----


@pytest.mark.parametrize("name", ["claims.ttl", "claims.json", "claims.csv", "claims.837"])
def test_console_script_never_prints_the_canary(name: str, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "claimgraph"
    if not exe.exists():
        pytest.skip("the claimgraph console script is not installed next to this Python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMGRAPH_")}
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env.update(TMPDIR=str(tmp), CLAIMGRAPH_CACHE_DIR=str(tmp_path / "cache"))
    for variant in ("syntax-error", "typed-fields"):
        src = tmp_path / name
        src.write_text(VARIANTS[variant](name, FILES[name]), encoding="utf-8")
        proc = subprocess.run(
            [str(exe), "convert", str(src), "-o", str(tmp_path / f"{variant}.ttl")],
            capture_output=True,
            env=env,
            timeout=120,
        )
        out = proc.stdout + proc.stderr
        for c in CANARIES:
            assert c.encode() not in out and c.upper().encode() not in out, out
        assert b"Traceback" not in out
        assert proc.returncode in (0, 2), out
    assert_no_canary_in_files(tmp)
    assert_no_canary_in_files(tmp_path / "cache")


# --- one error handler, no pretty tracebacks, a fixed base IRI, private temp folders -------------


def _commands(typer_app: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    for info in typer_app.registered_commands:  # type: ignore[attr-defined]
        yield prefix + (info.name or info.callback.__name__), info.callback
    for group in typer_app.registered_groups:  # type: ignore[attr-defined]
        yield from _commands(group.typer_instance, f"{prefix}{group.name} ")


def test_every_command_goes_through_the_one_error_handler() -> None:
    from claimgraph.cli import app
    from claimgraph.cli.common import guarded

    wrapper = guarded(lambda: None).__code__
    commands = dict(_commands(app))
    assert {"convert", "validate", "query", "export", "import hcpcs", "store info"} <= set(commands)
    unguarded = [name for name, cb in commands.items() if cb.__code__ is not wrapper]  # type: ignore[attr-defined]
    assert unguarded == []
    assert app.pretty_exceptions_enable is False  # Typer would print locals (claim values)


@pytest.mark.parametrize("name", ["claims.ttl", "claims.jsonld"])
def test_relative_iris_never_take_the_file_path(
    name: str, runner: CliRunner, private_dirs: dict[str, Path]
) -> None:
    """A folder named after a patient must not leak into the claim IRIs."""
    folder = private_dirs["out"] / f"{CANARY_NAME} {CANARY_SSN}"
    folder.mkdir()
    src = folder / name
    src.write_text((FORMATS / name).read_text(), encoding="utf-8")
    target = private_dirs["out"] / "converted.nt"
    result = run(runner, "convert", str(src), "--to", "ntriples", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert "https://w3id.org/claimgraph/" in text
    assert "Canaryfield" not in text and "Zebulon" not in text and "file:" not in text


def test_private_tempdir_is_private_and_removed() -> None:
    from claimgraph.privacy import private_tempdir

    with pytest.raises(RuntimeError), private_tempdir() as d:
        kept = d
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
        (d / "x").write_text(PATIENT)  # unreadable to others: the folder is 0700
        raise RuntimeError
    assert not kept.exists()
