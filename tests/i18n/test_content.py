"""Form content in two languages: translation by context, the publish gate, and a citizen
switching language in the middle of a form.

The gate tests write their own ``designs.po`` into a temporary translations folder, built from
the shipped English catalog, so that they do not depend on (or disturb) the shipped files.
"""

from __future__ import annotations

import copy
import itertools
import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.definitions.scores import scoring_to_json
from formular.definitions.service import Subject
from formular.i18n import service
from formular.i18n.catalogs import TRANSLATIONS
from formular.i18n.content import Translation, localized_scores, translate
from formular.i18n.service import (
    ContentCatalogs,
    compile_for,
    offered_languages,
    texts_of,
    translate_document,
)
from tests.conftest import csrf_token, load_design
from tests.functional.support import draft_answers

DESIGNS = ("phq-9", "gad-7", "audit", "showcase")
SHOWCASE_VERSION = load_design("showcase")["version"]
_keys = itertools.count()


@dataclass(frozen=True)
class Version:
    """A stand-in for a stored ``DefinitionVersion`` (document and cache key only)."""

    document: dict[str, Any]
    cache_key: str


def version_of(document: dict[str, Any]) -> Version:
    # A key of its own per call: the compile cache is shared by the whole test run.
    return Version(document, f"test-i18n-{next(_keys)}")


def shipped(locale: str = "en") -> dict[str, Translation]:
    return dict(service.CATALOGS.get(locale).entries)


def write_catalog(folder: Path, locale: str, drop: str | None = None,
                  fuzzy: str | None = None, rename: tuple[str, str] | None = None,
                  replace: tuple[str, str] | None = None) -> Path:
    """A copy of the shipped designs catalog of *locale* under *folder*, with one entry
    dropped, marked fuzzy or given another translation (by context), or its contexts renamed
    from one id to another."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "designs.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain="designs")
    if drop is not None:
        message = next(m for m in catalog if m.context == drop)
        catalog.delete(message.id, context=message.context)
    if fuzzy is not None:
        next(m for m in catalog if m.context == fuzzy).flags.add("fuzzy")
    if replace is not None:
        next(m for m in catalog if m.context == replace[0]).string = replace[1]
    if rename is not None:
        old, new = rename
        for message in list(catalog):
            if message.context and message.context.startswith(f"{old}:"):
                catalog.add(message.id, message.string, context=new + message.context[len(old):])
    path = folder / locale / "LC_MESSAGES" / "designs.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return path


# -- translation by context --------------------------------------------------------------------


def test_every_text_is_replaced_and_only_texts() -> None:
    document = load_design("phq-9")
    result = translate(document, shipped())
    assert (result.missing, result.stale) == (0, 0)
    translated = result.document
    rows = translated["layout"]["pages"][0]["sections"][1]["items"][0]["rows"]
    assert rows[0]["label"] == "1. Little interest or pleasure in doing things"
    assert [o["label"] for o in translated["option_sets"]["phq-frekvens"]] == [
        "Not at all", "Several days", "More than half the days", "Nearly every day"]
    assert document["title"] == "PHQ-9 – frågor om nedstämdhet", "the source is not changed"
    untranslatable = {key: value for key, value in document.items()
                      if key not in ("title", "description", "option_sets", "layout", "scores",
                                     "flags")}
    assert {key: translated[key] for key in untranslatable} == untranslatable
    assert [o["value"] for o in translated["option_sets"]["phq-frekvens"]] == [0, 1, 2, 3]
    assert translated["rules"] == document["rules"]
    assert translated["tests"] == document["tests"]


def test_a_missing_translation_falls_back_to_the_source_and_is_counted() -> None:
    document = load_design("phq-9")
    catalog = shipped()
    pointer = "/layout/pages/0/sections/1/items/0/rows/8/label"
    del catalog[f"phq-9:{pointer}"]
    catalog["phq-9:/title"] = Translation(document["title"], "")  # empty is missing too
    result = translate(document, catalog)
    assert (result.missing, result.stale, result.complete) == (2, 0, False)
    row = result.document["layout"]["pages"][0]["sections"][1]["items"][0]["rows"][8]
    assert row["label"].startswith("9. Tankar på att det vore bättre"), "Swedish, never blank"
    assert result.document["title"] == document["title"]


def test_fuzzy_or_outdated_translations_are_stale_and_not_shown() -> None:
    document = load_design("gad-7")
    catalog = shipped()
    old = catalog["gad-7:/title"]
    catalog["gad-7:/title"] = Translation(old.msgid, old.msgstr, fuzzy=True)
    changed = copy.deepcopy(document)
    changed["scores"][0]["label"] = "GAD-7 summa"  # the source changed after translation
    result = translate(changed, catalog)
    assert (result.missing, result.stale) == (0, 2)
    assert result.document["title"] == document["title"]
    assert result.document["scores"][0]["label"] == "GAD-7 summa"


def test_the_source_language_needs_no_catalog() -> None:
    document = load_design("audit")
    result = translate_document(document, "sv", ContentCatalogs(Path("/nonexistent")))
    assert result.document is document
    assert result.complete


# -- the publish gate --------------------------------------------------------------------------


def test_every_shipped_design_is_offered_in_swedish_and_english() -> None:
    for name in DESIGNS:
        assert offered_languages(load_design(name)) == ["sv", "en"], name


def test_gate_hides_a_language_with_a_missing_entry(tmp_path: Path) -> None:
    document = load_design("showcase")
    catalogs = ContentCatalogs(tmp_path)
    write_catalog(tmp_path, "en", drop="showcase:/policy/terms")
    assert offered_languages(document, catalogs=catalogs) == ["sv"]
    assert translate_document(document, "en", catalogs).missing == 1
    compiled = compile_for(version_of(document), "en", catalogs)
    assert compiled.policy["terms"] == document["policy"]["terms"], "Swedish, not blank"
    assert compiled.title == "Showcase form: every question type"
    assert service.fallbacks()[("showcase", SHOWCASE_VERSION, "en")] == (1, 0), "counted"


def test_gate_hides_a_language_with_a_fuzzy_entry(tmp_path: Path) -> None:
    catalogs = ContentCatalogs(tmp_path)
    write_catalog(tmp_path, "en", fuzzy="showcase:/layout/pages/3/title")
    assert offered_languages(load_design("showcase"), catalogs=catalogs) == ["sv"]


def test_gate_offers_a_complete_language_only_when_the_definition_asks_for_it(
        tmp_path: Path) -> None:
    """A copy of a design, under an id of its own: complete once its catalog is."""
    document = load_design("phq-9")
    document["id"] = "phq-9-copy"
    document["languages"] = ["sv"]
    catalogs = ContentCatalogs(tmp_path)
    assert offered_languages(document, catalogs=catalogs) == ["sv"], "no catalog at all"
    write_catalog(tmp_path, "en", rename=("phq-9", "phq-9-copy"))
    assert offered_languages(document, catalogs=catalogs) == ["sv"], "not in languages"
    document["languages"] = ["sv", "en"]
    assert offered_languages(document, catalogs=catalogs) == ["sv", "en"]
    assert offered_languages(document, known=["sv"], catalogs=catalogs) == ["sv"], (
        "a language the platform does not know is never offered")


def test_a_changed_catalog_is_read_again_without_a_restart(tmp_path: Path) -> None:
    document = load_design("gad-7")
    catalogs = ContentCatalogs(tmp_path)
    path = write_catalog(tmp_path, "en", drop="gad-7:/scores/1/label")
    assert offered_languages(document, catalogs=catalogs) == ["sv"]
    before = catalogs.get("en").version
    write_catalog(tmp_path, "en")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert offered_languages(document, catalogs=catalogs) == ["sv", "en"]
    assert catalogs.get("en").version != before


def test_a_catalog_is_looked_at_again_only_after_its_recheck_interval(tmp_path: Path) -> None:
    """The shipped catalogs are stat()ed at most once per ``recheck_seconds`` (every form page
    asks for them); a changed file is read at the first look after that."""
    now = [100.0]
    catalogs = ContentCatalogs(tmp_path, recheck_seconds=1.0, clock=lambda: now[0])
    path = write_catalog(tmp_path, "en", drop="gad-7:/scores/1/label")
    before = catalogs.get("en").version
    write_catalog(tmp_path, "en")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    now[0] += 0.5
    assert catalogs.get("en").version == before, "trusted within the interval"
    now[0] += 0.6
    assert catalogs.get("en").version != before, "read again after it"
    assert catalogs.get("fr") is catalogs.get("fr"), "a language without a catalog"


def test_a_translation_the_definition_refuses_falls_back_to_the_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_catalog(tmp_path, "en", replace=("gad-7:/scores/0/label", "x" * 501))
    monkeypatch.setattr(service, "CATALOGS", ContentCatalogs(tmp_path))
    version = version_of(load_design("gad-7"))
    compiled = compile_for(version, "en")
    assert compiled.title == "GAD-7 – frågor om oro och ångest"
    assert "makes the definition invalid" in caplog.text


# -- one set of codes and weights --------------------------------------------------------------


@pytest.mark.parametrize("name", DESIGNS)
def test_scores_are_identical_in_swedish_and_english(name: str) -> None:
    """Every test case of the design, validated in both languages: same stored answers, same
    values, bands and flags; only the labels differ."""
    version = version_of(load_design(name))
    swedish, english = compile_for(version, "sv"), compile_for(version, "en")
    assert english.title != swedish.title
    labels_differ = False
    for case in version.document["tests"]:
        subject = Subject(**case.get("subject", {}))
        audience = case.get("audience", "citizen")
        results = [compiled.validate(case["answers"], audience=audience, subject=subject)
                   for compiled in (swedish, english)]
        assert results[0].answers == results[1].answers, case["name"]
        assert [e.path for e in results[0].errors] == [e.path for e in results[1].errors]
        sv_scores, en_scores = (scoring_to_json(r.scoring) for r in results)
        assert _without_labels(sv_scores) == _without_labels(en_scores), case["name"]
        labels_differ = labels_differ or sv_scores != en_scores
    assert labels_differ, "the English definition should carry English labels"


def _without_labels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_labels(v) for k, v in value.items() if k != "label"}
    if isinstance(value, list):
        return [_without_labels(v) for v in value]
    return value


def test_stored_scores_are_shown_with_the_labels_of_the_page_language() -> None:
    version = version_of(load_design("audit"))
    swedish, english = compile_for(version, "sv"), compile_for(version, "en")
    answers = {"audit1": "4-vecka", "audit2": "10-fler", **{
        f"audit{i}": "dagligen" for i in range(3, 9)}, "audit9": "nej", "audit10": "nej"}
    stored = scoring_to_json(swedish.validate(answers, subject=Subject(sex="male", age=40))
                             .scoring)
    assert stored["scores"]["audit"]["band"]["label"] == "Trolig alkoholberoende"
    shown = localized_scores(stored, swedish.document, english.document)
    assert shown["scores"]["audit"]["label"] == "AUDIT total score"
    assert shown["scores"]["audit"]["band"] == {**stored["scores"]["audit"]["band"],
                                               "label": "Probable alcohol dependence"}
    assert localized_scores(stored, swedish.document, swedish.document) == stored


# -- over HTTP: the language switch on a form page ---------------------------------------------


class _Inputs(HTMLParser):
    """The checked radio buttons and the language buttons of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.checked: dict[str, str] = {}
        self.languages: list[str] = []
        self.lang = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if tag == "input" and found.get("type") == "radio" and "checked" in found:
            self.checked[str(found["name"])] = str(found["value"])
        if tag == "button" and found.get("name") == "lang":
            self.languages.append(str(found["value"]))


PHQ = {f"phq{number}": str(value)
       for number, value in zip(range(1, 10), (2, 2, 2, 1, 1, 1, 2, 1, 0), strict=True)}


def _text_lines(html: str) -> list[str]:
    return [line.strip() for line in html.replace("<", "\n<").replace(">", ">\n").splitlines()
            if line.strip() and not line.strip().startswith("<")]


def switch_language(client: FlaskClient, page_html: str, lang: str, back_to: str) -> None:
    response = client.post("/language", data={
        "csrf_token": csrf_token(page_html), "lang": lang, "next": back_to})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(back_to)


def test_switching_to_english_mid_form_keeps_every_answer(driver: Any, client: FlaskClient,
                                                          app: Flask) -> None:
    form = driver("phq-9")
    first = form.get(0).get_data(as_text=True)
    page = _Inputs(first)
    assert page.lang == "sv"
    assert page.languages == ["en"], "English is offered"
    assert "1. Lite intresse eller glädje i att göra saker" in first
    assert form.post(0, PHQ).status_code == 302

    switch_language(client, first, "en", f"{form.base}/0")
    html = form.get(0).get_data(as_text=True)
    page = _Inputs(html)
    assert page.lang == "en"
    assert page.languages == ["sv"]
    assert "1. Little interest or pleasure in doing things" in html
    assert "More than half the days" in html
    assert "Lite intresse" not in html
    assert page.checked == PHQ, "the same answers are checked in English"

    review = form.review().get_data(as_text=True)
    assert _Inputs(review).lang == "en"
    assert "9. Thoughts that you would be better off dead" in review
    assert {"More than half the days", "Several days", "Not at all"} <= set(
        _text_lines(review))
    assert "Flera dagar" not in review
    assert "Inte alls" not in review
    assert draft_answers(app, form) == {name: int(value) for name, value in PHQ.items()}


def test_a_submission_in_english_is_stored_in_the_source_language(
        driver: Any, client: FlaskClient, app: Flask) -> None:
    from formular.storage.db import db
    from formular.storage.models import Draft, Submission

    form = driver("phq-9")
    switch_language(client, form.get(0).get_data(as_text=True), "en", f"{form.base}/0")
    assert form.post(0, PHQ).status_code == 302
    assert form.post(1, {"phq10": "ganska-svart"}).status_code == 302
    receipt = client.get(form.submit().headers["Location"]).get_data(as_text=True)
    assert "PHQ-9 total score" in receipt
    assert "Moderate symptoms" in receipt
    assert "Måttliga symtom" not in receipt
    with app.app_context():
        draft_id = db.session.scalars(select(Draft.id).where(
            Draft.token == form.base.rsplit("/", 1)[-1])).one()
        stored = db.session.scalars(select(Submission).where(
            Submission.draft_id == draft_id)).one().scores
    assert stored["scores"]["phq-9"]["label"] == "PHQ-9 totalpoäng"
    assert stored["scores"]["phq-9"]["band"]["label"] == "Måttliga symtom"


def test_an_incomplete_language_is_not_offered_on_the_form(
        driver: Any, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_catalog(tmp_path, "en", drop="phq-9:/layout/pages/1/title")
    monkeypatch.setattr(service, "CATALOGS", ContentCatalogs(tmp_path))
    form = driver("phq-9")
    html = form.get(0).get_data(as_text=True)
    assert _Inputs(html).languages == [], "no language switch with a single language"

    switch_language(client, html, "en", f"{form.base}/0")
    html = form.get(0).get_data(as_text=True)
    assert _Inputs(html).lang == "sv", "the choice is kept, but the form stays Swedish"
    assert "1. Lite intresse eller glädje i att göra saker" in html
    assert _Inputs(client.get("/").get_data(as_text=True)).lang == "en", (
        "outside the form the chosen language applies")


def test_every_text_of_the_shipped_designs_has_an_english_translation() -> None:
    catalog = shipped()
    for name in DESIGNS:
        for entry in texts_of(load_design(name)):
            found = catalog[entry.context]
            assert (found.msgid, found.fuzzy) == (entry.text, False), entry
            assert found.msgstr, entry


def test_a_citizen_switches_to_english_mid_form_and_keeps_the_answers(
        app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same over a real send-out: the citizen's pages, review and receipt."""
    from tests.functional import staff_support as s

    sapp = s.staff_app(database_url, tmp_path_factory.mktemp("i18n-outbox"))
    world = s.build_world(sapp, "i18n")
    sender = s.staff_client(sapp, world.staff["sender"])
    person = world.citizens["adult"]
    send_out_id = s.send_out_via_pages(sender, world.unit_id, [person.personnummer])
    token = s.assignment_of(sapp, send_out_id, person.id).token
    citizen = s.citizen_client(sapp, person)
    form = s.CitizenForm(citizen, token)

    first = s.body(form.get(0))
    assert _Inputs(first).lang == "sv"
    assert form.post(0, s.PHQ_ANSWERS).status_code == 302
    switch_language(citizen, first, "en", f"/forms/{token}/0")
    page = s.body(form.get(0))
    assert _Inputs(page).lang == "en"
    assert "2. Feeling down, depressed, or hopeless" in page
    assert _Inputs(page).checked == s.PHQ_ANSWERS
    assert form.post(1, {"phq10": "ganska-svart"}).status_code == 302
    review = s.body(form.review())
    assert "Somewhat difficult" in review
    assert "Ganska svårt" not in review
    assert form.submit().status_code == 302
    receipt = s.body(form.receipt())
    assert _Inputs(receipt).lang == "en"
    assert "Your answers have been sent" in receipt
