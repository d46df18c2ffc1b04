"""Profile texts in English from the shipped designs catalog, and the fallbacks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from formular.i18n.catalogs import TRANSLATIONS
from formular.i18n.service import ContentCatalogs
from formular.profiles.compute import compute_profile
from formular.profiles.loader import load_profile
from formular.profiles.translate import profile_for, profile_languages

from .support import example_document

PROFILE = load_profile(example_document())


def catalog_copy(folder: Path, *, drop: str | None = None,
                 replace: tuple[str, str] | None = None) -> ContentCatalogs:
    """The shipped English designs catalog under *folder*, one entry dropped or replaced."""
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "designs.po").open("rb") as handle:
        catalog = read_po(handle, locale="en", domain="designs")
    if drop is not None:
        message = next(m for m in catalog if m.context == drop)
        catalog.delete(message.id, context=message.context)
    if replace is not None:
        next(m for m in catalog if m.context == replace[0]).string = replace[1]
    path = folder / "en" / "LC_MESSAGES" / "designs.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return ContentCatalogs(folder)


def test_the_english_profile_has_english_texts() -> None:
    english = profile_for(PROFILE, "en")
    assert english.title == "Health profile (example)"
    assert english.notice is not None
    assert english.notice.startswith("Example –")
    assert "replaced by the region's own criteria" in english.notice
    assert [level.label for level in english.levels] == [
        "Major change needed", "Change needed", "Could be improved", "Good", "Very good"]
    assert [area.label for area in english.areas] == [
        "Tobacco", "Alcohol", "Physical activity", "Eating habits", "BMI",
        "Waist circumference", "Blood pressure", "Blood lipids", "Blood glucose",
        "Stress and recovery", "Sleep"]
    assert english.area("physical_activity").unit == "min/week"  # type: ignore[union-attr]
    assert english.area("alcohol").description.startswith("AUDIT-C, questions 1–3")  # type: ignore[union-attr]


def test_only_texts_change() -> None:
    english = profile_for(PROFILE, "en")
    assert [lv.value for lv in english.levels] == [lv.value for lv in PROFILE.levels]
    for mine, theirs in zip(PROFILE.areas, english.areas, strict=True):
        assert (mine.id, dict(mine.inputs), mine.required_inputs) == (
            theirs.id, dict(theirs.inputs), theirs.required_inputs)
        assert [r.when for r in mine.rules] == [r.when for r in theirs.rules]
    subject = {"sex": "male", "age": 50}
    swedish = compute_profile(PROFILE, survey_answers={"smoking": "dagligen", "snus": "aldrig"},
                              survey_scores={}, measurements={}, subject=subject)
    result = compute_profile(english, survey_answers={"smoking": "dagligen", "snus": "aldrig"},
                             survey_scores={}, measurements={}, subject=subject)
    assert [a.level for a in result.areas] == [a.level for a in swedish.areas]
    assert result.area("tobacco").level_label == "Major change needed"  # type: ignore[union-attr]
    assert swedish.area("tobacco").level_label == "Stort behov av förändring"  # type: ignore[union-attr]


def test_the_source_language_is_the_profile_itself() -> None:
    assert profile_for(PROFILE, "sv") is PROFILE


def test_the_profile_is_offered_in_swedish_and_english() -> None:
    assert profile_languages(PROFILE) == ["sv", "en"]


def test_a_missing_translation_falls_back_to_swedish(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    catalogs = catalog_copy(tmp_path, drop="health-profile-example:/notice")
    with caplog.at_level(logging.WARNING, logger="formular.profiles.translate"):
        english = profile_for(PROFILE, "en", catalogs)
    assert english.notice == PROFILE.notice, "Swedish, never blank"
    assert english.title == "Health profile (example)"
    assert "1 texts missing" in caplog.text
    assert profile_languages(PROFILE, catalogs) == ["sv"]


def test_a_translation_that_breaks_the_profile_falls_back_to_the_source(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    catalogs = catalog_copy(tmp_path, replace=("health-profile-example:/areas/0/label", "x" * 600))
    with caplog.at_level(logging.ERROR, logger="formular.profiles.translate"):
        assert profile_for(PROFILE, "en", catalogs) is PROFILE
    assert "makes it invalid" in caplog.text


def test_an_unknown_language_falls_back_to_the_source() -> None:
    german = profile_for(PROFILE, "de")
    assert german.title == PROFILE.title
    assert german.notice == PROFILE.notice
