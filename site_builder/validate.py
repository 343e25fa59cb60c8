"""Validate stage: parsed sources + rules → the typed `Site`, and a diagnostic for every problem.

All problems are reported in one run. A document that fails is left out of the Site, and documents that
point at it (an appeal on a broken record) are not blamed for it a second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from site_builder.diagnostics import Diagnostics, Pos, did_you_mean, one_of
from site_builder.fields import Fields, as_text
from site_builder.model import DECISIONS, Appeal, Commendation, Finding, Inspector, Record, SignOff, Site, Staff
from site_builder.periods import months_between, period, period_of
from site_builder.read import RESERVED_NAMES, Source, processing
from site_builder.rules import EXACT, Rules, exact, load_rules, pick
from site_builder.yamltree import Scalar, kind_words
from site_builder import limits



@dataclass(frozen=True, slots=True)
class Context:
    """What every document is validated against: rules.yaml and the roster of people.yaml."""

    rules: Rules
    staff: dict  # id -> Staff, in people.yaml order
    inspectors: dict  # id -> Inspector


def validate_site(sources: list[Source], diags: Diagnostics) -> Site | None:
    """The whole site, or None when rules.yaml or people.yaml cannot be used."""
    context = validate_context(sources, diags)
    if context is None:
        return None
    records, broken = {}, set()
    for source in sources:
        if source.kind == "record":
            record = validate_record_source(source, context, diags)
            if record is None:
                broken.add(source.doc_id)
            else:
                records[record.id] = record
    return validate_documents(context, records, broken, sources, diags)


def validate_context(sources: list[Source], diags: Diagnostics) -> Context | None:
    """rules.yaml and people.yaml among `sources`, or None when either cannot be used."""
    rules = None
    for source in sources:
        if source.kind == "rules" and source.readable:
            with processing(source.path):
                rules = load_rules(source.meta, source.path, diags)
    if rules is None:
        return None
    staff, inspectors = {}, {}
    people_ok = False
    for source in sources:
        if source.kind == "people" and source.readable:
            with processing(source.path):
                people_ok = validate_people(source, rules, diags, staff, inspectors)
    return Context(rules, staff, inspectors) if people_ok else None


def validate_record_source(source: Source, context: Context, diags: Diagnostics) -> Record | None:
    """One record file on its own (everything that needs only it and the context)."""
    if not source.readable:
        return None
    with processing(source.path):
        return validate_record(source, context.rules, context.staff, context.inspectors, diags)


def validate_documents(context: Context, records: dict[str, Record], broken_records: set[str],
                       sources: list[Source], diags: Diagnostics) -> Site:
    """The Site from validated records and the appeal and sign-off sources, which refer to records and
    periods (an appeal on a broken record is not blamed for it a second time)."""
    rules, inspectors = context.rules, context.inspectors
    appeals: dict[tuple[str, str], Appeal] = {}
    for source in sources:
        if source.kind == "appeal" and source.readable:
            with processing(source.path):
                appeal = validate_appeal(source, rules, records, broken_records, inspectors, diags)
            if appeal is None:
                continue
            key = (appeal.record, appeal.finding)
            if key in appeals:
                where = source.meta.get("finding").pos  # the line that names the finding, not the file
                diags.error(where, "duplicate-appeal", f"finding {appeal.finding} of `{appeal.record}` "
                            f"is already appealed in `{appeals[key].path}`",
                            "one appeal per finding: record the new decision in that file")
                continue
            appeals[key] = appeal

    sign_offs: dict[str, SignOff] = {}
    for source in sources:
        if source.kind == "month" and source.readable:
            with processing(source.path):
                sign_off = validate_sign_off(source, rules, inspectors, diags)
            if sign_off is not None:
                sign_offs[sign_off.month] = sign_off
    _sign_offs_ahead(sign_offs, records, rules, diags)
    _records_apart(records, rules, diags)

    return Site(rules, context.staff, inspectors, dict(sorted(records.items())), dict(sorted(appeals.items())),
                dict(sorted(sign_offs.items())))


def _sign_offs_ahead(sign_offs: dict[str, SignOff], records: dict[str, Record], rules: Rules,
                     diags: Diagnostics) -> None:
    """A sign-off months after the last record's period (a mistyped year, say) lists every period up to it,
    each with everyone unscored: said, not refused (an empty month may be signed off on purpose)."""
    if not records:
        return
    last = max(period_of(record.date, rules.cutoff_day).key for record in records.values())
    for month, sign_off in sign_offs.items():
        ahead = months_between(last, month)
        if ahead > 1:
            diags.warning(Pos(sign_off.path, 1, 1), "sign-off-ahead", f"period {month} is signed off {ahead} "
                          f"months after the last period with a record ({last}); every period up to it is listed, "
                          "with everyone unscored", "check the month (and year) of the sign-off")


# what the quality department may write in Chinese for each decision (4.6)
_DECISION_WORDS = {"待定": "pending", "待处理": "pending", "处理中": "pending", "未决": "pending",
                   "驳回": "upheld", "维持": "upheld", "维持原判": "upheld", "不予支持": "upheld",
                   "撤销": "overturned", "申诉成立": "overturned", "取消": "overturned",
                   "减轻": "reduced", "核减": "reduced", "减少": "reduced", "部分成立": "reduced"}


def _short(number) -> str:
    """A number as written, or its first and last digits when it is too long to read in a message."""
    text = str(number)
    return text if len(text) <= 24 else f"{text[:10]}…{text[-6:]} ({len(text)} characters)"


APART_MONTHS = 3  # more empty periods than this between a record and all the others: a mistyped year, most likely


def _records_apart(records: dict[str, Record], rules: Rules, diags: Diagnostics) -> None:
    """The records of the first or last period, when that period is months away from every other period with a
    record (2062 for 2026, say): every period between is listed, with everyone unscored. Said, not refused."""
    by_period: dict[str, list[Record]] = {}
    for record in records.values():
        by_period.setdefault(period_of(record.date, rules.cutoff_day).key, []).append(record)
    keys = sorted(by_period)
    if len(keys) < 2:
        return

    ends = [(keys[-1], keys[-2], "after"), (keys[0], keys[1], "before")]
    if len(keys) == 2:  # one gap: the side with fewer records is the odd one (the later, when as many)
        ends = [min(ends, key=lambda end: len(by_period[end[0]]))]
    for alone, other, side in ends:
        apart = abs(months_between(other, alone))
        if apart > APART_MONTHS + 1:
            for record in sorted(by_period[alone], key=lambda r: r.path):
                diags.warning(Pos(record.path, 1, 1), "record-apart", f"its period, {alone}, is {apart} months "
                              f"{side} any other period with a record ({other}); every period between is listed, "
                              "with everyone unscored", "check the year of the record's date")


def validate_people(source: Source, rules: Rules, diags: Diagnostics, staff: dict, inspectors: dict) -> bool:
    """Fill `staff` and `inspectors`; False when the roster has errors."""
    errors = len(diags.errors)
    top = Fields(source.meta, "people.yaml", diags, source.pos,
                 required={"staff": "the staff appraised", "inspectors": "who records checks"})
    first: dict[tuple[str, str], int] = {}  # (list, id) -> line of its first entry, valid or not
    folded: dict[tuple[str, str], str] = {}  # (list, id in lower case) -> the id as first written
    for node in top.items("staff"):
        f = Fields(node, "a staff entry", diags, node.pos,
                   required={"id": "a unique id such as S001", "name": "the person's name",
                             "post": f"their post: {one_of(rules.forms)}"},
                   optional={"joined": "first day employed", "left": "last day employed"})
        person_id, name, post = f.ident("id", naming=True), _name(f, diags), f.ident("post")
        if post is not None and post not in rules.forms:
            diags.error(f.pos("post"), "unknown-reference", f"post `{post}` has no form in rules.yaml"
                        f"{did_you_mean(post, rules.forms)}", f"posts: {one_of(rules.forms)}")
            post = None
        joined, left = f.optional_date("joined"), f.optional_date("left")
        if joined and left and left < joined:
            diags.error(f.pos("left"), "bad-date", f"`left` {left} is before `joined` {joined}")
        if not _first_entry("staff", person_id, f.pos("id"), first, folded, diags):
            continue
        if None not in (person_id, name, post):
            staff[person_id] = Staff(person_id, name, post, joined, left)
    for node in top.items("inspectors"):
        f = Fields(node, "an inspector entry", diags, node.pos,
                   required={"id": "a unique id such as I01", "name": "the person's name",
                             "role": f"their role: {one_of(rules.roles)}"},
                   optional={"git_emails": "emails they commit with"})
        person_id, name, role = f.ident("id", naming=True), _name(f, diags), f.ident("role")
        if role is not None and role not in rules.roles:
            diags.error(f.pos("role"), "unknown-reference", f"role `{role}` is not in rules.yaml"
                        f"{did_you_mean(role, rules.roles)}", f"roles: {one_of(rules.roles)}")
            role = None
        emails = tuple(as_text(n, "`git_emails` entry", diags) or "" for n in f.items("git_emails"))
        if not _first_entry("inspectors", person_id, f.pos("id"), first, folded, diags):
            continue
        if None not in (person_id, name, role):
            inspectors[person_id] = Inspector(person_id, name, role, tuple(e.lower() for e in emails))
    return len(diags.errors) == errors


_LINE_BREAKS = re.compile(r"[\n\r\x85\u2028\u2029]")


def _name(f: Fields, diags: Diagnostics) -> str | None:
    """A person's name, on one line: it heads forms and tables, and goes into the comments of the
    skeletons `new` writes."""
    name = f.text("name")
    if name is not None and _LINE_BREAKS.search(name):
        diags.error(f.pos("name"), "bad-name", "a name must be one line", "remove the line break from the name")
        return None
    return name


def _first_entry(kind: str, person_id: str | None, pos: Pos, first: dict, folded: dict,
                 diags: Diagnostics) -> bool:
    """False (reported) when the id is already listed, or differs from a listed one only in letter case."""
    if (kind, person_id) in first:
        word = "staff" if kind == "staff" else "inspector"
        diags.error(pos, "duplicate-id", f"{word} id `{person_id}` is listed twice "
                    f"(lines {first[kind, person_id]} and {pos.line})", "give each person one entry")
        return False
    if _case_twin(kind, person_id, pos, folded, diags):
        return False
    if person_id is not None and person_id.lower() in RESERVED_NAMES:
        diags.error(pos, "bad-id", f"`{person_id}` names a device on Windows, so the pages named after this "
                    "person could not be opened or copied there", f"choose another id, such as {person_id}1")
        return False
    if person_id is not None:
        first[kind, person_id] = pos.line
    return True


def _case_twin(kind: str, person_id: str | None, pos: Pos, folded: dict, diags: Diagnostics) -> bool:
    """True (reported) when the id differs from an earlier one only in letter case: on Windows and macOS
    both would be written to the same page."""
    if person_id is None:
        return False
    twin = folded.setdefault((kind, person_id.lower()), person_id)
    if twin == person_id:
        return False
    diags.error(pos, "duplicate-id", f"id `{person_id}` differs from `{twin}` only in letter case, so both "
                "would get the same page", "give each person an id of their own")
    return True


def _step_hint(value: Decimal, step: Decimal, band=None) -> str:
    """The multiples of the step on either side of `value` (those inside `band`, when one is), written out in
    full: never rounded to 28 digits, never as 1E-32."""
    with localcontext(EXACT):
        below = int(Fraction(value) // Fraction(step))
        options = [below * step, (below + 1) * step]
        if band is not None:
            options = [x for x in options if band.low <= x <= band.high] or options
        return f"points go in steps of {step.normalize():f}: " + " or ".join(f"{x.normalize():f}" for x in options)


def _on_step(value: Decimal, step: Decimal) -> bool:
    return Fraction(value) % Fraction(step) == 0  # exact: Decimal's % fails on numbers beyond its precision


def _check_step(pos: Pos, points: Decimal, step: Decimal, diags: Diagnostics, band=None) -> None:
    """Points (of a finding, a commendation or a reduction) go in the rules' steps: said the same way for each."""
    if not _on_step(points, step):
        diags.error(pos, "points-step", f"points {_short(points)} is not a multiple of {step.normalize():f}",
                    _step_hint(points, step, band))


def validate_record(source: Source, rules: Rules, staff: dict, inspectors: dict,
                    diags: Diagnostics) -> Record | None:
    errors = len(diags.errors)
    f = Fields(source.meta, "the record", diags, source.pos,
               required={"type": f"the check type: {one_of(rules.check_types)}",
                         "date": "the inspection date, YYYY-MM-DD",
                         "inspector": "the inspector's id from people.yaml",
                         "staff": "the id, or list of ids, of everyone checked"},
               optional={"findings": "the deductions", "commendations": "the commendations (4.5.4)"})
    if not f.ok:
        return None
    check_type = f.ident("type")
    if check_type is not None and check_type not in rules.check_types:
        diags.error(f.pos("type"), "unknown-reference", f"check type `{check_type}` is not in rules.yaml"
                    f"{did_you_mean(check_type, rules.check_types)}",
                    f"check types: {one_of(rules.check_types)}")
        check_type = None
    day = f.date("date")
    inspector_id = f.ident("inspector")
    inspector = inspectors.get(inspector_id)
    if inspector_id is not None and inspector is None:
        diags.error(f.pos("inspector"), "unknown-reference", f"inspector `{inspector_id}` is not in people.yaml"
                    f"{did_you_mean(inspector_id, inspectors)}", "add them under `inspectors:`")
    if inspector and check_type and inspector.role not in rules.check_types[check_type].roles:
        allowed = rules.check_types[check_type].roles
        diags.error(f.pos("inspector"), "role-not-allowed",
                    f"inspector `{inspector.id}` is {pick(rules.roles[inspector.role].label, 'en')} "
                    f"(`{inspector.role}`), who may not record `{check_type}`",
                    f"`{check_type}` is recorded by: {one_of(allowed)}; if `{inspector.id}`'s role has changed "
                    "since, keep that id with the role they had (their records stay theirs) and list them again "
                    "under a new id for the new role")

    checked: list[str] = []
    listed = f.idents("staff")  # read once: each reading reports the bad entries again
    for person_id, pos in listed:
        person = staff.get(person_id)
        if person is None:
            diags.error(pos, "unknown-reference", f"staff `{person_id}` is not in people.yaml"
                        f"{did_you_mean(person_id, staff)}", "add them under `staff:` or fix the id")
        elif person_id in checked:
            diags.error(pos, "duplicate-id", f"staff `{person_id}` is listed twice")
        elif person_id == inspector_id:
            diags.error(pos, "self-inspection", f"`{person_id}` cannot inspect themselves",
                        "another inspector must record this check")
        elif day and not person.employed(day, day):
            diags.error(pos, "not-employed", f"`{person_id}` was not employed on {day} "
                        f"(joined {person.joined or '—'}, left {person.left or '—'})",
                        "check the date, or `joined`/`left` in people.yaml")
        else:
            checked.append(person_id)
    if f.has("staff") and not listed and not len(diags.errors) > errors:
        diags.error(f.pos("staff"), "empty-value", "`staff` lists nobody", "list everyone checked")

    findings = _findings(f, rules, staff, checked, diags)
    commendations = _commendations(f, rules, checked, diags)
    if len(diags.errors) > errors or None in (check_type, day, inspector_id):
        return None
    return Record(source.doc_id, source.path, check_type, day, inspector_id, tuple(checked),
                  tuple(findings), tuple(commendations), source.body, source.body_line)


def _staff_of(entry: Fields, what: str, checked: list[str], diags: Diagnostics) -> str | None:
    """The staff member an entry is about: its `staff`, or the record's only staff member."""
    if not entry.has("staff"):
        if len(checked) == 1:
            return checked[0]
        if checked:
            diags.error(entry.node.pos, "missing-key", f"{what} has no `staff`, and the record checks "
                        f"several people", f"add `staff:` with one of {one_of(checked)}")
        return None
    person_id = entry.ident("staff")
    if person_id is not None and person_id not in checked:
        others = f", or use one of {one_of(checked)}" if checked else ""  # (none left: each was refused)
        diags.error(entry.pos("staff"), "staff-not-checked", f"{what} names `{person_id}`, who is not in "
                    "this record's `staff`", f"add `{person_id}` to `staff`{others}")
        return None
    return person_id


def _band_hint(rules: Rules, item, severity: str, points, chosen: bool) -> str:
    """What to write for points outside their band: the severity of the item whose band holds them, if the
    severity was chosen (a rate finding's follows from its rates); past every band of the item, one finding per
    occurrence (4.4: deductions are per occurrence)."""
    band = rules.severities[severity].points
    fits = [key for key in item.severities if chosen and key != severity and rules.severities[key].shortfall is None
            and points in rules.severities[key].points]
    if fits:
        other = rules.severities[fits[0]]
        return f"give {band.low} to {band.high} points, or choose severity {other.key} ({other.points})"
    if all(points > rules.severities[key].points.high for key in item.severities):
        return (f"give {band.low} to {band.high} points: a finding is one occurrence (4.4), so several occurrences "
                "are several findings")
    return f"give {band.low} to {band.high} points, or choose another severity"


def _findings(f: Fields, rules: Rules, staff: dict, checked: list[str], diags: Diagnostics) -> list[Finding]:
    nodes = f.items("findings")
    if len(nodes) > limits.MAX_FINDINGS_PER_RECORD:
        diags.error(f.pos("findings"), "too-many-findings", f"more than {limits.MAX_FINDINGS_PER_RECORD} "
                    "findings in one record", "split the inspection into several records")
        return []
    findings, ids = [], {}
    for position, node in enumerate(nodes, start=1):
        what = f"finding {position}"
        e = Fields(node, what, diags, node.pos,
                   required={"item": "the form item, such as a", "points": "the deduction",
                             "note": "what was seen"},
                   optional={"staff": "who it is about", "severity": "the band",
                             "procedure": "the procedure breached", "punishable": "4.5.5 case",
                             "id": "a stable id", "required_rate": "required rate, %",
                             "actual_rate": "actual rate, %"})
        if not e.ok:
            continue
        errors = len(diags.errors)
        finding_id = e.ident("id", naming=True) if e.has("id") else str(position)
        if finding_id is not None and finding_id in ids:  # (an id that is not one was reported already)
            diags.error(e.pos("id"), "duplicate-id", f"finding id `{finding_id}` is used twice in this record "
                        f"(findings {ids[finding_id]} and {position})", "give each finding its own id")
        if finding_id is not None:
            ids[finding_id] = position
        person = _staff_of(e, what, checked, diags)
        form = rules.forms[staff[person].post] if person else None
        item_key = e.ident("item")
        item = form.items.get(item_key) if form and item_key else None
        if form and item_key and item is None:
            diags.error(e.pos("item"), "unknown-reference", f"item `{item_key}` is not on form {form.code}"
                        f"{did_you_mean(item_key, form.items)}", f"items: {one_of(form.items)}")
        points = e.number("points")
        note = e.text("note")
        severity = _severity(e, rules, item, diags) if item else None
        if severity and points is not None:
            band = rules.severities[severity].points
            if points not in band:
                diags.error(e.pos("points"), "points-outside-band",
                            f"points {_short(points)} outside band {severity} {band} of item {item.key}",
                            _band_hint(rules, item, severity, points, e.has("severity")))
            else:
                _check_step(e.pos("points"), points, rules.step, diags, band)
        procedure = e.text("procedure") if e.has("procedure") else ""
        if procedure and item:
            procedure = procedure.strip().removeprefix("《").removesuffix("》")
            if procedure not in item.procedures:
                cited = one_of(item.procedures) if item.procedures else "none"
                diags.error(e.pos("procedure"), "unknown-procedure",
                            f"item {item.key} does not cite the procedure `{procedure}`",
                            f"procedures item {item.key} cites: {cited}")
        punishable = bool(e.boolean("punishable")) if e.has("punishable") else False
        if punishable and severity and severity not in rules.punishable_severities:
            which = f"only {one_of(rules.punishable_severities)} findings can" if rules.punishable_severities \
                else "rules.yaml lets no finding"
            diags.error(e.pos("punishable"), "punishable-severity", f"{which} be punishable (4.5.5), not {severity}",
                        "raise the severity, or remove `punishable`")
        if len(diags.errors) == errors and None not in (person, item, severity, points, note):
            findings.append(Finding(finding_id, position, person, item.key, severity, points, note, procedure,
                                    punishable, e.number("required_rate") if e.has("required_rate") else None,
                                    e.number("actual_rate") if e.has("actual_rate") else None, node.pos))
    return findings


@exact
def _severity(e: Fields, rules: Rules, item, diags: Diagnostics) -> str | None:
    """The finding's band: as written, or (rate items) derived from the shortfall, and consistent with it."""
    claimed = e.ident("severity") if e.has("severity") else None
    if claimed is not None and claimed not in item.severities:
        diags.error(e.pos("severity"), "severity-not-allowed", f"severity `{claimed}` is not allowed on item "
                    f"{item.key}{did_you_mean(claimed, item.severities)}",
                    f"item {item.key} allows: {one_of(item.severities)}")
        return None
    has_rates = e.has("required_rate") or e.has("actual_rate")
    if not item.rate:
        if has_rates:
            diags.error(e.pos("required_rate" if e.has("required_rate") else "actual_rate"), "rate-not-allowed",
                        f"item {item.key} is not a rate item, so it takes no rates", "remove the rates")
            return None
        if claimed is None and e.ok and not e.has("severity"):
            diags.error(e.node.pos, "missing-key", "the finding has no `severity`",
                        f"item {item.key} allows: {one_of(item.severities)}")
        return claimed
    rate_bands = sorted((rules.severities[s] for s in item.severities if rules.severities[s].shortfall is not None),
                        key=lambda s: s.shortfall)
    if not has_rates:
        if claimed is None or rules.severities[claimed].shortfall is not None:
            diags.error(e.node.pos, "missing-rates", f"item {item.key} is a rate item: give `required_rate` "
                        "and `actual_rate`", "the band follows from how far the actual rate falls short")
            return None
        return claimed
    required, actual = e.number("required_rate"), e.number("actual_rate")
    if not (e.has("required_rate") and e.has("actual_rate")):
        diags.error(e.node.pos, "missing-rates", "give both `required_rate` and `actual_rate`")
        return None
    if required is None or actual is None:
        return None
    for key, value in (("required_rate", required), ("actual_rate", actual)):
        if not 0 <= value <= 100:
            diags.error(e.pos(key), "bad-rate", f"`{key}` {value} is not a percentage 0–100")
            return None
    shortfall = required - actual
    derived = None
    for band in rate_bands:
        if shortfall >= band.shortfall:
            derived = band.key
    if derived is None:
        diags.error(e.pos("actual_rate"), "no-rate-deduction",
                    f"shortfall {shortfall} percentage points ({required} − {actual}) is below "
                    f"{rate_bands[0].shortfall}: no deduction under item {item.key}",
                    f"rates are percentages: write {(required * 100).normalize():f} for {required}, "
                    f"{(actual * 100).normalize():f} for {actual}"
                    if 0 < required <= 1 and actual <= 1 else "remove the finding, or check the rates")
        return None
    if claimed is None:
        return derived
    if rules.severities[claimed].shortfall is not None and claimed != derived:
        diags.error(e.pos("severity"), "rate-band-mismatch",
                    f"shortfall {shortfall} percentage points gives band `{derived}`, not `{claimed}`",
                    f"write severity: {derived}, or omit severity to let the rates decide")
        return None
    return claimed


def _commendations(f: Fields, rules: Rules, checked: list[str], diags: Diagnostics) -> list[Commendation]:
    out = []
    for position, node in enumerate(f.items("commendations"), start=1):
        what = f"commendation {position}"
        e = Fields(node, what, diags, node.pos, required={"points": "points added", "reason": "why"},
                   optional={"staff": "who is commended"})
        if not e.ok:
            continue
        errors = len(diags.errors)
        person = _staff_of(e, what, checked, diags)
        points, reason = e.number("points"), e.text("reason")
        if points is not None and points not in rules.commendation:
            diags.error(e.pos("points"), "commendation-outside-range",
                        f"commendation of {points} points is outside {rules.commendation} (4.5.4)",
                        f"give {rules.commendation.low} to {rules.commendation.high} points")
        elif points is not None:
            _check_step(e.pos("points"), points, rules.step, diags)
        if len(diags.errors) == errors and None not in (person, points, reason):
            out.append(Commendation(person, points, reason, node.pos))
    return out


def validate_appeal(source: Source, rules: Rules, records: dict, broken: set, inspectors: dict,
                    diags: Diagnostics) -> Appeal | None:
    errors = len(diags.errors)
    f = Fields(source.meta, "the appeal", diags, source.pos,
               required={"record": "the record's id (its path under content/records, without .md)",
                         "finding": "the finding's id or position", "filed": "date the appeal was filed"},
               optional={"decision": one_of(DECISIONS), "points": "the new deduction, with reduced",
                         "decided": "date of the decision", "decided_by": "the deciding inspector's id"})
    if not f.ok:
        return None
    record_id = f.text("record")
    if record_id is not None:
        record_id = record_id.strip().removesuffix(".md").removeprefix("content/records/")
    record = records.get(record_id)
    if record_id is not None and record is None and record_id not in broken:
        diags.error(f.pos("record"), "unknown-reference", f"no record `{record_id}`"
                    f"{did_you_mean(record_id, records)}",
                    "the id is the record's path under content/records without `.md`")
    finding = _appealed_finding(f.raw("finding"), record, record_id, diags)
    filed = f.date("filed")
    if filed and record and filed < record.date:
        diags.error(f.pos("filed"), "bad-date", f"filed {filed}, before the record's date {record.date}",
                    "an appeal is filed after the inspection: check both dates")
    decision = f.text("decision") if f.has("decision") else "pending"
    if decision is not None and decision not in DECISIONS:
        meant = _DECISION_WORDS.get(decision.strip())
        diags.error(f.pos("decision"), "unknown-reference", f"decision `{decision}` is not one of "
                    f"{one_of(DECISIONS)}{did_you_mean(decision, DECISIONS)}",
                    f"write `{meant}` for {decision.strip()}" if meant else
                    "pending (not decided yet), upheld (the deduction stands), overturned (it is withdrawn) or "
                    "reduced (with the new `points`)")
        decision = None
    points = decided = decided_by = None
    if decision == "pending":
        for key in ("points", "decided", "decided_by"):
            if f.has(key):
                diags.error(f.pos(key), "pending-with-decision", f"a pending appeal has no `{key}`",
                            f"set `decision:` to {one_of(DECISIONS[1:])}, or remove `{key}`")
    elif decision is not None:
        decided, decided_by = f.date("decided"), f.ident("decided_by")
        for key in ("decided", "decided_by"):
            if not f.has(key):
                diags.error(f.pos("decision"), "missing-key", f"a decided appeal needs `{key}`",
                            "give the date of the decision and the deciding quality department inspector's id"
                            if key == "decided" else "give the id of the quality department inspector who decided it")
        if decided and filed and decided < filed:
            diags.error(f.pos("decided"), "bad-date", f"decided {decided}, before it was filed {filed}",
                        "an appeal is decided after it is filed: check both dates")
        judge = inspectors.get(decided_by)
        if decided_by is not None and judge is None:
            diags.error(f.pos("decided_by"), "unknown-reference", f"inspector `{decided_by}` is not in people.yaml")
        elif judge is not None and judge.role not in rules.appeal_roles:
            hint = f"appeals are decided by: {one_of(rules.appeal_roles)}" if rules.appeal_roles else \
                "rules.yaml names no role that decides appeals: add `appeals: {decided_by: [qa]}` to it"
            diags.error(f.pos("decided_by"), "role-not-allowed", f"`{decided_by}` ({judge.role}) may not decide "
                        "appeals (4.6)", hint)
        if decision == "reduced":
            if not f.has("points"):
                diags.error(f.pos("decision"), "missing-key", "a reduced appeal needs `points`: the new deduction")
            else:
                points = f.number("points")
                if points is not None and finding is not None and not 0 < points < finding.points:
                    diags.error(f.pos("points"), "bad-reduction", f"reduced points {points} must be above 0 and "
                                f"below the original {finding.points}",
                                "use overturned to remove it entirely, or upheld to keep it as it is"
                                if points <= 0 else f"give fewer than {finding.points} points, or decide upheld")
                elif points is not None:
                    _check_step(f.pos("points"), points, rules.step, diags)
        elif f.has("points"):
            diags.error(f.pos("points"), "points-without-reduction", "`points` only goes with `reduced`",
                        "remove `points`, or set `decision: reduced`")
    if len(diags.errors) > errors or record is None or finding is None or filed is None or decision is None:
        return None
    if decided_by is not None and decided_by == record.inspector:
        diags.warning(f.pos("decided_by"), "own-finding-appeal", f"`{decided_by}` decided an appeal against "
                      "their own finding", "a colleague from the same role should decide it")
    elif decided_by is not None and decided_by == finding.staff:  # (an id may be in both lists)
        diags.warning(f.pos("decided_by"), "own-finding-appeal", f"`{decided_by}` decided an appeal against a "
                      "finding about themselves", "a colleague from the quality department should decide it")
    return Appeal(source.doc_id, source.path, record.id, finding.id, filed, decision, points, decided,
                  decided_by, source.body)


def _appealed_finding(node, record: Record | None, record_id: str | None, diags: Diagnostics) -> Finding | None:
    """The finding an appeal's `finding:` names in its record, by position (a plain number) or by id; None,
    said, when it names none or two."""
    finding = None
    if isinstance(node, Scalar) and (node.kind == "null" or not node.text.strip()):
        diags.error(node.pos, "empty-value", "`finding` is empty", "write the finding's id or its position, like 1")
    elif isinstance(node, Scalar) and node.kind != "str" and not (node.kind == "int" and
                                                                re.fullmatch("0|[1-9][0-9]*", node.text)):
        # (`yes` is a boolean and `007` an octal 7 to YAML: as an `id:` in a record, both are refused)
        diags.error(node.pos, "id-not-text", f"`finding` `{node.text}` is read by YAML as {kind_words(node.kind)}, "
                    "not as a finding's id or position", f"quote an id: '{node.text}'; a position is a plain "
                    "number, like 1")
    elif record is not None and isinstance(node, Scalar):
        by_id = next((x for x in record.findings if x.id == node.text), None)
        if node.kind == "int" and node.text.isdigit():
            position = int(node.text) if len(node.text) <= 9 else 0  # (a longer one is no position: none)
            finding = next((x for x in record.findings if x.position == position), None) or by_id
            if by_id is not None and by_id is not finding:  # `id: "2"` on one finding, another in position 2
                diags.error(node.pos, "ambiguous-finding", f"`{node.text}` is the position of one finding of "
                            f"`{record_id}` and the `id:` of another (finding {by_id.position})",
                            f"write the id quoted (`finding: \"{node.text}\"`) for that one; better, give the "
                            "record's findings ids that are not numbers")
                finding = None
        else:
            finding = by_id
        if finding is None and by_id is None:
            quoted = node.kind == "str" and re.fullmatch("[0-9]{1,9}", node.text) is not None \
                and len(record.findings) >= int(node.text) > 0
            diags.error(node.pos, "unknown-reference", f"record `{record_id}` has no finding `{node.text}`",
                        (f"a position is written as a number (`finding: {node.text}`); " if quoted else "") +
                        f"its findings' ids: {one_of(x.id for x in record.findings) or 'none'}")
    elif node is not None and not isinstance(node, Scalar):
        diags.error(node.pos, "wrong-type", "`finding` must be one finding's id or position",
                    "write one id or position, like `finding: 1`")
    return finding


def validate_sign_off(source: Source, rules: Rules, inspectors: dict, diags: Diagnostics) -> SignOff | None:
    errors = len(diags.errors)
    f = Fields(source.meta, "the sign-off", diags, source.pos,
               required={"month": "the period, YYYY-MM", "closed": "date it was signed off",
                         "closed_by": "the signing inspector's id"})
    if not f.ok:
        return None
    month, closed, closed_by = f.month("month"), f.date("closed"), f.ident("closed_by")
    if month is not None:
        key = f"{month[0]:04d}-{month[1]:02d}"
        if source.doc_id != key:
            diags.error(f.pos("month"), "month-file-name", f"month {key} is in the file `{source.doc_id}.md`",
                        f"name the file content/months/{key}.md")
        end = period(month[0], month[1], rules.cutoff_day).end
        if closed and closed < end:
            diags.error(f.pos("closed"), "bad-date", f"period {key} ends on {end}; it cannot be signed off "
                        f"on {closed}")
    judge = inspectors.get(closed_by)
    if closed_by is not None and judge is None:
        diags.error(f.pos("closed_by"), "unknown-reference", f"inspector `{closed_by}` is not in people.yaml")
    elif judge is not None and judge.role not in rules.sign_off_roles:
        hint = f"sign-offs are made by: {one_of(rules.sign_off_roles)}" if rules.sign_off_roles else \
            "rules.yaml names no role that signs periods off: add `sign_off: {roles: [qa]}` to it"
        diags.error(f.pos("closed_by"), "role-not-allowed", f"`{closed_by}` ({judge.role}) may not sign a "
                    "period off", hint)
    if len(diags.errors) > errors or None in (month, closed, closed_by):
        return None
    return SignOff(key, source.path, closed, closed_by, source.body)
