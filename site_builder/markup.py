"""Markdown bodies → HTML that can carry no script: Python-Markdown, then nh3's allow-list sanitizer.

The read stage asks `plain_reason` of every body; only a build renders one, so Markdown and nh3 are imported
when a renderer is made (`check`, the pre-commit hook, never loads them).
"""

from __future__ import annotations

import re
from html import escape

from site_builder import limits
from site_builder.yamltree import DIRECTION_CHARS as _DIRECTION_CHARS

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
# what opens one more level of nesting at the start of a line: a quote `>`, or a list marker and a space
_NEST = re.compile(r">[ \t]?|(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")


def plain_reason(text: str) -> str | None:
    """Why `text` would be shown as plain text instead of being rendered as Markdown, or None.

    Python-Markdown is quadratic in the length of a block (on floods of `[`, `<a `, entities, list
    markers…) and recursive in nesting, so a body it cannot render quickly is shown as it was written.
    """
    if len(text) > limits.MAX_MARKDOWN_CHARS:
        return f"it is longer than {limits.MAX_MARKDOWN_CHARS} characters"
    if max(text.count("["), text.count("<")) > limits.MAX_BODY_BRACKETS:
        return f"it has more than {limits.MAX_BODY_BRACKETS} `[` or `<`"
    for block in _BLANK_LINES.split(text):
        if len(block) > limits.MAX_MARKDOWN_BLOCK_CHARS or block.count("\n") >= limits.MAX_MARKDOWN_BLOCK_LINES:
            return (f"a paragraph (lines without a blank line between them) is longer than "
                    f"{limits.MAX_MARKDOWN_BLOCK_CHARS} characters or {limits.MAX_MARKDOWN_BLOCK_LINES} lines")
    if max(map(_depth, text.split("\n")), default=0) > limits.MAX_MARKDOWN_NESTING:
        return f"lists or quotes are nested more than {limits.MAX_MARKDOWN_NESTING} levels deep"
    return None


def _depth(line: str) -> int:
    """How deeply a line nests: its indentation in 4-column steps plus the quote and list markers opening it."""
    content = line.lstrip(" \t")
    depth = len(line[:len(line) - len(content)].expandtabs(4)) // 4
    position = 0
    while (match := _NEST.match(content, position)) and depth <= limits.MAX_MARKDOWN_NESTING:
        depth += 1
        position = match.end()
        position += len(content) - position - len(content[position:].lstrip(" \t"))
    return depth


def _plain(text: str) -> str:
    """The text as written: escaped, one paragraph per blank-line-separated block, line breaks kept."""
    blocks = (block.strip("\n") for block in _BLANK_LINES.split(text))
    return "\n".join(f"<p>{escape(block, quote=False).replace(chr(10), '<br>')}</p>" for block in blocks if block.strip())


class MarkdownRenderer:
    """One reused Markdown instance (building one per body is the slow part)."""

    def __init__(self) -> None:
        import markdown
        import nh3

        self._md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
        self._clean = nh3.clean

    def render(self, text: str) -> str:
        if plain_reason(text) is not None:
            html = _plain(text)
        else:
            try:
                html = self._md.reset().convert(text)
            except RecursionError:  # a nesting `plain_reason` did not foresee: never a crash
                html = _plain(text)
        # Relative links are dropped: the same body appears on pages at different depths and in every
        # language, so a relative link could only ever be right on one of them.
        clean = self._clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                            link_rel="noopener noreferrer", url_relative="deny",
                            set_tag_attribute_values={"th": {"scope": "col"}})  # Markdown headers are columns
        return _DIRECTION_CHARS.sub("", clean)  # (written as entities, `&#x202E;`: a body cannot reorder a page)
