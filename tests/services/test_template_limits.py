"""Templates are filled in within limits: length, loop turns and time, with a clear error."""

import time
import tracemalloc

import pytest

from app.services import template_sandbox, templates
from app.services.errors import ValidationError
from models import Channel, MessageTemplate, db

BOMBS = {
    "{{ '%050000000d'|format(1) }}": "pads the text too much",
    "{{ '%050000000d' % 1 }}": "pads the text too much",
    "{{ '%0*d' % (50000000, 1) }}": "pads the text too much",
    "{{ range(1000)|join('x' * 10000) }}": "longer than 100,000 characters",
    "{{ ('%s' * 3000)|format(*(['y' * 9000] * 1)) }}": "longer than 100,000 characters",
    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}": "loops turn more than 20,000 times",
    "{% set r = range(1000)|list %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}": (
        "loops turn more than 20,000 times"
    ),
    "{% set ns = namespace(s='x' * 9000) %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}": "longer than 100,000 characters",
    "{% set s = 'x' * 9000 %}{{ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s }}": (
        "longer than 100,000 characters"
    ),
    "{{ ('x' * 9000) + ('x' * 9000) + ('x' * 9000) + ('x' * 9000) + ('x' * 9000) + ('x' * 9000)"
    " + ('x' * 9000) + ('x' * 9000) + ('x' * 9000) + ('x' * 9000) + ('x' * 9000)"
    " + ('x' * 9000) }}": ("longer than 100,000 characters"),
    "{% macro m() %}{% for i in range(1000) %}{{ 'y' * 9999 }}{% endfor %}{% endmacro %}"
    "{{ m()|length }}": "longer than 100,000 characters",
    "{% set x %}{% for i in range(1000) %}{{ 'y' * 9999 }}{% endfor %}{% endset %}": (
        "longer than 100,000 characters"
    ),
    "{% for i in range(1000) %}{{ range(1000)|join(',') }}{% endfor %}": (
        "longer than 100,000 characters"
    ),
    "{{ ['x' * 9000] * 1000 }}": "longer than 100,000 characters",
    "{{ ('\\n' * 9999)|indent('y' * 9999) }}": "longer than 100,000 characters",
    "{{ ('a ' * 5000)|wordwrap(1, wrapstring='z' * 9999) }}": "longer than 100,000 characters",
    "{{ range(3)|batch(1000000000, 'x')|list }}": "too long for a message",
    "{{ [1]|slice(1000000000)|list }}": "too long for a message",
}


@pytest.mark.parametrize("source", BOMBS)
def test_a_template_stops_before_it_builds_megabytes_or_loops_for_minutes(ctx, source):
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ValidationError, match=BOMBS[source]):
            templates.render_text(source, templates.base_context(None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 3
    assert peak < 5_000_000


def test_a_slow_render_stops_at_the_deadline(ctx, monkeypatch):
    monkeypatch.setattr(template_sandbox, "RENDER_SECONDS", 0.2)
    slow = (
        "{% set r = range(1000)|list %}{% for a in range(100) %}{% for b in range(190) %}"
        "{{ (r|map('string')|sort|join(','))|length > 0 }}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"took longer than 0\.2 seconds"):
        templates.render_text(slow, templates.base_context(None))
    assert time.monotonic() - started < 1.5


def test_ordinary_templates_still_fill_in(ctx):
    context = {**templates.base_context(None), "detail_lines": ["a", "b"]}
    source = (
        "{{ 'a' + 'b' }} {{ 1 + 2 }} {{ '%s-%s' % ('a', 'b') }} {{ '%05d'|format(42) }} "
        "{{ [1, 2]|join(', ') }} {% for x in range(3) %}{{ x }}{% endfor %} {{ 'a' ~ 'b' }} "
        "{% macro twice(t) %}{{ t }}{{ t }}{% endmacro %}{{ twice('z') }} "
        "{% set block %}{% for line in detail_lines %}{{ line|upper }}{% endfor %}{% endset %}"
        "{{ block }} {{ 'long words here'|wordwrap(5) }}"
    )
    assert templates.render_text(source, context) == (
        "ab 3 a-b 00042 1, 2 012 ab zz AB long words here"
    )


def test_too_much_is_refused_when_the_template_is_saved(ctx):
    with pytest.raises(ValidationError, match="more than a message may hold") as caught:
        templates.check_template(
            "aep.big", Channel.EMAIL, "Hi", "Hello {{ '%050000000d'|format(1) }}"
        )
    assert caught.value.field == "body"
    with pytest.raises(ValidationError, match="loops turn") as caught:
        templates.check_template(
            "aep.big",
            Channel.EMAIL,
            "{% for a in range(999) %}{% for b in range(999) %}{% endfor %}{% endfor %}",
            "Hello",
        )
    assert caught.value.field == "subject"
    # Errors that depend on the record are left to the preview.
    templates.check_template("aep.ok", Channel.EMAIL, "Hi", "{{ record.first_name|int(1) }}")


def test_a_stored_bomb_falls_back_to_the_default_text_or_says_why(ctx):
    stored = templates.get_template("notify.agent")
    stored.body = "{% for a in range(999) %}{% for b in range(999) %}{% endfor %}{% endfor %}"
    db.session.add(
        MessageTemplate(
            key="aep.bomb",
            channel=Channel.EMAIL,
            name="Bomb",
            subject="S",
            body="{{ '%050000000d'|format(1) }}",
        )
    )
    db.session.flush()
    context = {
        **templates.base_context(None),
        "event": {"label": "X"},
        "summary": "Something happened.",
        "detail_lines": [],
        "record_url": "u",
    }
    rendered = templates.render("notify.agent", context)
    assert "Something happened." in rendered.text  # the default text went out instead
    with pytest.raises(ValidationError, match="could not be rendered: The template's loops"):
        templates.render("notify.agent", context, strict=True)
    with pytest.raises(ValidationError, match="could not be rendered: That pads the text"):
        templates.render("aep.bomb", context)
