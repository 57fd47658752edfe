"""The checks every typed value goes through: control characters, ZIP codes, states, and the
header-safe text mail is built from."""

import re

import pytest

from app.services import field_types
from app.services.errors import ValidationError
from app.services.validation import (
    MULTI_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    check_multi_line,
    check_single_line,
    header_safe,
    normalise_postal_code,
    normalise_state,
)

FORBIDDEN_EVERYWHERE = ["\x00", "\x07", "\x1b", "\x7f", "\x80", "\x9f", "\u2028", "\u2029"]
LINE_BREAKS = ["\n", "\r", "\t", "\x0b", "\x0c", "\x85"]


@pytest.mark.parametrize("char", [*FORBIDDEN_EVERYWHERE, *LINE_BREAKS])
def test_one_line_values_refuse_every_control_character(char):
    with pytest.raises(ValidationError):
        check_single_line(f"Cora{char}Client")
    assert re.search(SINGLE_LINE_PATTERN, f"Cora{char}Client") is None


@pytest.mark.parametrize("char", [*FORBIDDEN_EVERYWHERE, "\x0b", "\x0c"])
def test_multi_line_values_refuse_all_but_tab_and_line_breaks(char):
    with pytest.raises(ValidationError):
        check_multi_line(f"one{char}two")
    assert re.search(MULTI_LINE_PATTERN, f"one{char}two") is None


def test_ordinary_text_passes_unchanged():
    for text in ("Núñez-O'Brien, Jr.", "José 🙂", "{{ not a template here }}", ""):
        assert check_single_line(text) == text
        assert re.search(SINGLE_LINE_PATTERN, text)
    assert check_multi_line("Line one\r\n\tLine two") == "Line one\r\n\tLine two"
    assert re.search(MULTI_LINE_PATTERN, "Line one\r\n\tLine two")


def test_header_safe_folds_what_a_header_cannot_hold():
    assert header_safe("Cora\r\nBcc: evil@example.com") == "Cora Bcc: evil@example.com"
    assert header_safe("  Cora\x00  Client\u2028") == "Cora Client"
    assert header_safe(None) == ""


@pytest.mark.parametrize(
    ("typed", "stored"), [("20500", "20500"), (" 20500-0003 ", "20500-0003"), ("", None)]
)
def test_us_zip_codes(typed, stored):
    assert normalise_postal_code(typed, "US") == stored


@pytest.mark.parametrize("typed", ["{{7*7}}", "{%", "2050", "205000", "20500-003", "ABCDE"])
def test_what_is_not_a_zip_code(typed):
    with pytest.raises(ValidationError, match="ZIP code"):
        normalise_postal_code(typed, "US")


def test_postal_codes_abroad():
    assert normalise_postal_code("sw1a 1aa", "GB") == "SW1A 1AA"
    assert normalise_postal_code("10115", "DE") == "10115"
    with pytest.raises(ValidationError, match="postal code"):
        normalise_postal_code("{{7*7}}", "GB")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("CA", "CA"), ("ca", "CA"), ("california", "CA"), ("New  York", "NY"), ("pr", "PR")],
)
def test_us_states(typed, stored):
    assert normalise_state(typed, "US") == stored


@pytest.mark.parametrize("typed", ["{%", "{{7*7}}", "XX", "Californ", "C A"])
def test_what_is_not_a_us_state(typed):
    with pytest.raises(ValidationError, match="two-letter code"):
        normalise_state(typed, "US")


def test_regions_abroad_are_one_line_of_text():
    assert normalise_state("Greater London", "GB") == "Greater London"
    with pytest.raises(ValidationError):
        normalise_state("Greater\x00London", "GB")


def test_every_text_type_documents_the_same_rule_in_its_json_schema():
    assert field_types.get("text").json_schema({})["pattern"] == SINGLE_LINE_PATTERN
    assert field_types.get("long_text").json_schema({})["pattern"] == MULTI_LINE_PATTERN
    with_pattern = field_types.get("text").json_schema({"pattern": "[A-Z]{2}[0-9]+"})
    assert with_pattern["pattern"] == SINGLE_LINE_PATTERN
    assert with_pattern["allOf"] == [{"pattern": "^(?:[A-Z]{2}[0-9]+)$"}]
