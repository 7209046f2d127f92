"""The report for people: findings grouped by claim and line, then the summary.

Wrapped to the terminal's width (else $COLUMNS, else 100) without breaking words, with colour
only on a terminal and never with NO_COLOR (claimgraph.console decides). Each finding shows its
severity, rule and rule name, message, fix, sources, and the rest of its context; the summary
counts by severity, rule, payer and file and states what the profile, the baseline and the
waivers did.
"""

from __future__ import annotations

from collections import Counter
from typing import IO, TYPE_CHECKING

from ..findings import SEVERITIES, Finding, SourceRef
from .records import NO_PAYER, plural, run_line, severity_counts_text, summary

if TYPE_CHECKING:
    from ..validation import ValidationResult

STYLES = {"violation": "bold red", "warning": "yellow", "info": "cyan"}
HEAD = 22  # width of the severity + rule column


def _source_text(s: SourceRef) -> str:
    text = s.title + (f", version {s.version}" if s.version else "")
    text += f", in force from {s.effective}" if s.effective else ""
    return text + (f" <{s.url}>" if s.url else "")


def finding_rows(f: Finding) -> list[tuple[str, str]]:
    """(label, text) rows of one finding under its headline; empty fields are left out."""
    rows = [("", f.message)]
    if f.fix:
        rows.append(("fix", f.fix))
    if f.hints:
        rows.append(("hints", ", ".join(f"{a} {v}" for a, v in f.hints)))
    if f.facts:
        rows.append(("facts", ", ".join(f"{n} {v}" for n, v in f.facts)))
    dates = " ".join(
        p for p in (f"from {f.effective_from}" if f.effective_from else "",
                    f"until {f.effective_until}" if f.effective_until else "") if p
    )  # fmt: skip
    if dates:
        rows.append(("rule in force", dates))
    denial = " ".join(
        x for x in (f.group_code and f"group {f.group_code}", f.carc and f"CARC {f.carc}",
                    f.rarc and f"RARC {f.rarc}") if x
    )  # fmt: skip
    if denial:
        rows.append(("likely denial", denial))
    if f.not_in_input:
        rows.append(("note", "rests on documentation this input format cannot carry"))
    if f.sources:
        rows.extend(("source", _source_text(s)) for s in f.sources)
    elif f.source:
        rows.append(("source", f.source))
    if f.key:
        rows.append(("key", f.key))
    return rows


class _Paint:
    """ANSI styles when colour is on (a terminal without NO_COLOR), nothing otherwise."""

    CODES = {"bold red": "1;31", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}

    def __init__(self, on: bool):
        self.on = on

    def __call__(self, text: str, style: str) -> str:
        code = self.CODES.get(style)
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and code and text else text


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Word-wrapped lines: words stay whole (only a word longer than a line is cut)."""
    import textwrap

    return textwrap.wrap(
        text,
        width=max(width, len(first) + 10),
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _claim_head(f: Finding, paint: _Paint, width: int) -> list[str]:
    """The claim's heading: its id, payer and where it came from, wrapped to `width`; for a
    finding about the file itself (claim None: an X12 envelope), the file."""
    if f.claim is None:  # about the file, or (no file) about the whole run
        return [paint(f"File {f.file}" if f.file else "The run", "bold")]
    head = f"Claim {f.claim}"
    where = ", ".join(x for x in (f.file, f.position) if x)
    extra = "  ".join(x for x in (f"payer {f.payer}" if f.payer else "", where) if x)
    if not extra:
        return [paint(head, "bold")]
    if len(head) + 2 + len(extra) <= width:
        return [paint(head, "bold") + paint("  " + extra, "dim")]
    return [paint(head, "bold")] + [paint(x, "dim") for x in _wrap(extra, width, "  ", "  ")]


def _line_head(f: Finding) -> str:
    if f.claim is None:  # about the file: where in it; about the run: every claim of it
        what = "the file itself" if f.file else "every claim checked"
        return "  " + "  ".join(p for p in (what, f.position or "") if p)
    where = "claim as a whole" if f.line is None else f"line {f.line}"
    parts = [where, f.code or "", f"service date {f.service_date}" if f.service_date else ""]
    return "  " + "  ".join(p for p in parts if p)


def _finding_lines(f: Finding, width: int, paint: _Paint) -> list[str]:
    """The headline (severity, rule, rule name), then each row under a hanging indent."""
    rows = finding_rows(f)
    indent = " " * (HEAD + 5)
    lead = f"    {f.severity.upper():<9} {f.rule}"
    lead = lead + " " * max(1, len(indent) - len(lead))
    title = f.rule_name or rows.pop(0)[1]
    first = _wrap(title, width, lead, indent)
    styled_lead = (
        "    "
        + paint(f"{f.severity.upper():<9}", STYLES.get(f.severity, ""))
        + " "
        + paint(f.rule, "bold")
        + lead[4 + 10 + len(f.rule) :]
    )
    out = [styled_lead + paint(first[0][len(lead) :], "bold" if f.rule_name else "")]
    out.extend(first[1:])
    for label, text in rows:
        prefix = f"{label}: " if label else ""
        lines = _wrap(prefix + text, width, indent, indent)
        if prefix:
            lines[0] = (
                indent + paint(prefix.rstrip(), "dim") + " " + lines[0][len(indent + prefix) :]
            )
        out.extend(lines)
    return out


def write_table(result: ValidationResult, out: IO[str], width: int | None = None) -> None:
    """Findings grouped by claim and line, the waived findings, then the summary."""
    import os

    from ..console import is_terminal, width_for

    w = width or width_for(out)
    paint = _Paint(is_terminal(out) and not os.environ.get("NO_COLOR"))
    lines: list[str] = []
    start = object()
    current_claim: object = start
    current_line: object = object()
    for f in result.findings:
        claim_id = (f.file, f.uid or f.claim) if f.claim is not None else (f.file, None)
        if claim_id != current_claim:
            if current_claim is not start:
                lines.append("")
            lines.extend(_claim_head(f, paint, w))
            current_claim, current_line = claim_id, object()
        here = (f.line, f.position) if f.claim is None else f.line
        if here != current_line:
            lines.append(_line_head(f))
            current_line = here
        lines.extend(_finding_lines(f, w, paint))
    if result.waived:
        lines += ["", paint(f"Waived ({len(result.waived)}):", "bold")]
        for item in result.waived:
            f, wv = item.finding, item.waiver
            where = "claim" if f.line is None else f"line {f.line}"
            what = f"claim {f.claim} {where}" if f.claim is not None else f"file {f.file}"
            text = (
                f"{f.severity} {f.rule} {what}: {wv.reason} "
                f"({wv.who}, until {wv.expires.isoformat()}; key {f.key})"
            )
            lines.extend(_wrap(text, w, "  ", "    "))
    if result.findings or result.waived:
        lines.append("")
    for line in summary_lines(result):
        lines.extend(_wrap(line, w, "", "  ") if not line.startswith("  ") else [line])
    out.write("\n".join(lines) + "\n")


def summary_lines(result: ValidationResult) -> list[str]:
    """The summary for people: counts, what the workflow steps did, the verdict."""
    s = summary(result)
    lines: list[str] = []
    if not result.findings:
        lines.append(f"{plural(result.claims, 'claim')} checked: no findings.")
    else:
        lines.append(
            f"{plural(result.claims, 'claim')} checked, {s['claims_with_findings']} with "
            f"findings ({s['claims_with_violations']} with violations): "
            + severity_counts_text(s["by_severity"])
            + "."
        )
        by_rule = Counter((f.rule, f.severity) for f in result.findings)
        lines.append("By rule:")
        for (rule, severity), n in sorted(
            by_rule.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]), kv[0][0])
        ):
            lines.append(f"  {rule:<11} {severity:<9} {n:>6}")
        payers = s["by_payer"]
        if set(payers) - {NO_PAYER}:
            lines.append("By payer: " + ", ".join(f"{p} {n}" for p, n in payers.items()))
        if len(s["by_file"]) > 1:
            lines.append("By file: " + ", ".join(f"{p} {n}" for p, n in s["by_file"].items()))
    run = result.run
    if "profile" in run:
        p = run["profile"]
        lines.append(
            f"Profile {p['name']} ({p['file']}): {p['changed']} finding(s) changed severity, "
            f"{p['turned_off']} turned off."
        )
    if "baseline" in run:
        b = run["baseline"]
        lines.append(f"Baseline {b['file']}: {b['suppressed']} known finding(s) suppressed.")
    if "waivers" in run:
        wv = run["waivers"]
        lines.append(f"Waivers {wv['file']}: {wv['waived']} finding(s) waived.")
    lines.extend(f"Note: {n}." for n in result.notices)
    if result.findings:
        verdict = "FAILED" if result.failed else "passed"
        threshold = (
            "never fails" if result.fail_on == "none" else f"fails on {result.fail_on} or worse"
        )
        lines.append(f"Result: {verdict} ({threshold}).")
        lines.append(
            "`claimgraph rules` lists every rule; each finding's source says where it is written."
        )
    if run:
        lines.append(run_line(run))
    return lines


__all__ = ["finding_rows", "summary_lines", "write_table"]
