"""The Unicode TrueType font of the PDF copies: DejaVu Sans, found on the usual font paths.

Debian ships it in ``fonts-dejavu-core`` (``scripts/test`` installs it). Kept apart from
:mod:`.pdf_export` so that finding it does not load fpdf2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path
    italic: Path | None = None


def find_fonts(dirs: Sequence[Path] = FONT_DIRS) -> FontFiles | None:
    """DejaVu Sans regular and bold (and oblique, if there) from the first folder having both."""
    for folder in dirs:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            italic = folder / "DejaVuSans-Oblique.ttf"
            return FontFiles(regular, bold, italic if italic.is_file() else None)
    return None
