"""`--waivers FILE`: findings someone accepted, for a reason, until a date.

The file is TOML, one `[[waiver]]` table per waiver:

```toml
[[waiver]]
rule = "OXY-08"            # a rule id ...
claim = "CLM-20*"          # ... on the claims matching this pattern (* and ?; default: every claim)
reason = "Contract 2026-114: no prior authorization for portable concentrators"
who = "j.smith"
expires = 2026-12-31       # the last day it applies (a TOML date or "YYYY-MM-DD")

[[waiver]]
key = "3f2a9c0d11e4b6a7"   # or one finding, by its key
reason = "..."
who = "..."
expires = 2026-06-30
```

A waived finding leaves the report's findings (and the exit status) and is listed apart with
the waiver's reason, who and expiry. A waiver past its expiry no longer applies: its findings
are reported as usual and the report says that it expired.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ClaimgraphError
from ..findings import Finding

FIELDS = {"key", "rule", "claim", "reason", "who", "expires"}


@dataclass(frozen=True)
class Waiver:
    number: int  # its place in the file, 1-based
    reason: str
    who: str
    expires: dt.date
    key: str | None = None
    rule: str | None = None
    claim: str = "*"

    def covers(self, f: Finding) -> bool:
        if self.key is not None:
            return f.key == self.key
        return f.rule == self.rule and fnmatch.fnmatchcase(f.claim or "", self.claim)

    @property
    def target(self) -> str:
        """What it waives, in words (for notices)."""
        if self.key is not None:
            return f"finding {self.key}"
        return f"{self.rule} on claims {self.claim}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "rule": self.rule,
            "claim": None if self.key is not None else self.claim,
            "reason": self.reason,
            "who": self.who,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class Waived:
    """A finding and the waiver that covers it."""

    finding: Finding
    waiver: Waiver


@dataclass(frozen=True)
class WaiverSet:
    file: str
    waivers: tuple[Waiver, ...]


def _date(value: Any, where: str, path: str | Path) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ClaimgraphError(f"{where}: expires must be a date (YYYY-MM-DD)", path=str(path))


def _text(item: dict[str, Any], name: str, where: str, path: str | Path) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ClaimgraphError(f"{where} needs {name} (text)", path=str(path))
    return " ".join(value.split())


def load_waivers(path: str | Path, known_rules: Iterable[str] | None = None) -> WaiverSet:
    """The waivers of a TOML file, checked (rule ids against `known_rules` when given)."""
    from .tomlfile import check_keys, entries, load_toml

    doc = load_toml(path, "waivers file")
    extra = sorted(set(doc) - {"waiver"})
    if extra:
        raise ClaimgraphError("the waivers file holds only [[waiver]] entries", path=str(path))
    known = {r.upper() for r in known_rules} if known_rules is not None else None
    out = []
    for n, item in enumerate(entries(doc, "waiver", path, "waivers file"), start=1):
        where = f"waiver {n}"
        check_keys(item, FIELDS, where, path)
        key = item.get("key")
        rule = item.get("rule")
        if (key is None) == (rule is None):
            raise ClaimgraphError(f"{where} needs either key or rule", path=str(path))
        if key is not None and (not isinstance(key, str) or not key.strip()):
            raise ClaimgraphError(f"{where}: key must be a finding key (text)", path=str(path))
        if "claim" in item and key is not None:
            raise ClaimgraphError(f"{where}: claim goes with rule, not with key", path=str(path))
        if rule is not None:
            if not isinstance(rule, str) or not rule.strip():
                raise ClaimgraphError(f"{where}: rule must be a rule id", path=str(path))
            rule = rule.strip().upper()
            if known is not None and rule not in known:
                raise ClaimgraphError(
                    f"{where}: unknown rule id {rule}; `claimgraph rules` lists them",
                    path=str(path),
                )
        claim = item.get("claim", "*")
        if not isinstance(claim, str) or not claim:
            raise ClaimgraphError(f"{where}: claim must be a claim id pattern", path=str(path))
        out.append(
            Waiver(
                number=n,
                reason=_text(item, "reason", where, path),
                who=_text(item, "who", where, path),
                expires=_date(item.get("expires"), where, path),
                key=key.strip() if isinstance(key, str) else None,
                rule=rule,
                claim=claim,
            )
        )
    return WaiverSet(file=Path(path).name, waivers=tuple(out))


def apply_waivers(
    findings: Iterable[Finding], waivers: WaiverSet, today: dt.date
) -> tuple[list[Finding], list[Waived], list[str]]:
    """(open findings, waived findings, notices): the first waiver in force that covers a
    finding waives it; a waiver past its expiry waives nothing and gets a notice saying so."""
    active = [w for w in waivers.waivers if w.expires >= today]
    expired = [w for w in waivers.waivers if w.expires < today]
    open_, waived = [], []
    late: dict[int, int] = {}
    for f in findings:
        w = next((w for w in active if w.covers(f)), None)
        if w is not None:
            waived.append(Waived(f, w))
            continue
        for old in expired:
            if old.covers(f):
                late[old.number] = late.get(old.number, 0) + 1
        open_.append(f)
    notices = [
        f"waiver {w.number} of {waivers.file} ({w.target}) expired on {w.expires.isoformat()} "
        f"and no longer applies" + (f": {late[w.number]} finding(s) it covered are reported"
                                    if w.number in late else "")
        for w in expired
    ]  # fmt: skip
    return open_, waived, notices


__all__ = ["Waived", "Waiver", "WaiverSet", "apply_waivers", "load_waivers"]
