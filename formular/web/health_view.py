"""What the health-profile pages show: which profile applies to a visit, the computed profile,
its table rows with values in words and units, and the register export's rows.

A visit is a citizen's assignment of a send-out of a profile's survey. The profile is computed
when it is read — from the stored survey submission, the stored measurements and the citizen's
sex and age on the visit date — and never stored, so a corrected measurement shows at once.

Flask is used only for the translated fixed words and number formats of the current request;
the computation itself is :mod:`formular.profiles.compute`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import format_decimal, gettext, lazy_gettext
from markupsafe import Markup

from formular.auth.clock import swedish_today
from formular.definitions.service import CompiledDefinition, ItemSpec
from formular.i18n.service import compile_for
from formular.profiles.chart import ChartWords, star_svg
from formular.profiles.compute import MISSING, NO_RULE, AreaResult, ProfileResult, compute_profile
from formular.profiles.loader import ProfileInvalid, shipped_profiles
from formular.profiles.model import MEASUREMENT, SURVEY, SURVEY_SCORE, ProfileDefinition
from formular.rendering.widgets import widget_for
from formular.storage.health import HealthMeasurement
from formular.storage.identity import Citizen
from formular.storage.models import DefinitionVersion, Submission

log = logging.getLogger(__name__)

#: Answers of the measurement form that are not values for the register (free text).
NOT_EXPORTED = frozenset({"comment", "visit_date"})


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


# -- which profile ------------------------------------------------------------------------


@cache
def _profiles_in(folder: str) -> dict[str, ProfileDefinition]:
    """The profiles shipped in ``folder`` (read once per process: they change only with a
    release, like the designs).

    An invalid profile file (which ``formular designs check`` refuses in CI) is logged and
    leaves the health pages without profiles rather than breaking every follow-up page that
    asks whether a form has one."""
    try:
        return shipped_profiles(Path(folder))
    except ProfileInvalid as invalid:
        log.error("health profiles in %s are not valid, none is offered: %s", folder,
                  "; ".join(f"{p.pointer} {p.message}" for p in invalid.problems[:5]))
        return {}


def profiles() -> dict[str, ProfileDefinition]:
    return _profiles_in(str(current_app.config["DESIGNS_DIR"]))


def profiles_for_survey(definition_id: str) -> list[ProfileDefinition]:
    """Every shipped profile computed from answers to ``definition_id``, by id."""
    return sorted((p for p in profiles().values() if p.survey == definition_id),
                  key=lambda p: p.id)


def survey_ids() -> set[str]:
    return {profile.survey for profile in profiles().values()}


def chosen_profile(definition_id: str, wanted: str | None) -> ProfileDefinition | None:
    """The profile ``wanted`` (by id) among those of the survey, else the first; None when the
    survey has none or ``wanted`` is not one of them."""
    found = profiles_for_survey(definition_id)
    if wanted:
        return next((p for p in found if p.id == wanted), None)
    return found[0] if found else None


def translated(profile: ProfileDefinition, locale: str) -> ProfileDefinition:
    """The profile with its texts in ``locale`` (the source texts where none is translated)."""
    from formular.profiles.translate import profile_for

    result: ProfileDefinition = profile_for(profile, locale)
    return result


# -- computing ----------------------------------------------------------------------------


def score_values(scores: Mapping[str, Any] | None) -> dict[str, Any]:
    """Score id → value from a submission's stored scores (``scoring_to_json``'s shape)."""
    stored = scores.get("scores") if isinstance(scores, Mapping) else None
    if not isinstance(stored, Mapping):
        return {}
    return {str(key): value.get("value") for key, value in stored.items()
            if isinstance(value, Mapping)}


def visit_date(record: HealthMeasurement | None, submission: Submission | None
               ) -> dt.date | None:
    """The day of the health check: the measurement's visit date, else when the measurements
    were stored, else when the survey was sent in."""
    if record is not None:
        text = record.answers.get("visit_date")
        if isinstance(text, str):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        return swedish_today(record.created_at)
    if submission is not None:
        return swedish_today(submission.created_at)
    return None


def subject_of(citizen: Citizen, day: dt.date) -> dict[str, Any]:
    return {"sex": citizen.sex, "age": citizen.age_on(day)}


def compute(profile: ProfileDefinition, submission: Submission, record: HealthMeasurement,
            citizen: Citizen) -> tuple[ProfileResult, dt.date, dict[str, Any]]:
    """The profile of one visit, with the visit date and the subject it was computed for."""
    day = visit_date(record, submission) or swedish_today(record.created_at)
    subject = subject_of(citizen, day)
    result = compute_profile(profile, survey_answers=submission.answers,
                             survey_scores=score_values(submission.scores),
                             measurements=record.answers, subject=subject)
    return result, day, subject


# -- showing ------------------------------------------------------------------------------


LEVEL_OF = lazy_gettext("%(position)s of %(count)s")


@dataclass(frozen=True)
class TableRow:
    area_id: str
    area: str
    #: Each input as (label, value with unit); one unlabelled entry when the area has one.
    values: tuple[tuple[str, str], ...]
    #: "2 of 3" (the level's place on the scale), or None when not assessed.
    level: str | None
    level_label: str | None
    #: Why the area is not assessed, in words (None when assessed).
    reason: str | None
    description: str | None = None

    @property
    def values_text(self) -> str:
        return "; ".join(labelled(label, value) for label, value in self.values)


def labelled(label: str, value: str) -> str:
    """``Weight: 72 kg``; a label that is a question keeps its own mark (``Do you smoke? No``).
    """
    if not label:
        return value
    return f"{label} {value}" if label.rstrip()[-1:] in "?:" else f"{label}: {value}"


@dataclass
class ProfileView:
    """A profile page: the profile (texts translated), and either the result or what is
    still missing."""

    profile: ProfileDefinition
    waiting_for_survey: bool
    waiting_for_measurements: bool
    result: ProfileResult | None = None
    rows: list[TableRow] = field(default_factory=list)
    chart: Markup | None = None
    visit_date: dt.date | None = None
    subject: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.result is not None


def chart_words(title: str) -> ChartWords:
    return ChartWords(
        title=title, not_assessed=_("Not assessed"),
        scale=_("Star chart with one axis per area. Levels from the centre outwards: "
                "%(levels)s.", levels="{levels}"),
        area_level=_("%(area)s: %(level)s (level %(position)s of %(count)s).",
                     area="{area}", level="{level}", position="{position}", count="{count}"),
        area_missing=_("%(area)s: not assessed.", area="{area}"))


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return str(format_decimal(value, format="0.###"))


class ValueTexts:
    """Turns an area's input values into words: option labels, yes/no, numbers in the page's
    format with their unit, named as the survey or measurement form names them."""

    def __init__(self, survey: CompiledDefinition | None,
                 measurements: CompiledDefinition | None) -> None:
        self.survey = survey
        self.measurements = measurements
        self.score_labels = {
            str(score.get("id")): str(score.get("label", score.get("id")))
            for score in (survey.document.get("scores", []) if survey is not None else [])
            if isinstance(score, Mapping)}

    def _item(self, source: str) -> ItemSpec | None:
        if source.startswith(MEASUREMENT) and self.measurements is not None:
            return self.measurements.fields.get(source[len(MEASUREMENT):])
        if (source.startswith(SURVEY) and not source.startswith(SURVEY_SCORE)
                and self.survey is not None):
            return self.survey.fields.get(source[len(SURVEY):])
        return None

    def label(self, source: str, fallback: str) -> str:
        if source.startswith(SURVEY_SCORE):
            return self.score_labels.get(source[len(SURVEY_SCORE):], fallback)
        item = self._item(source)
        if item is None:
            return fallback
        if item.type == "matrix":
            name = source.split(":", 1)[1]
            return next((row.label for row in item.rows if row.name == name), item.label)
        return item.label or fallback

    def value(self, source: str, value: Any, unit: str | None = None) -> str:
        """``value`` in words; ``unit`` is used for a number whose item names no unit of its
        own (a score, say)."""
        if value is None:
            return _("no value")
        item = self._item(source)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if item is not None and item.options:
            return widget_for(item).display(item, value)
        if isinstance(value, int | float):
            unit = (item.raw.get("unit") if item is not None else None) or unit
            return f"{_number(value)} {unit}" if unit else _number(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


def table_rows(profile: ProfileDefinition, result: ProfileResult,
               texts: ValueTexts) -> list[TableRow]:
    ordered = [level.value for level in sorted(profile.levels, key=lambda level: level.value)]
    rows = []
    for area_result in result.areas:
        area = profile.area(area_result.area_id)
        inputs = dict(area.inputs) if area is not None else {}
        unit = area.unit if area is not None else None
        values = tuple(
            ("" if len(inputs) == 1 else texts.label(inputs.get(name, ""), name),
             texts.value(inputs.get(name, ""), value, unit))
            for name, value in area_result.values.items())
        level = None
        if area_result.level is not None and area_result.level in ordered:
            level = str(LEVEL_OF % {"position": ordered.index(area_result.level) + 1,
                                    "count": len(ordered)})
        rows.append(TableRow(area_result.area_id, area_result.label, values, level,
                             area_result.level_label,
                             _reason(area_result, inputs, texts),
                             area.description if area is not None else None))
    return rows


def _reason(area: AreaResult, inputs: Mapping[str, str], texts: ValueTexts) -> str | None:
    if area.level is not None:
        return None
    if area.reason == NO_RULE:
        return _("Not assessed: no rule of the profile applies to these values.")
    names = list(area.missing) or ([area.reason[len(MISSING):]] if area.reason and
                                   area.reason.startswith(MISSING) else [])
    words = []
    for name in names:
        if name == "subject.sex":
            words.append(_("sex"))
        elif name == "subject.age":
            words.append(_("age"))
        else:
            words.append(texts.label(inputs.get(name, ""), name))
    if not words:
        return _("Not assessed.")
    return _("Not assessed: no value for %(names)s.", names=", ".join(words))


def profile_view(profile: ProfileDefinition, locale: str, *, citizen: Citizen,
                 submission: Submission | None, record: HealthMeasurement | None,
                 survey_version: DefinitionVersion, chart_id: str = "profile-chart"
                 ) -> ProfileView:
    """The page's view of one visit's profile, in ``locale``."""
    shown = translated(profile, locale)
    view = ProfileView(shown, submission is None, record is None)
    if submission is None or record is None:
        return view
    result, day, subject = compute(shown, submission, record, citizen)
    survey = compile_for(submission.definition_version or survey_version, locale)
    measurements = compile_for(record.definition_version, locale)
    view.result = result
    view.visit_date = day
    view.subject = subject
    view.rows = table_rows(shown, result, ValueTexts(survey, measurements))
    svg = star_svg(result, shown.levels, words=chart_words(shown.title), id_prefix=chart_id)
    view.chart = Markup(svg)  # noqa: S704  (star_svg escapes every text it draws)
    return view


def sex_text(sex: str | None) -> str:
    return {"female": _("Female"), "male": _("Male")}.get(sex or "", "–")


# -- the register export ------------------------------------------------------------------


def export_columns(profile: ProfileDefinition, measurement_fields: Sequence[str]) -> list[str]:
    """Column names of the register CSV: stable codes, not translated words, so a register's
    import does not depend on the language of whoever exported."""
    return (["personnummer", "sex", "age", "visit_date", "profile", "profile_version"]
            + [f"level_{area.id}" for area in profile.areas]
            + [name for name in measurement_fields if name not in NOT_EXPORTED])


def measurement_fields(document: Mapping[str, Any]) -> list[str]:
    """The answer names of a measurement definition, in the schema's order."""
    schema = document.get("schema")
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    return list(properties) if isinstance(properties, Mapping) else []


def export_row(profile: ProfileDefinition, result: ProfileResult, citizen_number: str,
               subject: Mapping[str, Any], day: dt.date, measurements: Mapping[str, Any],
               fields: Sequence[str]) -> list[Any]:
    levels = {area.area_id: area.level for area in result.areas}
    return ([f"{citizen_number[:8]}-{citizen_number[8:]}", subject.get("sex") or "",
             subject.get("age"), day.isoformat(), profile.id, profile.version]
            + [levels.get(area.id) for area in profile.areas]
            + [measurements.get(name) for name in fields if name not in NOT_EXPORTED])


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """``;``-separated lines with a byte order mark, decimal commas and text that a
    spreadsheet would evaluate neutralised (as the answer exports do)."""
    import csv
    import io

    from formular.interop.service import BOM, neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float):
            return repr(value).replace(".", ",")
        if isinstance(value, int):
            return value
        return neutralise(str(value))

    writer.writerow(header)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail
