"""Hostile inputs the red team found (issue 16, points 6, 9 and 10): each is one line, exit 2.

- A lone UTF-16 surrogate escape (`\\ud800`) in any JSON, JSON Lines, JSON-LD, FHIR, Turtle or
  N-Triples string or IRI decodes to text no output can encode: it is refused by the shared
  readers (ingest/jsonstream.py, kg.parse_turtle, the RDF reader) with file and position.
- An integer over Python's 4,300-digit limit in any format (JSON, CSV, X12, Turtle ...).
- A code scheme in an RDF claim that is not a name (`code/a b/X1`) no longer makes an IRI
  that rdflib refuses to write.
- `convert` to stdout writes nothing when it fails (the output is spooled until the end).
- Warnings name structure by position, and names only when they look like field names: a CSV
  header that lost its newline, a JSON key or an RDF property can hold a patient id.
- CSV rows with fewer or more cells than the header are an error naming the line.
- FHIR codes of unknown systems are counted, not named; an X12 dependent's patient id is a
  keyed hash (random key per run), not a hash anyone can recompute from name and birth date.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from security_support import CANARIES, CANARY_NAME, one_line_error, run

FORMATS = Path(__file__).parent / "data" / "formats"
S = "\\ud800"  # as written in a JSON string: a lone high surrogate
BIG = "9" * 5000


def one(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def variants() -> dict[str, tuple[str, str, str]]:
    """name -> (file name, text, what the error says)."""
    j = (FORMATS / "claims.json").read_text()
    data = json.loads(j)
    jl = "\n".join(json.dumps(c) for c in data["claims"])
    ttl = (FORMATS / "claims.ttl").read_text()
    nt = (FORMATS / "claims.nt").read_text()
    ld = (FORMATS / "claims.jsonld").read_text()
    fhir = (FORMATS / "claims.fhir.json").read_text()
    csv = (FORMATS / "claims.csv").read_text()
    x12 = (FORMATS / "claims.837").read_text()
    sur, long = "surrogate", "number is too long"
    icd = r"icd10cm:([A-Z0-9.]+)"
    bad_iri = "<https://w3id.org/claimgraph/code/icd10cm/A\\uD800>"
    x12_units = r"(SV1\*[^*~]*\*[^*~]*\*UN\*)\d+"

    def sub(text: str, pattern: str, new: str) -> str:  # `new` is literal text
        out = re.sub(pattern, lambda m: new, text, count=1)
        assert out != text, pattern
        return out

    x12_big = re.sub(x12_units, lambda m: m.group(1) + BIG, x12, count=1)
    assert x12_big != x12
    out = {
        "json-patient": ("claims.json", one(j, '"patient": "', f'"patient": "{S}'), sur),
        "json-id": ("claims.json", one(j, '"id": "', f'"id": "x{S}'), sur),
        "json-key": ("claims.json", one(j, '"patient":', f'"pa{S}tient":'), sur),
        "json-low-half": ("claims.json", one(j, '"id": "', '"id": "\\udc00'), sur),
        "json-number": ("claims.json", one(j, '"units": 1', f'"units": {BIG}'), long),
        "jsonl-patient": ("claims.jsonl", one(jl, '"patient": "', f'"patient": "{S}'), sur),
        "jsonl-number": ("claims.jsonl", one(jl, '"units": 1', f'"units": {BIG}'), long),
        "jsonld-patient": (
            "claims.jsonld", one(ld, '"cg:patientId": "', f'"cg:patientId": "{S}'), sur),
        "jsonld-number": ("claims.jsonld", sub(ld, r'"cg:units": \d+', f'"cg:units": {BIG}'), long),
        "fhir-value": ("claims.fhir.json", one(fhir, '"value": "', f'"value": "{S}'), sur),
        "fhir-number": ("claims.fhir.json", sub(fhir, r'"value": \d+', f'"value": {BIG}'), long),
        "turtle-literal": ("claims.ttl", one(ttl, 'cg:patientId "', 'cg:patientId "\\uD800'), sur),
        "turtle-long-escape": (
            "claims.ttl", one(ttl, 'cg:patientId "', 'cg:patientId "\\U0000DFFF'), sur),
        "turtle-iri": ("claims.ttl", sub(ttl, icd, bad_iri), sur),
        "turtle-number": ("claims.ttl", sub(ttl, r"cg:units \d+", f"cg:units {BIG}"), long),
        "ntriples-literal": ("claims.nt", one(nt, 'patientId> "', 'patientId> "\\uD800'), sur),
        "csv-units": ("claims.csv", one(csv, ",RR;KX,1,", f",RR;KX,{BIG},"), long),
        "x12-units": ("claims.837", x12_big, long),
    }  # fmt: skip
    return out


VARIANTS = variants()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_surrogates_and_long_numbers_are_one_line(tmp_path: Path, name: str) -> None:
    file_name, text, says = VARIANTS[name]
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    for args in (
        ["convert", str(path), "-f", "nt"],
        ["convert", str(path), "-f", "turtle", "-o", str(tmp_path / "out.ttl")],
        ["convert", str(path), "-f", "jsonld"],
        ["validate", str(path), "-f", "json"],
        ["validate", str(path), "-f", "json", "--engine", "reference"],
    ):
        err = one_line_error(run(runner, *args), str(path), says)
        assert not any(c in err for c in CANARIES)
    assert not (tmp_path / "out.ttl").exists()


def test_a_surrogate_pair_is_a_character(tmp_path: Path) -> None:
    """`\\ud83d\\ude00` is one character (an emoji): accepted."""
    j = (FORMATS / "claims.json").read_text().replace('"id": "', '"id": "\\ud83d\\ude00', 1)
    path = tmp_path / "claims.json"
    path.write_text(j, encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert result.exit_code == 0, result.output
    assert "\U0001f600" in result.stdout or "\\U0001F600" in result.stdout


def test_an_escaped_backslash_is_not_an_escape(tmp_path: Path) -> None:
    j = (FORMATS / "claims.json").read_text().replace('"id": "', '"id": "\\\\ud800', 1)
    path = tmp_path / "claims.json"
    path.write_text(j, encoding="utf-8")
    assert run(CliRunner(), "convert", str(path), "-f", "nt").exit_code == 0


@pytest.mark.parametrize("scheme", ["a\\u0020b", "a\\u003Eb", "a\\u0022b", "a\\u007Bb"])
def test_an_odd_code_scheme_still_makes_writable_rdf(tmp_path: Path, scheme: str) -> None:
    """A diagnosis under `code/<scheme>/` whose scheme is no name: rdflib once refused to
    write the IRI rebuilt from it (exit 3); it is percent-encoded now."""
    from pyoxigraph import RdfFormat, parse

    ttl = re.sub(r"icd10cm:([A-Z0-9.]+)", lambda m: f"<https://w3id.org/claimgraph/code/{scheme}/X1>",
                 (FORMATS / "claims.ttl").read_text(), count=1)  # fmt: skip
    path = tmp_path / "claims.ttl"
    path.write_text(ttl, encoding="utf-8")
    runner = CliRunner()
    for fmt in ("turtle", "nt", "jsonld"):
        result = run(runner, "convert", str(path), "-f", fmt)
        assert result.exit_code == 0, (fmt, result.output)
    nt = run(runner, "convert", str(path), "-f", "nt").stdout
    assert len(list(parse(nt.encode(), format=RdfFormat.N_TRIPLES))) > 20  # strict parser
    assert run(runner, "validate", str(path), "-f", "json").exit_code in (0, 1)


# --- convert to stdout --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["nt", "turtle", "jsonld"])
def test_convert_to_stdout_prints_nothing_when_it_fails(tmp_path: Path, fmt: str) -> None:
    """1,500 good claims, then a broken line: no partial data set reaches the pipe."""
    claim = json.loads((FORMATS / "claims.json").read_text())["claims"][0]
    lines = [json.dumps({**claim, "id": f"CLM-{i}"}) for i in range(1500)] + ["{broken"]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_line_error(run(CliRunner(), "convert", str(path), "-f", fmt), f"{path}:1501")


def test_convert_to_stdout_still_writes_everything(tmp_path: Path) -> None:
    claim = json.loads((FORMATS / "claims.json").read_text())["claims"][0]
    lines = [json.dumps({**claim, "id": f"CLM-{i}"}) for i in range(1500)]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert result.exit_code == 0
    assert result.stdout.count("<https://w3id.org/claimgraph/ontology/claimId>") == 1500


# --- warnings by position -----------------------------------------------------------------------


def warnings_of(result: Any) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if "warning" in ln]


def test_unknown_json_keys_are_named_by_position(tmp_path: Path) -> None:
    data = json.loads((FORMATS / "claims.json").read_text())
    data["claims"][0][CANARY_NAME] = "x"  # a key that is data
    data["claims"][0]["servicedate"] = "2026-03-02"  # a misspelt field: shown
    data["claims"][1]["lines"][0]["078-05-1120"] = 1
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert result.exit_code == 0
    [warning] = warnings_of(result)
    assert not any(c in warning for c in CANARIES), warning
    assert "claim.servicedate" in warning and "claim 1, key number" in warning
    assert "claim 2 line 1, key number" in warning and "ignored 3 field(s)" in warning


def test_csv_header_that_lost_its_newline_is_not_echoed(tmp_path: Path) -> None:
    header, first, *rest = (FORMATS / "claims.csv").read_text().splitlines()
    first = first.replace("PT-CANARY-1", CANARY_NAME)
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header + first, *rest]) + "\n", encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert not any(c in result.output for c in CANARIES), result.output
    assert "header cell(s) outside the CSV contract (column " in result.stderr
    one_line_error_after_warnings(result, f"{path}:2", "cells but the header has")


def one_line_error_after_warnings(result: Any, *needles: str) -> None:
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("claimgraph: error:")]
    assert result.exit_code == 2 and len(errors) == 1 and result.stdout == "", result.output
    assert all(n in errors[0] for n in needles), errors[0]


@pytest.mark.parametrize("change", ["fewer", "more"])
def test_csv_rows_with_a_wrong_cell_count_are_an_error(tmp_path: Path, change: str) -> None:
    header, *rows = (FORMATS / "claims.csv").read_text().splitlines()
    rows[1] = rows[1].rsplit(",", 2)[0] if change == "fewer" else rows[1] + ",extra"
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    for args in (["convert", str(path)], ["validate", str(path)]):
        one_line_error(run(CliRunner(), *args), f"{path}:3", "cells but the header has 10")


def test_unknown_rdf_properties_are_not_echoed(tmp_path: Path) -> None:
    ttl = (FORMATS / "claims.ttl").read_text()
    ttl = ttl.replace("cg:patientId ", f"<https://example.org/{CANARY_NAME.replace(' ', '_')}> 1 ; "
                      "cg:appliesToPayer payer:aetna ; cg:patientId ", 1)  # fmt: skip
    path = tmp_path / "claims.ttl"
    path.write_text(ttl, encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert result.exit_code == 0, result.output
    [warning] = warnings_of(result)
    assert "Canaryfield" not in warning and "1 other IRI(s), not shown" in warning
    assert "cg:appliesToPayer" in warning


def test_fhir_unknown_systems_are_not_echoed(tmp_path: Path) -> None:
    fhir = (FORMATS / "claims.fhir.json").read_text()
    fhir = re.sub(r'"system": "http://hl7\.org/fhir/sid/icd-10-cm"',
                  f'"system": "urn:x:{CANARY_NAME}"', fhir, count=1)  # fmt: skip
    path = tmp_path / "claims.fhir.json"
    path.write_text(fhir, encoding="utf-8")
    result = run(CliRunner(), "convert", str(path), "-f", "nt")
    assert warnings_of(result), result.output
    assert not any(c in result.stderr for c in CANARIES)
    [warning] = [w for w in warnings_of(result) if "code system" in w]
    assert "codes of 1 code system(s) claimgraph does not read were ignored" in warning


# --- the dependent's patient id -----------------------------------------------------------------


def dependent_x12(dependents: list[tuple[str, str]]) -> str:
    """The X12 fixture with one claim per dependent (name, birth date) of subscriber PT-CANARY-1."""
    x12 = (FORMATS / "claims.837").read_text()
    head, first_claim = x12.split("CLM*", 1)[0], "CLM*" + x12.split("CLM*", 1)[1]
    first_claim = first_claim.split("HL*", 1)[0]
    body = "".join(
        f"HL*{3 + n}*2*23*0~PAT*19~NM1*QC*1*{name}*TESTY~DMG*D8*{born}*F~"
        + first_claim.replace("CLM-P1", f"CLM-D{n}")
        for n, (name, born) in enumerate(dependents)
    )
    se, rest = x12[x12.index("SE*") :].split("~", 1)
    text = head + body
    count = text[text.index("ST*") :].count("~") + 1  # the segments ST to SE
    return text + f"SE*{count}*{se.split('*')[2]}~" + rest


def x12_patients(path: Path) -> list[str]:
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from claimgraph.ingest import read_claims; "
            "print(*(c.patient for c in read_claims([Path(sys.argv[1])])))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_dependent_patient_ids_are_keyed_per_run(tmp_path: Path) -> None:
    """A 2010CA dependent without NM109 is the subscriber plus a keyed hash (HMAC, random key
    per run) of name and birth date: one dependent is one patient within a run, two are two,
    and the id cannot be recomputed from a guessed name and birth date."""
    import hashlib

    path = tmp_path / "dependents.837"
    path.write_text(dependent_x12([("CANARYSON", "20100101"), ("CANARYSON", "20100101"),
                                   ("CANARYSON", "20120202")]), encoding="utf-8")  # fmt: skip
    first, again = x12_patients(path), x12_patients(path)
    assert len(first) == 3 and all(p.startswith("PT-CANARY-1:") for p in first)
    assert first[0] == first[1] != first[2]  # one dependent, one patient; two, two
    assert again[0] == again[1] != again[2] and set(again).isdisjoint(first)  # another run
    unkeyed = {hashlib.sha256(f"CANARYSON|TESTY||{born}".encode()).hexdigest()[:12]
               for born in ("20100101", "20120202")}  # the old id: guessable  # fmt: skip
    assert not any(p.split(":", 1)[1] in unkeyed for p in first + again)
