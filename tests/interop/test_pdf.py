"""PDF of one submission, read back with pypdf: header facts, flags, scores, the answers page by
page, Unicode text, literal markup and the citizen's copy."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from formular.definitions.service import CompiledDefinition
from formular.interop import pdf_export
from formular.interop.service import ExportRow, find_fonts, submission_pdf

from .conftest import PHQ9_MODERATE, SHOWCASE_FULL, submission


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_dejavu_font_is_installed() -> None:
    # scripts/test installs fonts-dejavu-core; without it the PDF falls back to Helvetica.
    fonts = find_fonts()
    assert fonts is not None
    assert fonts.regular.name == "DejaVuSans.ttf"


def test_phq9_pdf_has_the_facts_the_score_and_the_flag(phq9: CompiledDefinition) -> None:
    data = submission_pdf(phq9, submission(phq9, PHQ9_MODERATE))
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    assert "PHQ-9 – frågor om nedstämdhet" in text
    assert "7F3A9C21-B00C" in text
    assert "19121212-1212" in text
    assert "2025-01-15 09:30" in text  # Stockholm time
    assert "PHQ-9 totalpoäng" in text
    assert "11 – Måttliga symtom" in text
    assert "FLAGGA – kritisk" in text
    assert "Fråga 9: tankar på att vara död" in text
    # the answers, as on the review page
    assert "Besvär de senaste två veckorna" in text
    assert "Lite intresse eller glädje i att göra saker" in text
    assert "hur ofta har du besvärats av något av följande" in text
    assert "Mer än hälften av dagarna" in text
    assert "Sida 1 av" in text


def test_flags_come_before_scores_and_answers(phq9: CompiledDefinition) -> None:
    text = text_of(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE)))
    assert text.index("FLAGGA") < text.index("PHQ-9 totalpoäng") < text.index("Flera dagar")


def test_no_flags_is_said_for_staff(phq9: CompiledDefinition) -> None:
    answers = dict(PHQ9_MODERATE, phq9=0)
    text = text_of(submission_pdf(phq9, submission(phq9, answers)))
    assert "Inga flaggor" in text
    assert "FLAGGA" not in text


def test_metadata_title_and_language(phq9: CompiledDefinition) -> None:
    reader = PdfReader(io.BytesIO(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE))))
    assert reader.metadata is not None
    assert reader.metadata.title == "PHQ-9 – frågor om nedstämdhet – 7F3A9C21-B00C"
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    english = PdfReader(io.BytesIO(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE),
                                                  "en")))
    assert english.trailer["/Root"]["/Lang"] == "en"
    assert "FLAG – critical" in text_of(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE),
                                                       "en"))


def test_showcase_pdf_every_item_type(showcase: CompiledDefinition) -> None:
    text = text_of(submission_pdf(showcase, submission(showcase, SHOWCASE_FULL)))
    assert "Åsa Öberg" in text
    assert "Nej, har slutat" in text
    assert "72,5 kg" in text  # decimal comma and unit
    assert "22,4 kg/m²" in text  # the calculated BMI
    assert "Smärta, Sömnproblem" in text
    assert "Stämmer helt" in text
    assert "Hur väl stämmer påståendena den senaste månaden?" in text  # the matrix question
    assert "Läkemedel 2: Läkemedlets namn" in text
    assert "Levaxin" in text
    assert "0,1 mg" in text
    assert "Ja" in text
    assert "Nej" in text
    assert "Ej besvarat" in text  # a visible question left empty (visit date)
    assert "Ring upp i veckan." in text  # staff see the staff note
    assert "Stress, medelvärde" in text
    assert "4,7" in text
    assert "Hög stress" in text


def test_citizen_copy_hides_staff_items_and_staff_only_scores_and_flags(
        showcase: CompiledDefinition, phq9: CompiledDefinition) -> None:
    row = submission(showcase, SHOWCASE_FULL)
    text = text_of(submission_pdf(showcase, row, audience="citizen"))
    assert "Ring upp i veckan." not in text
    assert "Anteckning från personal" not in text
    assert "Mår mycket dåligt" not in text  # a flag for staff only
    assert "FLAGGA – måttlig: Hög stress" in text  # a flag the citizen may see
    assert "Antal besvär" not in text  # a score for staff only
    assert "Stresspoäng" in text
    phq9_text = text_of(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE),
                                       audience="citizen"))
    assert "FLAGGA" not in phq9_text
    assert "Inga flaggor" not in phq9_text
    assert "PHQ-9 totalpoäng" not in phq9_text
    assert "Mer än hälften av dagarna" in phq9_text


def test_markup_and_unicode_are_drawn_literally(showcase: CompiledDefinition) -> None:
    tricky = "<script>alert('å')</script> <b>fet</b> **stjärnor** & Ærø ÅÄÖ łódź 😀"
    answers = dict(SHOWCASE_FULL, other=tricky, pain_where="x" * 500)
    data = submission_pdf(showcase, submission(showcase, answers))
    text = text_of(data)
    assert "<script>alert('å')</script>" in text
    assert "<b>fet</b> **stjärnor** & Ærø ÅÄÖ łódź" in text
    assert "x" * 60 in text  # a very long word is broken across lines, not lost


def test_uncompressed_content_streams(phq9: CompiledDefinition) -> None:
    data = submission_pdf(phq9, submission(phq9, PHQ9_MODERATE), compress=False)
    assert data.startswith(b"%PDF-")
    assert b"BT " in data  # text objects are readable in the file
    assert len(data) > len(submission_pdf(phq9, submission(phq9, PHQ9_MODERATE)))


def test_many_answers_make_several_pages(showcase: CompiledDefinition) -> None:
    long_text = "Lång text med å, ä och ö. " * 80
    answers = dict(SHOWCASE_FULL, other=long_text, pain_where=long_text[:500])
    reader = PdfReader(io.BytesIO(submission_pdf(showcase, submission(showcase, answers))))
    assert len(reader.pages) >= 2
    last = reader.pages[-1].extract_text()
    assert f"Sida {len(reader.pages)} av {len(reader.pages)}" in last


def test_without_a_unicode_font_helvetica_keeps_swedish(
        showcase: CompiledDefinition, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_export, "find_fonts", lambda dirs=(): None)
    answers = dict(SHOWCASE_FULL, other="Åsa i Łódź – “citat” 😀")
    text = text_of(submission_pdf(showcase, submission(showcase, answers)))
    assert "Åsa i Lódz - \"citat\" ?" in text
    assert "(!) FLAGGA" in text
    assert "Ländryggen" in text


def test_missing_font_folder_is_not_found(tmp_path: Path) -> None:
    assert find_fonts([tmp_path]) is None


def test_empty_submission(phq9: CompiledDefinition) -> None:
    row = ExportRow(personnummer=None, name=None, receipt="R-1", submitted_at=None)
    text = text_of(submission_pdf(phq9, row))
    assert "R-1" in text
    assert "Ej besvarat" in text  # the nine PHQ questions are visible and unanswered
    assert "Inga flaggor" in text


def test_receipt_with_markup_in_footer(phq9: CompiledDefinition) -> None:
    row = dataclasses.replace(submission(phq9, PHQ9_MODERATE), receipt="<R&1>")
    assert "Kvittensnummer <R&1>" in text_of(submission_pdf(phq9, row))
