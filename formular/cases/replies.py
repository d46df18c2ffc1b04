"""The staff reply form of a case type (workflow setting ``reply_form``): one form definition,
filled in by staff with the same renderer and validator as every other form.

All staff items of all its pages are one WTForms class (a reply is one screen, like the
measurements), coerced and then validated as a whole against the definition's JSON Schema;
the stored answers keep the version they were given in, so a later version of the reply form
never changes how an old decision reads (``CaseMessage.reply_answers``)::

    {"definition_id": "case-renew-prescription-reply", "version_id": 12, "answers": {...}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import Form

from formular.definitions.service import CompiledDefinition, Evaluation, FieldError, Subject
from formular.lru import Lru
from formular.rendering.forms import page_answers, page_items, prefill
from formular.rendering.page import ReviewEntry, build_review
from formular.rendering.widgets import labelled_fields
from formular.storage.cases import Case, CaseMessage
from formular.storage.models import DefinitionVersion

AUDIENCE: Final = "staff"
#: Repetitions of a repeating group when a reply form asks for one more than this.
MAX_ROWS: Final = 50


class ReplyFormBase(FlaskForm):  # type: ignore[misc]
    """CSRF and WTForms' own messages in the page's language; the definition's items are
    added per reply form."""


_classes: Lru[str, type[Form]] = Lru(256)


def form_class(compiled: CompiledDefinition | None) -> type[Form]:
    """The form class of a reply form (every staff item of every page), cached per compiled
    definition; without a reply form, the bare base (the message and CSRF only)."""
    if compiled is None:
        return ReplyFormBase
    key = compiled.digest
    found = _classes.get(key)
    if found is not None:
        return found
    attrs: dict[str, Any] = {}
    for page in compiled.pages:
        for item in page_items(compiled, page.index, AUDIENCE):
            attrs.update(labelled_fields(item))
    return _classes.put(key, type(f"Reply_{compiled.id}", (ReplyFormBase,), attrs))


def reply_version(session: Session, case: Case) -> DefinitionVersion | None:
    """The newest version of the case type's reply form the unit may use, if it has one."""
    from formular.casetypes.service import reply_form_for

    return reply_form_for(session, case.unit_id, case.definition_version)


def form_data(compiled: CompiledDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Field data for the whole reply form from answers."""
    data: dict[str, Any] = {}
    for page in compiled.pages:
        data.update(prefill(compiled, page.index, AUDIENCE, dict(answers)))
    return data


def initial_answers(compiled: CompiledDefinition) -> dict[str, Any]:
    """A fresh reply: each repeating group starts with the rows it must have (``minItems``),
    so a decision per medicine can be written without pressing "Add" first."""
    answers: dict[str, Any] = {}
    for page in compiled.pages:
        for item in page_items(compiled, page.index, AUDIENCE):
            if item.type == "group":
                wanted = min(int(item.prop.get("minItems", 0) or 0), MAX_ROWS)
                if wanted:
                    answers[item.name] = [{} for _row in range(wanted)]
    return answers


def posted_answers(compiled: CompiledDefinition, form: Form) -> dict[str, Any]:
    """Typed answers of every page from a processed form (uncoercible text left out)."""
    answers: dict[str, Any] = {}
    for page in compiled.pages:
        answers.update({name: value for name, value in
                        page_answers(compiled, page.index, AUDIENCE, form).items()
                        if value is not None})
    return answers


def coercion_errors(compiled: CompiledDefinition, form: Form) -> list[FieldError]:
    """Inputs that could not be read as their type ("abc" for a number, an unknown option)."""
    errors: list[FieldError] = []
    for name, bound in form._fields.items():
        if name == "csrf_token" or name.endswith("__keep") or not bound.errors:
            continue
        spec = compiled.fields.get(name)
        if spec is not None and spec.type == "group":
            for index, entry in enumerate(bound.entries):
                for child_name, child in entry.form._fields.items():
                    child_spec = compiled.fields.get(f"{name}/{child_name}")
                    if child.errors and child_spec is not None:
                        errors.append(FieldError((name, index, child_name), "coerce",
                                                 {"type": child_spec.type}, child_name,
                                                 spec.page_index))
        elif spec is not None and spec.type != "file":
            errors.append(FieldError((name,), "coerce", {"type": spec.type}, name,
                                     spec.page_index))
    return errors


def row_action(compiled: CompiledDefinition, action: str,
               answers: dict[str, Any]) -> dict[str, Any] | None:
    """Answers with a repeating group's row added (``add:<group>``) or removed
    (``remove:<group>:<index>``); None when ``action`` is not one of those or names no
    repeating group of this form."""
    kind, _sep, rest = action.partition(":")
    if kind not in ("add", "remove"):
        return None
    name, _sep, index_text = rest.partition(":")
    spec = compiled.fields.get(name)
    if spec is None or spec.type != "group":
        return None
    rows = list(answers.get(name) or [])
    if kind == "add" and len(rows) < min(int(spec.prop.get("maxItems", MAX_ROWS)), MAX_ROWS):
        rows.append({})
    elif kind == "remove" and index_text.isdigit() and int(index_text) < len(rows):
        rows.pop(int(index_text))
    return {**answers, name: rows}


@dataclass(frozen=True)
class Checked:
    """Validated reply-form answers (what would be stored) and every problem with them."""

    answers: dict[str, Any]
    errors: list[FieldError]
    evaluation: Evaluation


def check(compiled: CompiledDefinition, form: Form, subject: Subject) -> Checked:
    answers = posted_answers(compiled, form)
    validation = compiled.validate(answers, audience=AUDIENCE, subject=subject)
    coercion = coercion_errors(compiled, form)
    taken = {error.path for error in coercion}
    errors = coercion + [e for e in validation.errors if e.path not in taken]
    return Checked(dict(validation.answers), errors, validation.evaluation)


def stored(version: DefinitionVersion, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The ``reply_answers`` of a message: the answers with the version they were given in."""
    return {"definition_id": version.definition_id, "version_id": version.id,
            "answers": dict(answers)}


def reply_review(session: Session, message: CaseMessage, locale: str,
                 audience: str = "citizen") -> list[tuple[Any, list[ReviewEntry]]] | None:
    """A message's reply-form answers laid out like the form (pages of label/answer entries),
    texts in ``locale`` when the version is offered in it; None when the message has none or
    its version is gone.

    ``audience`` "citizen" (the default, the safe one) leaves out what the reply form marks
    ``"audience": "staff"`` (an internal note); staff pages pass "staff" and see everything.
    """
    from formular.i18n.service import compile_for, offered_for

    stored_answers = message.reply_answers
    if not isinstance(stored_answers, Mapping):
        return None
    version_id = stored_answers.get("version_id")
    answers = stored_answers.get("answers")
    if not isinstance(version_id, int) or not isinstance(answers, Mapping):
        return None
    version = session.get(DefinitionVersion, version_id)
    if version is None:
        return None
    language = locale if locale in offered_for(version) else str(
        version.document.get("language") or locale)
    compiled = compile_for(version, language)
    evaluation = compiled.evaluate(dict(answers), audience)
    return build_review(compiled, audience, evaluation)
