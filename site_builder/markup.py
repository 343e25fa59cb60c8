"""Markdown bodies → HTML that can carry no script: Python-Markdown, then nh3's allow-list sanitizer."""

from __future__ import annotations

import markdown
import nh3

from site_builder import limits

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


class MarkdownRenderer:
    """One reused Markdown instance (building one per body is the slow part)."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")

    def render(self, text: str) -> str:
        # Floods of `[` make Python-Markdown's link parsing quadratic: cap brackets per body.
        if text.count("[") > limits.MAX_BODY_BRACKETS:
            text = text.replace("[", "&#91;")
        html = self._md.reset().convert(text)
        # Relative links are dropped: the same body appears on pages at different depths and in every
        # language, so a relative link could only ever be right on one of them.
        return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                         link_rel="noopener noreferrer", url_relative="deny",
                         set_tag_attribute_values={"th": {"scope": "col"}})  # Markdown headers are columns
