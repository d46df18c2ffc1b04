"""Markdown of information blocks → HTML that is safe to embed.

Raw HTML in the source is not rendered (markdown-it's "html" option is off), and the output is
cleaned again by nh3 (Ammonia) with a small allowlist of tags and only http, https and mailto
links, so a ``javascript:`` link or an event handler can never survive.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "code",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@lru_cache(maxsize=4096)
def to_html(source: str) -> str:
    """Sanitised HTML of a Markdown text (cached: definitions' texts repeat on every page)."""
    rendered = _parser.render(source)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
