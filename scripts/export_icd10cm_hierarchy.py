"""Export the ICD-10-CM chapters, blocks and the block of every category, once, from the CDC
tabular list (XML) into src/claimgraph/_icd/icd10cm_hierarchy.tsv (read by
claimgraph.icd.hierarchy). The release history has no chapters or blocks; they change rarely,
so a small table exported once serves at run time.

    python scripts/export_icd10cm_hierarchy.py TABULAR.xml

TABULAR.xml: the CDC NCHS "ICD-10-CM Tabular List" XML of a release, e.g.
icd10cm-tabular-2026.xml from the CDC ICD-10-CM files, or the copy the simple-icd-10-cm package
ships (simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml). Rows (tab-separated, after '#'
comment lines), sorted:

    block     <range>   <chapter number>  <title>
    category  <code>    <block range>
    chapter   <number>  <range>  <title>
"""

from __future__ import annotations

import hashlib
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "claimgraph" / "_icd" / "icd10cm_hierarchy.tsv"
_RANGE = re.compile(r"\s*\(([A-Z][0-9A-Z]{2}(?:-[A-Z][0-9A-Z]{2})?)\)\s*$")


def _split(description: str) -> tuple[str, str]:
    """'Intestinal infectious diseases (A00-A09)' -> ('A00-A09', 'Intestinal ...')."""
    m = _RANGE.search(description)
    if not m:
        raise SystemExit(f"no code range in {description!r}")
    return m[1], " ".join(description[: m.start()].split())


def rows(root: ET.Element) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for chapter in root.iter("chapter"):
        number = f"{int(chapter.findtext('name', '')):02d}"
        rng, title = _split(chapter.findtext("desc", ""))
        out.append(("chapter", number, rng, title))
        for section in chapter.findall("section"):
            block = section.get("id", "")
            rng_b, title_b = _split(section.findtext("desc", ""))
            if rng_b != block:
                raise SystemExit(f"section {block} has the range {rng_b}")
            out.append(("block", block, number, title_b))
            for diag in section.findall("diag"):
                out.append(("category", diag.findtext("name", ""), block))
    return sorted(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    xml = Path(argv[0])
    blob = xml.read_bytes()
    root = ET.fromstring(blob)
    table = rows(root)
    head = [
        "# ICD-10-CM chapters, blocks and the block of each category.",
        f"# Source: CDC NCHS ICD-10-CM Tabular List, version {root.findtext('version', '?')}"
        f" ({xml.name}, sha256 {hashlib.sha256(blob).hexdigest()[:16]}), public domain.",
        "# Exported by scripts/export_icd10cm_hierarchy.py.",
    ]
    text = "\n".join(head + ["\t".join(r) for r in table]) + "\n"
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT}: {len(table)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
