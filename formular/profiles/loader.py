"""Reading, validating and linting profile definitions (``designs/profiles/<id>.json``).

A profile is checked in three steps, each reporting *every* problem with its JSON pointer:

1. the JSON Schema ``schemas/profile-definition.schema.json`` (shape, patterns, sizes);
2. the lint (:func:`lint_profile`): ids unique, level values unique, each rule's level exists,
   each condition in the rule language (the allowlisted JSON Logic subset of
   :mod:`formular.definitions.rules`) and reading only the area's inputs and ``subject.*``,
   only the last rule without ``when``, required inputs known;
3. against the definitions it reads (:func:`check_sources`): every ``survey:`` input names an
   answer property or score of the survey, every ``measurement:`` input an answer property of
   the measurement definition. This needs those documents, so :func:`load_profile` does not
   do it; ``formular designs check`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from threading import Lock
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from formular.definitions import rules
from formular.definitions.loader import read_file
from formular.definitions.metaschema import registry
from formular.definitions.problems import InvalidDefinition, Problem, pointer_join

from .model import (
    MEASUREMENT,
    SUBJECT_VARS,
    SURVEY,
    SURVEY_SCORE,
    Area,
    Level,
    ProfileDefinition,
    Rule,
)

PROFILE_SCHEMA_ID = "urn:formular:schema:profile-definition:1"
#: Profiles live in this folder of the designs folder.
PROFILES_FOLDER = "profiles"
#: jsonschema quotes the offending value; a long text must not flood the report.
_MAX_MESSAGE = 300


class ProfileInvalid(InvalidDefinition):
    """Raised with every problem of a profile definition."""


@cache
def profile_validator() -> Validator:
    schema = registry().contents(PROFILE_SCHEMA_ID)
    return Draft202012Validator(schema, registry=registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _most_specific(error: ValidationError) -> ValidationError:
    while error.context:
        deeper = best_match(error.context)
        if deeper is None:
            break
        error = deeper
    return error


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE - 1] + "…"


def schema_problems(document: Any) -> list[Problem]:
    """Problems of *document* against the profile JSON Schema, sorted by pointer."""
    if not isinstance(document, dict):
        return [Problem("", "type", "a profile definition is a JSON object")]
    found = {
        Problem(pointer_join(*error.absolute_path), str(error.validator), _short(error.message))
        for error in map(_most_specific, profile_validator().iter_errors(document))
    }
    return sorted(found, key=lambda p: (p.pointer, p.keyword, p.message))


def lint_profile(document: dict[str, Any]) -> list[Problem]:
    """The semantic checks of a schema-valid profile (see the module docstring)."""
    problems: list[Problem] = []
    values: set[int] = set()
    for index, level in enumerate(document["levels"]):
        if level["value"] in values:
            problems.append(Problem(pointer_join("levels", index, "value"), "duplicate-level",
                                    f"level {level['value']} is defined twice",
                                    {"value": level["value"]}))
        values.add(level["value"])
    area_ids: set[str] = set()
    for index, area in enumerate(document["areas"]):
        where = pointer_join("areas", index)
        if area["id"] in area_ids:
            problems.append(Problem(where + "/id", "duplicate-id",
                                    f"area {area['id']!r} is defined twice", {"id": area["id"]}))
        area_ids.add(area["id"])
        problems += _lint_area(area, where, values)
    for index, case in enumerate(document.get("tests", [])):
        for area_id in [*case["expect"], *case.get("reasons", {})]:
            if area_id not in area_ids:
                problems.append(Problem(pointer_join("tests", index, "expect", area_id),
                                        "unknown-area", f"no area {area_id!r} in this profile",
                                        {"id": area_id}))
    return problems


def _lint_area(area: dict[str, Any], where: str, levels: set[int]) -> list[Problem]:
    problems: list[Problem] = []
    inputs = area["inputs"]

    def known(name: str) -> bool:
        return name in inputs or name in SUBJECT_VARS

    for index, name in enumerate(area.get("required_inputs", [])):
        if not known(name):
            problems.append(Problem(f"{where}/required_inputs/{index}", "unknown-field",
                                    f"{name!r} is not an input of this area", {"name": name}))
    last = len(area["rules"]) - 1
    for index, rule in enumerate(area["rules"]):
        at = f"{where}/rules/{index}"
        if rule["level"] not in levels:
            problems.append(Problem(f"{at}/level", "unknown-level",
                                    f"level {rule['level']} is not one of the profile's levels",
                                    {"level": rule["level"]}))
        if "when" in rule:
            problems += rules.check_logic(rule["when"], f"{at}/when", known)
        elif index != last:
            problems.append(Problem(at, "unreachable-rule",
                                    "only the last rule may omit 'when': the rules after this "
                                    "one can never apply", {}))
    return problems


def load_profile(document: Any) -> ProfileDefinition:
    """Check a profile document and build its objects.

    :raises ProfileInvalid: with every schema problem, or else every lint problem.
    """
    problems = schema_problems(document)
    if not problems:
        problems = lint_profile(document)
    if problems:
        raise ProfileInvalid(problems)
    return _build(document)


def _build(document: dict[str, Any]) -> ProfileDefinition:
    levels = tuple(Level(int(level["value"]), str(level["label"]), level.get("description"))
                   for level in sorted(document["levels"], key=lambda level: level["value"]))
    areas = []
    for raw in document["areas"]:
        built_rules = tuple(
            Rule(int(rule["level"]), rule.get("when"),
                 rules.prepare(rule["when"]) if "when" in rule else None)
            for rule in raw["rules"])
        inputs = dict(raw["inputs"])
        areas.append(Area(
            id=raw["id"], label=raw["label"], description=raw.get("description"),
            inputs=inputs, rules=built_rules,
            required_inputs=tuple(raw.get("required_inputs", list(inputs))),
            unit=raw.get("unit"), help=raw.get("help")))
    language = str(document["language"])
    return ProfileDefinition(
        id=document["id"], version=int(document["version"]), title=document["title"],
        description=document.get("description"), language=language,
        languages=tuple(document.get("languages", [language])),
        example=bool(document.get("example", False)), notice=document.get("notice"),
        citizen_visible=bool(document.get("citizen_visible", False)),
        survey=document["survey"], measurements=document["measurements"],
        levels=levels, areas=tuple(areas), document=document)


def load_profile_file(path: Path) -> ProfileDefinition:
    """Read (size, depth and duplicate keys checked), check and build one profile file.

    :raises ProfileInvalid: when the file cannot be read or parsed, or is not a valid profile.
    """
    document, problems = read_file(path)
    if problems:
        raise ProfileInvalid(problems)
    return load_profile(document)


def profile_files(designs_dir: Path) -> list[Path]:
    """The profile files of a designs folder (``<designs>/profiles/*.json``), sorted."""
    return sorted(p for p in (designs_dir / PROFILES_FOLDER).glob("*.json") if p.is_file())


#: shipped_profiles() results by folder, with the (name, mtime, size) of the files they came
#: from: pages call it per request, and a profile changes only when its file does.
_shipped: dict[str, tuple[tuple[tuple[str, int, int], ...], dict[str, ProfileDefinition]]] = {}
_shipped_lock = Lock()


def shipped_profiles(designs_dir: Path) -> dict[str, ProfileDefinition]:
    """Every profile in ``<designs_dir>/profiles/``, by id (read again when a file changes).

    :raises ProfileInvalid: for the first invalid file (its problems name the file), or when
        a file's name is not its id.
    """
    paths = profile_files(designs_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    key = str(designs_dir.resolve())
    with _shipped_lock:
        cached = _shipped.get(key)
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])
    found = _read_profiles(paths)
    with _shipped_lock:
        _shipped[key] = (stamp, found)
    return dict(found)


def _read_profiles(paths: list[Path]) -> dict[str, ProfileDefinition]:
    found: dict[str, ProfileDefinition] = {}
    for path in paths:
        try:
            profile = load_profile_file(path)
        except ProfileInvalid as invalid:
            raise ProfileInvalid([Problem(p.pointer, p.keyword, f"{path.name}: {p.message}",
                                          p.params) for p in invalid.problems]) from None
        if profile.id != path.stem:
            raise ProfileInvalid([Problem("/id", "file-name", f"{path.name}: the file name must "
                                          f"be the profile id ({profile.id}.json)")])
        found[profile.id] = profile
    return found


def check_sources(profile: ProfileDefinition, survey_document: Mapping[str, Any] | None,
                  measurement_document: Mapping[str, Any] | None) -> list[Problem]:
    """Every input that names nothing in the definitions the profile reads.

    *survey_document* and *measurement_document* are the definitions named by ``survey`` and
    ``measurements`` (None when not found, which is itself a problem).
    """
    problems: list[Problem] = []
    for key, wanted, document in (("survey", profile.survey, survey_document),
                                  ("measurements", profile.measurements, measurement_document)):
        if document is None:
            problems.append(Problem(f"/{key}", "unknown-definition",
                                    f"no definition {wanted!r} was found", {"id": wanted}))
        elif document.get("id") != wanted:
            problems.append(Problem(f"/{key}", "unknown-definition",
                                    f"expected definition {wanted!r}, got {document.get('id')!r}",
                                    {"id": wanted}))
    survey_fields = _properties(survey_document)
    survey_scores = {str(s.get("id")) for s in _list(survey_document, "scores")
                     if isinstance(s, Mapping)}
    measurement_fields = _properties(measurement_document)
    for index, area in enumerate(profile.areas):
        for name, source in area.inputs.items():
            at = pointer_join("areas", index, "inputs", name)
            if source.startswith(SURVEY_SCORE):
                if survey_document is not None and source[len(SURVEY_SCORE):] not in survey_scores:
                    problems.append(Problem(at, "unknown-source", f"the survey "
                                            f"{profile.survey!r} has no score "
                                            f"{source[len(SURVEY_SCORE):]!r}", {"source": source}))
            elif source.startswith(SURVEY):
                if survey_document is not None and source[len(SURVEY):] not in survey_fields:
                    problems.append(Problem(at, "unknown-source", f"the survey "
                                            f"{profile.survey!r} has no answer "
                                            f"{source[len(SURVEY):]!r}", {"source": source}))
            elif source.startswith(MEASUREMENT):
                if (measurement_document is not None
                        and source[len(MEASUREMENT):] not in measurement_fields):
                    problems.append(Problem(at, "unknown-source", f"the measurement definition "
                                            f"{profile.measurements!r} has no answer "
                                            f"{source[len(MEASUREMENT):]!r}", {"source": source}))
    return problems


def _properties(document: Mapping[str, Any] | None) -> set[str]:
    schema = document.get("schema") if document is not None else None
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    return set(properties) if isinstance(properties, Mapping) else set()


def _list(document: Mapping[str, Any] | None, key: str) -> list[Any]:
    value = document.get(key) if document is not None else None
    return value if isinstance(value, list) else []
