"""UI strings per language (layouts/i18n/<language>.yaml) and dates written the way each language writes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from string import Formatter

from site_builder.diagnostics import Diagnostics, Pos, site_path
from site_builder.fields import texts
from site_builder.read import decode
from site_builder.yamltree import Mapping, parse_yaml

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class UIStringError(Exception):
    """A UI string of a layout's catalogue that Python cannot fill in with the values a page gives it."""


class Catalog:
    """The UI strings of one language; a missing string falls back to the default language's."""

    def __init__(self, language: str, strings: dict[str, str], fallback: dict[str, str]):
        self.language = language
        self.strings = strings
        self.fallback = fallback

    def __call__(self, key: str, **values) -> str:
        text = self.strings.get(key) or self.fallback.get(key) or _unnamed(key)
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:  # e.g. {count:x} on text
            raise UIStringError(f"UI string `{key}` ({self.language}) cannot be filled in: {exc!r}") from None

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


FALLBACK_LANGUAGE = "en"  # whose strings fill in what a site's default language lacks


def _unnamed(key: str) -> str:
    """What is shown for a string no catalogue has: a language's name is its code (`language_fr` → fr, in the
    language switcher of a site that added fr), anything else its key."""
    return key.removeprefix("language_") or key


def load_strings(folders: list[Path], root: Path, language: str, diags: Diagnostics,
                 default: bool = False) -> dict[str, str]:
    """The UI strings of `language` from `layouts/i18n/<language>.yaml` of each layout folder: the ones
    shipped with site-builder, overridden key by key by the site's own (a site may give only some). (What a
    language lacks is taken from the `default` language's, and what that lacks from the English ones: see
    default_strings.)"""
    strings: dict[str, str] = {}
    found = [folder / "i18n" / f"{language}.yaml" for folder in reversed(folders)]  # the shipped ones first
    found = [path for path in found if path.is_file()]
    if not found:
        rel = f"layouts/i18n/{language}.yaml"  # (the site's own layouts, whether or not it has any yet)
        meanwhile = "English" if default else "the default language's"
        diags.warning(Pos(rel), "missing-catalog", f"no UI strings for `{language}`",
                      f"add {rel} to the site; {meanwhile} strings are used meanwhile")
    for path in found:
        strings.update(_read_catalog(path, root, strings, diags))
    return strings


def default_strings(folders: list[Path], root: Path, language: str, diags: Diagnostics) -> dict[str, str]:
    """The strings of a site's default `language`, with the English ones for each it lacks (a site that has
    begun its own catalogue for a language shows no raw keys meanwhile)."""
    strings = load_strings(folders, root, language, diags, default=True)
    if language == FALLBACK_LANGUAGE:
        return strings
    return {**load_strings(folders, root, FALLBACK_LANGUAGE, Diagnostics()), **strings}


def _read_catalog(path: Path, root: Path, before: dict[str, str], diags: Diagnostics) -> dict[str, str]:
    """One catalogue file. Each text must be a format Python can fill in, using only values the text it
    replaces (in `before`: the shipped one) is given."""
    rel = site_path(path, root)
    text = decode(path.read_bytes(), rel, diags)
    node = parse_yaml(text, rel, diags) if text is not None else None
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        diags.error(node.pos, "wrong-type", "a UI catalogue is a mapping of `key: text` lines")
        return {}
    strings = texts(node, lambda key: f"`{key}`", diags)
    for key, value in list(strings.items()):
        problem, hint = _format_problem(value, _fields(before[key]) if key in before else None)
        if problem:
            diags.error(node.entries[key][1].pos, "bad-ui-string", f"`{key}`: {problem}", hint)
            del strings[key]
    return strings


def _fields(text: str) -> set[str] | None:
    """The names of the values a UI text is filled with, or None when it is not a valid format."""
    try:
        return {name.partition(".")[0].partition("[")[0] for _, name, _, _ in Formatter().parse(text) if name}
    except ValueError:
        return None


def _format_problem(text: str, given: set[str] | None) -> tuple[str, str]:
    """(what is wrong with a UI text, what to do), or ("", "")."""
    fields = _fields(text)
    if fields is None:
        return "a `{` or `}` is not matched", "write `{{` or `}}` for a brace itself"
    unknown = sorted(fields - given) if given is not None else []
    if unknown:
        offered = ", ".join(f"{{{name}}}" for name in sorted(given)) or "none"
        return f"{{{unknown[0]}}} is not a value this text is given (it is given: {offered})", \
            "use the values it is given, by name"
    return "", ""
