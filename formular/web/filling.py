"""Filling in a form page by page: the flow shared by the preview, citizens and staff.

Each page post coerces the page's inputs (WTForms), merges them into the saved answers,
re-evaluates visibility and validates the whole document (the JSON Schema is the authority),
then saves the draft — even when there are errors, so nothing typed is lost — and moves on only
when the page is clean. Without JavaScript a follow-up question that a post makes visible is
shown on the same page before moving on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import Response, abort, current_app, jsonify, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import FileStorage

from formular.auth.clock import swedish_today
from formular.definitions.scores import scoring_to_json
from formular.definitions.service import (
    CompiledDefinition,
    Evaluation,
    FieldError,
    Subject,
    Validation,
    answers_too_large,
)
from formular.i18n.overlay import current_version
from formular.i18n.service import compile_for, source_compiled
from formular.lru import Lru
from formular.rendering.forms import (
    form_class,
    owned_names,
    page_answers,
    page_items,
    prefill,
)
from formular.rendering.page import build_page, build_review, client_plan_json, frame_view
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.db import db

from . import uploads
from .i18n import content_locale
from .messages import describe


def blank_sections() -> Lru[tuple[Any, ...], Markup]:
    """This app's drawn questions of blank pages (see :meth:`Filler._render`), keyed by all
    they depend on: the definition's content in the form's language, the interface language
    and its translators' edits, the page, the audience, the day (relative date limits) and
    the visibility of the empty draft."""
    cache: Lru[tuple[Any, ...], Markup] | None = current_app.extensions.get(_BLANK_SECTIONS)
    if cache is None:
        cache = current_app.extensions.setdefault(_BLANK_SECTIONS, Lru(512))
    return cache


_BLANK_SECTIONS = "formular.blank_sections"


class PageForm(FlaskForm):
    """Base of every page form: the request's inputs and WTForms' own messages in the current
    language. No "required" validators live in WTForms (the schema decides, see
    rendering.forms), and no CSRF field: ``CSRFProtect`` has checked the token of every POST
    before a view runs (a second check per form only cost time)."""

    class Meta:
        csrf = False


class FillHooks:
    """What the surrounding service does when a draft is saved or submitted (the send-out
    workflow moves the assignment on; the preview does nothing)."""

    def saved(self) -> None:
        """Called after a page's answers were stored, in the same transaction."""

    def submitted(self, submission: Any) -> None:
        """Called after the submission was stored, in the same transaction. Raises
        :class:`~formular.storage.drafts.StaleDraft` when the draft it was to record lost to
        another window's (the filler then rolls everything back)."""

    def submission_fields(self) -> dict[str, Any]:
        """Who the answers are about and who gave them, stored with the submission."""
        return {}

    def step_before_sending(self) -> str | None:
        """A page the filler must pass through before the answers are sent (an errand's
        attachments), or None to send at once. Asked wherever sending starts: the review
        page's button and a last page that sends (policy ``review: false``)."""
        return None

    def adopt(self, draft: drafts.AnyDraft) -> bool:
        """A draft the filler has just stored for the first time (the form was shown from an
        unstored one, see :func:`formular.storage.drafts.unsaved_draft`): record it where it
        belongs, in the same transaction. False when another window's first draft was
        recorded first; nothing of this request is then kept. Not called when the first save
        sends the answers: :meth:`submitted` records the draft then."""
        return True

    def reload_draft(self, draft: drafts.AnyDraft) -> drafts.AnyDraft:
        """The draft as stored now, after a refused save was rolled back."""
        merged = db.session.merge(draft)
        db.session.refresh(merged)
        return merged


@dataclass
class Filler:
    """One person filling one draft, with the urls of the surrounding blueprint."""

    draft: drafts.AnyDraft
    audience: str
    subject: Subject
    #: endpoint names: page (token, page), review (token), submit (token), receipt (token)
    endpoints: dict[str, str]
    hooks: FillHooks = field(default_factory=FillHooks)
    #: URL values shared by every endpoint (the draft token, or an assignment token).
    url_values: dict[str, Any] | None = None
    #: Answers were stored in this request and the hooks not yet told (see :meth:`post_page`).
    _saved_untold: bool = field(default=False, init=False, repr=False)

    @cached_property
    def locale(self) -> str:
        """The language the form is shown in: the visitor's, when this version is offered in
        it (complete in the designs catalog), else the definition's source language. Worked
        out once per filler, i.e. once per request."""
        return content_locale(self.draft.definition_version)

    @cached_property
    def compiled(self) -> CompiledDefinition:
        """The definition as this filler sees it, texts in :attr:`locale`. Values, codes and
        weights are the same in every language, so answers saved in one language are shown
        checked in another."""
        return compile_for(self.draft.definition_version, self.locale)

    @property
    def source_compiled(self) -> CompiledDefinition:
        """The definition in its source language: what a submission's stored score, band and
        flag labels are taken from, so the record and the exports staff read do not depend on
        the language the citizen chose."""
        return source_compiled(self.draft.definition_version)

    @property
    def reviews(self) -> bool:
        """Whether a review page comes before sending (policy ``review``, default true).
        Without one, the last page's button sends the answers in the same request."""
        return bool(self.compiled.policy.get("review", True))

    def url(self, name: str, **values: Any) -> str:
        from flask import url_for

        return url_for(self.endpoints[name], **(self.url_values or {"token": self.draft.token}),
                       **values)

    def visible_pages(self, evaluation: Evaluation) -> list[int]:
        """Pages shown for these answers: not skipped or hidden, and with at least one item
        that is visible to this filler (a page whose every question is hidden is skipped)."""
        compiled = self.compiled
        return [
            page.index for page in compiled.pages
            if page.index not in evaluation.hidden_pages
            and any(not evaluation.is_hidden(item.name)
                    for item in page_items(compiled, page.index, self.audience))
        ]

    # -- pages -----------------------------------------------------------------------------

    def show_page(self, page_index: int, *, check: bool = False
                  ) -> Response | str | tuple[str, int]:
        compiled = self.compiled
        if not 0 <= page_index < len(compiled.pages):
            abort(404)
        evaluation = compiled.evaluate(self.draft.answers, self.audience)
        visible = self.visible_pages(evaluation)
        if page_index not in visible:
            later = [p for p in visible if p > page_index] or visible[-1:] or [0]
            return redirect(self.url("page", page=later[0]))  # type: ignore[return-value]
        data = prefill(compiled, page_index, self.audience, self.draft.answers)
        errors: list[FieldError] = []
        if check:
            errors = list(compiled.validate(self.draft.answers, audience=self.audience,
                                            subject=self.subject, pages={page_index}).errors)
        if data == prefill(compiled, page_index, self.audience, {}):
            return self._render(None, page_index, errors, evaluation, blank=True)
        form = form_class(compiled, page_index, self.audience, PageForm)(formdata=None,
                                                                         data=data)
        return self._render(form, page_index, errors, evaluation)

    def post_page(self, page_index: int) -> Response | str | tuple[Any, int]:
        """Take a page's answers; see the module's docstring. What was saved is committed once,
        before the response leaves: a clean "send" stores the answers and the submission in one
        transaction, and a failure on the way stores neither.

        The hooks hear of the save last, unless the answers were sent: a submit moves the
        workflow on by itself (an "opened" form sent in one go goes straight to "answered",
        without an "in progress" step in between)."""
        response = self._post_page(page_index)
        if self._saved_untold:
            self.hooks.saved()
            self._saved_untold = False
        session = db.session()
        if session.in_transaction():  # (a send has committed already)
            session.commit()
        return response

    def _post_page(self, page_index: int) -> Response | str | tuple[Any, int]:
        compiled = self.compiled
        if not 0 <= page_index < len(compiled.pages):
            abort(404)
        if self.draft.submitted_at is not None:
            return redirect(self.url("receipt"))  # type: ignore[return-value]
        action = request.form.get("_action", "next")
        cls = form_class(compiled, page_index, self.audience, PageForm)
        form = cls()
        form.validate()
        # What was visible before this post, to tell which follow-up questions it made appear
        # (only a page drawn without JavaScript lacks them; with it they appeared at once).
        scripted = request.form.get("_js") == "1"
        before = None if scripted else compiled.evaluate(self.draft.answers, self.audience)
        owned = owned_names(compiled, page_index, self.audience)
        merged = {k: v for k, v in self.draft.answers.items() if k not in owned}
        merged.update({k: v for k, v in page_answers(compiled, page_index, self.audience,
                                                     form).items() if v is not None})
        revision = request.form.get("_revision", "")
        if not revision.isdigit():
            abort(400)
        based_on = int(revision)
        try:
            upload_errors = self._take_uploads(page_index, merged, based_on)
        except drafts.StaleDraft:
            return self._refused(form, page_index, [], merged, action)
        merged = self._apply_row_action(action, merged, page_index)
        if answers_too_large(merged):
            abort(413)
        whole = compiled.validate(merged, audience=self.audience, subject=self.subject)
        validation = whole.on_pages({page_index})
        coercion = self._coercion_errors(form, page_index)
        taken = {error.path for error in coercion}
        errors = coercion + [e for e in validation.errors if e.path not in taken] + upload_errors
        visible = self.visible_pages(validation.evaluation)
        later = [p for p in visible if p > page_index]
        appeared = [] if before is None else _appeared(compiled.pages[page_index].items(),
                                                       before, validation.evaluation)
        # A last page that sends (no review page) with nothing left to answer: the save that
        # stores its answers marks them sent as well, and the submission follows at once.
        sending = (action == "send" and not self.reviews and not errors and not appeared
                   and not later and not whole.errors
                   and self.hooks.step_before_sending() is None)
        try:
            self._save(validation.answers, page_index, based_on, sending=sending)
            if sending:
                return self._submit(whole)
        except drafts.StaleDraft:
            return self._refused(form, page_index, errors, merged, action)
        if action == "autosave":
            return jsonify(revision=self.draft.revision)
        if action.startswith(("add:", "remove:")) or action == "save":
            form = cls(formdata=None, data=prefill(compiled, page_index, self.audience,
                                                   validation.answers))
            notice = _("Your answers have been saved.") if action == "save" else None
            return self._render(form, page_index, [], validation.evaluation, notice=notice)
        if action == "back":
            earlier = [p for p in visible if p < page_index]
            return redirect(self.url("page", page=earlier[-1]) if earlier  # type: ignore
                            else self.url("page", page=page_index))
        if appeared:
            # Without JavaScript the follow-up questions were not on screen: show them before
            # complaining about them.
            shown = [e for e in errors
                     if not e.path or (e.path[0] not in appeared and e.path not in appeared)]
            return self._render(form, page_index, shown, validation.evaluation,
                                notice=_("Your answers led to more questions on this page."))
        if errors:
            return self._render(form, page_index, errors, validation.evaluation)
        if later:
            return redirect(self.url("page", page=later[0]))  # type: ignore[return-value]
        if action == "send" and not self.reviews:
            step = self.hooks.step_before_sending()
            return redirect(step) if step else self.submit(whole)  # type: ignore[return-value]
        return redirect(self.url("review"))  # type: ignore[return-value]

    def _save(self, answers: dict[str, Any], page_index: int, based_on: int, *,
              sending: bool) -> None:
        """Store a page's answers over revision ``based_on``; raises ``StaleDraft`` when that
        is not the stored revision, or when this is the draft's first save and another
        window's first draft was recorded first. A first save that also sends only keeps the
        answers on the unsaved draft: :meth:`_submit` stores it with its submission."""
        sent_at = utcnow() if sending else None
        if self.draft.id is not None:
            drafts.save_answers(db.session(), self.draft, answers, page_index, based_on,
                                submitted_at=sent_at)
            self._saved_untold = not sending
            return
        if based_on != 0:
            raise drafts.StaleDraft
        if sending:  # a first save that sends: stored with its submission, see _submit
            self.draft.answers, self.draft.page = answers, page_index
            self.draft.submitted_at = sent_at
            return
        drafts.store_draft(db.session(), self.draft, answers, page_index, revision=1)
        if not self.hooks.adopt(self.draft):
            raise drafts.StaleDraft

    def _refused(self, form: FlaskForm, page_index: int, errors: list[FieldError],
                 merged: dict[str, Any], action: str) -> Response | str | tuple[Any, int]:
        """The answer to a save refused as stale: nothing of this request is kept, and the
        page shows what was posted over the draft as it is now stored."""
        db.session.rollback()
        self._saved_untold = False
        self.draft = self.hooks.reload_draft(self.draft)
        if action == "autosave":
            return jsonify(error=_("These answers were changed in another window. "
                                   "Reload the page to see the latest version.")), 409
        notice = _("These answers were changed in another window or on another device, "
                   "so nothing was saved. Check the answers below and save again to keep "
                   "them.")
        return self._render(form, page_index, errors,
                            self.compiled.evaluate(merged, self.audience), notice=notice,
                            status=409)

    def _render(self, form: FlaskForm | None, page_index: int, errors: list[FieldError],
                evaluation: Evaluation, notice: str | None = None, status: int = 200,
                *, blank: bool = False) -> tuple[str, int] | str:
        """Draw a page whose visibility follows ``evaluation`` (of saved or posted answers).

        ``blank``: the page's fields hold nothing but what an empty draft gives them (``form``
        may then be None). Its questions are then the same for every citizen who opens it and
        are drawn once per worker (:func:`blank_sections`): a page found there is drawn
        around them without building its form or its field views.
        """
        compiled = self.compiled
        visible = self.visible_pages(evaluation)
        earlier = [p for p in visible if p < page_index]
        sends = not self.reviews and not [p for p in visible if p > page_index]
        key = (compiled.digest, self.locale, str(get_locale()), current_version(),
               page_index, self.audience, swedish_today(utcnow()), evaluation.hidden,
               frozenset(evaluation.hidden_in_rows.items())) if blank and not errors else None
        cached = blank_sections().get(key) if key is not None else None
        if cached is not None:
            view = frame_view(compiled, page_index, visible)
            sections_html = cached
        else:
            if form is None:
                form = form_class(compiled, page_index, self.audience, PageForm)(
                    formdata=None, data=prefill(compiled, page_index, self.audience, {}))
            view = build_page(compiled, page_index, self.audience, form, evaluation, errors,
                              describe, visible)
            # An autoescaped template's output: already safe HTML.
            sections_html = Markup(  # noqa: S704
                render_template("form/_sections.html", view=view))
            if key is not None:
                blank_sections().put(key, sections_html)
        html = render_template(
            "form/page.html", filler=self, compiled=compiled, view=view,
            sections_html=sections_html,
            notice=notice, has_previous=bool(earlier), sends=sends,
            plan_json=client_plan_json(compiled, self.audience), answers=evaluation.answers,
            action_url=self.url("page", page=page_index), review_url=self.url("review"),
        )
        return (html, status) if status != 200 else html

    def _coercion_errors(self, form: FlaskForm, page_index: int) -> list[FieldError]:
        """Inputs WTForms could not turn into a value ("abc" for a number, an option that does
        not exist), as field errors with our own translated messages."""
        errors: list[FieldError] = []
        for name, bound in form._fields.items():
            if name == "csrf_token" or name.endswith("__keep") or not bound.errors:
                continue
            spec = self.compiled.fields.get(name)
            if spec is not None and spec.type == "group":
                for index, entry in enumerate(bound.entries):
                    for child_name, child in entry.form._fields.items():
                        child_spec = self.compiled.fields.get(f"{name}/{child_name}")
                        if child.errors and child_spec is not None:
                            errors.append(FieldError((name, index, child_name), "coerce",
                                                     {"type": child_spec.type}, child_name,
                                                     page_index))
            elif spec is not None and spec.type != "file":
                errors.append(FieldError((name,), "coerce", {"type": spec.type}, name,
                                         page_index))
        return errors

    def _apply_row_action(self, action: str, answers: dict[str, Any],
                          page_index: int) -> dict[str, Any]:
        kind, _sep, rest = action.partition(":")
        if kind not in ("add", "remove"):
            return answers
        name, _sep, index_text = rest.partition(":")
        spec = self.compiled.fields.get(name)
        if spec is None or spec.type != "group" or spec.page_index != page_index:
            abort(400)
        rows = list(answers.get(name) or [])
        if kind == "add" and len(rows) < int(spec.prop.get("maxItems", 50)):
            rows.append({})
        elif kind == "remove" and index_text.isdigit() and int(index_text) < len(rows):
            rows.pop(int(index_text))
        answers[name] = rows
        return answers

    def _take_uploads(self, page_index: int, answers: dict[str, Any],
                      based_on: int) -> list[FieldError]:
        """Store new files of the page's file items; keep the ones the filler kept. Files
        belong to a stored draft: an unstored one is stored (empty, as ``based_on``) first."""
        errors: list[FieldError] = []
        file_items = [item for item in page_items(self.compiled, page_index, self.audience)
                      if item.type == "file"]
        if not file_items:
            return errors
        session = db.session()
        if self.draft.id is None and any(
                f and f.filename for item in file_items for f in request.files.getlist(
                    item.name)):
            if based_on != 0:
                raise drafts.StaleDraft
            drafts.store_draft(session, self.draft, {}, page_index, revision=0)
            if not self.hooks.adopt(self.draft):
                raise drafts.StaleDraft
        stored = {u.token: u for u in drafts.uploads_of(session, self.draft)}
        for item in page_items(self.compiled, page_index, self.audience):
            if item.type != "file":
                continue
            accept = tuple(item.raw.get("accept", uploads.DEFAULT_ACCEPT))
            max_size = int(item.raw.get("max_size", uploads.DEFAULT_MAX_SIZE))
            max_count = int(item.raw.get("max_count", uploads.DEFAULT_MAX_COUNT))
            keep = set(request.form.getlist(f"{item.name}__keep"))
            files = [
                _as_answer(stored[token]) for token in keep
                if token in stored and stored[token].field == item.name
            ]
            incoming: list[FileStorage] = [
                f for f in request.files.getlist(item.name) if f and f.filename
            ]
            for storage in incoming:
                data = storage.read(max_size + 1)
                checked, reason = uploads.check_file(storage.filename or "", data, accept,
                                                     max_size)
                if checked is None:
                    errors.append(FieldError((item.name,), f"file-{reason}",
                                             {"name": uploads.safe_filename(
                                                 storage.filename or "")}, item.name,
                                             page_index))
                    continue
                if len(files) >= max_count:
                    errors.append(FieldError((item.name,), "maxItems", {"limit": max_count},
                                             item.name, page_index))
                    break
                upload = drafts.add_upload(session, self.draft, item.name, checked.filename,
                                           checked.content_type, checked.data, checked.sha256)
                files.append(_as_answer(upload))
            answers[item.name] = files or None
        return errors

    # -- review and submit -----------------------------------------------------------------

    def show_review(self) -> str:
        compiled = self.compiled
        validation = compiled.validate(self.draft.answers, audience=self.audience,
                                       subject=self.subject)
        pages = build_review(compiled, self.audience, validation.evaluation)
        problems = []
        for error in validation.errors:
            spec = compiled.fields.get(error.name)
            if len(error.path) == 3:
                spec = compiled.fields.get(f"{error.path[0]}/{error.path[2]}")
            label = spec.label if spec is not None and spec.type != "matrix" else ""
            if spec is not None and spec.type == "matrix":
                label = next((row.label for row in spec.rows if row.name == error.name), "")
            problems.append((error, self.url("page", page=error.page_index, check=1) + "#"
                             + error.field_id, label, describe(error, spec)))
        return render_template("form/review.html", filler=self, compiled=compiled,
                               pages=pages, problems=problems, validation=validation)

    def submit(self, validated: Validation | None = None) -> Response:
        """Send the saved answers (the review page's button). When the draft's first save was
        lost to another window's meanwhile, nothing is sent and the review page shows the
        answers that were kept."""
        try:
            return self._submit(validated)
        except drafts.StaleDraft:
            db.session.rollback()
            return redirect(self.url("review"))  # type: ignore[return-value]

    def _submit(self, validated: Validation | None = None) -> Response:
        """Send the saved answers. ``validated``: the whole-document validation the page post
        that saved them just made; reused when it was made in the source language (the stored
        score labels are the source's), else the answers are validated again."""
        compiled = self.source_compiled
        if validated is not None and self.compiled is compiled:
            validation = validated
        else:
            validation = compiled.validate(self.draft.answers, audience=self.audience,
                                           subject=self.subject)
        if validation.errors and self.draft.submitted_at is None:
            return redirect(self.url("review"))  # type: ignore[return-value]
        session = db.session()
        # A draft without an id is first saved as it is sent (or sent unanswered).
        store = drafts.store_and_submit if self.draft.id is None else drafts.submit
        submission = store(session, self.draft, validation.answers, scores_as_json(validation),
                           **self.hooks.submission_fields())
        self.hooks.submitted(submission)
        self._saved_untold = False
        session.commit()
        return redirect(self.url("receipt"))  # type: ignore[return-value]


def _appeared(items: tuple[Any, ...], before: Evaluation, after: Evaluation
              ) -> list[Any]:
    """Items (and rows' children, as paths) a post made visible on its own page."""
    appeared: list[Any] = []
    for item in items:
        if before.is_hidden(item.name) and not after.is_hidden(item.name):
            appeared.append(item.name)
            continue
        for (group, index), hidden_after in after.hidden_in_rows.items():
            if group != item.name:
                continue
            hidden_before = before.hidden_in_rows.get((group, index), frozenset(
                child.name for child in item.children))
            appeared += [(group, index, child) for child in hidden_before - hidden_after]
    return appeared


def _as_answer(upload: Any) -> dict[str, Any]:
    return {"token": upload.token, "name": upload.filename, "type": upload.content_type,
            "size": upload.size, "sha256": upload.sha256}


def scores_as_json(validation: Any) -> dict[str, Any]:
    """Scores, bands and flags in the shape stored beside a submission."""
    return scoring_to_json(validation.scoring)
