"""A health profile as a PDF, printed for the health conversation.

Top to bottom: the profile's title; who it is about (name, personal identity number, visit
date, age and sex); the example notice in a framed box when the profile's criteria are only an
example; the star chart, drawn with the PDF's own vector operations from the same layout as the
web page's SVG (:func:`formular.profiles.chart.chart_geometry`) — rings labelled with the
levels, one labelled axis per area, the level as the point's position and as text, dashed axes
and "not assessed" for areas without a level — and then the same data as a table. The footer
repeats the profile's title and "page n of N".

Pure: the caller passes every fixed word already translated (:class:`ProfileSheet`), so the
module needs no Flask. The font is DejaVu Sans when installed (see :mod:`.fonts`), else
Helvetica with the same Latin-1 fallback as the submission PDF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from fpdf import XPos, YPos
from fpdf.fonts import FontFace

from formular.profiles.chart import ChartWords, LevelLike, ResultLike, chart_geometry

from .fonts import FontFiles, find_fonts
from .pdf_export import A4Document

#: The chart's box on the page (mm) and its text size (pt).
CHART_WIDTH, CHART_HEIGHT, CHART_RADIUS = 170.0, 118.0, 42.0
CHART_FONT_PT = 8.0
PT = 25.4 / 72  # one point in mm


@dataclass(frozen=True)
class ProfileRow:
    """One row of the profile table: the area, its values with units, and its level."""

    area: str
    values: str
    level: str
    level_label: str


@dataclass(frozen=True)
class ProfileSheet:
    """Everything the PDF writes, already in the reader's language."""

    title: str
    language: str
    #: (label, value) pairs about the person and the visit.
    facts: Sequence[tuple[str, str]]
    #: The example notice (shown framed), or None.
    notice: str | None
    #: The table's column titles: area, values, level, level label.
    headings: tuple[str, str, str, str]
    rows: Sequence[ProfileRow]
    #: "Page {page} of {pages}".
    page_text: str
    chart_words: ChartWords = field(default_factory=ChartWords)
    #: A sentence under the title (for instance the profile's description), or None.
    intro: str | None = None


def profile_pdf(sheet: ProfileSheet, result: ResultLike, levels: Sequence[LevelLike], *,
                compress: bool = True, fonts: FontFiles | None = None) -> bytes:
    """The PDF of one computed profile (see the module docstring).

    :param compress: turn off to read the content streams as text (tests).
    """
    fonts = fonts or find_fonts()
    pdf = A4Document(sheet.title, sheet.page_text, fonts)
    pdf.set_compression(compress)
    pdf.set_title(sheet.title)
    pdf.set_lang(sheet.language)
    pdf.set_creator("Formulär")
    pdf.add_page()
    pdf.paragraph(sheet.title, style="B", size=16, height=7.5)
    if sheet.intro:
        pdf.paragraph(sheet.intro, size=9.5, height=4.6)
    pdf.ln(2)
    _facts(pdf, sheet.facts)
    if sheet.notice:
        _notice(pdf, sheet.notice)
    _chart(pdf, result, levels, sheet.chart_words)
    _table(pdf, sheet)
    return bytes(pdf.output())


def _facts(pdf: A4Document, facts: Sequence[tuple[str, str]]) -> None:
    if not facts:
        return
    pdf.style("")
    bold = FontFace(emphasis="BOLD")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    with pdf.table(col_widths=(45, width - 45), width=width, borders_layout="NONE",
                   first_row_as_headings=False, text_align="LEFT", line_height=5.6,
                   cell_fill_mode="NONE", padding=(0.3, 1, 0.3, 0)) as table:
        for label, value in facts:
            row = table.row()
            row.cell(pdf.text_of(label), style=bold)
            row.cell(pdf.text_of(value))
    pdf.ln(3)


def _notice(pdf: A4Document, text: str) -> None:
    """A framed, bold box: recognisable in grey-scale print, not by colour alone."""
    pdf.set_draw_color(120, 90, 0)
    pdf.set_fill_color(255, 244, 206)
    pdf.set_line_width(0.6)
    margin, pdf.c_margin = pdf.c_margin, 2.5
    pdf.style("B", 10)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, 5.4, pdf.text_of(text), border=1, fill=True, align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.c_margin = margin
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(3)


def _chart(pdf: A4Document, result: ResultLike, levels: Sequence[LevelLike],
           words: ChartWords) -> None:
    font_mm = CHART_FONT_PT * PT
    geometry = chart_geometry(result, levels, words=words, width=CHART_WIDTH,
                              height=CHART_HEIGHT, radius=CHART_RADIUS, font_size=font_mm,
                              line_height=font_mm * 1.3)
    if pdf.get_y() + CHART_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    left = pdf.l_margin + (pdf.w - pdf.l_margin - pdf.r_margin - CHART_WIDTH) / 2
    top = pdf.get_y()

    def at(point: tuple[float, float]) -> tuple[float, float]:
        return left + point[0], top + point[1]

    cx, cy = at(geometry.centre)
    pdf.set_line_width(0.25)
    pdf.set_draw_color(138, 138, 138)
    for ring in geometry.rings:
        pdf.ellipse(cx - ring.radius, cy - ring.radius, 2 * ring.radius, 2 * ring.radius)
    pdf.set_draw_color(85, 85, 85)
    for axis in geometry.axes:
        x, y = at(axis.end)
        if axis.point is None:
            pdf.set_dash_pattern(dash=1.4, gap=1.1)
        pdf.line(cx, cy, x, y)
        pdf.set_dash_pattern()
    if len(geometry.outline) >= 2:
        pdf.set_draw_color(29, 79, 117)
        pdf.set_fill_color(47, 111, 159)
        pdf.set_line_width(0.6)
        with pdf.local_context(fill_opacity=0.18):
            pdf.polygon([at(p) for p in geometry.outline], style="F")
        pdf.polygon([at(p) for p in geometry.outline], style="D")
        pdf.set_line_width(0.25)
    pdf.set_fill_color(29, 79, 117)
    for axis in geometry.axes:
        if axis.point is not None:
            x, y = at(axis.point)
            pdf.ellipse(x - 1.3, y - 1.3, 2.6, 2.6, style="F")
    # Ring labels between the first two axes, like the SVG.
    step = 2 * math.pi / max(len(geometry.axes), 1)
    angle = -math.pi / 2 + step / 2
    pdf.style("", 6.5)
    pdf.set_text_color(51, 51, 51)
    for ring in geometry.rings:
        text = pdf.text_of(ring.label)
        x = cx + ring.radius * math.cos(angle) - pdf.get_string_width(text) / 2
        y = cy + ring.radius * math.sin(angle)
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(x - 0.5, y - 6.5 * PT, pdf.get_string_width(text) + 1, 6.5 * PT + 0.8,
                 style="F")
        pdf.text(x, y, text)
    pdf.set_text_color(26, 26, 26)
    for axis in geometry.axes:
        x, y = at(axis.label_at)
        line = 0
        for text, style in ([(t, "B") for t in axis.label_lines]
                            + [(t, "I" if axis.point is None else "")
                               for t in axis.level_lines]):
            pdf.style(style, CHART_FONT_PT)
            shown = pdf.text_of(text)
            width = pdf.get_string_width(shown)
            start = x - width if axis.anchor == "end" else x - width / 2 \
                if axis.anchor == "middle" else x
            pdf.text(start, y + line * geometry.line_height, shown)
            line += 1
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(top + CHART_HEIGHT + 2)


def _table(pdf: A4Document, sheet: ProfileSheet) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.style("", 9.5)
    headings = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(col_widths=(40, 62, 22, width - 124), width=width, text_align="LEFT",
                   line_height=5, headings_style=headings, padding=1.2) as table:
        head = table.row()
        for title in sheet.headings:
            head.cell(pdf.text_of(title))
        for row in sheet.rows:
            cells = table.row()
            cells.cell(pdf.text_of(row.area), style=FontFace(emphasis="BOLD"))
            cells.cell(pdf.text_of(row.values))
            cells.cell(pdf.text_of(row.level))
            cells.cell(pdf.text_of(row.level_label))
