"""The star chart as SVG (structure, accessibility, escaping, positions) and the profile PDF
drawn from the same layout."""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from formular.interop.profile_pdf import ProfileRow, ProfileSheet, profile_pdf
from formular.profiles.chart import ChartWords, chart_geometry, describe, star_svg

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Level:
    value: int
    label: str


@dataclass(frozen=True)
class Area:
    area_id: str
    label: str
    level: int | None


@dataclass(frozen=True)
class Result:
    areas: tuple[Area, ...]


LEVELS = (Level(3, "Good"), Level(1, "Needs change"), Level(2, "Could be better"))
RESULT = Result((Area("tobacco", "Tobacco", 3), Area("alcohol", "Alcohol", 1),
                 Area("diet", "Diet", None), Area("bmi", "BMI", 2),
                 Area("sleep", "Sleep and recovery after work", 2)))


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  (our own output, parsed to check it is well formed)


def test_image_with_title_and_description() -> None:
    root = parsed(star_svg(RESULT, LEVELS, words=ChartWords(title="Health profile")))
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    title_id, desc_id = root.attrib["aria-labelledby"].split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert title.attrib["id"] == title_id
    assert title.text == "Health profile"
    assert desc is not None
    assert desc.attrib["id"] == desc_id
    assert desc.text == (
        "Star chart with one axis per area. Levels from the centre outwards: Needs change, "
        "Could be better, Good. Tobacco: Good (level 3 of 3). Alcohol: Needs change (level 1 of "
        "3). Diet: not assessed. BMI: Could be better (level 2 of 3). Sleep and recovery after "
        "work: Could be better (level 2 of 3).")


def test_one_labelled_axis_per_area_and_labelled_rings() -> None:
    root = parsed(star_svg(RESULT, LEVELS))
    axes = [line for line in root.iter(f"{SVG}line") if "axis" in line.attrib["class"].split()]
    assert len(axes) == 5
    missing = [line for line in axes if "axis-missing" in line.attrib["class"].split()]
    assert len(missing) == 1
    assert "stroke-dasharray" in missing[0].attrib
    rings = [c for c in root.iter(f"{SVG}circle") if c.attrib.get("class") == "ring"]
    assert len(rings) == 3
    ring_labels = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "ring-label"]
    assert ring_labels == ["Needs change", "Could be better", "Good"]
    # Each area: its name, then its level in words (or "Not assessed") as text.
    blocks = {t.attrib["data-area"]: [span.text for span in t] for t in root.iter(f"{SVG}text")
              if t.attrib.get("class") == "area"}
    assert blocks == {"tobacco": ["Tobacco", "Good"], "alcohol": ["Alcohol", "Needs change"],
                      "diet": ["Diet", "Not assessed"], "bmi": ["BMI", "Could be better"],
                      "sleep": ["Sleep and recovery", "after work", "Could be better"]}
    points = [c.attrib["data-area"] for c in root.iter(f"{SVG}circle")
              if c.attrib.get("class") == "point"]
    assert points == ["tobacco", "alcohol", "bmi", "sleep"]  # none for the area not assessed


def test_level_is_the_distance_from_the_centre() -> None:
    geometry = chart_geometry(RESULT, LEVELS, words=ChartWords())
    cx, cy = geometry.centre
    distance = {axis.area_id: math.dist((cx, cy), axis.point)
                for axis in geometry.axes if axis.point is not None}
    radius = geometry.radius
    assert distance["alcohol"] == pytest.approx(radius / 3)
    assert distance["bmi"] == pytest.approx(2 * radius / 3)
    assert distance["tobacco"] == pytest.approx(radius)
    # The first axis points straight up, the others follow clockwise at equal angles.
    first = geometry.axes[0]
    assert first.end[0] == pytest.approx(cx)
    assert first.end[1] < cy
    angles = [axis.angle for axis in geometry.axes]
    steps = {round(b - a, 9) for a, b in zip(angles, angles[1:], strict=False)}
    assert steps == {round(2 * math.pi / 5, 9)}
    assert geometry.outline == tuple(a.point for a in geometry.axes if a.point is not None)


def test_no_script_no_inline_style() -> None:
    svg = star_svg(RESULT, LEVELS)
    assert "<script" not in svg
    assert not re.search(r"\sstyle=", svg)
    assert not re.search(r"\son[a-z]+=", svg)


def test_hostile_texts_are_escaped() -> None:
    evil = '<script>alert("x")</script> & </text><a href="javascript:1">'
    hostile = Result((Area('a"><script>', evil, 1), Area("b", "B", 2), Area("c", "C", None)))
    levels = (Level(1, evil), Level(2, "two"))
    svg = star_svg(hostile, levels, words=ChartWords(title=evil, not_assessed=evil),
                   id_prefix='x" onload="alert(1)')
    assert "<script" not in svg
    assert "<a " not in svg
    assert not re.search(r"\son[a-z]+=", svg)
    root = parsed(svg)
    rings = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "ring-label"]
    assert rings == [evil, "two"]
    area = next(t for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "area")
    assert area.attrib["data-area"] == 'a"><script>'
    assert " ".join(span.text or "" for span in area)[:len("<script>alert")] == "<script>alert"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == evil
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", element.attrib["id"])
               for element in root.iter() if "id" in element.attrib)


def test_describe_uses_the_translated_words() -> None:
    words = ChartWords(scale="Nivåer inifrån och ut: {levels}.",
                       area_level="{area}: {level} ({position}/{count}).",
                       area_missing="{area}: ej bedömt.")
    assert describe(Result((Area("a", "Tobak", 3), Area("b", "Kost", None))), LEVELS, words) == (
        "Nivåer inifrån och ut: Needs change, Could be better, Good. Tobak: Good (3/3). "
        "Kost: ej bedömt.")


def test_pdf_holds_chart_and_table() -> None:
    pypdf = pytest.importorskip("pypdf")
    sheet = ProfileSheet(
        title="Hälsoprofil", language="sv", facts=[("Namn", "Hedvig Holm")],
        notice="Exempel: kriterierna är ett exempel.",
        headings=("Område", "Värden", "Nivå", "Betydelse"),
        rows=[ProfileRow("Tobak", "Röker du? Nej", "3 av 3", "Good"),
              ProfileRow("Kost", "–", "–", "Ej bedömt")],
        page_text="Sida {page} av {pages}")
    data = profile_pdf(sheet, RESULT, LEVELS)
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for expected in ("Hälsoprofil", "Hedvig Holm", "Exempel: kriterierna är ett exempel.",
                     "Tobacco", "Needs change", "Could be better", "Not assessed", "Område",
                     "Röker du? Nej", "Ej bedömt", "Sida 1 av 1"):
        assert expected in text, expected
    assert reader.metadata is not None
    assert reader.metadata.title == "Hälsoprofil"


def test_pdf_without_unicode_font_still_works() -> None:
    """Without DejaVu the built-in Helvetica is used; Swedish letters stay readable."""
    from formular.interop import profile_pdf as module

    sheet = ProfileSheet(title="Hälsoprofil ł", language="sv", facts=[], notice=None,
                         headings=("A", "B", "C", "D"), rows=[], page_text="{page}/{pages}")
    original = module.find_fonts
    try:
        module.find_fonts = lambda *a, **k: None  # type: ignore[assignment]
        data = profile_pdf(sheet, RESULT, LEVELS)
    finally:
        module.find_fonts = original
    assert data.startswith(b"%PDF-")
