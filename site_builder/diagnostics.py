"""Diagnostics: every problem found in the sources, with where it is and what to do about it."""

from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str  # path relative to the site root, with forward slashes
    line: int  # 1-based; 0 when the problem is about the whole file
    column: int  # 1-based; 0 when unknown
    code: str
    message: str
    hint: str = ""
    severity: str = ERROR

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.code, self.message)

    def text(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        label = "" if self.severity == ERROR else "warning: "
        out = _visible(f"{where}: {label}{self.code}: {self.message}")
        if self.hint:
            out += f"\n    hint: {_visible(self.hint)}"
        return out

    def as_json(self) -> dict:
        entry = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }
        if self.hint:
            entry["hint"] = self.hint
        return entry


def pickled_by_fields(cls):
    """Pickle a frozen slots dataclass as (class, field values): several times faster to load back than
    the state dictionary dataclasses use, which counts for the build cache's hundred thousand records."""
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)
    cls.__reduce__ = lambda self: (cls, values(self) if len(names) > 1 else (values(self),))
    return cls


# Control characters in a message (a commit author's email may hold terminal escape sequences: retitling the
# terminal, overwriting a line of a CI log) are written out as `\x1b`, never sent to the terminal as they are.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # (tabs and line breaks stay)


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Pos:
    """Where a value stands in a source file."""

    file: str
    line: int = 0
    column: int = 0


@dataclass
class Diagnostics:
    """Collects diagnostics; stages append to it and never raise for bad input."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, pos: Pos, code: str, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic(pos.file, pos.line, pos.column, code, message, hint, ERROR))

    def warning(self, pos: Pos, code: str, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic(pos.file, pos.line, pos.column, code, message, hint, WARNING))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return sorted((d for d in self.items if d.severity == ERROR), key=Diagnostic.sort_key)

    @property
    def warnings(self) -> list[Diagnostic]:
        return sorted((d for d in self.items if d.severity == WARNING), key=Diagnostic.sort_key)

    def __bool__(self) -> bool:
        return bool(self.items)


def site_path(path: Path, root: Path) -> str:
    """How a diagnostic names a file: relative to the site root, or in full when it is elsewhere (a shipped
    layout)."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' did you mean `x`?' when a close match exists, else ''."""
    choices = sorted(choices)
    same = [choice for choice in choices if choice.casefold() == word.casefold()]  # `A` for `a`: letter case
    match = same or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean `{match[0]}`?" if match else ""


def one_of(choices: Iterable[str]) -> str:
    return ", ".join(f"`{c}`" for c in choices)
