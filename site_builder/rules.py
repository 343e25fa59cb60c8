"""rules.yaml: the appraisal procedure as data, checked on load like any other source.

Every number of the procedure (full marks, bands, commendation range, cap, cutoff day, weights, steps)
comes from here; Python only knows what the numbers mean.
"""

from __future__ import annotations

import decimal
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from site_builder import limits
from site_builder.diagnostics import Diagnostics, Pos, one_of
from site_builder.fields import Fields, as_id, as_number, as_text, label_text
from site_builder.yamltree import Mapping, Node, Sequence

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")  # BCP 47's shape: zh-CN, en, zh-Hant-TW
_TAG_HINT = "write a tag such as zh-CN or en (letters and digits, parts joined by `-`)"
# a language other than the default has its pages in a folder named after it, beside these
_SITE_FOLDERS = {"assets", "data", "inspectors", "periods", "records", "staff"}

# Points and rates are Decimals as written, and are only added, subtracted and compared (means are Fractions).
# Decimal's default context rounds every result to 28 digits, and a number may be written with more: `exact`
# runs a stage with a context that never rounds. (Numbers are plain digits, bounded by the file's size.)
EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)

# The contract's default (SPEC: "the month whose cutoff (rules.yaml, default day 25) ends it"): the seed's
# 26th-to-25th appraisal month, for a rules.yaml that does not say
DEFAULT_CUTOFF_DAY = 25


def exact(function):
    """`function`, run with Decimal arithmetic that never rounds."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        with decimal.localcontext(EXACT):
            return function(*args, **kwargs)
    return run


Label = dict  # language code -> text; "" is the text for every language


def pick(label: Label, language: str, default: str = "") -> str:
    """The label in `language` (or another of its kind: `zh` for `zh-CN`), else in the site's `default` language,
    else the language-neutral text, else any text."""
    if language in label:
        return label[language]
    base = language.split("-")[0]
    for lang, text in label.items():
        if lang.split("-")[0] == base:
            return text
    if default and default != language:
        return pick(label, default)
    return label.get("", next(iter(label.values()), ""))


@dataclass(frozen=True, slots=True)
class PointRange:
    low: Decimal
    high: Decimal

    def __contains__(self, value: Decimal) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(frozen=True, slots=True)
class Severity:
    key: str
    label: Label
    points: PointRange
    definition: Label
    shortfall: Decimal | None  # for rate bands: the least shortfall (percentage points) that gives this band


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    label: Label
    full: Decimal
    clause: str
    severities: tuple[str, ...]
    procedures: tuple[str, ...]
    rate: bool  # deducted by the shortfall of an actual rate against a required one (4.4.3, 4.4.9)


@dataclass(frozen=True, slots=True)
class Form:
    key: str  # the post it appraises
    code: str
    title: Label
    post: Label
    boxes: dict  # check-type box key -> label printed on the form
    items: dict  # item key -> Item, in form order

    @property
    def full(self) -> Decimal:
        with decimal.localcontext(EXACT):
            return sum((item.full for item in self.items.values()), Decimal(0))


@dataclass(frozen=True, slots=True)
class Role:
    key: str
    label: Label


@dataclass(frozen=True, slots=True)
class CheckType:
    key: str
    label: Label
    roles: tuple[str, ...]
    sheet: str  # the scored check type whose sheet its findings go on (itself when scored)
    weight: Decimal  # only for scored types
    required: bool  # at least one per staff member per period (4.5.1)
    box: str  # the box ticked on the printed form

    @property
    def scored(self) -> bool:
        return self.sheet == self.key


@dataclass(frozen=True, slots=True)
class Rules:
    document_code: str
    version: str
    company: str
    title: Label
    purpose: Label
    site_title: Label
    language: str
    languages: tuple[str, ...]
    roles: dict
    severities: dict
    forms: dict
    check_types: dict
    cutoff_day: int | None  # None: calendar months
    step: Decimal
    total_cap: Decimal
    decimals: int
    commendation: PointRange
    punishable_severities: tuple[str, ...]
    appeal_roles: tuple[str, ...]
    sign_off_roles: tuple[str, ...]
    adopted: date | None
    late_grace_days: int
    readings: tuple[Label, ...] = ()  # how the site reads the procedure's unclear clauses, for the rules page
    time_zone: timezone | None = None  # where commit dates are read (late entries, sign-offs); None: the committer's

    def deadline(self, period) -> date:
        """The collection deadline of a period (4.5.1): its last day and the grace days after it."""
        return period.end + timedelta(days=self.late_grace_days)

    def day_of(self, moment) -> date:
        """The calendar day of a commit's date (a datetime with its committer's offset) in the site's time zone."""
        return (moment.astimezone(self.time_zone) if self.time_zone is not None else moment).date()

    @property
    def scored_types(self) -> list[CheckType]:
        return [ct for ct in self.check_types.values() if ct.scored]

    @property
    def required_types(self) -> list[CheckType]:
        return [ct for ct in self.check_types.values() if ct.required]

    @property
    def item_keys(self) -> list[str]:
        """Every form's item keys, once each, in the order of the forms and their items (a heatmap's columns)."""
        return list(dict.fromkeys(key for form in self.forms.values() for key in form.items))


_UTC_OFFSET = re.compile(r"([+-])([0-9][0-9]?):([0-5][0-9])")


def _time_zone(provenance: Fields, diags: Diagnostics) -> timezone | None:
    """`time_zone: "+08:00"`: the UTC offset a commit's date is read in, so that a deadline is one moment for
    everyone (a committer's clock may say any offset)."""
    text = provenance.text("time_zone")
    matched = _UTC_OFFSET.fullmatch(text or "")
    if text is None:
        return None
    offset = timedelta(hours=int(matched[2]), minutes=int(matched[3])) if matched else None
    if offset is None or offset > timedelta(hours=14 if matched[1] == "+" else 12):
        diags.error(provenance.pos("time_zone"), "bad-rule", f"time_zone `{text}` is not a UTC offset",
                    'write it as "+08:00" (quoted), from "-12:00" to "+14:00"')
        return None
    return timezone(-offset if matched[1] == "-" else offset)


def _readings(node: Node | None, diags: Diagnostics) -> tuple[Label, ...]:
    """`document.readings`: a list of texts, each a label (one text per language, or one for all)."""
    if node is None:
        return ()
    if not isinstance(node, Sequence):
        diags.error(node.pos, "wrong-type", "`readings` must be a list of texts",
                    "write each reading on its own line starting with `- `")
        return ()
    return tuple(label_text(item, "reading", diags) for item in node.items)


def _range(node: Node | None, label: str, diags: Diagnostics) -> PointRange | None:
    if node is None:
        return None
    if not isinstance(node, Sequence) or len(node.items) != 2:
        diags.error(node.pos, "wrong-type", f"{label} must be a pair [lowest, highest], like [1, 2]")
        return None
    low = as_number(node.items[0], f"{label} lowest", diags)
    high = as_number(node.items[1], f"{label} highest", diags)
    if low is None or high is None:
        return None
    if not 0 <= low <= high:
        diags.error(node.pos, "bad-range", f"{label} [{low}, {high}] must have 0 ≤ lowest ≤ highest")
        return None
    return PointRange(low, high)


def _keys(node: Mapping | None, label: str, diags: Diagnostics,
          taken: frozenset[str] = frozenset()) -> list[tuple[str, Node]]:
    """The entries of a mapping whose keys are ids (roles, severities, items, check types); keys in `taken` (the
    data files' own column names, which these keys become columns beside) are refused."""
    if node is None:
        return []
    out = []
    for key, (key_node, value) in node.entries.items():
        if as_id(key_node, f"{label} key", diags) is None:
            continue
        if key in taken:
            diags.error(key_node.pos, "bad-rule", f"{label} key `{key}` is also the name of a column of the data "
                        "files it becomes a column of (a spreadsheet would mix the two up)",
                        f"choose another key; taken: {', '.join(sorted(taken))}")
            continue
        out.append((key, value))
    return out


# the columns of data/scores.csv and data/periods/*-items.csv beside those named after check types and items
_SCORE_COLUMNS = frozenset({"month", "status", "staff", "name", "base", "bonus", "total", "flags"})
_ITEM_COLUMNS = frozenset({"staff", "name"})


def _id_list(node: Node | None, label: str, known: dict, diags: Diagnostics,
             broken: frozenset = frozenset()) -> tuple[str, ...]:
    """Ids that must name entries of `known`; those in `broken` were already reported, so are skipped."""
    if node is None:
        return ()
    nodes = node.items if isinstance(node, Sequence) else (node,)
    out = []
    for item in nodes:
        key = as_id(item, label, diags)
        if key is None:
            continue
        if key in broken:
            continue
        if key not in known:
            diags.error(item.pos, "unknown-reference", f"{label} `{key}` is not defined",
                        f"defined: {one_of(known)}")
            continue
        out.append(key)
    return tuple(out)


def load_rules(node: Node | None, file: str, diags: Diagnostics) -> Rules | None:
    """Check and convert the parsed rules.yaml; None when it has errors (all reported)."""
    errors_before = len(diags.errors)
    if node is None:  # one message, not one per missing setting
        diags.error(Pos(file, 1, 1), "empty-file", f"{file} is empty",
                    "it holds every number of the procedure: start from the rules.yaml of site-builder's example "
                    "site and adapt it")
        return None
    top = Fields(node, "rules.yaml", diags, Pos(file, 1, 1), required={
        "document": "code, version and title of the procedure",
        "site": "title and languages of the site",
        "roles": "who may record checks",
        "severities": "the deduction bands",
        "forms": "the appraisal forms and their items",
        "check_types": "the kinds of check",
        "scoring": "steps, cap, rounding, commendations",
    }, optional={"appeals": "who decides appeals", "sign_off": "who publishes a period",
                 "provenance": "git provenance settings",
                 "period": f"how dates fall into appraisal periods (without it, day {DEFAULT_CUTOFF_DAY} ends each)"})

    doc = Fields(top.mapping("document"), "`document`", diags, top.pos("document"), section=True,
                 required={"code": "document code", "version": "version/revision"},
                 optional={"company": "company name", "title": "title", "purpose": "purpose",
                           "readings": "how the site reads the procedure's unclear clauses"})
    site = Fields(top.mapping("site"), "`site`", diags, top.pos("site"), section=True,
                  required={"language": "the default language"},
                  optional={"title": "site title", "languages": "every language built"})
    language, languages = _languages(site, diags)
    roles = _roles(top, diags)
    severities, points_at, broken_severities = _severities(top, diags)

    forms = {}
    form_nodes = _keys(top.mapping("forms"), "form", diags)
    form_at = {key: value.pos for key, value in form_nodes}
    for key, value in form_nodes:
        forms[key] = _load_form(key, value, severities, frozenset(broken_severities), diags)
    forms = {k: v for k, v in forms.items() if v is not None}
    if not form_nodes and isinstance(top.raw("forms"), Mapping):  # (a missing or wrong `forms` is said already)
        diags.error(top.pos("forms"), "missing-key", "rules.yaml defines no form", "add a form under `forms`")

    check_types = _check_types(top, roles, forms, diags)
    cutoff_day = _cutoff_day(top, diags)

    scoring = Fields(top.mapping("scoring"), "`scoring`", diags, top.pos("scoring"), section=True,
                     required={"step": "smallest step of points", "total_cap": "highest total",
                               "decimals": "decimals shown", "commendation": "[lowest, highest] points"},
                     optional={"punishable": "severities that may be marked punishable (4.5.5)"})
    step = scoring.number("step")
    if step is not None and step <= 0:
        diags.error(scoring.pos("step"), "bad-rule", "step must be above 0")
    total_cap = scoring.number("total_cap")
    if total_cap is not None and total_cap <= 0:
        diags.error(scoring.pos("total_cap"), "bad-rule", "total_cap must be above 0", "the procedure's is 100")
    decimals = scoring.integer("decimals")
    if decimals is not None and not 0 <= decimals <= 4:
        diags.error(scoring.pos("decimals"), "bad-rule", "decimals must be 0–4")
    commendation = _range(scoring.raw("commendation"), "commendation", diags)
    if step is not None and step > 0:
        for key, severity in severities.items():
            if lowest_on_step(severity.points, step) is None:
                diags.error(points_at[key], "bad-rule", f"no points of severity `{key}` ({severity.points}) are a "
                            f"multiple of the step {step}, so it can never be given",
                            "widen the band or change `scoring.step`")
    for key, form in forms.items():
        if form.full != 100:
            diags.warning(form_at[key], "form-not-100", f"the items of form `{key}` add up to {form.full}, not "
                          "100: its sheets are out of that, while the cap and the distribution count on 100",
                          "give its items full marks that add up to 100, unless that is meant")
    punishable = _id_list(scoring.raw("punishable"), "severity", severities, diags,
                          frozenset(broken_severities))

    appeals = Fields(top.mapping("appeals"), "`appeals`", diags, top.pos("appeals"), section=True,
                     required={"decided_by": "roles that decide appeals (4.6)"}) if top.has("appeals") else None
    sign_off = Fields(top.mapping("sign_off"), "`sign_off`", diags, top.pos("sign_off"), section=True,
                      required={"roles": "roles that sign a period off"}) if top.has("sign_off") else None
    appeal_roles = _id_list(appeals.raw("decided_by"), "role", roles, diags) if appeals else ()
    sign_off_roles = _id_list(sign_off.raw("roles"), "role", roles, diags) if sign_off else ()
    adopted, late_grace_days, time_zone = _provenance(top, diags)
    readings = _readings(doc.raw("readings"), diags)
    if len(diags.errors) > errors_before or not top.ok:
        return None
    return Rules(
        document_code=doc.text("code") or "", version=doc.text("version") or "",
        company=doc.text("company") if doc.has("company") else "",
        title=label_text(doc.raw("title"), "title", diags),
        purpose=label_text(doc.raw("purpose"), "purpose", diags),
        site_title=label_text(site.raw("title"), "title", diags),
        language=language, languages=languages, roles=roles, severities=severities, forms=forms,
        check_types=check_types, cutoff_day=cutoff_day, step=step,
        total_cap=total_cap, decimals=decimals or 0,
        commendation=commendation, punishable_severities=punishable,
        appeal_roles=appeal_roles, sign_off_roles=sign_off_roles, adopted=adopted,
        late_grace_days=late_grace_days, readings=readings, time_zone=time_zone,
    )


def _languages(site: Fields, diags: Diagnostics) -> tuple[str, tuple[str, ...]]:
    """The default language and every language the site is built in."""
    language = site.text("language") or "zh-CN"
    if not _LANGUAGE_TAG.fullmatch(language):
        diags.error(site.pos("language"), "bad-rule", f"`{language}` is not a language tag", _TAG_HINT)
    languages = []
    for node in site.items("languages"):
        tag = as_text(node, "`languages` entry", diags) or ""
        if not _LANGUAGE_TAG.fullmatch(tag):  # pages of other languages go in a folder named after it
            diags.error(node.pos, "bad-rule", f"`{tag}` is not a language tag", _TAG_HINT)
        elif tag.lower() in _SITE_FOLDERS:
            diags.error(node.pos, "bad-rule", f"`{tag}` is the name of a folder of the site, not a language",
                        _TAG_HINT)
        elif tag.lower() in (known.lower() for known in languages):
            diags.error(node.pos, "bad-rule", f"language `{tag}` is listed twice (letter case aside)",
                        "list each language once")
        else:
            languages.append(tag)
    languages = tuple(languages) or (language,)
    if language not in languages:
        diags.error(site.pos("language"), "unknown-reference",
                    f"default language `{language}` is not in `languages`", "add it to `languages`")
    return language, languages


def _roles(top: Fields, diags: Diagnostics) -> dict[str, Role]:
    roles = {}
    for key, value in _keys(top.mapping("roles"), "role", diags):
        f = Fields(value, f"role `{key}`", diags, value.pos, required={"label": "the role's name"})
        roles[key] = Role(key, label_text(f.raw("label"), f"role `{key}` label", diags))
    return roles


def _severities(top: Fields, diags: Diagnostics) -> tuple[dict[str, Severity], dict[str, Pos], set[str]]:
    """The deduction bands; where each one's points are written; the keys of those that could not be read."""
    severities = {}
    shortfalls: dict[Decimal, str] = {}  # threshold -> the rate band that starts there
    points_at: dict[str, Pos] = {}
    broken_severities = set()
    for key, value in _keys(top.mapping("severities"), "severity", diags):
        f = Fields(value, f"severity `{key}`", diags, value.pos,
                   required={"label": "its name", "points": "[lowest, highest] points per occurrence"},
                   optional={"definition": "what it means (4.5.3)",
                             "shortfall": "least rate shortfall, in percentage points, for this band"})
        points = _range(f.raw("points"), f"severity `{key}` points", diags)
        points_at[key] = f.pos("points")
        shortfall = f.number("shortfall") if f.has("shortfall") else None
        if shortfall is not None and not 0 <= shortfall <= 100:
            diags.error(f.pos("shortfall"), "bad-rule", f"shortfall {shortfall} is not 0–100 percentage points",
                        "give the least shortfall of actual against required rate that falls in this band")
            shortfall = None
        elif shortfall is not None and shortfall in shortfalls:
            diags.error(f.pos("shortfall"), "bad-rule", f"severities `{shortfalls[shortfall]}` and `{key}` both "
                        f"start at a shortfall of {shortfall}, so one of them can never be given",
                        "give each rate band a threshold of its own")
        elif shortfall is not None:
            shortfalls[shortfall] = key
        if points is None:
            broken_severities.add(key)
        else:
            severities[key] = Severity(key, label_text(f.raw("label"), "label", diags), points,
                                       label_text(f.raw("definition"), "definition", diags), shortfall)
    return severities, points_at, broken_severities


def _check_types(top: Fields, roles: dict[str, Role], forms: dict[str, Form],
                 diags: Diagnostics) -> dict[str, CheckType]:
    """The kinds of check: who may record each, and the sheet it is scored on (its own, or another's)."""
    all_boxes = {box for form in forms.values() for box in form.boxes}
    type_nodes = _keys(top.mapping("check_types"), "check type", diags, _SCORE_COLUMNS)
    check_types = {}
    toward_pos = {}
    for key, value in type_nodes:
        f = Fields(value, f"check type `{key}`", diags, value.pos,
                   required={"label": "its name", "roles": "roles that may record it"},
                   optional={"weight": "weight of its sheet (scored types)",
                             "required": "true when every staff member needs one each period",
                             "counts_toward": "the scored check type whose sheet its findings go on",
                             "box": "the check-type box it ticks on the form"})
        toward = f.ident("counts_toward") if f.has("counts_toward") else None
        toward_pos[key] = f.pos("counts_toward")
        if toward == key:
            diags.error(f.pos("counts_toward"), "bad-rule", f"check type `{key}` counts toward itself",
                        "give it a `weight` for a sheet of its own, or name another, scored check type")
        weight = f.number("weight") if f.has("weight") else None
        if toward is None and weight is None and f.ok and not f.has("counts_toward") and not f.has("weight"):
            diags.error(value.pos, "missing-key", f"check type `{key}` needs `weight` (it is scored) "
                        "or `counts_toward` (its findings go on another sheet)")
        if toward is not None and weight is not None:
            diags.error(f.pos("weight"), "bad-rule", f"check type `{key}` counts toward `{toward}`, "
                        "so it has no sheet and no weight", "remove `weight`")
        if weight is not None and weight <= 0:
            diags.error(f.pos("weight"), "bad-rule", "a sheet weight must be above 0")
        box = f.ident("box") if f.has("box") else ""
        if box and box not in all_boxes:
            diags.error(f.pos("box"), "unknown-reference", f"box `{box}` is on no form",
                        f"forms have: {one_of(sorted(all_boxes))}")
        may_record = _id_list(f.raw("roles"), "role", roles, diags)
        if f.has("roles") and isinstance(f.raw("roles"), Sequence) and not f.raw("roles").items:
            diags.error(f.pos("roles"), "bad-rule", f"no role may record check type `{key}`",
                        f"name the roles that record it: {one_of(roles)}")
        check_types[key] = CheckType(
            key, label_text(f.raw("label"), "label", diags),
            may_record,
            toward or key, weight if weight is not None else Decimal(0),
            bool(f.boolean("required")) if f.has("required") else False, box or "")
    for key, ct in check_types.items():
        if not ct.scored:
            target = check_types.get(ct.sheet)
            if target is None or not target.scored:
                diags.error(toward_pos[key], "unknown-reference", f"check type `{key}` counts toward `{ct.sheet}`, "
                            "which is not a scored check type",
                            f"scored types: {one_of(k for k, c in check_types.items() if c.scored)}")
    if not type_nodes and isinstance(top.raw("check_types"), Mapping):
        diags.error(top.pos("check_types"), "missing-key", "rules.yaml defines no check type",
                    "add the kinds of check under `check_types`")
    if check_types and not any(ct.scored for ct in check_types.values()):
        diags.error(top.pos("check_types"), "bad-rule", "no check type is scored", "give one a `weight`")
    return check_types


def _provenance(top: Fields, diags: Diagnostics) -> tuple[date | None, int, timezone | None]:
    """How git is read: the day it became the record of truth, the grace days after a period's cutoff, and the
    time zone commit dates are read in."""
    if not top.has("provenance"):
        return None, 0, None
    provenance = Fields(top.mapping("provenance"), "`provenance`", diags, top.pos("provenance"), section=True,
                        required={}, optional={"adopted": "date git became the record of truth",
                                               "late_grace_days": "days after the cutoff a record may still be "
                                                                  "committed",
                                               "time_zone": "the UTC offset commit dates are read in, \"+08:00\""})
    adopted = provenance.optional_date("adopted")
    late_grace_days = (provenance.integer("late_grace_days") or 0) if provenance.has("late_grace_days") else 0
    if late_grace_days < 0:
        diags.error(provenance.pos("late_grace_days"), "bad-rule", "late_grace_days cannot be negative",
                    "give the days after the cutoff a record may still be committed: 0 or more")
    elif late_grace_days > limits.MAX_GRACE_DAYS:
        diags.error(provenance.pos("late_grace_days"), "bad-rule", f"late_grace_days {late_grace_days} is more "
                    "than a year after the period", "give the days after the cutoff a record may still be committed")
        late_grace_days = 0
    time_zone = _time_zone(provenance, diags) if provenance.has("time_zone") else None
    return adopted, late_grace_days, time_zone


def _cutoff_day(top: Fields, diags: Diagnostics) -> int | None:
    """The day that ends each period; None for calendar months (`end`)."""
    period = Fields(top.mapping("period"), "`period`", diags, top.pos("period"), section=True, required={},
                    optional={"cutoff_day": "last day of each period (1–28), or `end` for calendar months "
                              f"(day {DEFAULT_CUTOFF_DAY} when not given)"})
    cutoff_day = DEFAULT_CUTOFF_DAY if period.raw("cutoff_day") is None else None
    cutoff = period.raw("cutoff_day")
    if cutoff is not None and not (getattr(cutoff, "text", None) == "end"):
        if getattr(cutoff, "kind", "int") != "int":
            text = getattr(cutoff, "text", "")
            diags.error(period.pos("cutoff_day"), "bad-rule", f"cutoff_day `{text}` is neither a day nor `end`",
                        f"remove the quotes: cutoff_day: {text}" if text.isdigit() else
                        "write a day 1–28, or `end` for calendar months")
            cutoff = None
    if cutoff is not None and not (getattr(cutoff, "text", None) == "end"):
        cutoff_day = period.integer("cutoff_day")
        if cutoff_day is not None and not 1 <= cutoff_day <= 28:
            diags.error(period.pos("cutoff_day"), "bad-rule", f"cutoff_day {cutoff_day} must be 1–28 or `end`",
                        "every month has a 28th; use `end` for calendar months")
    return cutoff_day


def lowest_on_step(points: PointRange, step: Decimal) -> Fraction | None:
    """The least multiple of `step` in the band, or None when there is none."""
    low, size = Fraction(points.low), Fraction(step)
    lowest = -(-low // size) * size
    return lowest if lowest <= points.high else None


def _load_form(key: str, node: Node, severities: dict, broken: frozenset, diags: Diagnostics) -> Form | None:
    f = Fields(node, f"form `{key}`", diags, node.pos,
               required={"code": "form code", "items": "the items appraised"},
               optional={"title": "form title", "post": "the post's name", "boxes": "check-type boxes"})
    items = {}
    for item_key, value in _keys(f.mapping("items"), "item", diags, _ITEM_COLUMNS):
        i = Fields(value, f"item `{item_key}`", diags, value.pos,
                   required={"label": "the item's name", "full": "full marks", "severities": "bands allowed"},
                   optional={"clause": "clause of the procedure", "procedures": "procedures it cites",
                             "rate": "true for items deducted by a rate shortfall"})
        full = i.number("full")
        if full is not None and full <= 0:
            diags.error(i.pos("full"), "bad-rule", "full marks must be above 0")
        rate = bool(i.boolean("rate")) if i.has("rate") else False
        allowed = _id_list(i.raw("severities"), "severity", severities, diags, broken)
        if len(set(allowed)) != len(allowed):
            diags.error(i.pos("severities"), "bad-rule", f"item `{item_key}` lists a severity twice",
                        "list each band once")
        elif i.has("severities") and not allowed and isinstance(i.raw("severities"), Sequence) \
                and not i.raw("severities").items:
            diags.error(i.pos("severities"), "bad-rule", f"item `{item_key}` allows no severity, so nothing "
                        "can ever be deducted on it", f"list its bands: {one_of(severities)}")
        if rate and not any(severities[s].shortfall is not None for s in allowed):
            diags.error(i.pos("rate"), "bad-rule", f"rate item `{item_key}` allows no band with a `shortfall`")
        items[item_key] = Item(
            item_key, label_text(i.raw("label"), "label", diags), full or Decimal(0),
            i.text("clause") if i.has("clause") else "", allowed,
            tuple(as_text(n, "procedure", diags) or "" for n in i.items("procedures")), rate)
    boxes = {k: label_text(v, f"box `{k}`", diags) for k, v in _keys(f.mapping("boxes"), "box", diags)}
    if not f.ok:
        return None
    return Form(key, f.text("code") or "", label_text(f.raw("title"), "title", diags),
                label_text(f.raw("post"), "post", diags), boxes, items)
