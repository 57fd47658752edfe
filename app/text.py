"""Text people typed, shown as text: a message is escaped, its http and https addresses
become links, and nothing else of it is markup. One rule for the portal and the staff panel,
so a message reads the same on both sides of a conversation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
#: Punctuation that ends a sentence rather than the address it follows.
_TRAILING = ".,;:!?)]}*'\""
_LINK = Markup(
    '<a href="{address}" rel="noopener noreferrer nofollow ugc" target="_blank">{address}</a>'
)


def _web_address(text: str) -> bool:
    """Whether ``text`` reads as an http or https address with a host ("http://[x" does
    not: it stays text rather than failing the page)."""
    try:
        parts = urlsplit(text)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def linkify(text: str | None) -> Markup:
    """Plain text, escaped, with its http and https addresses made links (to where they say,
    opened apart from Portico); keep its lines with ``white-space: pre-wrap``."""
    text = text or ""
    out: list[str | Markup] = []
    position = 0
    for match in _URL.finditer(text):
        address = match.group(0)
        stripped = address.rstrip(_TRAILING)
        if stripped.count("(") > stripped.count(")") and address[len(stripped) :].startswith(")"):
            stripped += ")"  # a Wikipedia-style address keeps its closing parenthesis
        out.append(text[position : match.start()])
        out.append(_LINK.format(address=stripped) if _web_address(stripped) else stripped)
        position = match.start() + len(stripped)
    out.append(text[position:])
    return Markup("").join(out)  # each text part is escaped by join
