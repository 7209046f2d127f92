"""report.context: the rule context of every finding (name, topic, fix, hints, sources, dates,
denial codes) and the stable finding key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from rdflib import Literal

from claimgraph.findings import Finding
from claimgraph.kg import new_graph
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT, SOURCE, rule_iri
from claimgraph.report.context import context, finding_key, rule_context
from claimgraph.validation import validate_files

CLAIM = {
    "payer": "medicare",
    "patient": "PT-1",
    "diagnoses": ["J44.9"],
    "lines": [{"code": "E1392", "modifiers": ["KX"], "units": 1, "service_date": "2026-03-02"}],
    "documents": [
        {"type": "order", "date": "2026-02-20", "signed": True, "duration_months": 12},
        {"type": "oxygen-test", "date": "2026-02-18", "spo2": 86},
        {"type": "portable-justification", "date": "2026-02-20"},
    ],
}


@pytest.fixture(autouse=True)
def _no_user_code_store(ncci_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no code sets; only the made-up NCCI tables, so the NCCI rules give no Info for 2026Q1
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(ncci_store))


def claims_file(path: Path, *claims: dict) -> Path:  # type: ignore[type-arg]
    path.write_text(json.dumps({"claims": list(claims)}), encoding="utf-8")
    return path


def one(rule_id: str, **fields: object) -> Finding:
    f = Finding(claim="CLM-1", line=1, rule=rule_id, severity="violation", code="E1392")
    return context([dataclasses.replace(f, **fields)], Knowledge.bundled())[0]  # type: ignore[arg-type]


def edited(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A copy of the bundled knowledge graph to edit, and a function that makes a Knowledge
    value of the edited graph (one shapes file)."""
    g = new_graph()
    for t in Knowledge.bundled().graph:
        g.add(t)

    def knowledge() -> Knowledge:
        path = tmp_path / "edited.ttl"
        g.serialize(path, format="turtle")
        return Knowledge.from_files([], [path])

    return g, knowledge


# --------------------------------------------------------------------------- the key


def test_key_depends_on_identity_line_rule_and_facts_only() -> None:
    base = Finding(claim="CLM-1", line=1, rule="OXY-02", severity="violation", file="a/b.json",
                   facts=(("modifier", "KX"), ("code", "E1392")))  # fmt: skip
    key = finding_key(base)
    assert len(key) == 16 and int(key, 16) >= 0
    same = [
        dataclasses.replace(base, severity="warning", message="other words", payer="aetna"),
        dataclasses.replace(base, file="elsewhere/b.json"),  # the folder does not count
        dataclasses.replace(base, facts=(("code", "E1392"), ("modifier", "KX"))),  # sorted
    ]
    assert {finding_key(f) for f in same} == {key}
    different = [
        dataclasses.replace(base, claim="CLM-2"),
        dataclasses.replace(base, line=2),
        dataclasses.replace(base, rule="OXY-01"),
        dataclasses.replace(base, file="a/c.json"),
        dataclasses.replace(base, facts=(("modifier", "RR"),)),
    ]
    assert len({finding_key(f) for f in different} | {key}) == len(different) + 1


def test_key_of_a_claim_without_id_uses_its_position() -> None:
    a = Finding(claim="#3", line=1, rule="OXY-02", severity="violation", position="entry 3")
    b = dataclasses.replace(a, position="entry 4")
    assert finding_key(a) != finding_key(b)
    assert finding_key(a) == finding_key(dataclasses.replace(a, claim="#9"))


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_key_survives_changes_to_other_claims(tmp_path: Path, engine: str) -> None:
    broken = dict(CLAIM, id="CLM-K1")  # no RR: OXY-02
    other = dict(CLAIM, id="CLM-K2", lines=[dict(CLAIM["lines"][0], modifiers=["RR", "KX"])])
    first = validate_files([claims_file(tmp_path / "claims.json", broken, other)], engine=engine)
    changed = dict(other, id="CLM-K3", diagnoses=["R52"])
    second = validate_files([claims_file(tmp_path / "claims.json", changed, broken)], engine=engine)

    def keys(result: object, claim: str) -> dict[str, str]:
        return {f.rule: f.key for f in result.findings if f.claim == claim}  # type: ignore[attr-defined]

    assert "OXY-02" in keys(first, "CLM-K1")
    assert keys(first, "CLM-K1") == keys(second, "CLM-K1")


def test_keys_agree_between_engines() -> None:
    path = Path(__file__).parent / "data" / "formats" / "claims.json"
    fast = {f.ident: f.key for f in validate_files([path], engine="fast").findings}
    ref = {f.ident: f.key for f in validate_files([path], engine="reference").findings}
    assert fast and fast == ref


# --------------------------------------------------------------------------- the rule context


def test_context_of_a_required_modifier() -> None:
    f = one("OXY-02")
    assert f.rule_name == "rented oxygen equipment lacks RR" and f.topic == "oxygen"
    assert f.fix == "Add modifier RR."
    assert f.hints == (("add-modifier", "RR"),)
    ids = [s.id for s in f.sources]
    assert ids == sorted(ids) and "article-002-e1392" in ids and "lcd-l33797" in ids
    lcd = next(s for s in f.sources if s.id == "lcd-l33797")
    assert lcd.url and lcd.url.startswith("https://") and "L33797" in lcd.title
    assert f.key == finding_key(f)


def test_context_of_one_of_several_modifiers_and_of_documents() -> None:
    oxy01 = one("OXY-01")
    assert oxy01.hints == (("add-one-of-modifiers", "GA GY GZ KX"),)
    assert oxy01.fix.startswith("Add KX when")  # the rule's cg:fix words it better
    nmes02 = one("NMES-02", service_date="2026-03-02")
    assert nmes02.hints == (
        ("attach-document", "medical-history"),
        ("attach-document", "order"),
        ("attach-document", "plan-of-care"),
    )
    assert nmes02.fix == (
        "Attach the medical history, practitioner order and plan of care dated on or before "
        "2026-03-02."
    )
    assert "the service date" in one("OXY-03").fix  # no date known: words instead


def test_context_of_a_modifier_conflict_uses_the_rules_fix() -> None:
    f = one("MOD-04")
    assert f.hints == (("modifier-conflict", "59 XE XP XS XU"),)
    assert f.fix == "Remove 59 and keep the specific X modifier."


def test_every_bundled_rule_says_what_would_satisfy_it() -> None:
    kn = Knowledge.bundled()
    missing = [r.id for r in kn.rulebook.rules.values() if not rule_context(kn.graph, r).fix]
    assert missing == []


def test_fields_the_engine_set_are_kept() -> None:
    f = one("OXY-02", fix="engine's own fix", hints=(("x", "y"),), key="0123456789abcdef")
    assert (f.fix, f.hints, f.key) == ("engine's own fix", (("x", "y"),), "0123456789abcdef")


def test_source_versions_dates_and_denial_codes_are_read_when_present(tmp_path: Path) -> None:
    """Another engineer changes dct:hasVersion and cg:effectiveFrom of a source and cg:carc,
    cg:rarc, cg:groupCode of a rule: the context reads them as soon as they are there."""
    g, knowledge = edited(tmp_path)
    rule, source = rule_iri("OXY-02"), SOURCE["lcd-l33797"]
    for prop in (CG.carc, CG.rarc, CG.groupCode):  # the shipped codes (denial-codes.ttl)
        g.remove((rule, prop, None))
    for prop in (DCT.hasVersion, CG.effectiveFrom):  # the shipped version (sources.ttl)
        g.remove((source, prop, None))
    g.add((source, DCT.hasVersion, Literal("R12")))
    g.add((source, CG.effectiveFrom, Literal("2024-01-01")))
    g.add((rule, CG.carc, Literal("4")))
    g.add((rule, CG.rarc, Literal("N657")))
    g.add((rule, CG.groupCode, Literal("CO")))
    f = context([Finding(claim="C", line=1, rule="OXY-02", severity="violation")], knowledge())[0]
    lcd = next(s for s in f.sources if s.id == "lcd-l33797")
    assert (lcd.version, lcd.effective) == ("R12", "2024-01-01")
    assert (f.carc, f.rarc, f.group_code) == ("4", "N657", "CO")
    plain = one("OXY-02")  # the shipped graph's codes and LCD version
    assert (plain.carc, plain.rarc, plain.group_code) == ("4", "N822", "CO")
    shipped = next(s for s in plain.sources if s.id == "lcd-l33797")
    assert (shipped.version, shipped.effective) == ("50", "2023-04-01")


def test_unknown_rule_still_gets_a_key() -> None:
    f = Finding(claim="C", line=None, rule="NOPE-01", severity="info")
    (out,) = context([f], Knowledge.bundled())
    assert out.key == finding_key(f) and out.fix == ""


def test_a_rule_with_a_fix_text_in_data_uses_it(tmp_path: Path) -> None:
    g, knowledge = edited(tmp_path)
    g.remove((rule_iri("THER-02"), CG.fix, None))
    text = Literal("Write down the minutes, {service_date}.", lang="en")
    g.add((rule_iri("THER-02"), CG.fix, text))
    f = Finding(claim="C", line=1, rule="THER-02", severity="violation", service_date="2026-01-05")
    (out,) = context([f], knowledge())
    assert out.fix == "Write down the minutes, 2026-01-05."
