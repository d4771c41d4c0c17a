"""Markdown to safe HTML (markdown-it-py, CommonMark with tables, then nh3) and to plain text.

Raw HTML in the Markdown is not passed through by the parser, and nh3 then keeps only the
tags and attributes below: no script, no event handlers, no style, links and images only
over http(s) or to our own paths (the CSP allows images from this site only).
"""

import html
import re

import nh3
from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.enable("table")
_parser.enable("strikethrough")

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_TAGS = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|pre|blockquote|tr)>|<br\s*/?>", re.IGNORECASE)


def render(markdown: str) -> str:
    """The Markdown as sanitised HTML."""
    raw = _parser.render(markdown or "")
    return nh3.clean(
        raw,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def plain_text(safe_html: str) -> str:
    """The rendered text without tags: for search documents, snippets and inserting."""
    text = _BLOCK_END.sub("\n\n", safe_html)
    text = html.unescape(_TAGS.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
