"""Every Medicare coverage document a rule cites carries the version claimgraph follows and the
date it took effect, as the Medicare Coverage Database index and the NCD record give them; the
rule catalogue and the reports show both."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

from rdflib import URIRef

from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT
from claimgraph.report.catalogue import rule_rows

MCD_ID = re.compile(r"\b([LA]\d{5})\b")


def _cited_coverage_documents() -> dict[URIRef, str]:
    """Cited sources whose title names an LCD or article id (L33797, A52514 ...)."""
    g = Knowledge.bundled().graph
    out = {}
    for source in set(g.objects(None, DCT.source)):
        title = str(g.value(source, DCT.title) or "")
        if m := MCD_ID.search(title):
            out[source] = m.group(1)  # type: ignore[index]
    return out


def test_lcds_and_articles_carry_the_mcd_version_and_effective_date(shared_data: Path) -> None:
    index = shared_data / "cms-coverage" / "mcd_documents_latest_2025-08-17.csv"
    with index.open(encoding="utf-8", newline="") as f:
        rows = {r["document_display_id"]: r for r in csv.DictReader(f)}
    g = Knowledge.bundled().graph
    cited = _cited_coverage_documents()
    assert len(cited) >= 4
    for source, display_id in cited.items():
        row = rows[display_id]
        assert str(g.value(source, DCT.hasVersion)) == row["document_version"], display_id
        effective = dt.datetime.strptime(row["effective_date"], "%m/%d/%Y").date()
        assert g.value(source, CG.effectiveFrom).toPython() == effective, display_id


def test_ncd_240_2_carries_its_version_and_effective_date(shared_data: Path) -> None:
    ncd = json.loads((shared_data / "cms-coverage" / "ncd_240_2_home_use_of_oxygen.slice.json")
                     .read_text(encoding="utf-8"))  # fmt: skip
    g = Knowledge.bundled().graph
    source = URIRef("https://w3id.org/claimgraph/source/ncd-240-2")
    assert str(g.value(source, DCT.hasVersion)) == str(ncd["document_version"])
    effective = dt.datetime.strptime(ncd["effective_date"], "%m/%d/%Y").date()
    assert g.value(source, CG.effectiveFrom).toPython() == effective


def test_the_catalogue_cites_version_and_effective_date() -> None:
    columns, rows = rule_rows()
    source = {r[0]: r[columns.index("source")] for r in rows}
    assert "NCD) 240.2: Home Use of Oxygen, version 2, in force from 2021-09-27" in source["OXY-05"]
    assert "L33797: Oxygen and Oxygen Equipment, version 50, in force from 2023-04-01" in (
        source["OXY-01"])


def test_every_cited_coverage_policy_has_a_version_or_says_why_not() -> None:
    """A cited LCD, NCD or article carries its version and effective date, or an editorial
    note saying why the data this release was built from does not give them (NCD 160.12)."""
    from claimgraph.namespaces import SKOS

    g = Knowledge.bundled().graph
    cited = set(g.objects(None, DCT.source))
    policies = [s for s in cited
                if re.search(r"\(NCD\)|\b[LA]\d{5}\b", str(g.value(s, DCT.title) or ""))]
    assert len(policies) >= 5
    for source in policies:
        has = g.value(source, DCT.hasVersion) is not None and g.value(source, CG.effectiveFrom)
        assert has or g.value(source, SKOS.editorialNote) is not None, source
