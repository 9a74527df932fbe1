"""Durations and ${variable} substitution."""

from __future__ import annotations

import pytest

from scenarios.values import UnknownVariable, has_variables, parse_duration, substitute


@pytest.mark.parametrize(("text", "seconds"), [
    (90, 90.0), (1.5, 1.5), ("500ms", 0.5), ("30s", 30.0), ("15m", 900.0), ("2h", 7200.0),
    ("1d", 86400.0), ("4.25h", 15300.0),
])
def test_durations(text, seconds):
    """Numbers are seconds; strings carry one unit (ms, s, m, h, d)."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "1h30m", -1, True, "h"])
def test_bad_durations(text):
    """Anything else is refused with a hint."""
    with pytest.raises(ValueError):
        parse_duration(text)


def test_whole_placeholder_keeps_type():
    """"${tx}" alone becomes the captured integer; embedded placeholders become text."""
    assert substitute({"transactionId": "${tx}", "note": "tx ${tx}"}, {"tx": 7}) == {
        "transactionId": 7, "note": "tx 7"}


def test_variables_may_refer_to_variables():
    """A with: value such as "T-${cp}" resolves where it is used."""
    assert substitute("${tag}", {"tag": "T-${cp}", "cp": "AC-01"}) == "T-AC-01"


def test_unknown_variable_names_it():
    """An unset variable is an error that tells which one and what to do."""
    with pytest.raises(UnknownVariable, match=r"\$\{tx\} is not set"):
        substitute(["${tx}"], {})


def test_has_variables_looks_inside():
    """Placeholders are found in nested mappings and lists."""
    assert has_variables({"a": [{"b": "${x}"}]})
    assert not has_variables({"a": ["$x", 1]})


def test_dotted_names_and_clock_offsets():
    """${files.http} is one dotted name; ${now+10m} calls a computed variable with +600 s."""
    variables = {"files.http": "http://h:1", "now": lambda offset: f"t{offset:+g}"}
    assert substitute("${files.http}/fw.bin", variables) == "http://h:1/fw.bin"
    assert substitute("${now+10m}", variables) == "t+600"
    assert substitute("${now-1h}", variables) == "t-3600"
    assert substitute("${now}", variables) == "t+0"
    with pytest.raises(UnknownVariable):
        substitute("${files.http+1m}", variables)
