"""Reading claim files: format detection, each reader, errors with file:position, no content."""

from __future__ import annotations

import json
import os
import stat
import tracemalloc
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.errors import InputError
from claimgraph.ingest import claim_files, detect_format, read_claims, to_graph
from claimgraph.ingest.rdf_claims import INPUT_BASE, parse_rdf

FORMATS = Path(__file__).parent / "data" / "formats"
CANARY = "ZZCANARY-Jane-Q-Doe-078-05-1120"  # a fake name and SSN: must never be printed

CLAIM = {
    "id": "CLM-1",
    "payer": "medicare",
    "patient": CANARY,
    "diagnoses": ["J44.9"],
    "lines": [{"code": "E1392", "units": 1, "service_date": "2026-03-02", "description": CANARY}],
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def claims_of(*paths: Path, **kw: object) -> list:
    return list(read_claims(list(paths), **kw))  # type: ignore[arg-type]


def error_of(*paths: Path, **kw: object) -> InputError:
    with pytest.raises(InputError) as e:
        claims_of(*paths, **kw)
    assert CANARY not in str(e.value)
    assert "\n" not in str(e.value)
    return e.value


# --- detection and paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("claims.json", "json"),
        ("claims.fhir.json", "fhir"),
        ("claims.csv", "csv"),
        ("claims.ttl", "turtle"),
        ("claims.nt", "nt"),
        ("claims.jsonld", "json-ld"),
        ("claims.837", "x12"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(FORMATS / name) == fmt


def test_detect_by_content_when_the_name_says_nothing(tmp_path: Path) -> None:
    x12 = tmp_path / "interchange.dat"
    x12.write_bytes((FORMATS / "claims.837").read_bytes())
    assert detect_format(x12) == "x12"
    ld = write(tmp_path / "graph.json", json.dumps({"@context": {}, "@graph": []}))
    assert detect_format(ld) == "json-ld"
    with pytest.raises(InputError, match="unknown claim file type"):
        detect_format(write(tmp_path / "notes.txt", "hello"))


def test_folder_lists_every_regular_non_hidden_file_without_documents_csv(tmp_path: Path) -> None:
    for name in ("b.json", "a.jsonl", "c.csv", "c.documents.csv", "readme.md", ".hidden.json"):
        write(tmp_path / name, "x")
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    write(tmp_path / "sub" / "d.txt", "x")
    write(tmp_path / ".git" / "e.json", "x")
    assert [str(p.relative_to(tmp_path)) for p in claim_files([tmp_path])] == [
        "a.jsonl", "b.json", "c.csv", "readme.md", "sub/d.txt"
    ]  # fmt: skip


def test_path_errors_are_one_line(tmp_path: Path) -> None:
    assert "no such file" in str(error_of(tmp_path / "missing.json"))
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty / "notes.txt", "x")
    assert "no claims found" in str(error_of(empty))
    assert "empty file" in str(error_of(write(tmp_path / "e.json", "")))
    for url in ("http://127.0.0.1:9/claims.json", "https://example.org/c.ttl", "file:///etc/x"):
        with pytest.raises(InputError, match="only local files"):
            claims_of(url)  # type: ignore[arg-type]


# --- JSON and JSON Lines -------------------------------------------------------------------


def test_json_errors_name_line_and_column(tmp_path: Path) -> None:
    text = '{"claims": [\n  ' + json.dumps(CLAIM) + ',\n  {"id": "CLM-2",}\n]}'
    e = error_of(write(tmp_path / "bad.json", text))
    with pytest.raises(json.JSONDecodeError) as stdlib:  # the standard library as the oracle
        json.loads(text)
    assert e.path == str(tmp_path / "bad.json")
    assert e.position == f"{stdlib.value.lineno}:{stdlib.value.colno}" == "3:18"
    e = error_of(write(tmp_path / "cut.json", text[:60]))
    assert e.position is not None and e.position.startswith("2:")
    e = error_of(write(tmp_path / "shape.json", json.dumps({"claim": [CLAIM]})))
    assert "claims" in e.message


def test_json_claims_are_read_in_order_with_positions(tmp_path: Path) -> None:
    claims = [dict(CLAIM, id=f"CLM-{i}") for i in range(1, 4)] + [{"payer": "aetna"}]
    got = claims_of(write(tmp_path / "c.json", json.dumps({"x": {"y": [1]}, "claims": claims})))
    assert [(c.index, c.key) for c in got] == [(1, "CLM-1"), (2, "CLM-2"), (3, "CLM-3"), (4, "#4")]


def test_json_lines_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", json.dumps(CLAIM) + "\n\n" + '{"id": "CLM-2", x}\n')
    assert error_of(path).position == "3:17"  # the 'x' of line 3
    path = write(tmp_path / "d.ndjson", json.dumps(CLAIM) + "\n[1]\n")
    assert error_of(path).position == "2:1"


def test_unknown_fields_give_one_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    path = write(tmp_path / "c.json", json.dumps({"claims": [dict(CLAIM, extra=CANARY)] * 3}))
    claims_of(path, warn=warnings.append)
    assert len(warnings) == 1 and "claim.extra" in warnings[0] and CANARY not in warnings[0]


def test_a_large_json_file_is_streamed(tmp_path: Path) -> None:
    """20,000 claims are read one by one: peak memory is a fraction of the file's own size.

    json.load would hold the whole text and then several times its size in objects. What grows
    with the claims is the table of claim ids seen (STRUCT-03): 8 bytes a slot, at most 4 slots
    a claim while it grows (ingest/identity.py), here about 0.8 MB of the peak.
    """
    path = tmp_path / "big.json"
    with path.open("w") as f:
        f.write('{"claims": [')
        f.write(",".join(json.dumps(dict(CLAIM, id=f"C{i}")) for i in range(20_000)))
        f.write("]}")
    size = path.stat().st_size
    claims_of(write(tmp_path / "one.json", json.dumps({"claims": [CLAIM]})))  # load the facts
    tracemalloc.start()
    try:
        count = 0
        for claim in read_claims([path]):
            count += 1
            assert claim.index == count
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak * 3 < size, (peak, size)


def test_reading_is_lazy(tmp_path: Path) -> None:
    """The first claim arrives before a syntax error at the end of the file is reached."""
    body = ",".join(json.dumps(dict(CLAIM, id=f"C{i}")) for i in range(5000))
    path = write(tmp_path / "c.json", '{"claims": [' + body + ", oops]}")
    claims = read_claims([path])
    assert next(claims).id == "C0"
    with pytest.raises(InputError):
        list(claims)


# --- CSV -----------------------------------------------------------------------------------

HEADER = "claim_id,payer,patient,diagnoses,code,modifiers,units,service_date\n"


def test_csv_values(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.csv",
        HEADER + "A,medicare,P1,J44.9|R0902;M54.5,E1392,RR;KX,1,2026-03-02\n"
        "A,,,,E0431,,two,2026-03-02\nB,aetna,P2,,,,,\n",
    )
    a, b = claims_of(path)
    assert a.diagnoses == [("icd10cm", "J44.9"), ("icd10cm", "R0902"), ("icd10cm", "M54.5")]
    assert [(ln.code, ln.modifiers, ln.units) for ln in a.lines] == [
        ("E1392", ["RR", "KX"], 1),
        ("E0431", [], "two"),
    ]
    assert b.lines == [] and b.payer == "aetna" and (a.index, b.index) == (1, 2)


def test_diagnosis_code_systems_survive_every_reader(tmp_path: Path) -> None:
    """ICD-9-CM by a "system" field or an icd9:/icd10: prefix, in JSON, JSON Lines and CSV, and
    back from the claim RDF; a diagnosis stating none gets its system by its shape (E11.9: by the
    claim's 2026 date, ICD-10-CM)."""
    dx = [{"code": "250.00", "system": "icd9cm"}, "icd10:M54.5", "icd9:496", "E11.9"]
    want = [("icd9cm", "250.00"), ("icd10cm", "M54.5"), ("icd9cm", "496"), ("icd10cm", "E11.9")]
    claim = {**CLAIM, "diagnoses": dx}
    (a,) = claims_of(write(tmp_path / "a.json", json.dumps({"claims": [claim]})))
    (b,) = claims_of(write(tmp_path / "b.jsonl", json.dumps(claim) + "\n"))
    row = "A,medicare,P1,icd9:250.00|icd10:M54.5|icd9:496|E11.9,E1392,,1,2026-03-02\n"
    (c,) = claims_of(write(tmp_path / "c.csv", HEADER + row))
    assert a.diagnoses == b.diagnoses == c.diagnoses == want
    ttl = write(tmp_path / "d.ttl", to_graph([a]).serialize(format="turtle"))
    (d,) = claims_of(ttl)
    assert sorted(d.diagnoses) == sorted(want)


def test_csv_document_values(tmp_path: Path) -> None:
    write(tmp_path / "c.csv", HEADER + "A,medicare,P1,,E1392,,1,2026-03-02\n")
    write(
        tmp_path / "c.documents.csv",
        "claim_id,type,line,signed,spo2,minutes,number,one_on_one\n"
        "A,order,1,Yes,,,,\nA,oxygen-test,,,87.5,,,\nA,time-record,1,,,38,0012,maybe\n",
    )
    (claim,) = claims_of(tmp_path / "c.csv")
    assert [(d.type, d.line, d.fields) for d in claim.documents] == [
        ("order", 1, {"signed": True}),
        ("oxygen-test", None, {"spo2": pytest.approx(87.5)}),
        ("time-record", 1, {"minutes": 38, "number": "0012", "one_on_one": "maybe"}),
    ]


def test_csv_errors(tmp_path: Path) -> None:
    rows = f"A,medicare,{CANARY},,E1392,,,\nB,,,,E0431,,,\nA,,,,E1,,,\n"
    e = error_of(write(tmp_path / "c.csv", HEADER + rows))
    assert e.position == "4" and "consecutive" in e.message
    e = error_of(
        write(tmp_path / "short.csv", HEADER + "A,medicare,P1,,E1392,,1,2026-03-02\nB,,\n")
    )
    assert e.position == "3" and e.message == "a row has 3 cells but the header has 8"
    path = write(tmp_path / "d.csv", "id,code\n1,E1392\n")
    assert "claim_id" in error_of(path).message
    path = write(tmp_path / "e.csv", HEADER + f'A,medicare,"{CANARY}\n')
    assert error_of(path).message == "not valid CSV"
    assert "documents" in error_of(path, documents=tmp_path / "none.csv").message


# --- RDF -----------------------------------------------------------------------------------

TTL = """@prefix cg: <https://w3id.org/claimgraph/ontology/> .
<c1> a cg:Claim ; cg:claimId "C1" ; cg:patientId "@C@" .
""".replace("@C@", CANARY)


def test_rdf_is_parsed_with_a_fixed_base(tmp_path: Path) -> None:
    folder = tmp_path / CANARY
    folder.mkdir()
    g = parse_rdf(write(folder / "c.ttl", TTL), "turtle")
    assert {str(s) for s in g.subjects()} == {INPUT_BASE + "c1"}


@pytest.mark.parametrize(
    ("name", "text", "position"),
    [
        ("a.ttl", TTL + f'<c2> cg:claimId "{CANARY}" "{CANARY}" .\n', "3"),
        ("b.nt", f'<urn:a> <urn:b> "{CANARY}" .\n<urn:a> <urn:b> {CANARY} .\n', "2"),
        ("c.jsonld", '{"@context": {},\n "@id": "' + CANARY + '",,}', "2:43"),
    ],
)
def test_rdf_syntax_errors_name_the_line_only(
    tmp_path: Path, name: str, text: str, position: str
) -> None:
    e = error_of(write(tmp_path / name, text))
    assert e.position == position and e.path == str(tmp_path / name)


def test_rdflib_log_messages_do_not_leak_values(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    ttl = (
        TTL
        + f"""<c1> cg:hasLine <l{CANARY}{{x}}> .
<l{CANARY}{{x}}> cg:serviceDate "{CANARY}"^^<http://www.w3.org/2001/XMLSchema#date> .
"""
    )
    (claim,) = claims_of(write(tmp_path / "c.ttl", ttl))
    assert claim.lines[0].service_date == CANARY  # an ill-typed date stays text
    assert CANARY not in capfd.readouterr().err and CANARY not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        '<!DOCTYPE x [<!ENTITY a "b">]>\n' + TTL,
        TTL + '# <!ENTITY lol "lol">\n',
    ],
)
def test_rdf_xml_and_entities_are_refused(tmp_path: Path, text: str) -> None:
    assert "not accepted" in error_of(write(tmp_path / "x.ttl", text)).message


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "urn:x"},
        {"@context": [{"cg": "urn:x#"}, "http://127.0.0.1:9/c"], "@id": "urn:x"},
        {"@context": {}, "@graph": [{"@context": "http://127.0.0.1:9/c", "@id": "urn:y"}]},
        {"@context": {"@import": "http://127.0.0.1:9/c"}, "@id": "urn:x"},
    ],
)
def test_jsonld_remote_contexts_are_refused_before_parsing(tmp_path: Path, doc: dict) -> None:
    assert "JSON-LD" in error_of(write(tmp_path / "x.jsonld", json.dumps(doc))).message


def test_rdf_values_read_back(tmp_path: Path) -> None:
    ttl = """@prefix cg: <https://w3id.org/claimgraph/ontology/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/claimgraph/claim/%2312> a cg:Claim ;
  cg:payer <https://w3id.org/claimgraph/payer/aetna> ;
  cg:hasLine [ cg:lineNumber 1 ; cg:units 1.50 ; cg:serviceDate "2026-13-01" ;
               cg:procedureCode <https://w3id.org/claimgraph/code/hcpcs/E0431> ] ;
  <urn:other> 1 .
"""
    warnings: list[str] = []
    (claim,) = claims_of(write(tmp_path / "c.ttl", ttl), warn=warnings.append)
    assert claim.key == "#12" and claim.id is None and claim.payer == "aetna"
    (line,) = claim.lines
    assert (line.code, str(line.units), line.service_date) == ("E0431", "1.50", "2026-13-01")
    assert [w for w in warnings if "outside the claim vocabulary" in w]
    assert not any("urn:other" in w for w in warnings)  # an IRI may be data: counted only


# --- the convert command -------------------------------------------------------------------


@pytest.fixture
def broken_inputs(tmp_path: Path) -> list[Path]:
    """A broken file of every format, each holding the canary next to the error."""
    files = {
        "a.json": '{"claims": [{"patient": "@C@", }]}',
        "b.jsonl": '{"patient": "@C@"}\n{"patient": "@C@" x}\n',
        "c.csv": HEADER + f'A,medicare,"{CANARY}\n',
        "d.ttl": f'<c> <urn:p> "{CANARY}" ; ; <x> "{CANARY}\n',
        "e.nt": f'<urn:a> <urn:b> "{CANARY}" .\n<urn:a> <urn:b> "{CANARY} .\n',
        "f.jsonld": '{"@context": "http://127.0.0.1:9/", "@id": "@C@"}',
        "g.json": '{"resourceType": "Claim", "patient": "@C@",',
        "h.837": f"ISA*00*{CANARY}*00~",
    }
    return [write(tmp_path / name, text.replace("@C@", CANARY)) for name, text in files.items()]


def test_convert_errors_exit_2_with_one_line_and_no_content(
    runner: CliRunner, broken_inputs: list[Path]
) -> None:
    for path in broken_inputs:
        result = runner.invoke(app, ["convert", str(path)])
        assert result.exit_code == 2, (path.name, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], (path.name, result.output)
        assert CANARY not in result.output
        assert "Traceback" not in result.output


def test_convert_writes_a_private_file_atomically(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "claims.ttl"
    args = ["convert", str(FORMATS / "claims.json"), "-o", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert len(Graph().parse(out)) == len(to_graph(read_claims([FORMATS / "claims.json"])))
    before = out.read_bytes()
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--force" in result.output and out.read_bytes() == before
    bad = runner.invoke(app, ["convert", str(FORMATS / "claims.json"), str(tmp_path / "x.json"),
                              "-o", str(out), "--force"])  # fmt: skip
    assert bad.exit_code == 2 and out.read_bytes() == before


@pytest.mark.parametrize(("to", "fmt"), [("turtle", "turtle"), ("ntriples", "nt"),
                                         ("jsonld", "json-ld")])  # fmt: skip
def test_convert_prints_each_rdf_syntax(runner: CliRunner, to: str, fmt: str) -> None:
    result = runner.invoke(app, ["convert", str(FORMATS / "claims.csv"), "--to", to])
    assert result.exit_code == 0, result.output
    g = Graph().parse(data=result.stdout, format=fmt)
    assert len(g) == len(to_graph(read_claims([FORMATS / "claims.json"])))
    if to == "jsonld":
        assert isinstance(json.loads(result.stdout)["@context"], dict)


def test_convert_warnings_go_to_stderr(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", json.dumps({"claims": [dict(CLAIM, note=1)]}))
    result = runner.invoke(app, ["convert", str(path), "--to", "ntriples"])
    assert result.exit_code == 0
    assert "claim.note" in result.stderr and "claim.note" not in result.stdout
