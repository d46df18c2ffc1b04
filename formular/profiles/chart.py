"""The health profile's star (radar) chart, drawn by the server as SVG.

One axis per area, evenly spaced clockwise from the top. The profile's levels are rings, from
the lowest level at the innermost ring to the highest at the outer one (so a larger star is a
better profile), each ring labelled with its level's name. An area's level is shown three ways
at once, so nothing depends on colour: the point's position on its axis, the ring it sits on,
and a text label under the area's name. An area that could not be assessed has a dashed axis,
no point and the words "not assessed" as its label.

For screen readers the SVG is one image (``role="img"``) named by its ``<title>`` and described
by its ``<desc>``, which lists every area with its level in words; the page shows the same data
as a table as well.

The output contains no script and no ``style`` attributes (the Content Security Policy forbids
inline styles): colours and lines are presentation attributes, and classes let a stylesheet
refine them. Every text is escaped. :func:`chart_geometry` is the layout as numbers, so the PDF
(:mod:`formular.interop.profile_pdf`) draws the very same picture.

Pure: no Flask, no database. It reads only a few attributes of the profile result (see the
protocols below), so it does not depend on how the engine computes levels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol


class LevelLike(Protocol):
    @property
    def value(self) -> int: ...

    @property
    def label(self) -> str: ...


class AreaResultLike(Protocol):
    @property
    def area_id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def level(self) -> int | None: ...


class ResultLike(Protocol):
    @property
    def areas(self) -> Sequence[AreaResultLike]: ...


@dataclass(frozen=True)
class ChartWords:
    """The chart's fixed words, translated by the caller. ``{…}`` are ``str.format`` fields."""

    title: str = "Health profile"
    not_assessed: str = "Not assessed"
    #: Before the list of levels in the description.
    scale: str = "Star chart with one axis per area. Levels from the centre outwards: {levels}."
    #: One area in the description.
    area_level: str = "{area}: {level} (level {position} of {count})."
    area_missing: str = "{area}: not assessed."


@dataclass(frozen=True)
class Ring:
    label: str
    radius: float


@dataclass(frozen=True)
class Axis:
    area_id: str
    label: str
    #: The level's label, or None when the area is not assessed.
    level_label: str | None
    #: 1-based ring of the level (1 = lowest), None when not assessed.
    ring: int | None
    angle: float
    end: tuple[float, float]
    point: tuple[float, float] | None
    #: Where the label block starts, and how its lines are anchored horizontally.
    label_at: tuple[float, float]
    anchor: str
    #: The area label split into lines that fit beside the chart.
    label_lines: tuple[str, ...]
    level_lines: tuple[str, ...]


@dataclass(frozen=True)
class Geometry:
    width: float
    height: float
    centre: tuple[float, float]
    radius: float
    rings: tuple[Ring, ...]
    axes: tuple[Axis, ...]
    #: The points of assessed areas, in axis order (the star's outline).
    outline: tuple[tuple[float, float], ...]
    line_height: float
    font_size: float


WIDTH, HEIGHT = 760.0, 620.0
RADIUS = 200.0
FONT = 13.0
LINE = 16.0
#: Characters per label line before it is wrapped (at a word boundary).
WRAP = 22


def _wrap(text: str, width: int = WRAP) -> tuple[str, ...]:
    """Split ``text`` into lines of at most ``width`` characters at spaces (a longer word
    stays whole on its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return tuple(lines) or ("",)


def chart_geometry(result: ResultLike, levels: Sequence[LevelLike], *, words: ChartWords,
                   width: float = WIDTH, height: float = HEIGHT, radius: float = RADIUS,
                   font_size: float = FONT, line_height: float = LINE) -> Geometry:
    """Where everything goes, in the units of ``width``/``height`` (SVG user units)."""
    ordered = sorted(levels, key=lambda level: level.value)
    count = len(ordered)
    centre = (width / 2, height / 2)
    rings = tuple(Ring(level.label, radius * (index + 1) / count)
                  for index, level in enumerate(ordered)) if count else ()
    position = {level.value: index + 1 for index, level in enumerate(ordered)}
    areas = list(result.areas)
    axes: list[Axis] = []
    for index, area in enumerate(areas):
        angle = -math.pi / 2 + 2 * math.pi * index / max(len(areas), 1)
        cos, sin = math.cos(angle), math.sin(angle)
        end = (centre[0] + radius * cos, centre[1] + radius * sin)
        ring = position.get(area.level) if area.level is not None else None
        point = None
        level_label = None
        if ring is not None:
            distance = radius * ring / count
            point = (centre[0] + distance * cos, centre[1] + distance * sin)
            level_label = ordered[ring - 1].label
        label_lines = _wrap(area.label)
        level_lines = _wrap(level_label if level_label is not None else words.not_assessed)
        lines = len(label_lines) + len(level_lines)
        gap = font_size * 1.1
        x = centre[0] + (radius + gap) * cos
        y = centre[1] + (radius + gap) * sin
        anchor = "start" if cos > 0.15 else "end" if cos < -0.15 else "middle"
        # The block of lines sits outside the circle: above it at the top, below it at the
        # bottom, vertically centred on the axis at the sides. ``y`` is the first baseline.
        if sin < -0.3:
            y = y - (lines - 1) * line_height
        elif sin > 0.3:
            y = y + font_size
        else:
            y = y - (lines - 1) * line_height / 2 + font_size / 3
        axes.append(Axis(area.area_id, area.label, level_label, ring, angle, end, point,
                         (x, y), anchor, label_lines, level_lines))
    outline = tuple(axis.point for axis in axes if axis.point is not None)
    return Geometry(width, height, centre, radius, rings, tuple(axes), outline, line_height,
                    font_size)


def describe(result: ResultLike, levels: Sequence[LevelLike], words: ChartWords) -> str:
    """The chart in words: the scale, then every area with its level (the ``<desc>``)."""
    ordered = sorted(levels, key=lambda level: level.value)
    position = {level.value: index + 1 for index, level in enumerate(ordered)}
    parts = [words.scale.format(levels=", ".join(level.label for level in ordered))]
    for area in result.areas:
        ring = position.get(area.level) if area.level is not None else None
        if ring is None:
            parts.append(words.area_missing.format(area=area.label))
        else:
            parts.append(words.area_level.format(area=area.label,
                                                 level=ordered[ring - 1].label,
                                                 position=ring, count=len(ordered)))
    return " ".join(parts)


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _n(value: float) -> str:
    """A coordinate with at most one decimal, without a trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(value: str) -> str:
    return escape(value, quote=True)


def star_svg(result: ResultLike, levels: Sequence[LevelLike], *,
             words: ChartWords | None = None, id_prefix: str = "profile-chart",
             title: str | None = None) -> str:
    """The chart as an inline ``<svg>`` element (see the module docstring).

    :param id_prefix: makes the ids of ``<title>`` and ``<desc>`` unique on the page (only
        letters, digits, ``-`` and ``_`` are kept).
    :param title: the accessible name; default ``words.title``.
    """
    words = words or ChartWords()
    prefix = _ID_UNSAFE.sub("-", id_prefix) or "profile-chart"
    geometry = chart_geometry(result, levels, words=words)
    cx, cy = geometry.centre
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="profile-chart" role="img" '
        f'viewBox="0 0 {_n(geometry.width)} {_n(geometry.height)}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" '
        f'font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
        f'<title id="{title_id}">{_text(title or words.title)}</title>',
        f'<desc id="{desc_id}">{_text(describe(result, levels, words))}</desc>',
        '<g class="rings" fill="none" stroke="#8a8a8a" stroke-width="1">',
    ]
    for ring in geometry.rings:
        out.append(f'<circle class="ring" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(ring.radius)}"/>')
    out.append("</g>")
    out.append('<g class="axes" stroke="#555555" stroke-width="1.2">')
    for axis in geometry.axes:
        missing = axis.point is None
        dash = ' stroke-dasharray="5 4"' if missing else ""
        css = "axis axis-missing" if missing else "axis"
        out.append(f'<line class="{css}" x1="{_n(cx)}" y1="{_n(cy)}" '
                   f'x2="{_n(axis.end[0])}" y2="{_n(axis.end[1])}"{dash}/>')
    out.append("</g>")
    # Ring labels between the first two axes, so they do not sit on a line.
    step = 2 * math.pi / max(len(geometry.axes), 1)
    angle = -math.pi / 2 + step / 2
    out.append('<g class="ring-labels" font-size="11" fill="#333333" stroke="#ffffff" '
               'stroke-width="3" paint-order="stroke">')
    for ring in geometry.rings:
        x = cx + ring.radius * math.cos(angle)
        y = cy + ring.radius * math.sin(angle)
        out.append(f'<text class="ring-label" x="{_n(x)}" y="{_n(y)}" '
                   f'text-anchor="middle">{_text(ring.label)}</text>')
    out.append("</g>")
    if len(geometry.outline) >= 2:
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in geometry.outline)
        out.append(f'<polygon class="shape" points="{points}" fill="#2f6f9f" '
                   f'fill-opacity="0.18" stroke="#1d4f75" stroke-width="2.5" '
                   f'stroke-linejoin="round"/>')
    out.append('<g class="points" fill="#1d4f75" stroke="#ffffff" stroke-width="1.5">')
    for axis in geometry.axes:
        if axis.point is not None:
            out.append(f'<circle class="point" data-area="{_text(axis.area_id)}" '
                       f'data-ring="{axis.ring}" cx="{_n(axis.point[0])}" '
                       f'cy="{_n(axis.point[1])}" r="6"/>')
    out.append("</g>")
    out.append(f'<g class="labels" font-size="{_n(geometry.font_size)}" fill="#1a1a1a">')
    for axis in geometry.axes:
        x, y = axis.label_at
        missing = axis.point is None
        out.append(f'<text class="area" data-area="{_text(axis.area_id)}" x="{_n(x)}" '
                   f'y="{_n(y)}" text-anchor="{axis.anchor}">')
        line = 0
        for text in axis.label_lines:
            out.append(f'<tspan class="area-label" x="{_n(x)}" '
                       f'y="{_n(y + line * geometry.line_height)}" '
                       f'font-weight="bold">{_text(text)}</tspan>')
            line += 1
        css = "level-label missing-label" if missing else "level-label"
        style = ' font-style="italic"' if missing else ""
        for text in axis.level_lines:
            out.append(f'<tspan class="{css}" x="{_n(x)}" '
                       f'y="{_n(y + line * geometry.line_height)}"{style}>{_text(text)}</tspan>')
            line += 1
        out.append("</text>")
    out.append("</g>")
    out.append("</svg>")
    return "".join(out)
