"""Translated, human messages for answer errors, chosen by keyword (never raw jsonschema text).

A definition may give an item its own ``error_text``; it replaces every message but "required",
which is the same everywhere so citizens learn it once.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_date, format_decimal, gettext
from flask_babel import lazy_gettext as _l

from formular.definitions.formats import parse_date_limit, today_in_stockholm
from formular.definitions.service import FieldError, ItemSpec

FORMAT_MESSAGES = {
    "date": _l("Enter a date as YYYY-MM-DD, for example 2026-03-31."),
    "email": _l("Enter an e-mail address, for example namn@exempel.se."),
    "personnummer": _l("Enter a valid personal identity number as YYYYMMDD-NNNN."),
    "phone": _l("Enter a phone number with 7 to 15 digits, for example 070-123 45 67."),
    "postcode": _l("Enter a postcode with five digits, for example 123 45."),
}


def _(text: str, **values: Any) -> str:
    """gettext typed as returning text (Flask-Babel's is untyped)."""
    return str(gettext(text, **values))


def describe(error: FieldError, item: ItemSpec | None) -> str:
    """One sentence telling the citizen what to do about an error."""
    keyword, limit = error.keyword, error.params.get("limit")
    if keyword == "required":
        if item is not None and item.type in ("choice", "yes-no", "scale", "matrix"):
            return _("Choose an answer.")
        if item is not None and item.type == "multi-choice":
            return _("Choose at least one option.")
        if item is not None and item.type == "file":
            return _("Attach a file.")
        return _("Answer this question.")
    if keyword == "coerce":
        kind = str(error.params.get("type", ""))
        if kind in ("integer",):
            return _("Enter a whole number, for example 12.")
        if kind in ("decimal",):
            return _("Enter a number, for example %(example)s.", example=_number(72.5))
        if kind == "date":
            return str(FORMAT_MESSAGES["date"])
        if kind in ("choice", "multi-choice", "yes-no", "scale", "matrix"):
            return _("Choose one of the options given.")
        return _("The answer is not valid.")
    if item is not None and item.raw.get("error_text"):
        return str(item.raw["error_text"])
    return _by_keyword(keyword, limit, item)


def _by_keyword(keyword: str, limit: Any, item: ItemSpec | None) -> str:
    if keyword == "format":
        message = FORMAT_MESSAGES.get(str(limit))
        return str(message) if message else _("The answer is not in the right form.")
    if keyword in ("minimum", "exclusiveMinimum"):
        text = _number(limit)
        return (_("Enter a number of at least %(limit)s.", limit=text) if keyword == "minimum"
                else _("Enter a number greater than %(limit)s.", limit=text))
    if keyword in ("maximum", "exclusiveMaximum"):
        text = _number(limit)
        return (_("Enter a number of at most %(limit)s.", limit=text) if keyword == "maximum"
                else _("Enter a number less than %(limit)s.", limit=text))
    if keyword == "formatMinimum":
        return _("Enter a date on or after %(date)s.", date=_date_limit(limit))
    if keyword == "formatMaximum":
        return _("Enter a date on or before %(date)s.", date=_date_limit(limit))
    if keyword == "minLength":
        return _("Enter at least %(limit)s characters.", limit=limit)
    if keyword == "maxLength":
        return _("Enter at most %(limit)s characters.", limit=limit)
    if keyword == "minItems":
        if item is not None and item.type == "group":
            return _("Add at least %(limit)s.", limit=limit)
        return _("Choose at least %(limit)s.", limit=limit)
    if keyword == "maxItems":
        if item is not None and item.type == "group":
            return _("Add at most %(limit)s.", limit=limit)
        if item is not None and item.type == "file":
            return _("Attach at most %(limit)s files.", limit=limit)
        return _("Choose at most %(limit)s.", limit=limit)
    if keyword == "pattern":
        return _("The answer is not in the right form.")
    if keyword in ("enum", "const"):
        return _("Choose one of the options given.")
    if keyword == "type":
        return _("The answer has the wrong type; enter it again.")
    if keyword == "multipleOf":
        return _("Enter a multiple of %(limit)s.", limit=_number(limit))
    if keyword == "uniqueItems":
        return _("Each choice may be given once.")
    if keyword == "file-empty":
        return _("The file is empty.")
    if keyword == "file-too-large":
        return _("The file is too large.")
    if keyword == "file-type":
        return _("The file is not a PDF, PNG, JPEG or GIF file (its content was checked).")
    if keyword == "file-name":
        return _("The file name's ending does not match what the file contains. Rename the "
                 "file (for example .pdf for a PDF, .jpg for a photo) and attach it again.")
    if keyword == "unknown-field":
        return _("The form contained an answer to a question that does not exist.")
    return _("The answer is not valid.")


def _number(value: Any) -> str:
    try:
        return str(format_decimal(value))
    except (TypeError, ValueError):
        return str(value)


def _date_limit(value: Any) -> str:
    try:
        return str(format_date(parse_date_limit(value).resolve(today_in_stockholm()),
                               format="long"))
    except (TypeError, ValueError):
        return str(value)
