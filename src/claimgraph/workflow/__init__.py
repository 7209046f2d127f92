"""The analyst's workflow around a validation run, as pure steps over findings:

- `profile`: a rule's severity changed or the rule turned off, per payer if wanted;
- `baseline`: only the findings a previous report did not have;
- `waivers`: findings accepted for a reason until a date, listed apart.

`load` reads and checks the files before anything runs; `apply` runs the steps on a result
(profile, then baseline, then waivers) and records in `result.run` what was applied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .baseline import Baseline, apply_baseline, load_baseline
from .profile import Profile, apply_profile, load_profile
from .waivers import WaiverSet, apply_waivers, load_waivers

if TYPE_CHECKING:
    from ..knowledge import Knowledge
    from ..validation import ValidationResult


@dataclass(frozen=True)
class Workflow:
    profile: Profile | None = None
    baseline: Baseline | None = None
    waivers: WaiverSet | None = None
    # payer -> its categories, of the Knowledge the files were checked against
    payer_categories: Mapping[str, AbstractSet[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.profile is None and self.baseline is None and self.waivers is None


def load(
    knowledge: Knowledge,
    profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
) -> Workflow:
    """Read and check the workflow files (rule ids and payers against `knowledge`'s rules)."""
    if profile is None and baseline is None and waivers is None:
        return Workflow()
    rules = list(knowledge.rulebook.rules)
    categories = knowledge.payer_categories
    return Workflow(
        profile=load_profile(profile, rules, categories) if profile else None,
        baseline=load_baseline(baseline) if baseline else None,
        waivers=load_waivers(waivers, rules) if waivers else None,
        payer_categories=categories,
    )


def apply(
    result: ValidationResult, workflow: Workflow, today: dt.date | None = None
) -> ValidationResult:
    """The result after the profile, the baseline and the waivers (a new result)."""
    if workflow.empty:
        return result
    findings = list(result.findings)
    run = dict(result.run)
    notices = list(result.notices)
    suppressed, waived = result.suppressed, list(result.waived)
    if workflow.profile is not None:
        findings, changed, dropped = apply_profile(
            findings, workflow.profile, workflow.payer_categories
        )
        run["profile"] = {**workflow.profile.as_dict(), "changed": changed, "turned_off": dropped}
    if workflow.baseline is not None:
        findings, n = apply_baseline(findings, workflow.baseline)
        suppressed += n
        run["baseline"] = {"file": workflow.baseline.file, "suppressed": n}
    if workflow.waivers is not None:
        day = today or dt.date.today()
        findings, now_waived, late = apply_waivers(findings, workflow.waivers, day)
        waived.extend(now_waived)
        notices.extend(late)
        run["waivers"] = {
            "file": workflow.waivers.file,
            "date": day.isoformat(),
            "waivers": [w.as_dict() for w in workflow.waivers.waivers],
            "waived": len(now_waived),
            "expired": sum(1 for w in workflow.waivers.waivers if w.expires < day),
        }
    return dataclasses.replace(
        result, findings=findings, run=run, notices=notices, suppressed=suppressed, waived=waived
    )


__all__ = ["Workflow", "apply", "load"]
