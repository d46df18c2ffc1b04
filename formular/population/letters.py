"""Printable invitation letters: one A4 page per recipient, in one PDF (pure: texts in,
bytes out).

The texts arrive already translated (the web page renders them with the requested locale),
so this module only lays them out, with the same document class, DejaVu font and Latin-1
fallback as the PDF copies of answers (:mod:`formular.interop.pdf_export`).

What a letter carries, and what it does not: the recipient's **name** at the position of a
Swedish window envelope's address field (right-hand window), with a marked place for the
postal address — Formulär holds no addresses, so the clinic adds them (address labels, or the
mailing service's merge). No
personal identity number: it is not needed to answer (the e-legitimation log-in identifies
the person), and a letter may be opened by someone else in the household. No form answers, no
health information: the letter names the unit, the questionnaire, the deadline and how to
log in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from formular.interop.fonts import FontFiles, find_fonts
from formular.interop.pdf_export import A4Document

__all__ = ["Letter", "LetterTexts", "letters_pdf"]

#: Where a Swedish window envelope (SIS layout, window on the right) shows the address, in mm
#: from the page's top left corner.
WINDOW_TOP = 42
WINDOW_LEFT = 110


@dataclass(frozen=True)
class Letter:
    """One recipient's letter: the name in the address field, and the greeting."""

    name: str
    greeting: str


@dataclass(frozen=True)
class LetterTexts:
    """The texts every letter of one print shares, already in the letter's language."""

    language: str
    #: The PDF's title (metadata).
    document_title: str
    #: The sender (the unit's name).
    unit: str
    #: "Stockholm, 26 November 2026"-style line under the sender.
    date_line: str
    #: A small note under the name, where the postal address goes.
    address_note: str
    heading: str
    paragraphs: Sequence[str]
    #: The heading of the numbered steps, and the steps.
    steps_heading: str
    steps: Sequence[str]
    #: Paragraphs after the steps (deadline, help, data protection).
    after: Sequence[str]
    closing: str
    footer: str


class _LetterDocument(A4Document):
    """A4 letters: no page numbers (each page is a letter of its own), a small footer."""

    def footer(self) -> None:
        self.set_y(-13)
        self.style("", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.set_text_color(0, 0, 0)


def letters_pdf(letters: Sequence[Letter], texts: LetterTexts, *,
                fonts: FontFiles | None = None, compress: bool = True) -> bytes:
    """One PDF with one page per letter, in the order given."""
    pdf = _LetterDocument(texts.footer, "", fonts or find_fonts())
    pdf.set_compression(compress)
    pdf.set_title(texts.document_title)
    pdf.set_lang(texts.language)
    pdf.set_creator("Formulär")
    for letter in letters:
        _letter(pdf, letter, texts)
    return bytes(pdf.output())


def _letter(pdf: _LetterDocument, letter: Letter, texts: LetterTexts) -> None:
    pdf.add_page()
    # The sender's column stays left of the address window (the contact is in the text).
    pdf.set_right_margin(pdf.w - WINDOW_LEFT + 5)
    pdf.paragraph(texts.unit, style="B", size=13, height=6.5)
    pdf.paragraph(texts.date_line, size=9.5, height=4.8)
    pdf.set_right_margin(20)

    pdf.set_y(WINDOW_TOP)
    pdf.set_left_margin(WINDOW_LEFT)
    pdf.paragraph(letter.name, style="B", size=11, height=5.5)
    pdf.set_text_color(110, 110, 110)
    pdf.paragraph(texts.address_note, style="I", size=8.5, height=4.5)
    pdf.set_text_color(0, 0, 0)
    pdf.set_left_margin(20)

    pdf.set_y(max(pdf.get_y() + 8, WINDOW_TOP + 48))
    pdf.paragraph(texts.heading, style="B", size=15, height=7.5)
    pdf.ln(3)
    pdf.paragraph(letter.greeting)
    pdf.ln(2)
    for text in texts.paragraphs:
        pdf.paragraph(text)
        pdf.ln(2.5)
    pdf.paragraph(texts.steps_heading, style="B", size=11.5, height=6)
    pdf.ln(1)
    for number, step in enumerate(texts.steps, start=1):
        pdf.paragraph(f"{number}. {step}", indent=4)
        pdf.ln(1)
    pdf.ln(2)
    for text in texts.after:
        pdf.paragraph(text)
        pdf.ln(2.5)
    pdf.ln(2)
    pdf.paragraph(texts.closing)
