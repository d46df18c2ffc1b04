"""Profile texts in the designs domain: what is extracted, with which contexts."""

from __future__ import annotations

import io
import json
from typing import Any

from babel.messages.extract import extract
from babel.messages.pofile import read_po

from formular.i18n.extract import TEMPLATE, is_profile, profile_texts, texts_of

from .support import example_document, load_design, minimal


def _extract(document: dict[str, Any]) -> list[tuple[int, Any, list[str], str | None]]:
    data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return list(extract("formular_designs", io.BytesIO(data)))


def test_a_profile_is_told_from_a_form_definition() -> None:
    assert is_profile(minimal())
    assert not is_profile(load_design("health-survey-50"))
    assert not is_profile({"formular": 1, "profile": 1})
    assert not is_profile([1])


def test_profile_texts_are_every_text_and_only_texts() -> None:
    document = minimal()
    document["description"] = "Om profilen"
    document["notice"] = "Exempel"
    document["levels"][0]["description"] = "Behöver ändras"
    document["areas"][0]["help"] = "Mät runt magen"
    entries = {e.pointer: e.text for e in texts_of(document)}
    assert entries == {
        "/title": "Miniprofil", "/description": "Om profilen", "/notice": "Exempel",
        "/levels/0/label": "Dålig", "/levels/0/description": "Behöver ändras",
        "/levels/1/label": "Mellan", "/levels/2/label": "Bra",
        "/areas/0/label": "Midja", "/areas/0/unit": "cm", "/areas/0/help": "Mät runt magen",
        "/areas/1/label": "Rökning", "/areas/2/label": "Stress", "/areas/3/label": "Blodtryck",
    }
    assert all(e.context == f"mini:{e.pointer}" for e in profile_texts(document))
    assert next(e for e in texts_of(document) if e.pointer == "/notice").comment.startswith(
        "health profile notice")


def test_the_extractor_emits_profile_texts_with_their_contexts_and_lines() -> None:
    messages = _extract(minimal())
    assert (5, "Miniprofil", ["health profile title"], "mini:/title") in messages
    assert all(m[0] > 1 and str(m[3]).startswith("mini:/") for m in messages)
    assert _extract({"profiles": 1, "title": "inte en profil"}) == []


def test_the_template_holds_every_text_of_the_example_profile() -> None:
    with TEMPLATE.open("rb") as handle:
        catalog = read_po(handle, domain="designs")
    have = {(m.context, m.id) for m in catalog if m.id}
    want = {(e.context, e.text) for e in texts_of(example_document())}
    assert want
    assert want <= have
