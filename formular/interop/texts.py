"""The few fixed words of the exports (column titles, yes/no, severities), in Swedish and English.

Exports are built outside a request (background jobs, the CLI), so they cannot use the Flask-Babel
catalogs; these words are kept here instead. Definition content (labels, options, score and flag
names) comes from the definition itself and is never translated here.
"""

from __future__ import annotations

from typing import Final

#: Used when a language has no entry (Formulär is a platform for Swedish regions).
FALLBACK: Final = "sv"

TEXTS: Final[dict[str, dict[str, str]]] = {
    "sv": {
        "personnummer": "Personnummer",
        "name": "Namn",
        "receipt": "Kvittensnummer",
        "submitted_at": "Inskickat",
        "answered_by": "Besvarat av",
        "status": "Status",
        "flags": "Flaggor",
        "code": "kod",
        "band": "nivå",
        "yes": "Ja",
        "no": "Nej",
        "not_answered": "Ej besvarat",
        "not_computed": "Kunde inte räknas ut",
        "scores": "Poäng",
        "no_flags": "Inga flaggor",
        "flag": "FLAGGA",
        "answers": "Svar",
        "page": "Sida {page} av {pages}",
        "sheet": "Svar",
        "severity.none": "ingen",
        "severity.low": "låg",
        "severity.moderate": "måttlig",
        "severity.high": "hög",
        "severity.critical": "kritisk",
    },
    "en": {
        "personnummer": "Personal identity number",
        "name": "Name",
        "receipt": "Receipt number",
        "submitted_at": "Submitted",
        "answered_by": "Answered by",
        "status": "Status",
        "flags": "Flags",
        "code": "code",
        "band": "band",
        "yes": "Yes",
        "no": "No",
        "not_answered": "Not answered",
        "not_computed": "Could not be computed",
        "scores": "Scores",
        "no_flags": "No flags",
        "flag": "FLAG",
        "answers": "Answers",
        "page": "Page {page} of {pages}",
        "sheet": "Answers",
        "severity.none": "none",
        "severity.low": "low",
        "severity.moderate": "moderate",
        "severity.high": "high",
        "severity.critical": "critical",
    },
}


def texts(language: str | None) -> dict[str, str]:
    """The words of ``language`` (``"sv"``, ``"en"``, ``"sv-SE"``…), else Swedish."""
    base = (language or FALLBACK).replace("_", "-").split("-")[0].lower()
    return TEXTS.get(base, TEXTS[FALLBACK])


def severity(words: dict[str, str], value: str | None) -> str:
    if not value:
        return ""
    return words.get(f"severity.{value}", value)
