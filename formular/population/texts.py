"""The words of the population pages and command line: why a file or a row is refused.

Lazy strings (Flask-Babel): they are translated when shown, in the page's language, or in the
default language on the command line.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .csv_import import MAX_BYTES, MAX_ROWS, FileProblem

__all__ = ["COLUMN_NAMES", "FILE_PROBLEMS", "ROW_PROBLEMS", "file_problem_text", "problem_text"]

FILE_PROBLEMS = {
    "empty": _l("The file is empty."),
    "too-large": _l("The file is larger than %(size)s MB. Split it into several files."),
    "encoding": _l("The file is not saved as UTF-8. In Excel, save it as “CSV UTF-8”; in "
                   "another program, choose the encoding UTF-8, and upload it again."),
    "binary": _l("This is not a text file. Upload a CSV file."),
    "malformed": _l("The file is not valid CSV near line %(line)s (perhaps a quotation mark "
                    "that is never closed)."),
    "missing-columns": _l("The header row lacks the columns %(columns)s. The first row must "
                          "name the columns personnummer, name (namn) and listing unit "
                          "(listningsenhet), and may name e-mail (e-post)."),
    "duplicate-columns": _l("The header row names these columns more than once: "
                            "%(columns)s."),
    "too-many-rows": _l("The file has more than %(limit)s rows. Split it into several files."),
    "no-rows": _l("The file has a header row but no people."),
}
COLUMN_NAMES = {"personnummer": _l("personnummer"), "name": _l("name"),
                "unit": _l("listing unit"), "email": _l("e-mail")}
ROW_PROBLEMS = {
    "columns": _l("The row has another number of fields than the header row."),
    "pnr-missing": _l("The personal identity number is missing."),
    "pnr-format": _l("Not a personal identity number."),
    "pnr-checksum": _l("The check digit is wrong."),
    "pnr-date": _l("The birth date does not exist."),
    "name-missing": _l("The name is missing."),
    "name-too-long": _l("The name is longer than 200 characters."),
    "name-invalid": _l("The name has no letters, or has control characters."),
    "unit-missing": _l("The listing unit is missing."),
    "unit-unknown": _l("No unit has this code or name."),
    "unit-ambiguous": _l("Several units have this name: use the unit's code."),
    "unit-not-clinic": _l("This is a region: people are listed at a clinic."),
    "unit-not-allowed": _l("You may not import the listed population of this unit."),
    "duplicate-same": _l("The same person as on row %(line)s: imported once."),
    "duplicate-conflict": _l("The same personal identity number as on row %(line)s but with "
                             "other details: neither row is imported."),
    "email-invalid": _l("The e-mail address is not valid: listed without it."),
    "deceased": _l("The person is deceased."),
    "protected": _l("Protected identity: listed, but the name and e-mail in the file are not "
                    "stored."),
    "locked": _l("The account is locked: listed, but left out of cohort send-outs."),
    "name-differs": _l("Registered under another name; the registered name is kept."),
    "moves": _l("Listed at another unit until now: the listing moves here."),
}


def problem_text(code: str, other_line: int | None = None) -> str:
    """A row problem in words (with the other row's number for duplicates)."""
    text = ROW_PROBLEMS.get(code)
    if text is None:
        return code
    return str(text % {"line": other_line}) if other_line is not None else str(text)


def file_problem_text(problem: FileProblem) -> str:
    """Why a whole file is refused, in words."""
    columns = ", ".join(str(COLUMN_NAMES.get(c, c)) for c in problem.columns)
    return str(FILE_PROBLEMS[problem.code] % {
        "size": MAX_BYTES // (1024 * 1024), "limit": MAX_ROWS, "line": problem.line or 1,
        "columns": columns})
