"""A profile definition as immutable objects, built by
:func:`formular.profiles.loader.load_profile`.

The raw JSON stays available as ``ProfileDefinition.document`` (it is what is stored, hashed and
translated); the objects here are what the engine and the pages read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from formular.definitions.rules import Prepared

#: The subject values every rule may read, whatever the area's inputs.
SUBJECT_VARS = ("subject.age", "subject.sex")
#: Source prefixes of an area's inputs.
SURVEY = "survey:"
SURVEY_SCORE = "survey:score."
MEASUREMENT = "measurement:"


@dataclass(frozen=True)
class Level:
    """One step of the ordinal scale (lowest = needs change, highest = good)."""

    value: int
    label: str
    description: str | None = None


@dataclass(frozen=True)
class Rule:
    """``when`` (a JSON Logic condition, None = always) gives ``level``."""

    level: int
    when: Any = None
    #: The condition checked and normalised once (None when the rule has no ``when``).
    condition: Prepared | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Area:
    """One point of the star: its inputs, the inputs it cannot do without, and its rules."""

    id: str
    label: str
    description: str | None
    #: Local name (the ``var`` in the rules) -> source (``survey:x``, ``survey:score.y``,
    #: ``measurement:z``), in document order.
    inputs: Mapping[str, str]
    rules: tuple[Rule, ...]
    #: Inputs (or ``subject.sex``/``subject.age``) that must have a value; when one is
    #: missing the area is not assessed. Defaults to every input.
    required_inputs: tuple[str, ...] = ()
    unit: str | None = None
    help: str | None = None


@dataclass(frozen=True)
class ProfileDefinition:
    id: str
    version: int
    title: str
    description: str | None
    language: str
    languages: tuple[str, ...]
    example: bool
    notice: str | None
    citizen_visible: bool
    #: Id of the questionnaire definition the ``survey:`` inputs read.
    survey: str
    #: Id of the measurement definition the ``measurement:`` inputs read.
    measurements: str
    levels: tuple[Level, ...]
    areas: tuple[Area, ...]
    document: dict[str, Any] = field(compare=False, repr=False)

    def level(self, value: int | None) -> Level | None:
        """The level with *value*, None for None or an unknown value."""
        return next((level for level in self.levels if level.value == value), None)

    def area(self, area_id: str) -> Area | None:
        return next((area for area in self.areas if area.id == area_id), None)

    @property
    def lowest(self) -> int:
        return min(level.value for level in self.levels)

    @property
    def highest(self) -> int:
        return max(level.value for level in self.levels)
