"""`--profile FILE`: a local view of the rule catalogue (after ROBOT's report profiles).

A profile changes a rule's severity or turns it off, for every payer or for one payer (or
payer category) only. The file is TOML:

```toml
name = "Aetna contract 2026"   # how the report names the profile (default: the file name)

[[rule]]
id = "OXY-08"
severity = "violation"         # violation, warning, info, or off (no findings at all)
payer = "aetna"                # optional: only findings on this payer's claims

[[rule]]
id = "NMR-03"
severity = "off"
```

For a finding, an entry for its payer wins over one for a category of it, which wins over an
entry without a payer. The report names the profile and lists its entries; the findings carry
the severity the profile gave them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ClaimgraphError
from ..findings import SEVERITIES, Finding

OFF = "off"
FIELDS = {"id", "severity", "payer"}


@dataclass(frozen=True)
class ProfileEntry:
    rule: str
    severity: str  # one of SEVERITIES or "off"
    payer: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "payer": self.payer}


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    entries: tuple[ProfileEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "entries": [e.as_dict() for e in self.entries],
        }


def load_profile(
    path: str | Path,
    known_rules: Iterable[str] | None = None,
    known_payers: Iterable[str] | None = None,
) -> Profile:
    """The profile of a TOML file, checked against the rule ids and payers when given."""
    from .tomlfile import check_keys, entries, load_toml

    doc = load_toml(path, "profile")
    extra = sorted(set(doc) - {"name", "rule"})
    if extra:
        raise ClaimgraphError("a profile holds a name and [[rule]] entries only", path=str(path))
    name = doc.get("name", Path(path).stem)
    if not isinstance(name, str) or not name.strip():
        raise ClaimgraphError("the profile's name must be text", path=str(path))
    rules = {r.upper() for r in known_rules} if known_rules is not None else None
    payers = {p.lower() for p in known_payers} if known_payers is not None else None
    out: list[ProfileEntry] = []
    seen: set[tuple[str, str | None]] = set()
    for n, item in enumerate(entries(doc, "rule", path, "profile"), start=1):
        where = f"profile entry {n}"
        check_keys(item, FIELDS, where, path)
        rule, severity, payer = item.get("id"), item.get("severity"), item.get("payer")
        if not isinstance(rule, str) or not rule.strip():
            raise ClaimgraphError(f"{where} needs id (a rule id)", path=str(path))
        rule = rule.strip().upper()
        if rules is not None and rule not in rules:
            raise ClaimgraphError(
                f"{where}: unknown rule id {rule}; `claimgraph rules` lists them", path=str(path)
            )
        if severity not in (*SEVERITIES, OFF):
            raise ClaimgraphError(
                f"{where}: severity must be one of {', '.join((*SEVERITIES, OFF))}",
                path=str(path),
            )
        if payer is not None:
            if not isinstance(payer, str) or not payer.strip():
                raise ClaimgraphError(f"{where}: payer must be a payer id", path=str(path))
            payer = payer.strip().lower()
            if payers is not None and payer not in payers:
                raise ClaimgraphError(
                    f"{where}: unknown payer; use one of {', '.join(sorted(payers))}",
                    path=str(path),
                )
        if (rule, payer) in seen:
            raise ClaimgraphError(f"{where} repeats an earlier entry's rule and payer",
                                  path=str(path))  # fmt: skip
        seen.add((rule, payer))
        out.append(ProfileEntry(rule=rule, severity=str(severity), payer=payer))
    return Profile(name=" ".join(name.split()), file=Path(path).name, entries=tuple(out))


def _entry_for(
    f: Finding,
    by_rule: Mapping[str, list[ProfileEntry]],
    categories: Mapping[str, AbstractSet[str]],
) -> ProfileEntry | None:
    best: tuple[int, ProfileEntry] | None = None
    payer = (f.payer or "").lower()
    for e in by_rule.get(f.rule, ()):
        if e.payer is None:
            rank = 0
        elif e.payer == payer:
            rank = 2
        elif payer and e.payer in categories.get(payer, set()):
            rank = 1
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, e)
    return best[1] if best else None


def apply_profile(
    findings: Iterable[Finding], profile: Profile, categories: Mapping[str, AbstractSet[str]]
) -> tuple[list[Finding], int, int]:
    """(the findings as the profile sees them, how many changed severity, how many it turned
    off). `categories`: payer -> itself and its categories (engine.common.payer_categories)."""
    by_rule: dict[str, list[ProfileEntry]] = {}
    for entry in profile.entries:
        by_rule.setdefault(entry.rule, []).append(entry)
    out, changed, dropped = [], 0, 0
    for f in findings:
        e = _entry_for(f, by_rule, categories)
        if e is None or e.severity == f.severity:
            out.append(f)
        elif e.severity == OFF:
            dropped += 1
        else:
            out.append(dataclasses.replace(f, severity=e.severity))
            changed += 1
    return out, changed, dropped


__all__ = ["OFF", "Profile", "ProfileEntry", "apply_profile", "load_profile"]
