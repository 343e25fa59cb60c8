"""`new`: a record skeleton an inspector fills in, valid as written, with the form's items in comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from site_builder.diagnostics import Diagnostics, did_you_mean
from site_builder.model import Site
from site_builder.read import FOLDERS, read_context, read_source
from site_builder.rules import lowest_on_step, pick
from site_builder.validate import validate_context, validate_record_source
from site_builder.yamltree import as_text


def request_problem(site: Site, check_type: str, staff: list[str], inspector: str, day: date) -> str:
    """Why `new` cannot write this record (what `check` would refuse), or "" when it can."""
    rules = site.rules
    if check_type not in rules.check_types:
        return (f"unknown check type `{check_type}`{did_you_mean(check_type, rules.check_types)} "
                f"(check types: {', '.join(rules.check_types)})")
    twice = next((person for n, person in enumerate(staff) if person in staff[:n]), None)
    if twice is not None:
        return f"staff `{twice}` is given twice: give each staff member once"
    for person in staff:
        if person not in site.staff and "," in person and all(p.strip() in site.staff for p in person.split(",")):
            listed = " ".join(f"--staff {p.strip()}" for p in person.split(","))
            return f"give each staff member a --staff of their own: {listed}"
        if person not in site.staff:
            return f"unknown staff `{person}`{did_you_mean(person, site.staff)}"
        if not site.staff[person].employed(day, day):
            joined, left = site.staff[person].joined, site.staff[person].left
            return (f"`{person}` is not employed on {day} (joined {joined or '—'}, left {left or '—'}): give a "
                    "--date within their employment, or correct `joined`/`left` in people.yaml")
    who = site.inspectors.get(inspector)
    if who is None:
        return f"unknown inspector `{inspector}`{did_you_mean(inspector, site.inspectors)}"
    allowed = rules.check_types[check_type].roles
    if who.role not in allowed:
        return f"`{inspector}` ({who.role}) may not record `{check_type}`; it is recorded by: {', '.join(allowed)}"
    if inspector in staff:
        return f"`{inspector}` cannot inspect themselves"
    return ""


def record_path(check_type: str, staff: list[str], day: date) -> str:
    """content/records/YYYY/MM/<date>-<type>-<staff>.md (a long list of staff is shortened)."""
    who = "-".join(staff) if len(staff) <= 3 else f"{staff[0]}-and-{len(staff) - 1}-more"
    return f"content/records/{day:%Y/%m}/{day.isoformat()}-{check_type}-{who}.md"


def _bands(site: Site, item) -> str:
    rules = site.rules
    parts = []
    for key in item.severities:
        severity = rules.severities[key]
        condition = f" (shortfall ≥ {severity.shortfall})" if severity.shortfall is not None else ""
        parts.append(f"{key} {severity.points}{condition}")
    return ", ".join(parts)


def _example_finding(site: Site, staff: list[str]) -> list[str]:
    """Commented lines showing a finding on the first staff member's form: its first item that is not a rate
    item, the first band the item allows, and the least points of that band on the step."""
    rules = site.rules
    form = rules.forms[site.staff[staff[0]].post]
    item = next((i for i in form.items.values() if not i.rate and i.severities), None)
    if item is None:
        return []
    band = rules.severities[item.severities[0]]
    lowest = lowest_on_step(band.points, rules.step)  # (rules.yaml is refused when a band has none)
    least = Decimal(lowest.numerator) / lowest.denominator
    return ["# To record findings, replace `findings: []` with a list such as:", "# findings:",
            f"#   - item: {as_text(item.key)}",
            *([f"#     staff: {as_text(staff[0])}"] if len(staff) > 1 else []),
            f"#     severity: {band.key}", f"#     points: {least.normalize():f}", "#     note: what you saw"]


def skeleton(site: Site, check_type: str, staff: list[str], inspector: str, day: date) -> str:
    rules = site.rules
    language = rules.language
    ct = rules.check_types[check_type]
    names = ", ".join(site.staff[s].name for s in staff)
    lines = [
        "---",
        f"type: {check_type}    # {pick(ct.label, language)}",
        f"date: {day.isoformat()}",
        f"inspector: {as_text(inspector)}    # {site.inspectors[inspector].name}",
        f"staff: [{', '.join(as_text(s) for s in staff)}]    # {names}",
        "findings: []",
        *_example_finding(site, staff),
    ]
    forms = {site.staff[s].post for s in staff}
    for form_key in sorted(forms):
        form = rules.forms[form_key]
        post = pick(form.post, language)
        lines.append(f"# Items of form {form.code}{f' ({post})' if post else ''} and the bands they allow:")
        for item in form.items.values():
            extra = "; give required_rate and actual_rate" if item.rate else ""
            cites = f"; procedures: {', '.join(item.procedures)}" if item.procedures else ""
            lines.append(f"#   {item.key}  {pick(item.label, language)} — {_bands(site, item)}{extra}{cites}")
    lines += [
        "commendations: []",
        f"# A commendation (4.5.4): - {{staff: {as_text(staff[0])}, points: {rules.commendation.low}, reason: …}}"
        f" ({rules.commendation} points)",
        "---",
        "What was checked, where, and what was seen.",
        "",
    ]
    return "\n".join(lines)


def skeleton_problem(root: Path, path: str, text: str) -> str:
    """What `check` would refuse in the skeleton `text` if it were the record at `path`, or "": it is
    validated as every record is, so a skeleton `new` writes is valid as written."""
    diags = Diagnostics()
    context = validate_context(read_context(root, diags), diags)
    if context is None:
        return diags.errors[0].message if diags.errors else "rules.yaml or people.yaml is unusable"
    doc_id = path[len(FOLDERS["record"]) + 1:-len(".md")]
    source = read_source(root, path, "record", doc_id, diags, text.encode("utf-8"))
    validate_record_source(source, context, diags)
    return diags.errors[0].message if diags.errors else ""


def write_new(root: Path, path: str, text: str) -> Path:
    """Write the skeleton at `path`; FileExistsError if a record is already there."""
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    with open(full, "x", encoding="utf-8") as handle:
        handle.write(text)
    return full
