"""Hostile or broken translations are refused, each with its reason."""

from __future__ import annotations

import pytest

from formular.i18n.checks import check_translation


def keys(msgid: str, msgstr: str | list[str], plural: str | None = None) -> set[str]:
    forms = msgstr if isinstance(msgstr, list) else [msgstr]
    return {problem.key for problem in check_translation(msgid, plural, forms, "sv")}


@pytest.mark.parametrize(("msgid", "msgstr", "reason"), [
    ("Hello %(name)s", "<img src=x onerror=alert(1)>", "event-handler"),
    ("Hello %(name)s", "<img src=x onerror=alert(1)>", "tag-not-allowed"),
    ("Save", "<script>alert(1)</script>", "script"),
    ('Read <a href="/help">the help</a>', 'Läs <a href="javascript:alert(1)">hjälpen</a>',
     "unsafe-url"),
    ('Read <a href="/help">the help</a>', 'Läs <a href="javascript:alert(1)">hjälpen</a>',
     "tags-changed"),
    ("Sent %(when)s", "Skickat", "placeholder-missing"),
    ("Sent", "Skickat %(when)s", "placeholder-extra"),
    ("Be <strong>sure</strong>", "Var <em>säker</em>", "tags-changed"),
    ("Be sure", "Var <strong>säker</strong>", "tags-changed"),
    ("%(n)d days", "%(n)s dagar", "conversion"),
    ("Read [this](https://example.org)", "Läs [det här](https://evil.example)", "links-changed"),
    ("Read [this](https://example.org)", "Läs [det här](javascript:alert(1))", "unsafe-url"),
    ("Save", "   ", "empty"),
])
def test_refused(msgid: str, msgstr: str, reason: str) -> None:
    assert reason in keys(msgid, msgstr)


def test_every_refusal_has_a_message() -> None:
    problems = check_translation("Hello %(name)s", None, ["<img src=x onerror=alert(1)>"], "sv")
    assert problems
    assert all(problem.message for problem in problems)
    assert any("%(name)s" in problem.message for problem in problems)


@pytest.mark.parametrize(("msgid", "msgstr"), [
    ("Sent %(when)s", "Skickat %(when)s"),
    ("Be <strong>sure</strong>", "Var <strong>säker</strong>"),
    ('Read <a href="/help">the help</a>', 'Läs <a href="/help">hjälpen</a>'),
    ("Line<br>break", "Rad<br>brytning"),
    ("100 %%", "100 %%"),
    ("Read [this](https://example.org)", "Läs [det här](https://example.org)"),
])
def test_accepted(msgid: str, msgstr: str) -> None:
    assert keys(msgid, msgstr) == set()


def test_plural_forms() -> None:
    single, plural = "%(num)s recipient", "%(num)s recipients"
    assert keys(single, ["%(num)s mottagare", "%(num)s mottagare"], plural) == set()
    assert "placeholder-missing" in keys(single, ["en mottagare", "%(num)s mottagare"], plural)
    assert keys(single, ["%(num)s mottagare"], plural) == {"plural-forms"}
    assert "empty" in keys(single, ["%(num)s mottagare", ""], plural)
