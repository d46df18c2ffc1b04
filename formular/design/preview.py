"""The live preview of a design draft: the real renderer, nothing stored.

The editor shows this page in an ``<iframe>``. It renders the draft's *current* document with
the same compiler, WTForms classes, view models and widget macros a citizen's page uses
(:mod:`formular.rendering`), in the chosen language and for a simulated citizen (age, sex), so
band sets and flags that depend on the subject can be tried. Posting a page steps through the
form and shows validation exactly as the citizen would see it; the answers so far travel in a
hidden field of the page (no draft row, nothing written), and the current scores, bands and
flags are shown under the form.

The definition's own test cases are left out of the preview's compile: a failing test case is
a problem to fix before publishing (the editor's panel lists it), not a reason to hide the
form being designed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _

from formular.definitions.loader import parse_json
from formular.definitions.service import (
    CompiledDefinition,
    Evaluation,
    FieldError,
    InvalidDefinition,
    Subject,
    answers_too_large,
    compile_cached,
)
from formular.i18n.service import translate_document
from formular.rendering.forms import form_class, owned_names, page_answers, page_items, prefill
from formular.rendering.page import build_page, client_plan_json
from formular.storage.design import DesignDraft

from .problems import problems_of

#: The hidden field with the answers of the other pages (a preview keeps nothing on the server).
ANSWERS_FIELD = "_answers"
MAX_CARRIED_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PreviewRequest:
    page: int
    language: str
    subject: Subject
    audience: str

    @classmethod
    def from_request(cls, values: Mapping[str, str], document: Any) -> PreviewRequest:
        """Read ``page``, ``lang``, ``age``, ``sex`` and ``audience``; ValueError when one is
        given but not allowed (the caller answers 400)."""
        source = document.get("language") if isinstance(document, dict) else None
        language = values.get("lang") or (source if source in ("sv", "en") else "sv")
        if language not in ("sv", "en"):
            raise ValueError("lang")
        page_text = values.get("page", "0") or "0"
        if not page_text.isdigit() or int(page_text) > 1000:
            raise ValueError("page")
        age_text = (values.get("age") or "").strip()
        if age_text and not (age_text.isdigit() and int(age_text) <= 130):
            raise ValueError("age")
        sex = values.get("sex") or None
        if sex not in (None, "female", "male"):
            raise ValueError("sex")
        audience = values.get("audience") or "citizen"
        if audience not in ("citizen", "staff"):
            raise ValueError("audience")
        return cls(int(page_text), language,
                   Subject(sex=sex, age=int(age_text) if age_text else None), audience)

    def query(self, **changes: Any) -> dict[str, Any]:
        """URL values of this preview (for links and the form's action)."""
        values: dict[str, Any] = {"page": self.page, "lang": self.language,
                                  "audience": self.audience}
        if self.subject.age is not None:
            values["age"] = self.subject.age
        if self.subject.sex:
            values["sex"] = self.subject.sex
        values.update(changes)
        return values


def previewable(document: Any, language: str) -> tuple[CompiledDefinition | None, int, list[Any]]:
    """The compiled definition to show, the number of texts not translated into
    ``language``, and the problems that prevent a preview (meta-schema and lint)."""
    problems = [p for p in problems_of(document) if p.source != "tests"]
    if problems or not isinstance(document, dict):
        return None, 0, problems
    shown = {key: value for key, value in document.items() if key != "tests"}
    untranslated = 0
    if language != shown.get("language"):
        translated = translate_document(shown, language)
        untranslated = translated.missing + translated.stale
        shown = {key: value for key, value in translated.document.items() if key != "tests"}
    try:
        return compile_cached(shown), untranslated, []
    except InvalidDefinition:
        # A translation the language refuses (a label made too long): the source texts.
        source = {key: value for key, value in document.items() if key != "tests"}
        return compile_cached(source), untranslated, []


def _visible_pages(compiled: CompiledDefinition, evaluation: Evaluation,
                   audience: str) -> list[int]:
    return [
        page.index for page in compiled.pages
        if page.index not in evaluation.hidden_pages
        and any(not evaluation.is_hidden(item.name)
                for item in page_items(compiled, page.index, audience))
    ]


def _carried(values: Mapping[str, str]) -> dict[str, Any]:
    text = values.get(ANSWERS_FIELD, "") or "{}"
    document, problems = parse_json(text, max_bytes=MAX_CARRIED_BYTES)
    if problems or not isinstance(document, dict):
        abort(400)
    return document


def _coercion_errors(compiled: CompiledDefinition, form: Any, page_index: int
                     ) -> list[FieldError]:
    """Inputs that could not be turned into a value, with the platform's own messages."""
    errors: list[FieldError] = []
    for name, bound in form._fields.items():
        if name == "csrf_token" or name.endswith("__keep") or not bound.errors:
            continue
        spec = compiled.fields.get(name)
        if spec is not None and spec.type not in ("group", "file"):
            errors.append(FieldError((name,), "coerce", {"type": spec.type}, name, page_index))
    return errors


def render_preview(draft: DesignDraft, wanted: PreviewRequest) -> Any:
    from formular.web.filling import PageForm
    from formular.web.messages import describe

    compiled, untranslated, problems = previewable(draft.document, wanted.language)
    if compiled is None:
        return render_template("design/preview.html", draft=draft, wanted=wanted,
                               compiled=None, problems=problems)
    audience = wanted.audience
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    page_index = min(wanted.page, len(compiled.pages) - 1)
    notice: str | None = None
    if request.method == "POST":
        answers = _carried(request.form)
        cls = form_class(compiled, page_index, audience, PageForm)
        form = cls()
        form.validate()
        owned = owned_names(compiled, page_index, audience)
        answers = {k: v for k, v in answers.items() if k not in owned}
        answers.update({k: v for k, v in page_answers(compiled, page_index, audience,
                                                      form).items() if v is not None})
        if answers_too_large(answers):
            abort(413)
        validation = compiled.validate(answers, audience=audience, subject=wanted.subject,
                                       pages={page_index})
        answers = validation.answers
        errors = _coercion_errors(compiled, form, page_index) + list(validation.errors)
        action = request.form.get("_action", "next")
        visible = _visible_pages(compiled, validation.evaluation, audience)
        target = page_index
        if action == "back":
            earlier = [p for p in visible if p < page_index]
            target, errors = (earlier[-1] if earlier else page_index), []
        elif action == "next" and not errors:
            later = [p for p in visible if p > page_index]
            if later:
                target = later[0]
            else:
                notice = _("This is the last page. A citizen would now see the review page "
                           "and send the answers; the preview stores nothing.")
        if target != page_index:
            page_index = target
            form = form_class(compiled, page_index, audience, PageForm)(
                formdata=None, data=prefill(compiled, page_index, audience, answers))
    else:
        form = form_class(compiled, page_index, audience, PageForm)(
            formdata=None, data=prefill(compiled, page_index, audience, answers))
    result = compiled.validate(answers, audience=audience, subject=wanted.subject)
    evaluation = compiled.evaluate(answers, audience)
    visible = _visible_pages(compiled, evaluation, audience)
    if page_index not in visible:
        notice = notice or _("With the answers given so far this page is skipped or empty for "
                             "a citizen. It is shown here so you can see it.")
    view = build_page(compiled, page_index, audience, form, evaluation, errors, describe,
                      visible or [page_index])
    return render_template(
        "design/preview.html", draft=draft, wanted=wanted, compiled=compiled, problems=[],
        view=view, form=form, page_index=page_index, notice=notice, scoring=result.scoring,
        answers_json=json.dumps(answers, ensure_ascii=False, default=str),
        plan_json=client_plan_json(compiled, audience), answers=evaluation.answers,
        untranslated=untranslated, has_previous=any(p < page_index for p in visible))
