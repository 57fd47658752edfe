"""Typed text shown as text: escaped, with only http and https addresses made links."""

from app.text import linkify


def test_markup_stays_text_and_web_addresses_become_links():
    shown = str(linkify('<b>hi</b> see https://example.com/a?b=1&c=2. Or "javascript:alert(1)"'))
    assert "<b>" not in shown and "&lt;b&gt;hi&lt;/b&gt;" in shown
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow ugc"' in (
        shown
    )
    assert "2</a>." in shown  # the full stop ends the sentence, not the address
    assert "javascript:" in shown and 'href="javascript' not in shown


def test_an_address_a_parser_refuses_stays_text():
    assert str(linkify("look at http://[oops and (https://en.wikipedia.org/wiki/A_(b))")) == (
        'look at http://[oops and (<a href="https://en.wikipedia.org/wiki/A_(b)" '
        'rel="noopener noreferrer nofollow ugc" target="_blank">'
        "https://en.wikipedia.org/wiki/A_(b)</a>)"
    )


def test_nothing_in_nothing_out():
    assert str(linkify(None)) == "" and str(linkify("a\nb")) == "a\nb"
