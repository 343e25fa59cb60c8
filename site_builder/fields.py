"""Typed reading of YAML nodes: text, ids, dates, exact numbers, yes/no, lists of ids.

Each reader returns the value, or None after recording a diagnostic that names the key, the value as
written, what YAML made of it and how to write it instead. YAML 1.1's traps (`yes` read as true, `0012`
as a number, `1:20` as 80, `.nan`) are reported here, once, for every document kind.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from decimal import Decimal

from site_builder import limits
from site_builder.diagnostics import Diagnostics, Pos, did_you_mean, one_of
from site_builder.yamltree import (DIRECTION_CHARS, YAML11_LETTER_BOOLEAN, YAML12_NUMBER, Mapping, Node, Scalar,
                                   Sequence, kind_words)

# the contract's pattern; an id may start with `-` (`new --staff=-S1` then; CSV cells so starting are guarded)
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only (`\d` is any script's: ２０２６)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]+")


def _shape(node: Node) -> str:
    if isinstance(node, Mapping):
        return "a mapping of keys"
    if isinstance(node, Sequence):
        return "a list"
    return f"`{node.text}`"


class Fields:
    """The keys of one YAML mapping, checked against what the document kind allows.

    `required` and `optional` map each allowed key to a short description used in messages. Unknown and
    missing keys are reported on construction; the typed getters report wrong values.
    """

    def __init__(self, node: Node | None, what: str, diags: Diagnostics, pos: Pos,
                 required: dict[str, str], optional: dict[str, str] | None = None, section: bool = False):
        """With `section` (a part of a larger mapping), a missing node is not asked for its keys: whatever
        holds it has said that it is missing or not a mapping."""
        self.diags = diags
        self.what = what
        optional = optional or {}
        self.ok = isinstance(node, Mapping)
        self.node: Mapping = node if isinstance(node, Mapping) else Mapping({}, pos)
        if node is not None and not isinstance(node, Mapping):
            empty = isinstance(node, Scalar) and node.kind == "null"
            diags.error(node.pos, "wrong-type", f"{what} is empty" if empty else
                        f"{what} must be a mapping of `key: value` lines, not {_shape(node)}",
                        f"expected keys: {one_of({**required, **(optional or {})})}"
                        + (", each on a line of its own below it, indented" if empty else ""))
            return
        if node is None and section:
            return
        allowed = {**required, **optional}
        for key, (key_node, _) in self.node.entries.items():
            if key not in allowed:
                diags.error(key_node.pos, "unknown-key",
                            f"unknown key `{key}` in {what}{did_you_mean(key, allowed)}",
                            f"allowed keys: {one_of(allowed)}")
        for key, description in required.items():
            value = self.node.get(key)
            if value is None:
                diags.error(self.node.pos, "missing-key", f"{what} has no `{key}` ({description})",
                            f"add a line `{key}: …`")

    def has(self, key: str) -> bool:
        node = self.node.get(key)
        return node is not None and not (isinstance(node, Scalar) and node.kind == "null")

    def pos(self, key: str) -> Pos:
        node = self.node.get(key)
        return node.pos if node is not None else self.node.pos

    def raw(self, key: str) -> Node | None:
        return self.node.get(key)

    def _get(self, key: str):
        node = self.node.get(key)
        return node, f"`{key}`"

    def text(self, key: str) -> str | None:
        node, label = self._get(key)
        return None if node is None else as_text(node, label, self.diags)

    def ident(self, key: str, naming: bool = False) -> str | None:
        """An id; with `naming`, where the id is given to someone or something (see as_id)."""
        node, label = self._get(key)
        return None if node is None else as_id(node, label, self.diags, naming)

    def date(self, key: str) -> date | None:
        node, label = self._get(key)
        return None if node is None else as_date(node, label, self.diags)

    def optional_date(self, key: str) -> date | None:
        node, label = self._get(key)
        if node is None or (isinstance(node, Scalar) and node.kind == "null"):
            return None
        return as_date(node, label, self.diags)

    def number(self, key: str) -> Decimal | None:
        node, label = self._get(key)
        return None if node is None else as_number(node, label, self.diags)

    def integer(self, key: str) -> int | None:
        node, label = self._get(key)
        return None if node is None else as_integer(node, label, self.diags)

    def boolean(self, key: str) -> bool | None:
        node, label = self._get(key)
        return None if node is None else as_bool(node, label, self.diags)

    def month(self, key: str) -> tuple[int, int] | None:
        node, label = self._get(key)
        return None if node is None else as_month(node, label, self.diags)

    def idents(self, key: str) -> list[tuple[str, Pos]]:
        """One id or a list of ids, each with its position."""
        node, label = self._get(key)
        if node is None:
            return []
        nodes = node.items if isinstance(node, Sequence) else (node,)
        out = []
        for item in nodes:
            value = as_id(item, f"{label} entry" if isinstance(node, Sequence) else label, self.diags)
            if value is not None:
                out.append((value, item.pos))
        return out

    def items(self, key: str) -> tuple[Node, ...]:
        """A list (an empty or absent key gives no items)."""
        node = self.node.get(key)
        if node is None or (isinstance(node, Scalar) and node.kind == "null"):
            return ()
        if not isinstance(node, Sequence):
            self.diags.error(node.pos, "wrong-type", f"`{key}` must be a list (lines starting with `- `), "
                             f"not {_shape(node)}")
            return ()
        return node.items

    def mapping(self, key: str) -> Mapping | None:
        node = self.node.get(key)
        if node is None:
            return None
        if not isinstance(node, Mapping):
            if isinstance(node, Scalar) and node.kind == "null":
                self.diags.error(node.pos, "wrong-type", f"`{key}` is empty",
                                 "write its `key: value` lines below it, each indented by two spaces")
            else:
                self.diags.error(node.pos, "wrong-type", f"`{key}` must be a mapping of `key: value` lines, "
                                 f"not {_shape(node)}")
            return None
        return node


def _scalar(node: Node, label: str, expected: str, diags: Diagnostics) -> Scalar | None:
    if isinstance(node, Scalar):
        return node
    diags.error(node.pos, "wrong-type", f"{label} must be {expected}, not {_shape(node)}")
    return None


def _quote_hint(node: Scalar) -> str:
    return f"put it in quotes: \"{node.text}\""


def as_text(node: Node, label: str, diags: Diagnostics) -> str | None:
    scalar = _scalar(node, label, "text", diags)
    if scalar is None:
        return None
    if scalar.kind == "null" or (scalar.kind == "str" and not scalar.text.strip()):
        diags.error(scalar.pos, "empty-value", f"{label} is empty", "write the text after the colon")
        return None
    if scalar.kind != "str":
        diags.error(scalar.pos, "wrong-type", f"{label} must be text, but YAML reads `{scalar.text}` as "
                    f"{kind_words(scalar.kind)}", _quote_hint(scalar))
        return None
    control = DIRECTION_CHARS.search(scalar.text)
    if control:
        diags.error(scalar.pos, "direction-control", f"{label} holds an invisible direction control "
                    f"(U+{ord(control.group()):04X}), which would show it, and what follows it on a page, reordered",
                    "retype the text without it (it comes with text pasted from elsewhere)")
        return None
    return scalar.text


# full-width digits, point and punctuation (a Chinese input method) -> what YAML and ids expect
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．［］，：", "0123456789.[],:")


def _id_hint(text: str) -> str:
    """What to write instead of an invalid id: the usual slips of Chinese typing get their own words."""
    if any(ch in text for ch in "［］，：、；"):
        return "use plain brackets and commas, with the Chinese input method switched off: [S002, S003]"
    if not text.isascii():
        return ("ids and codes are written in Latin letters and digits, as listed in the comments `new` writes "
                "and on the site's rules page (`general`, not 一般违规)")
    return "ids use only letters, digits, `_` and `-`, at most 32 characters"


def as_id(node: Node, label: str, diags: Diagnostics, naming: bool = False) -> str | None:
    """An id: text of letters, digits, `_` and `-`. Where an id is given to a person or a finding (`naming`),
    a one-letter boolean of the YAML 1.1 specification (y, n) is refused too; the keys of rules.yaml (items a
    to z, …), and everything that names them, may be any letter."""
    scalar = _scalar(node, label, "an id", diags)
    if scalar is None:
        return None
    if scalar.kind not in ("str", "null"):
        diags.error(scalar.pos, "id-not-text", f"{label} `{scalar.text}` is read by YAML as "
                    f"{kind_words(scalar.kind)}, not as an id", f"quote it: '{scalar.text}'")
        return None
    if scalar.plain and YAML12_NUMBER.fullmatch(scalar.text):  # text to PyYAML, a number to newer YAML readers
        diags.error(scalar.pos, "id-not-text", f"{label} `{scalar.text}` is read as a number by YAML 1.2 readers "
                    "(spreadsheets, other tools), not as an id", f"quote it: '{scalar.text}'")
        return None
    if naming and scalar.plain and YAML11_LETTER_BOOLEAN.fullmatch(scalar.text):  # text to PyYAML, yes/no to the spec
        diags.error(scalar.pos, "id-not-text", f"{label} `{scalar.text}` is read as a boolean (yes or no) by YAML "
                    "readers that follow the YAML 1.1 specification, not as an id", f"quote it: '{scalar.text}'")
        return None
    if scalar.kind == "null" or not scalar.text:
        diags.error(scalar.pos, "empty-value", f"{label} is empty", "write the id after the colon")
        return None
    if not ID_PATTERN.fullmatch(scalar.text):
        diags.error(scalar.pos, "bad-id", f"{label} `{scalar.text}` is not a valid id", _id_hint(scalar.text))
        return None
    return sys.intern(scalar.text)  # the same few ids recur in every record: one string each, kept and cached


def as_date(node: Node, label: str, diags: Diagnostics) -> date | None:
    scalar = _scalar(node, label, "a date", diags)
    if scalar is None:
        return None
    if scalar.kind in ("str", "timestamp") and _DATE.fullmatch(scalar.text):
        try:
            day = date.fromisoformat(scalar.text)
        except ValueError:
            diags.error(scalar.pos, "bad-date", f"{label} `{scalar.text}` is not a real date",
                        "check the month and day")
            return None
        return day if _plausible_year(day.year, scalar, label, "bad-date", diags) else None
    diags.error(scalar.pos, "bad-date", f"{label} `{scalar.text}` is not a date written as YYYY-MM-DD",
                _ascii_hint(scalar.text, _DATE) or "write it like 2026-11-12, with no time")
    return None


def _ascii_hint(text: str, pattern: re.Pattern) -> str:
    """What to write for a date or month typed in full-width digits (a Chinese input method), or ""."""
    written = text.translate(_FULL_WIDTH).replace("－", "-")
    return f"write it in ASCII digits: {written}" if written != text and pattern.fullmatch(written) else ""


def _plausible_year(year: int, scalar: Scalar, label: str, code: str, diags: Diagnostics) -> bool:
    if limits.MIN_YEAR <= year <= limits.MAX_YEAR:
        return True
    diags.error(scalar.pos, code, f"{label} `{scalar.text}` is not between the years {limits.MIN_YEAR} and "
                f"{limits.MAX_YEAR}", "check the year")
    return False


def as_month(node: Node, label: str, diags: Diagnostics) -> tuple[int, int] | None:
    scalar = _scalar(node, label, "a month", diags)
    if scalar is None:
        return None
    match = _MONTH.fullmatch(scalar.text) if scalar.kind == "str" else None
    if match and 1 <= int(match.group(2)) <= 12:
        year = int(match.group(1))
        return (year, int(match.group(2))) if _plausible_year(year, scalar, label, "bad-month", diags) else None
    diags.error(scalar.pos, "bad-month", f"{label} `{scalar.text}` is not a month written as YYYY-MM",
                _ascii_hint(scalar.text, _MONTH) or "write it like 2026-11")
    return None


def as_number(node: Node, label: str, diags: Diagnostics) -> Decimal | None:
    """An exact decimal, read from the text as written (never through a float)."""
    scalar = _scalar(node, label, "a number", diags)
    if scalar is None:
        return None
    if scalar.kind == "int" and _LEADING_ZERO.fullmatch(scalar.text):  # 021: 17 to YAML 1.1 (octal), 21 to 1.2
        diags.error(scalar.pos, "bad-number", f"{label} `{scalar.text}` is read as different numbers by different "
                    "YAML readers (octal or not)", f"write it without the leading zero: {scalar.text.lstrip('+-0') or 0}")
        return None
    if scalar.kind in ("int", "float") and _DECIMAL.fullmatch(scalar.text):
        value = Decimal(scalar.text)
        if value.adjusted() >= limits.MAX_NUMBER_DIGITS:
            diags.error(scalar.pos, "bad-number", f"{label} is a number of {value.adjusted() + 1} digits before its "
                        "point: no number of the procedure is anywhere near that large", "check the number")
            return None
        return value
    if scalar.kind == "str" and not scalar.plain and _DECIMAL.fullmatch(scalar.text):
        diags.error(scalar.pos, "wrong-type", f"{label} must be a number, not the text \"{scalar.text}\"",
                    "remove the quotes")
    elif scalar.kind in ("int", "float"):
        diags.error(scalar.pos, "bad-number", f"{label} `{scalar.text}` is not a plain decimal number "
                    "(YAML reads it in another notation)", "write digits with an optional decimal point, like 2 or 2.5")
    else:
        written = scalar.text.translate(_FULL_WIDTH).rstrip("%分 ")
        hint = f"write the number alone, as digits: {written}" if _DECIMAL.fullmatch(written) else \
            "write digits with an optional decimal point, like 2 or 2.5"
        diags.error(scalar.pos, "wrong-type", f"{label} must be a number, not {_shape(scalar)}", hint)
    return None


def as_integer(node: Node, label: str, diags: Diagnostics) -> int | None:
    value = as_number(node, label, diags)
    if value is None:
        return None
    if value != value.to_integral_value():
        diags.error(node.pos, "bad-number", f"{label} must be a whole number, not {value}")
        return None
    return int(value)


def as_bool(node: Node, label: str, diags: Diagnostics) -> bool | None:
    scalar = _scalar(node, label, "true or false", diags)
    if scalar is None:
        return None
    if scalar.kind == "bool" and scalar.text in ("true", "false"):
        return scalar.text == "true"
    diags.error(scalar.pos, "wrong-type", f"{label} must be `true` or `false`, not `{scalar.text}`",
                "write true or false (YAML's yes/no/on/off are ambiguous and not accepted)")
    return None


def texts(node: Mapping, label_of, diags: Diagnostics) -> dict[str, str]:
    """A mapping of keys to text; entries that are not text are reported (labelled by `label_of(key)`)."""
    out = {}
    for key, (_, value) in node.entries.items():
        text = as_text(value, label_of(key), diags)
        if text is not None:
            out[key] = text
    return out


def label_text(node: Node | None, label: str, diags: Diagnostics) -> dict[str, str]:
    """A label: either one text, or a mapping of language code to text."""
    if node is None:
        return {}
    if isinstance(node, Mapping):
        return texts(node, lambda lang: f"{label} ({lang})", diags)
    text = as_text(node, label, diags)
    return {"": text} if text is not None else {}
