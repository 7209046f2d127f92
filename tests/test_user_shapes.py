"""`claimgraph validate --shapes FILE`: the user's own rules, checked, run by both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app

USER_RULES = '''
@prefix sh:    <http://www.w3.org/ns/shacl#> .
@prefix cg:    <https://w3id.org/claimgraph/ontology/> .
@prefix hcpcs: <https://w3id.org/claimgraph/code/hcpcs/> .
@prefix mod:   <https://w3id.org/claimgraph/modifier/> .
@prefix payer: <https://w3id.org/claimgraph/payer/> .
@prefix rule:  <https://w3id.org/claimgraph/rule/> .
@prefix src:   <https://w3id.org/claimgraph/source/> .
@prefix topic: <https://w3id.org/claimgraph/topic/> .
@prefix dct:   <http://purl.org/dc/terms/> .

src:aetna-dme-policy a cg:Source ; dct:title "Aetna DME billing policy (example)" .

rule:USR-01 a sh:NodeShape, cg:Rule ;
    dct:identifier "USR-01" ;
    sh:name "Aetna oxygen concentrator line lacks NU"@en ;
    sh:message "Aetna lines of E1392 need the NU modifier; add NU to the line."@en ;
    sh:severity sh:Warning ;
    dct:source src:aetna-dme-policy ;
    cg:topic topic:oxygen ;
    cg:appliesToPayer payer:aetna ;
    cg:appliesToCode hcpcs:E1392 ;
    cg:requiresModifier mod:NU ;
    sh:targetClass cg:ClaimLine ;
    sh:sparql [
        sh:prefixes <https://w3id.org/claimgraph/shapes/prefixes> ;
        sh:select """
SELECT $this WHERE {
  $this a cg:ClaimLine ; cg:procedureCode ?code ; ^cg:hasLine ?claim .
  ?claim cg:payer ?payer .
  $currentShape cg:appliesToCode ?code .
  FILTER EXISTS { $currentShape cg:appliesToPayer ?scope . ?payer cg:inCategory* ?scope }
  FILTER NOT EXISTS { $currentShape cg:requiresModifier ?required . $this cg:modifier ?required }
}""" ] .
'''

USR_FINDING = {
    "claim": "CLM-U1",
    "line": 1,
    "code": "E1392",
    "rule": "USR-01",
    "severity": "warning",
    "message": "Aetna lines of E1392 need the NU modifier; add NU to the line.",
    "source": "Aetna DME billing policy (example)",
}


def claims(modifiers: list[str], payer: str = "aetna") -> dict[str, object]:
    return {
        "claims": [
            {"id": "CLM-U1", "payer": payer, "patient": "TEST-PT-U1", "diagnoses": ["J44.9"],
             "lines": [{"code": "E1392", "modifiers": modifiers, "units": 1,
                        "service_date": "2026-03-02"}]}
        ]
    }  # fmt: skip


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    out = {"rules": tmp_path / "my-rules.ttl"}
    out["rules"].write_text(USER_RULES)
    for name, data in {
        "fail": claims(["RR"]),
        "pass": claims(["RR", "NU"]),
        "medicare": claims(["RR"], payer="medicare"),
    }.items():
        out[name] = tmp_path / f"{name}.json"
        out[name].write_text(json.dumps(data))
    return out


def run(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def findings(result) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The report's findings on the fields USR_FINDING names (a report has more fields)."""
    assert result.exit_code in (0, 1), result.output
    found = json.loads(result.stdout)["findings"]
    for f in found:
        assert f["fix"] and f["rule_name"] and f["key"]  # a user rule gets its context too
    return [{k: f[k] for k in USR_FINDING} for f in found]


def usr(found: list[dict[str, object]]) -> list[dict[str, object]]:
    return [f for f in found if str(f["rule"]).startswith("USR")]


def test_user_rule_fires_with_both_engines(runner: CliRunner, files: dict[str, Path]) -> None:
    results = {}
    for engine in ("fast", "reference"):
        for case in ("fail", "pass", "medicare"):
            r = run(runner, "validate", str(files[case]), "--shapes", str(files["rules"]),
                    "--engine", engine, "-f", "json")  # fmt: skip
            results[engine, case] = findings(r)
    for engine in ("fast", "reference"):
        assert usr(results[engine, "fail"]) == [USR_FINDING]
        assert usr(results[engine, "pass"]) == []
        assert usr(results[engine, "medicare"]) == []  # aetna only
    for case in ("fail", "pass", "medicare"):
        assert results["fast", case] == results["reference", case]


def test_user_rule_with_worker_processes(runner: CliRunner, files: dict[str, Path]) -> None:
    data = {"claims": [dict(claims(["RR"])["claims"][0], id=f"CLM-U{i}")  # type: ignore[index]
                       for i in range(700)]}  # fmt: skip
    path = files["fail"].with_name("many.json")
    path.write_text(json.dumps(data))
    r = run(runner, "validate", str(path), "--shapes", str(files["rules"]), "-j", "2", "-f", "json")
    assert len(usr(findings(r))) == 700


def test_rule_filter_and_catalogue_see_user_rules(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(files["rules"]),
            "--rule", "USR-01", "-f", "json")  # fmt: skip
    assert findings(r) == [USR_FINDING]
    r = run(runner, "rules", "--shapes", str(files["rules"]), "-f", "json")
    assert r.exit_code == 0, r.output
    rows = [row for row in json.loads(r.stdout) if row["id"] == "USR-01"]
    assert rows and rows[0]["source"] == "Aetna DME billing policy (example)"
    r = run(runner, "rules", "-f", "json")
    assert all(row["id"] != "USR-01" for row in json.loads(r.stdout))


def test_user_rules_are_compiled_once_and_leave_the_bundled_cache(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    from claimgraph.engine import fast
    from claimgraph.knowledge import Knowledge

    cache = files["rules"].parent / "cache"
    fast.load_engine(Knowledge.bundled())  # the bundled checks, cached in this folder
    engine_files = sorted(cache.glob("engine-*.json"))
    assert len(engine_files) == 1
    bundled = {p: p.read_bytes() for p in engine_files}
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(files["rules"]), "-f", "json")
    assert usr(findings(r)) == [USR_FINDING]
    assert {p: p.read_bytes() for p in cache.glob("engine-*.json")} == bundled
    [compiled] = cache.glob("rules-*.json")  # the user rule set, keyed by the file's bytes
    before = compiled.stat().st_mtime_ns
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(files["rules"]), "-f", "json")
    assert usr(findings(r)) == [USR_FINDING]
    assert [p.stat().st_mtime_ns for p in cache.glob("rules-*.json")] == [before]  # reused
    files["rules"].write_text(USER_RULES.replace("need the NU", "need NU"))
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(files["rules"]), "-f", "json")
    assert [f["message"] for f in usr(findings(r))] == [
        "Aetna lines of E1392 need NU modifier; add NU to the line."
    ]
    assert len(list(cache.glob("rules-*.json"))) == 2  # another file, another rule set
    for engine in ("fast", "reference"):
        r = run(runner, "validate", str(files["fail"]), "--engine", engine, "-f", "json")
        assert usr(findings(r)) == []


BROKEN = {
    "clashing-id": (lambda t: t.replace("USR-01", "OXY-01"), "rule id OXY-01 is a bundled rule"),
    "bundled-subject": (
        lambda t: t + "\nrule:OXY-01 sh:deactivated true .\n",
        "part of the bundled knowledge graph",
    ),
    "recursive": (
        lambda t: t.replace(
            "sh:targetClass cg:ClaimLine ;", "sh:targetClass cg:ClaimLine ; sh:node rule:USR-01 ;"
        ),
        "recursive",
    ),  # fmt: skip
    "service": (
        lambda t: t.replace(
            "$this a cg:ClaimLine ;",
            "SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } $this a cg:ClaimLine ;",
        ),
        "SERVICE",
    ),  # fmt: skip
    "from": (
        lambda t: t.replace("SELECT $this WHERE", "SELECT $this FROM <file:///etc/passwd> WHERE"),
        "FROM",
    ),
    "no-message": (
        lambda t: "\n".join(ln for ln in t.splitlines() if "sh:message" not in ln),
        "sh:message",
    ),
    "undeclared-source": (
        lambda t: t.replace(
            'src:aetna-dme-policy a cg:Source ; dct:title "Aetna DME billing policy (example)" .',
            "",
        ),
        "dct:source",
    ),  # fmt: skip
    "untitled-source": (
        lambda t: t.replace('; dct:title "Aetna DME billing policy (example)"', ""),
        "dct:title",
    ),
    "syntax": (
        lambda t: t.replace("sh:severity sh:Warning ;", "sh:severity sh:Warning ;; ]]"),
        ":18:",
    ),
    "redos-regex": (
        lambda t: t.replace(
            "?claim cg:payer ?payer .",
            '?claim cg:payer ?payer . FILTER (REGEX(STR(?code), "^(a+)+$"))',
        ),
        "exponential time (a repetition of something of variable length",
    ),  # fmt: skip
    "redos-replace": (
        lambda t: t.replace(
            "?claim cg:payer ?payer .",
            '?claim cg:payer ?payer . BIND (REPLACE(STR(?code), "(x|x)*y", "") AS ?r)',
        ),
        "exponential time (repeated alternatives",
    ),  # fmt: skip
    "regex-from-data": (
        lambda t: t.replace(
            "?claim cg:payer ?payer .",
            "?claim cg:payer ?payer . FILTER (REGEX(STR(?code), STR(?payer)))",
        ),
        "need a string literal pattern",
    ),  # fmt: skip
    "redos-sh-pattern": (
        lambda t: t.replace(
            "sh:targetClass cg:ClaimLine ;",
            "sh:targetClass cg:ClaimLine ; sh:property [ sh:path cg:description ; "
            'sh:pattern "^(\\\\w+\\\\s?)+$" ] ;',
        ),
        "sh:pattern could take exponential time",
    ),  # fmt: skip
    "cartesian": (
        lambda t: t.replace(
            "?claim cg:payer ?payer .", "?claim cg:payer ?payer . ?a ?b ?c . ?d ?e ?f ."
        ),
        "cartesian product",
    ),  # fmt: skip
    "cartesian-claims": (
        lambda t: t.replace(
            "?claim cg:payer ?payer .", "?claim cg:payer ?payer . ?other a cg:Claim ."
        ),
        "cartesian product",
    ),  # fmt: skip
    "template-value": (
        lambda t: t.replace("add NU to the line.", "add NU to the line ({?claim})."),
        "substitutes a value from the data",
    ),
    "template-this": (
        lambda t: t.replace("add NU to the line.", "add NU to {$this}."),
        "substitutes a value from the data",
    ),
    "imports": (
        lambda t: (
            t + "\n<https://example.org/x> <http://www.w3.org/2002/07/owl#imports> "
            "<https://example.org/y> .\n"
        ),
        "owl:imports",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_user_rules_are_refused_in_one_line(
    case: str, runner: CliRunner, files: dict[str, Path]
) -> None:
    mutate, says = BROKEN[case]
    bad = files["rules"].with_name(f"{case}.ttl")
    bad.write_text(mutate(USER_RULES))
    r = run(runner, "validate", str(files["pass"]), "--shapes", str(bad), "-f", "json")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(bad) in lines[0] and says in lines[0], lines[0]
    assert "Traceback" not in r.output
    assert r.stdout == ""
    assert list((files["rules"].parent / "cache").glob("engine-*")) == []


@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize("case", ["template-value", "template-this", "redos-regex", "cartesian"])
def test_screened_user_rules_are_refused_by_both_engines(
    case: str, engine: str, runner: CliRunner, files: dict[str, Path]
) -> None:
    """Refused before use: no engine runs them (the fast engine once failed with exit 3, the
    reference engine put patient ids into reports or hung)."""
    import time

    mutate, says = BROKEN[case]
    bad = files["rules"].with_name(f"{case}.ttl")
    bad.write_text(mutate(USER_RULES))
    start = time.monotonic()
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(bad), "--engine", engine)
    assert r.exit_code == 2 and r.stdout == "", r.output
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "TEST-PT-U1" not in r.output and "CLM-U1" not in r.output
    assert time.monotonic() - start < 30


def test_safe_regex_in_user_rules_is_accepted(runner: CliRunner, files: dict[str, Path]) -> None:
    safe = USER_RULES.replace(
        "?claim cg:payer ?payer .",
        '?claim cg:payer ?payer . FILTER (REGEX(STR(?code), "^[A-Z][0-9]{4}$|E1392"))',
    )
    rules = files["rules"].with_name("safe.ttl")
    rules.write_text(safe)
    r = run(runner, "validate", str(files["fail"]), "--shapes", str(rules), "-f", "json")
    assert usr(findings(r)) == [USR_FINDING]


def test_same_id_in_two_user_files_is_refused(runner: CliRunner, files: dict[str, Path]) -> None:
    other = files["rules"].with_name("other.ttl")
    other.write_text(USER_RULES.replace("aetna-dme-policy", "aetna-dme-policy-2"))
    r = run(runner, "validate", str(files["pass"]), "--shapes", str(files["rules"]),
            "--shapes", str(other))  # fmt: skip
    assert r.exit_code == 2
    assert "USR-01 is also defined" in r.stderr and str(other) in r.stderr
