"""UI strings per language (layouts/i18n/<language>.yaml) and dates written the way each language writes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from site_builder.diagnostics import Diagnostics, Pos
from site_builder.fields import texts
from site_builder.read import decode
from site_builder.yamltree import Mapping, parse_yaml

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Catalog:
    """The UI strings of one language; a missing string falls back to the default language's."""

    def __init__(self, language: str, strings: dict[str, str], fallback: dict[str, str]):
        self.language = language
        self.strings = strings
        self.fallback = fallback

    def __call__(self, key: str, **values) -> str:
        text = self.strings.get(key) or self.fallback.get(key) or key
        return text.format(**values) if values else text

    def date(self, day: date | None) -> str:
        if day is None:
            return "—"
        if self.language.startswith("zh"):
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    def month(self, key: str) -> str:
        year, month = int(key[:4]), int(key[5:])
        if self.language.startswith("zh"):
            return f"{year}年{month}月"
        return f"{_EN_MONTHS[month - 1]} {year}"


def load_strings(layouts: Path, root: Path, language: str, diags: Diagnostics) -> dict[str, str]:
    path = layouts / "i18n" / f"{language}.yaml"
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    if not path.is_file():
        diags.warning(Pos(rel), "missing-catalog", f"no UI strings for `{language}`",
                      f"add {rel}; the default language's strings are used meanwhile")
        return {}
    text = decode(path.read_bytes(), rel, diags)
    node = parse_yaml(text, rel, diags) if text is not None else None
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        diags.error(node.pos, "wrong-type", "a UI catalogue is a mapping of `key: text` lines")
        return {}
    return texts(node, lambda key: f"`{key}`", diags)
