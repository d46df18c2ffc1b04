"""The item types of the definition language, one class each, in a registry.

An item type knows what answer it produces (which JSON Schema types and format its answer
property must have) and how to check an item against that property. Rendering keeps its own
registry of widgets keyed by the same names, so the language knows nothing of HTML.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .problems import Problem

Json = dict[str, Any]

REGISTRY: dict[str, type[ItemType]] = {}


def register(cls: type[ItemType]) -> type[ItemType]:
    """Class decorator adding an item type to the registry; a name may be taken once."""
    if cls.name in REGISTRY:
        raise ValueError(f"item type {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def item_type(name: str) -> type[ItemType]:
    return REGISTRY[name]


def _types(prop: Json) -> set[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)} - {"null"}
    if "enum" in prop:
        kinds = set()
        for value in prop["enum"]:
            if isinstance(value, bool):
                kinds.add("boolean")
            elif isinstance(value, int):
                kinds.add("integer")
            elif isinstance(value, str):
                kinds.add("string")
        return kinds
    return set()


class ItemType:
    """Base of all item types.

    Subclasses set the class attributes; most need no code of their own.
    """

    #: The ``type`` value in a definition.
    name: ClassVar[str]
    #: JSON Schema ``type`` values the answer property may have (empty: no answer).
    json_types: ClassVar[frozenset[str]] = frozenset()
    #: The ``format`` the answer property must carry, if any.
    required_format: ClassVar[str | None] = None
    #: Whether the item has an option list that must match the property's ``enum``.
    has_options: ClassVar[bool] = False
    #: Whether the item produces an answer a citizen can type or choose.
    answers: ClassVar[bool] = True

    @classmethod
    def check(cls, item: Json, prop: Json, pointer: str, options: list[Json]) -> list[Problem]:
        """Problems between the item and the schema of its answer property."""
        problems: list[Problem] = []
        kinds = _types(prop)
        if cls.json_types and not kinds & cls.json_types:
            problems.append(Problem(
                pointer, "type-mismatch",
                f"a {cls.name} item needs an answer property of type "
                f"{' or '.join(sorted(cls.json_types))}; it has {sorted(kinds) or 'none'}",
                {"expected": sorted(cls.json_types)}))
        if cls.required_format and prop.get("format") != cls.required_format:
            problems.append(Problem(
                pointer, "format-mismatch",
                f"a {cls.name} item needs \"format\": \"{cls.required_format}\" on its property",
                {"format": cls.required_format}))
        if cls.has_options:
            problems += _check_options(cls.enum_of(prop), options, pointer)
        return problems + cls.check_more(item, prop, pointer)

    @classmethod
    def enum_of(cls, prop: Json) -> Any:
        """Where the property lists the allowed option values."""
        return prop.get("enum")

    @classmethod
    def check_more(cls, item: Json, prop: Json, pointer: str) -> list[Problem]:
        """Type-specific checks; none by default."""
        return []


def _check_options(enum: Any, options: list[Json], pointer: str) -> list[Problem]:
    values = [o["value"] for o in options]
    if len(set(map(repr, values))) != len(values):
        return [Problem(pointer + "/options", "duplicate-option", "two options share a value")]
    if not isinstance(enum, list):
        return [Problem(pointer, "options-mismatch",
                        "the answer property must list the option values in \"enum\"")]
    if set(map(repr, enum)) != set(map(repr, values)):
        return [Problem(pointer + "/options", "options-mismatch",
                        f"option values {values} differ from the property's enum {enum}")]
    return []


def _simple(name: str, json_types: set[str], fmt: str | None = None) -> type[ItemType]:
    """Define and register an item type that needs no code of its own."""
    cls = type(
        name.title().replace("-", "") + "Item",
        (ItemType,),
        {"name": name, "json_types": frozenset(json_types), "required_format": fmt},
    )
    return register(cls)


TextItem = _simple("text", {"string"})
TextareaItem = _simple("textarea", {"string"})
IntegerItem = _simple("integer", {"integer"})
DecimalItem = _simple("decimal", {"number", "integer"})
DateItem = _simple("date", {"string"}, "date")
YesNoItem = _simple("yes-no", {"boolean"})
PersonnummerItem = _simple("personnummer", {"string"}, "personnummer")
EmailItem = _simple("email", {"string"}, "email")
PhoneItem = _simple("phone", {"string"}, "phone")
PostcodeItem = _simple("postcode", {"string"}, "postcode")
CalculatedItem = _simple("calculated", {"number", "integer", "string"})


@register
class ChoiceItem(ItemType):
    name = "choice"
    json_types = frozenset({"string", "integer"})
    has_options = True


@register
class MatrixItem(ItemType):
    """Checked row by row by the linter: each row is a choice property."""

    name = "matrix"
    json_types = frozenset({"string", "integer"})
    has_options = True


@register
class MultiChoiceItem(ItemType):
    name = "multi-choice"
    json_types = frozenset({"array"})
    has_options = True

    @classmethod
    def enum_of(cls, prop: Json) -> Any:
        inner = prop.get("items")
        return inner.get("enum") if isinstance(inner, dict) else None


@register
class ScaleItem(ItemType):
    name = "scale"
    json_types = frozenset({"integer"})

    @classmethod
    def check_more(cls, item: Json, prop: Json, pointer: str) -> list[Problem]:
        low, high = prop.get("minimum"), prop.get("maximum")
        if not isinstance(low, int) or not isinstance(high, int):
            return [Problem(pointer, "scale-limits",
                            "a scale needs integer \"minimum\" and \"maximum\" on its property")]
        if not 1 <= high - low <= 100:
            return [Problem(pointer, "scale-limits", "a scale has between 2 and 101 steps")]
        return []


@register
class GroupItem(ItemType):
    name = "group"
    json_types = frozenset({"array"})

    @classmethod
    def check_more(cls, item: Json, prop: Json, pointer: str) -> list[Problem]:
        inner = prop.get("items")
        if not isinstance(inner, dict) or inner.get("type") != "object":
            return [Problem(pointer, "type-mismatch",
                            "a repeating group's property needs \"items\" of type object")]
        if "maxItems" not in prop:
            return [Problem(pointer, "group-unbounded",
                            "a repeating group needs \"maxItems\" on its property")]
        return []


@register
class FileItem(ItemType):
    name = "file"
    json_types = frozenset({"array"})


@register
class InfoItem(ItemType):
    name = "info"
    answers = False

