"""Who belongs to a birth-year cohort (pure).

"Everyone who turns 50 in 2026" is everyone born in 1976, from 1 January to 31 December
inclusive. The birth date comes from the personal identity number; a samordningsnummer has 60
added to the day (``19761291…`` is born 31 December 1976), which never changes the year. The
canonical 12-digit form starts with the four-digit birth year, so a cohort is one index-friendly
range of the ``personnummer`` column: ``"1976" <= number < "1977"``; :func:`born_in` then checks
each number's real birth date, so nothing outside the year can slip through.
"""

from __future__ import annotations

from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber

__all__ = ["MAX_AGE", "birth_year", "born_in", "number_range"]

#: Ages a cohort may be chosen for (a person turning 0 is born that year).
MIN_AGE, MAX_AGE = 0, 130
#: Years a cohort may be chosen for.
MIN_YEAR, MAX_YEAR = 1900, 2200


def birth_year(year: int, age: int) -> int:
    """The year people who turn ``age`` in ``year`` were born."""
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValueError("age out of range")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError("year out of range")
    return year - age


def number_range(born: int) -> tuple[str, str]:
    """The half-open range ``[low, high)`` of canonical numbers of people born in ``born``."""
    return f"{born:04d}", f"{born + 1:04d}"


def born_in(canonical: str, born: int) -> bool:
    """Whether the number's birth date (coordination offset taken off) falls in ``born``."""
    try:
        return IdentityNumber(canonical).birth_date.year == born
    except InvalidIdentityNumber:
        return False
