"""One submission as a PDF: for the case file, and as the citizen's own copy.

Layout, top to bottom: the form's title; who answered and when, with the receipt number;
flags (each in a bold, framed box that starts with "⚠ FLAGGA – <severity>:", so a flag is
recognisable in grey-scale print and by a screen reader, not by colour alone); scores with
their bands; then every visible question page by page, exactly as the review page lists them
(:func:`formular.rendering.page.build_review`), with "Ej besvarat" where a visible question was
left empty. The footer repeats the receipt number and "Sida n av N" on every page.

``audience="citizen"`` makes the citizen's copy: staff-only items are left out, and so are
scores and flags that the definition does not mark ``citizen_visible``.

Text is drawn as plain text (fpdf2 ``multi_cell`` without markup), so answers such as
``<b>x</b>`` or ``**x**`` appear literally. The font is DejaVu Sans (Debian's
``fonts-dejavu-core``), found on the usual font paths; it covers å, ä, ö and most European
scripts. Without it the PDF falls back to the built-in Helvetica, whose Latin-1 covers Swedish
but not everything else: other characters are transliterated (``ł`` → ``l``) or become ``?``.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from babel.numbers import format_decimal
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

from formular.definitions.service import CompiledDefinition, ItemSpec
from formular.rendering.page import build_review

from .fonts import FontFiles, find_fonts
from .table import Audience, ExportRow, display_personnummer, local_time, raised_flags
from .texts import severity, texts

__all__ = ["A4Document", "FontFiles", "find_fonts", "submission_pdf"]

FAMILY = "DejaVu"
CORE_FAMILY = "helvetica"
#: Item types whose review text is a number, shown with the language's decimal separator.
NUMERIC = frozenset({"integer", "decimal", "scale", "calculated"})


class A4Document(FPDF):
    """An A4 page with a footer (``footer_text`` and page n of N) and the project's fonts:
    DejaVu when installed, else Helvetica with text reduced to Latin-1. Shared by the answers'
    PDF, the health profile and the invitation letters."""

    def __init__(self, footer_text: str, page_text: str, fonts: FontFiles | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.page_text = page_text
        self.unicode = fonts is not None
        if fonts is not None:
            self.add_font(FAMILY, "", str(fonts.regular))
            self.add_font(FAMILY, "B", str(fonts.bold))
            if fonts.italic is not None:
                self.add_font(FAMILY, "I", str(fonts.italic))
        self.family = FAMILY if fonts is not None else CORE_FAMILY
        self.has_italic = fonts is None or fonts.italic is not None
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)

    def text_of(self, value: str) -> str:
        """Text the current font can draw: everything with DejaVu, Latin-1 with Helvetica."""
        return value if self.unicode else _latin1(value)

    def style(self, style: str = "", size: float = 10.5) -> None:
        if style == "I" and not self.has_italic:
            style = ""
        self.set_font(self.family, style, size)

    def footer(self) -> None:
        self.set_y(-13)
        self.style("", 8)
        self.set_text_color(90, 90, 90)
        pages = self.page_text.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, self.text_of(f"{self.footer_text}  ·  {pages}"), align="R")
        self.set_text_color(0, 0, 0)

    def paragraph(self, value: str, *, style: str = "", size: float = 10.5, height: float = 5.2,
                  indent: float = 0, border: Literal[0, 1] = 0, fill: bool = False) -> None:
        self.style(style, size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, height, self.text_of(value), border=border, fill=fill, align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def submission_pdf(
    compiled: CompiledDefinition,
    row: ExportRow,
    language: str | None = None,
    *,
    audience: Audience = "staff",
    compress: bool = True,
    fonts: FontFiles | None = None,
) -> bytes:
    """The PDF of one submission (see the module docstring).

    :param language: of the fixed words (Inskickat, Ja/Nej…) and of numbers; default the
        definition's. The PDF's language metadata is set to it.
    :param audience: ``staff`` (everything) or ``citizen`` (the citizen's copy).
    :param compress: turn off to read the content streams as text (tests).
    :param fonts: the TrueType files to use (default :func:`find_fonts`).
    """
    language = language or compiled.language
    words = texts(language)
    citizen = audience == "citizen"
    fonts = fonts or find_fonts()
    pdf = A4Document(f"{words['receipt']} {row.receipt}", words["page"], fonts)
    pdf.set_compression(compress)
    pdf.set_title(f"{compiled.title} – {row.receipt}")
    pdf.set_lang(language)
    pdf.set_subject(compiled.title)
    pdf.set_creator("Formulär")
    pdf.add_page()

    pdf.paragraph(compiled.title, style="B", size=16, height=7.5)
    pdf.ln(2)
    _who_and_when(pdf, row, words)
    _flags(pdf, raised_flags(row.scores, citizen=citizen), words, staff=not citizen)
    _scores(pdf, row.scores, compiled, words, language, citizen=citizen)
    _answers(pdf, compiled, row, words, language, audience)
    return bytes(pdf.output())


def _who_and_when(pdf: A4Document, row: ExportRow, words: dict[str, str]) -> None:
    submitted = local_time(row.submitted_at)
    facts = [
        (words["name"], row.name),
        (words["personnummer"], display_personnummer(row.personnummer)),
        (words["submitted_at"], None if submitted is None
         else submitted.strftime("%Y-%m-%d %H:%M")),
        (words["receipt"], row.receipt),
        (words["answered_by"], row.answered_by),
        (words["status"], row.status),
    ]
    _pairs(pdf, [(label, str(value)) for label, value in facts if value], 42)
    pdf.ln(3)


def _pairs(pdf: A4Document, pairs: list[tuple[str, str]], first: float) -> None:
    """Label and value side by side, the label in bold; rows grow and break pages as needed."""
    if not pairs:
        return
    pdf.style("")
    bold = FontFace(emphasis="BOLD")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    with pdf.table(col_widths=(first, width - first), width=width, borders_layout="NONE",
                   first_row_as_headings=False, text_align="LEFT", line_height=5.6,
                   cell_fill_mode="NONE",
                   padding=(0.3, 1, 0.3, 0)) as table:
        for label, value in pairs:
            row = table.row()
            row.cell(pdf.text_of(label), style=bold)
            row.cell(pdf.text_of(value))


def _flags(pdf: A4Document, flags: list[Any], words: dict[str, str], *, staff: bool) -> None:
    if not flags:
        if staff:
            pdf.paragraph(words["no_flags"], style="I")
            pdf.ln(2)
        return
    marker = "⚠ " if pdf.unicode else "(!) "
    for flag in flags:
        level = severity(words, flag.get("severity"))
        head = f"{marker}{words['flag']}" + (f" – {level}" if level else "")
        label = str(flag.get("label", flag.get("id", "")))
        pdf.set_draw_color(160, 0, 0)
        pdf.set_fill_color(253, 236, 236)
        pdf.set_text_color(120, 0, 0)
        pdf.set_line_width(0.7)
        margin, pdf.c_margin = pdf.c_margin, 2.5
        pdf.paragraph(f"{head}: {label}", style="B", size=11, height=6.5, border=1, fill=True)
        pdf.c_margin = margin
        pdf.set_line_width(0.2)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)
    pdf.ln(2)


def _scores(pdf: A4Document, stored: Any, compiled: CompiledDefinition, words: dict[str, str],
            language: str, *, citizen: bool) -> None:
    results = stored.get("scores") if isinstance(stored, dict) else None
    results = results if isinstance(results, dict) else {}
    shown = []
    for score in compiled.document.get("scores", []):
        result = results.get(score["id"])
        if not isinstance(result, dict):
            continue
        if citizen and not result.get("citizen_visible", score.get("citizen_visible", False)):
            continue
        decimals = score.get("decimals")
        shown.append((str(result.get("label") or score["label"]), result,
                       decimals if isinstance(decimals, int) else None))
    if not shown:
        return
    pdf.paragraph(words["scores"], style="B", size=13, height=7)
    pairs = []
    for label, result, decimals in shown:
        value = result.get("value")
        text = words["not_computed"] if value is None else _number(value, language, decimals)
        band = result.get("band")
        if isinstance(band, dict) and band.get("label"):
            text += f" – {band['label']}"
        pairs.append((label, text))
    _pairs(pdf, pairs, 70)
    pdf.ln(3)


def _answers(pdf: A4Document, compiled: CompiledDefinition, row: ExportRow,
             words: dict[str, str], language: str, audience: Audience) -> None:
    evaluation = compiled.evaluate(dict(row.answers), audience)
    items = _items_by_field_id(compiled)
    for page, entries in build_review(compiled, audience, evaluation):
        _keep_together(pdf, 28)  # a page title with at least its first question
        pdf.ln(1)
        pdf.paragraph(page.title, style="B", size=13, height=7)
        pdf.set_draw_color(170, 170, 170)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_draw_color(0, 0, 0)
        pdf.ln(2)
        matrix: ItemSpec | None = None
        for entry in entries:
            item = items.get(entry.field_id)
            _keep_together(pdf, 13)  # a question with the first line of its answer
            if entry.kind == "matrix" and item is not None and item is not matrix:
                # The matrix's own question, once above its rows (the review lists the rows).
                pdf.paragraph(item.label, style="B", size=10.5)
                pdf.ln(1)
            matrix = item if entry.kind == "matrix" else None
            indent = 4 if matrix is not None else 0
            pdf.paragraph(entry.label, style="B", size=10, indent=indent)
            if entry.missing:
                pdf.set_text_color(90, 90, 90)
                pdf.paragraph(words["not_answered"], style="I", indent=indent + 4)
                pdf.set_text_color(0, 0, 0)
            else:
                answer = _answer_text(entry.answer, getattr(entry, "value", None), entry.kind,
                                      item, words, language)
                pdf.paragraph(answer, indent=indent + 4)
            pdf.ln(1.8)


def _keep_together(pdf: A4Document, height: float) -> None:
    """Start a new page unless ``height`` mm still fit on this one."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _answer_text(answer: str, value: Any, kind: str, item: ItemSpec | None,
                 words: dict[str, str], language: str) -> str:
    """The review's text of an answer, with yes/no in words and numbers in the language's
    form with their unit."""
    if kind == "yes-no":
        if isinstance(value, bool):
            return words["yes"] if value else words["no"]
        return {"true": words["yes"], "false": words["no"]}.get(answer, answer)
    if kind in NUMERIC:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) \
            else _parse_number(answer)
        if number is None:
            return answer
        text = _number(number, language)
        unit = item.raw.get("unit") if item is not None else None
        return f"{text} {unit}" if unit else text
    return answer


def _parse_number(text: str) -> int | float | None:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return None


def _number(value: Any, language: str, decimals: int | None = None) -> str:
    """A number with the language's decimal separator, never grouped (years stay 1990)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    pattern = "0." + "0" * decimals if decimals else "0" if decimals == 0 else "0.###"
    try:
        return str(format_decimal(value, format=pattern, locale=language.replace("-", "_")))
    except (ValueError, LookupError):
        return str(value)


def _items_by_field_id(compiled: CompiledDefinition) -> dict[str, ItemSpec]:
    """Review entries carry the input's id; map it back to the item (for units)."""
    found: dict[str, ItemSpec] = {}
    for page in compiled.pages:
        for item in page.items():
            found[f"f-{item.name}"] = item
            for row in item.rows:
                found[f"f-{row.name}"] = item
            if item.type == "group":
                bound = item.prop.get("maxItems")
                for index in range(bound if isinstance(bound, int) else 0):
                    for child in item.children:
                        found[f"f-{item.name}-{index}-{child.name}"] = child
    return found


#: Letters without a Latin-1 form that Unicode does not decompose, and typographic marks.
_NEAREST = str.maketrans({
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE",
    "œ": "oe", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "„": '"',
    "…": "...", "•": "*", "⚠": "(!)",
})


def _latin1(value: str) -> str:
    """Helvetica's Latin-1 only: keep å ä ö é ü…, strip accents from the rest, else ``?``."""
    out = []
    for char in value.translate(_NEAREST):
        if ord(char) < 256:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)
