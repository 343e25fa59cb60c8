"""Safe YAML with source positions.

PyYAML's event stream (C parser when present) is turned into a small tree of `Scalar`, `Mapping` and
`Sequence` nodes, each carrying its file, line and column. Only plain data is accepted: tags, anchors,
aliases, duplicate and non-text keys, several documents and deep nesting are reported as diagnostics,
never constructed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import yaml
from yaml.resolver import Resolver

from site_builder.diagnostics import Diagnostics, Pos
from site_builder import limits

try:  # the C parser is several times faster; the pure-Python one gives the same events
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

_TAG_KIND = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}
# Characters YAML itself rejects or treats as line breaks (which would shift every line number after them).
# The C1 controls (U+0080–U+009F) are among the rejected: left to the parser, they get no line number.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Scalar:
    text: str  # the value as written, without quotes
    kind: str  # what YAML 1.1 reads it as: str, int, float, bool, null, timestamp
    plain: bool  # written without quotes
    pos: Pos


@dataclass(frozen=True, slots=True)
class Mapping:
    entries: dict  # key text -> (key Scalar, value node), in file order
    pos: Pos

    def get(self, key: str):
        entry = self.entries.get(key)
        return entry[1] if entry else None


@dataclass(frozen=True, slots=True)
class Sequence:
    items: tuple
    pos: Pos


Node = Union[Scalar, Mapping, Sequence]

_resolver = Resolver()
_kind_cache: dict[tuple[str, bool], str] = {}


def _scalar_kind(value: str, plain: bool) -> str:
    if not plain:
        return "str"
    key = (value, plain)
    kind = _kind_cache.get(key)
    if kind is None:
        tag = _resolver.resolve(yaml.ScalarNode, value, (True, False))
        kind = _TAG_KIND.get(tag, "str")
        if len(_kind_cache) < 100_000:
            _kind_cache[key] = kind
    return kind


# Unicode's explicit direction embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): invisible, they
# show what follows them reordered; no text of the site may hold them
DIRECTION_CHARS = re.compile("[\u202a-\u202e\u2066-\u2069]")

# numbers in YAML 1.2's core schema that YAML 1.1 (PyYAML, here) reads as text: 1e3, 12E3, 0o17
YAML12_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+|0o[0-7]+")
# the one-letter booleans of the YAML 1.1 specification, which PyYAML reads as text (y, n: yes, no)
YAML11_LETTER_BOOLEAN = re.compile("[yYnN]")


def as_text(value: str) -> str:
    """`value` written so that YAML reads it as text: quoted when plain it would be a number, a date, a
    boolean or null (an id such as `0012` or `yes`), to this reader or to YAML 1.2's."""
    if _scalar_kind(value, True) == "str" and not YAML12_NUMBER.fullmatch(value) \
            and not YAML11_LETTER_BOOLEAN.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# a key written with a full-width colon (a Chinese input method): `severity：general`
_WIDE_COLON_KEY = re.compile(r"\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*：")


def describe_char(ch: str) -> str:
    names = {"\x85": "NEXT LINE (U+0085)", "\u2028": "LINE SEPARATOR (U+2028)",
             "\u2029": "PARAGRAPH SEPARATOR (U+2029)", "\ufeff": "byte order mark (U+FEFF)"}
    return names.get(ch, f"control character U+{ord(ch):04X}")


def parse_yaml(text: str, file: str, diags: Diagnostics, first_line: int = 1) -> Node | None:
    """Parse one YAML document into positioned nodes.

    `first_line` is the file line on which `text` starts (front matter starts on line 2). Returns None,
    with diagnostics, when the text is not safe plain YAML.
    """
    bad = _FORBIDDEN_CHARS.search(text)
    if bad:
        line = text.count("\n", 0, bad.start())
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1)
        diags.error(Pos(file, first_line + line, column + 1), "bad-character",
                    f"the {describe_char(bad.group())} is not allowed here",
                    "delete it, or retype the line in a plain text editor")
        return None
    lines = text.split("\n")
    for number, line in enumerate(lines):
        wide = _WIDE_COLON_KEY.match(line)
        if wide:  # YAML would say "could not find expected ':'" a line later
            diags.error(Pos(file, first_line + number, wide.end()), "yaml-syntax",
                        f"`{wide.group(1)}：` has a full-width colon `：`", f"type `{wide.group(1)}: ` (a plain colon "
                        "and a space), with the Chinese input method switched off")
            return None
    builder = _TreeBuilder(file, first_line, diags)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if not builder.feed(event):
                return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(file, first_line + mark.line, mark.column + 1) if mark else Pos(file, first_line, 1)
        problem = exc.problem or "invalid YAML"
        if "nesting depth" in problem:  # newer libyaml stops flow nesting itself, reading ahead of us
            diags.error(pos, "yaml-too-deep", f"nesting deeper than {limits.YAML_MAX_DEPTH} levels",
                        "records need only a few levels; check the brackets and the indentation")
            return None
        context = f" ({exc.context})" if exc.context else ""
        start = exc.context_mark
        if exc.context and start and mark and start.line != mark.line:
            # an unclosed bracket or quote is noticed lines later, often at the end: say where it began
            context = f" ({exc.context} that starts on line {first_line + start.line})"
        line_text = text.split("\n")[mark.line] if mark and mark.line < text.count("\n") + 1 else ""
        hint = "YAML indents with spaces only: replace the tabs with spaces" if "\t" in line_text else \
            "check the indentation and that every `key: value` has a space after the colon"
        if problem.startswith("mapping values are not allowed") and ": " in line_text.split(":", 1)[-1]:
            hint = "a value holding `: ` must be in quotes: key: \"text: more text\""
        quoted = _QUOTED_VALUE.match(line_text)
        if quoted and problem.startswith(("did not find expected key", "expected <block end>")):
            other = "single" if quoted.group(1) == '"' else "double"
            hint = (f"a value that starts with a quote ends at the next {quoted.group(1)}: put the whole text in "
                    f"{other} quotes, or do not start it with a quote")
        comment = _flow_comment(text, start, mark) if exc.context and "flow" in exc.context else None
        if comment is not None:  # ` #` inside {...} or [...]: YAML reads the rest of the line as a comment
            line, column = comment
            diags.error(Pos(file, first_line + line, column + 1), "yaml-syntax", "` #` starts a comment, so the rest "
                        "of the line is not read and the `{` or `[` before it is never closed",
                        "put the text that holds ` #` in quotes, for example note: \"态度差 #2 次\"")
            return None
        diags.error(pos, "yaml-syntax", f"{problem}{context}", hint)
        return None
    except yaml.YAMLError as exc:  # reader errors carry no mark
        diags.error(Pos(file, first_line, 1), "yaml-syntax", str(exc).splitlines()[0])
        return None
    return builder.root


_QUOTED_VALUE = re.compile(r"""\s*(?:- )?[^\s:#'"]+:\s+(["'])""")  # `key: "...`, a value starting with a quote


def _flow_comment(text: str, start, mark) -> tuple[int, int] | None:
    """(line, column) of the first ` #` from where a flow collection (`{...}`, `[...]`) starts up to where YAML
    gave up on it, outside quotes: YAML read the rest of that line as a comment. None when there is none."""
    if start is None or mark is None:
        return None
    lines = text.split("\n")
    for line in range(start.line, min(mark.line, len(lines) - 1) + 1):
        body = lines[line]
        quote = ""
        for column in range(start.column if line == start.line else 0, len(body)):
            char = body[column]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and (column == 0 or body[column - 1] in " ,[{:"):
                quote = char
            elif char == "#" and column > 0 and body[column - 1] in " \t":
                return line, column
    return None


class _TreeBuilder:
    """Builds nodes from parser events, refusing everything but plain data."""

    def __init__(self, file: str, first_line: int, diags: Diagnostics):
        self.file = file
        self.first_line = first_line
        self.diags = diags
        self.stack: list[list] = []  # open collections: [kind, pos, children]
        self.root: Node | None = None
        self.documents = 0
        self.nodes = 0

    def _pos(self, event) -> Pos:
        mark = event.start_mark
        return Pos(self.file, self.first_line + mark.line, mark.column + 1)

    @staticmethod
    def _tag(event) -> str:
        """The tag as the user wrote it (`!!python/...`), not PyYAML's expanded `tag:yaml.org,2002:...`."""
        return re.sub(r"^tag:yaml\.org,2002:", "!!", event.tag)

    def _fail(self, event, code: str, message: str, hint: str = "") -> bool:
        self.diags.error(self._pos(event), code, message, hint)
        return False

    def feed(self, event) -> bool:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                return self._fail(event, "yaml-multiple-documents",
                                  "more than one YAML document (a second `---`)",
                                  "keep one block of settings; remove the extra `---` line")
            return True
        if isinstance(event, yaml.AliasEvent):
            return self._fail(event, "yaml-alias", f"aliases (`*{event.anchor}`) are not allowed",
                              "write the value out in full")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            return self._fail(event, "yaml-anchor", f"anchors (`&{event.anchor}`) are not allowed",
                              "write the value out in full")
        if isinstance(event, yaml.ScalarEvent):
            if event.tag not in (None, "!"):
                return self._fail(event, "yaml-tag", f"tags such as `{self._tag(event)}` are not allowed",
                                  "remove the tag; quote the value if it must stay text")
            bad = _FORBIDDEN_CHARS.search(event.value)
            if bad:  # written as an escape such as "\x01" or "\e": the raw text was checked already
                return self._fail(event, "bad-character", f"the {describe_char(bad.group())} (written as an "
                                  "escape in quotes) is not allowed", "remove the escape sequence")
            plain = event.style in (None, "") and event.implicit[0]
            return self._add(event, Scalar(event.value, _scalar_kind(event.value, plain), plain,
                                           self._pos(event)))
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if event.tag not in (None, "!"):
                return self._fail(event, "yaml-tag", f"tags such as `{self._tag(event)}` are not allowed",
                                  "remove the tag")
            if len(self.stack) >= limits.YAML_MAX_DEPTH:
                return self._fail(event, "yaml-too-deep",
                                  f"nesting deeper than {limits.YAML_MAX_DEPTH} levels",
                                  "records need only a few levels; check the indentation")
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
            self.stack.append([kind, self._pos(event), []])
            return True
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            kind, pos, children = self.stack.pop()
            if kind == "seq":
                return self._add(event, Sequence(tuple(children), pos))
            return self._add(event, self._mapping(pos, children))
        return True

    def _mapping(self, pos: Pos, children: list) -> Mapping | None:
        entries: dict = {}
        ok = True
        for key, value in zip(children[::2], children[1::2]):
            if not isinstance(key, Scalar) or key.kind != "str":
                said = f"key `{key.text}` is not text (YAML reads it as {_KIND_WORDS[key.kind]})" \
                    if isinstance(key, Scalar) else "a key that is a list or mapping (written `? …`) is not text"
                self.diags.error(key.pos, "yaml-key-type", said,
                                 "keys are words such as `staff`; quote a key that looks like a number")
                ok = False
                continue
            if key.text in entries:
                first = entries[key.text][0].pos
                self.diags.error(key.pos, "duplicate-key",
                                 f"key `{key.text}` appears twice (lines {first.line} and {key.pos.line})",
                                 "keep one of them")
                ok = False
                continue
            entries[key.text] = (key, value)
        return Mapping(entries, pos) if ok else None

    def _add(self, event, node: Node | None) -> bool:
        if node is None:
            return False
        self.nodes += 1
        if self.nodes > limits.YAML_MAX_NODES:
            return self._fail(event, "yaml-too-large", f"more than {limits.YAML_MAX_NODES} values",
                              "split the content into several files")
        if self.stack:
            self.stack[-1][2].append(node)
        else:
            self.root = node
        return True


_KIND_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "a yes/no value",
    "null": "an empty value",
    "timestamp": "a date",
}


def kind_words(kind: str) -> str:
    return _KIND_WORDS[kind]
