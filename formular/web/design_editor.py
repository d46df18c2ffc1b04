"""The form editor (``/design/drafts/<id>/edit``): tree, element editor, live preview.

Server-rendered and server-authoritative. Every change is one *operation* posted to
``/design/drafts/<id>/op/<name>`` with the revision of the draft the designer saw; the pure
operation (:mod:`formular.design.operations`) makes the new document, :func:`save_document`
stores it with a compare-and-set on the revision and writes the event log, and the browser is
sent back to the editor (post/redirect/get). Without JavaScript every control is a plain form;
with it, ``static/js/design/editor.js`` posts the same forms with ``fetch`` and swaps the
page's regions, so behaviour cannot drift between the two.

Refusals never lose what the designer typed: a bad value (422) or a draft saved by somebody
else meanwhile (409) re-renders the editor with the posted values in the form, the message next
to the field or a conflict box, and — for a conflict — the form carries the latest revision, so
saving again applies the designer's change on top of the other person's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from formular.auth.permissions import Permission
from formular.design import conditions, drafts, tryout
from formular.design.editor_forms import (
    BLANK_ROWS,
    FIELDS_BY_TYPE,
    ITEM_TYPE_LABELS,
    TYPE_FAMILIES,
    ConditionForm,
    DetailsForm,
    ItemForm,
    PageForm,
    PolicyForm,
    SectionForm,
    condition_choices,
    flag_form,
    item_data,
    pad,
    score_form,
    shown,
)
from formular.design.editor_input import parse, subject
from formular.design.operations import OperationError, apply
from formular.design.outline import (
    Json,
    Located,
    as_dict,
    as_list,
    display_label,
    find,
    resolve_selection,
    section_choices,
    tree,
    walk,
)
from formular.design.problems import problems_of
from formular.storage.db import db
from formular.storage.design import DesignDraft

from .access import current_actor, require

bp = Blueprint("design_editor", __name__, url_prefix="/design")

#: The ``prefix`` of each form's ids → the operations it posts (errors show in that form).
FORM_OPS: dict[str, tuple[str, ...]] = {
    "item-": ("update-item",), "page-": ("update-page",), "section-": ("update-section",),
    "cond-": ("set-condition", "remove-condition"), "score-": ("set-score",),
    "flag-": ("set-flag",), "policy-": ("update-policy",), "details-": ("update-details",),
    "json-": ("replace-document",), "try-": ("try", "add-test-case"),
}
PANELS = ("element", "details", "policy", "scores", "json", "problems")
#: Operations that delete something ask first.
CONFIRMED_OPS = frozenset({"delete-item", "delete-section", "delete-page", "delete-score",
                           "delete-flag", "delete-test-case"})


# -- loading --------------------------------------------------------------------------------


def _draft(draft_id: int) -> DesignDraft:
    return drafts.get_draft_for(db.session(), current_actor(), draft_id)


def _staff_id() -> int:
    staff_user_id = current_actor().staff_user_id
    if staff_user_id is None:
        abort(403)
    return staff_user_id


def _document(draft: DesignDraft) -> Json:
    document = draft.document
    return document if isinstance(document, dict) else {}


def default_texts(document: Json) -> dict[str, str]:
    """The texts new elements start with, in the definition's own language."""
    language = document.get("language") if document.get("language") in ("sv", "en") else "sv"
    with force_locale(str(language)):
        return {
            "question": _("New question"),
            "option": _("Option %(n)s"),
            "statement": _("Statement %(n)s"),
            "page": _("New page"),
            "info": _("Information for the person filling in the form."),
            "group": _("New repeating group"),
        }


# -- where to go after an operation ----------------------------------------------------------


#: The panel an operation's form lives in, and the control to focus after it.
PANEL_OF = {"set-score": "scores", "delete-score": "scores", "set-flag": "scores",
            "delete-flag": "scores", "add-test-case": "scores", "delete-test-case": "scores",
            "update-policy": "policy", "update-details": "details",
            "replace-document": "json"}
FOCUS_AFTER = {"add-item": "item-label", "add-page": "page-title",
               "add-section": "section-title", "update-item": "save-item",
               "update-page": "save-page", "update-section": "save-section",
               "set-condition": "save-condition", "remove-condition": "condition-title",
               "delete-item": "tree-selected", "delete-section": "tree-selected",
               "delete-page": "tree-selected", "move-item-to": "tree-selected",
               "move-section-to": "tree-selected"}


def _after(draft: DesignDraft, name: str, select: str | None, form: Mapping[str, Any],
           document: Json) -> str:
    query: dict[str, str] = {}
    panel = PANEL_OF.get(name)
    if panel:
        query["panel"] = panel
        if name == "set-score" and select:
            query["score"] = select  # the saved score stays open
        if name == "set-flag" and select:
            query["flag"] = select
    elif select:
        query["select"] = select
    focus = FOCUS_AFTER.get(name)
    if name in ("move-item", "move-section", "move-page"):
        focus = f"move-{form.get('direction')}"
    if name == "add-item" and select:
        added = find(document, select)
        if added is not None and added.element.get("type") == "info":
            focus = "item-text"  # an information text has no label
    if focus:
        query["focus"] = focus
    return editor_url(draft.id, **query)


def editor_url(draft_id: int, **query: str) -> str:
    base = flask_url_for("design_editor.edit", draft_id=draft_id)
    return f"{base}?{urlencode(query)}" if query else base


# -- the views --------------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>/edit")
@require(Permission.DEFINITION_EDIT)
def edit(draft_id: int) -> str:
    draft = _draft(draft_id)
    return render_template("design/editor.html", view=EditorView.build(draft, request.args))


@bp.post("/drafts/<int:draft_id>/op/<name>")
@require(Permission.DEFINITION_EDIT)
def operate(draft_id: int, name: str) -> Any:
    draft = _draft(draft_id)
    revision_text = str(request.form.get("revision") or "")
    if not revision_text.isdigit():
        abort(400)
    document = _document(draft)
    session = db.session()
    try:
        params = parse(name, request.form, document, default_texts(document))
        if name in CONFIRMED_OPS and request.form.get("confirmed") != "1":
            return _page(draft, status=200, posted_op=name, confirm=True)
        outcome = apply(document, name, **params)
        drafts.save_document(session, draft, outcome.document,
                             expected_revision=int(revision_text), staff_user_id=_staff_id(),
                             action=f"op.{name}", data={"select": outcome.select})
    except OperationError as error:
        session.rollback()
        return _page(_draft(draft_id), status=422, posted_op=name, error=error)
    except drafts.DefinitionIdTaken as taken:
        session.rollback()
        return _page(_draft(draft_id), status=422, posted_op=name, error=OperationError(
            _("Another draft of your unit already has the id %(id)s.",
              id=taken.definition_id), "json"))
    except drafts.DraftConflict as conflict:
        session.rollback()
        return _page(_draft(draft_id), status=409, posted_op=name, conflict=conflict)
    session.commit()
    if outcome.announce:
        flash(outcome.announce, "status")
    return redirect(_after(draft, name, outcome.select, request.form, outcome.document),
                    code=303)


@bp.post("/drafts/<int:draft_id>/try")
@require(Permission.DEFINITION_EDIT)
def try_it(draft_id: int) -> Any:
    """Sample answers → scores, bands and flags, computed by the platform; nothing stored."""
    draft = _draft(draft_id)
    try:
        sex, age = subject(request.form)
    except OperationError as error:
        return _page(draft, status=422, posted_op="try", error=error)
    document = _document(draft)
    answers = tryout.typed_answers(tryout.sample_fields(document),
                                   request.form.to_dict(flat=False))
    try:
        scoring = tryout.run(document, answers, sex, age)
    except tryout.TryoutError as error:
        return _page(draft, status=422, posted_op="try", error=OperationError(error.message))
    return _page(draft, status=200, posted_op="try", scoring=scoring)


def _page(draft: DesignDraft, *, status: int, posted_op: str,
          error: OperationError | None = None, conflict: drafts.DraftConflict | None = None,
          confirm: bool = False, scoring: Any = None) -> tuple[str, int]:
    """The editor re-rendered around a posted form (its values kept)."""
    args = _args_for_post(posted_op, request.form)
    view = EditorView.build(draft, args, posted_op=posted_op, posted=request.form,
                            error=error, conflict=conflict, confirm=confirm, scoring=scoring)
    return render_template("design/editor.html", view=view), status


def _args_for_post(name: str, form: Mapping[str, Any]) -> dict[str, str]:
    """Which element or panel the re-rendered editor shows for a posted form."""
    panel = PANEL_OF.get(name) or ("scores" if name == "try" else None)
    if panel:
        args = {"panel": panel}
        if name in ("set-score", "delete-score"):
            args["score"] = str(form.get("score_id") or form.get("target") or "new")
        if name in ("set-flag", "delete-flag"):
            args["flag"] = str(form.get("flag_id") or form.get("target") or "new")
        return args
    for key in ("target", "after", "section", "page", "group"):
        if form.get(key):
            return {"select": str(form[key])}
    return {}


# -- the view model ---------------------------------------------------------------------------


@dataclass
class EditorView:
    """Everything the editor templates show, worked out once per request."""

    draft: DesignDraft
    document: Json
    nodes: list[Any]
    selected: Located | None
    panel: str
    problems: list[Any]
    focus: str | None
    posted_op: str | None = None
    error: OperationError | None = None
    conflict: drafts.DraftConflict | None = None
    confirm: bool = False
    scoring: Any = None
    forms: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, draft: DesignDraft, args: Mapping[str, Any], *, posted_op: str | None = None,
              posted: MultiDict[str, Any] | None = None, error: OperationError | None = None,
              conflict: drafts.DraftConflict | None = None, confirm: bool = False,
              scoring: Any = None) -> EditorView:
        document = _document(draft)
        wanted = str(args.get("select") or "")
        selected = resolve_selection(document, wanted)
        panel = str(args.get("panel") or "")
        if selected is None and wanted.startswith("/") and not panel:
            # A problem's pointer outside the layout (a score, the policy …): its panel.
            panel, extra_args = panel_for_pointer(document, wanted)
            args = {**args, **extra_args}
        if panel not in PANELS:
            panel = "element"
        if panel == "element" and selected is None:
            selected = next((loc for loc in walk(document) if loc.kind == "item"), None) or (
                next(iter(walk(document)), None))
        focus = str(args.get("focus") or "") or None
        view = cls(draft, document, tree(document), selected, panel, problems_of(document),
                   focus, posted_op, error, conflict, confirm, scoring)
        # Every flashed message (the workspace's "draft created" too) goes to the live region.
        view.messages = [str(entry[1]) for entry in get_flashed_messages(with_categories=True)]
        view._build_forms(args, posted)
        if posted is not None and posted_op is not None:
            view._about_post(posted_op, posted)
        return view

    def _about_post(self, name: str, posted: MultiDict[str, Any]) -> None:
        """The confirmation question, the error's anchor and the form a conflict re-saves."""
        prefix = next((p for p, ops in FORM_OPS.items() if name in ops), "")
        form_ids = {"item-": "item-form", "page-": "page-form", "section-": "section-form",
                    "cond-": "condition-form", "score-": "score-form", "flag-": "flag-form",
                    "policy-": "policy-form", "details-": "details-form", "json-": "json-form",
                    "try-": "try-form"}
        if self.conflict is not None and prefix in form_ids and name not in (
                "remove-condition", "try"):
            self.extra["conflict_form"] = form_ids[prefix]
        if self.error is not None and self.error.field and prefix:
            self.extra["error_anchor"] = _anchor(prefix, self.error.field)
        if self.confirm:
            target = str(posted.get("target") or "")
            located = find(self.document, target) if target else None
            label = (display_label(located.element, located.kind) or target) if located else (
                target or _("the test case"))
            self.extra["confirm_text"] = _("Delete “%(label)s”? This cannot be undone.",
                                           label=label)
            self.extra["confirm_fields"] = [(k, v) for k, v in posted.items(multi=True)
                                            if k != "confirmed"]
            self.extra["cancel_url"] = self.url(select=target) if located else self.url(
                panel=PANEL_OF.get(name, "element"))
            self.focus = "confirm"

    # -- helpers the templates use

    def problem_url(self, problem: Any) -> str:
        """Where a problem of the validation panel is fixed."""
        if problem.source == "tests":
            return self.url(panel="scores")
        if problem.item:
            return self.url(select=str(problem.item))
        panel, extra = panel_for_pointer(self.document, str(problem.pointer or ""))
        return self.url(panel=panel, **extra)

    @property
    def revision(self) -> int:
        return int(self.draft.revision)

    def url(self, **query: str) -> str:
        return editor_url(self.draft.id, **query)

    def op_url(self, name: str) -> str:
        return flask_url_for("design_editor.operate", draft_id=self.draft.id, name=name)

    @property
    def title(self) -> str:
        return str(self.document.get("title") or self.draft.definition_id)

    @property
    def selected_name(self) -> str | None:
        return self.selected.name if self.selected is not None else None

    @property
    def preview_page(self) -> int:
        return self.selected.page_index if self.selected is not None else 0

    @property
    def item_types(self) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, label in ITEM_TYPE_LABELS.items()]

    def type_label(self, kind: str | None) -> str:
        return str(ITEM_TYPE_LABELS.get(kind or "", kind or ""))

    def is_posted(self, name: str) -> bool:
        return self.posted_op == name

    def error_for(self, field_name: str, prefix: str = "") -> str | None:
        """The refusal's message if it belongs to this field of the form with ``prefix``."""
        if self.error is None or self.error.field != field_name:
            return None
        if prefix and self.posted_op not in FORM_OPS.get(prefix, ()):
            return None
        return str(self.error)

    @property
    def can_publish(self) -> bool:
        return current_actor().can(Permission.DEFINITION_PUBLISH, self.draft.unit_id)

    @property
    def flag_fields(self) -> list[conditions.FieldChoice]:
        return conditions.flag_fields(self.document)

    @staticmethod
    def kinds(fields: list[conditions.FieldChoice]) -> dict[str, Any]:
        """What the browser needs to offer fitting comparisons and values per field."""
        return {f.path: {"kind": f.kind, "operators": list(f.operators)} for f in fields}

    @property
    def tests_checked(self) -> bool:
        """Test cases run only when nothing else is wrong (the checker's order)."""
        return not any(p.source != "tests" for p in self.problems)

    @property
    def general_error(self) -> str | None:
        return str(self.error) if self.error is not None else None

    @property
    def sections(self) -> list[tuple[str, str, str]]:
        return section_choices(self.document)

    @property
    def preview_query(self) -> dict[str, Any]:
        language = self.document.get("language")
        return {"lang": language if language in ("sv", "en") else "sv",
                "page": self.preview_page}

    @property
    def json_text(self) -> str:
        if self.posted_op == "replace-document" and self.extra.get("posted_json") is not None:
            return str(self.extra["posted_json"])
        return json.dumps(self.document, ensure_ascii=False, indent=2)

    def condition_text(self, name: str) -> str | None:
        found = conditions.rule_for(self.document, name)
        if found is None:
            return None
        return conditions.describe(self.document, found[1].get("when")) or _(
            "a condition written in JSON")

    # -- forms

    def _build_forms(self, args: Mapping[str, Any], posted: MultiDict[str, Any] | None) -> None:
        def posted_for(*names: str) -> MultiDict[str, Any] | None:
            return posted if posted is not None and self.posted_op in names else None

        if self.posted_op == "replace-document" and posted is not None:
            self.extra["posted_json"] = posted.get("json", "")
        if self.panel == "element" and self.selected is not None:
            self._element_forms(posted_for)
        elif self.panel == "details":
            self.forms["details"] = DetailsForm(posted_for("update-details"), data={
                "title": self.document.get("title", ""),
                "description": self.document.get("description", ""),
                "contact": self.document.get("contact", ""),
                "licence": self.document.get("licence", ""),
                "copyright": self.document.get("copyright", ""),
                "languages": as_list(self.document.get("languages"))})
        elif self.panel == "policy":
            policy = as_dict(self.document.get("policy"))
            age = as_dict(policy.get("age"))
            self.forms["policy"] = PolicyForm(posted_for("update-policy"), data={
                "login": policy.get("login", "required"),
                "fillers": as_list(policy.get("fillers")) or ["citizen"],
                "age_min": shown(age.get("min")), "age_max": shown(age.get("max")),
                "drafts": policy.get("drafts", True), "review": policy.get("review", True),
                "copy_to_citizen": policy.get("copy_to_citizen", "none"),
                "discretion": policy.get("discretion", False),
                "terms": policy.get("terms", "")})
        elif self.panel == "scores":
            self._score_forms(args, posted_for, posted)

    def _element_forms(self, posted_for: Callable[..., MultiDict[str, Any] | None]) -> None:
        located = self.selected
        assert located is not None
        element = located.element
        if located.kind == "item":
            form = ItemForm(posted_for("update-item"), data=item_data(self.document, located))
            kind = str(element.get("type"))
            family = TYPE_FAMILIES.get(kind, (kind,))
            form.type.choices = [SelectChoice(k, str(ITEM_TYPE_LABELS.get(k, k))) for k in family]
            if not self.is_posted("update-item"):
                pad(form.options, BLANK_ROWS)
                pad(form.matrix_rows, BLANK_ROWS)
            self.forms["item"] = form
            self.extra["fields"] = FIELDS_BY_TYPE.get(kind, ())
            self.extra["shared_options"] = element.get("options") if isinstance(
                element.get("options"), str) else None
        elif located.kind == "page":
            self.forms["page"] = PageForm(posted_for("update-page"), data={
                "id": element.get("id", ""), "title": element.get("title", ""),
                "intro": element.get("intro", ""), "audience": element.get("audience", "all")})
        else:
            self.forms["section"] = SectionForm(posted_for("update-section"), data={
                "id": element.get("id", ""), "title": element.get("title", ""),
                "help": element.get("help", ""), "audience": element.get("audience", "all")})
        self._condition_form(located, posted_for)

    def _condition_form(self, located: Located,
                        posted_for: Callable[..., MultiDict[str, Any] | None]) -> None:
        offered = conditions.offered_fields(self.document, located.name)
        rule = conditions.rule_for(self.document, located.name)
        parsed = conditions.from_logic(rule[1].get("when")) if rule else None
        data: dict[str, Any] = {"combine": "all", "rows": []}
        if parsed is not None:
            data = {"combine": parsed[0], "rows": [
                {"field": row.field, "operator": row.operator,
                 "value": "" if row.operator in conditions.UNARY else conditions.value_text(
                     row.value)} for row in parsed[1]]}
        posted = posted_for("set-condition")
        form = ConditionForm(posted, data=data)
        if posted is None:
            pad(form.rows, BLANK_ROWS if data["rows"] else BLANK_ROWS + 1)
        condition_choices(form.rows, offered)
        self.forms["condition"] = form
        self.extra["condition_fields"] = offered
        self.extra["condition_rule"] = rule[1] if rule else None
        self.extra["condition_handwritten"] = rule is not None and parsed is None
        self.extra["other_rules"] = conditions.other_rules_naming(self.document, located.name)

    def _score_forms(self, args: Mapping[str, Any],
                     posted_for: Callable[..., MultiDict[str, Any] | None],
                     posted: MultiDict[str, Any] | None) -> None:
        scores = [s for s in as_list(self.document.get("scores")) if isinstance(s, dict)]
        flags = [f for f in as_list(self.document.get("flags")) if isinstance(f, dict)]
        self.extra["scores"] = scores
        self.extra["flags"] = flags
        self.extra["flag_texts"] = {str(f.get("id")): conditions.describe(
            self.document, f.get("when")) for f in flags}
        wanted_score = str(args.get("score") or "")
        score = next((s for s in scores if s.get("id") == wanted_score), None)
        if wanted_score == "new" or score is not None:
            self.forms["score"] = score_form(self.document, score, posted_for("set-score"))
            self.extra["score"] = score
        wanted_flag = str(args.get("flag") or "")
        flag = next((f for f in flags if f.get("id") == wanted_flag), None)
        if wanted_flag == "new" or flag is not None:
            self.forms["flag"] = flag_form(self.document, flag, posted_for("set-flag"))
            self.extra["flag"] = flag
        fields = tryout.sample_fields(self.document)
        self.extra["sample_fields"] = fields
        sample = posted.to_dict(flat=False) if posted is not None and self.posted_op in (
            "try", "add-test-case") else {}
        self.extra["sample"] = sample
        tests = [t for t in as_list(self.document.get("tests")) if isinstance(t, dict)]
        failing = {p.pointer for p in self.problems if p.source == "tests"}
        self.extra["tests"] = [(i, t, f"/tests/{i}" in failing) for i, t in enumerate(tests)]

    # -- the tree's focus target

    def focus_id(self) -> str | None:
        """The id of the control to focus on load (autofocus): after a move, the same button
        on the moved element (the other one when it reached an edge)."""
        if not self.focus:
            return None
        if self.focus in ("move-up", "move-down") and self.selected is not None:
            node = _node_of(self.nodes, self.selected.name)
            if node is None:
                return "tree-selected"
            if self.focus == "move-up" and not node.can_up:
                return "move-down" if node.can_down else "tree-selected"
            if self.focus == "move-down" and not node.can_down:
                return "move-up" if node.can_up else "tree-selected"
        return self.focus


def panel_for_pointer(document: Json, pointer: str) -> tuple[str, dict[str, str]]:
    """The panel (and score or flag) a JSON pointer outside the layout belongs to."""
    parts = pointer.split("/")[1:] if pointer.startswith("/") else []
    head = parts[0] if parts else ""
    if head in ("scores", "flags") and len(parts) > 1 and parts[1].isdigit():
        entries = as_list(document.get(head))
        index = int(parts[1])
        if index < len(entries) and isinstance(entries[index], dict):
            return "scores", {"score" if head == "scores" else "flag":
                              str(entries[index].get("id"))}
        return "scores", {}
    if head in ("scores", "flags", "tests"):
        return "scores", {}
    if head == "policy":
        return "policy", {}
    if head in ("title", "description", "contact", "licence", "copyright", "languages",
                "language"):
        return "details", {}
    return "json", {}


def _anchor(prefix: str, field_name: str) -> str:
    """The id of the input an error's field name points at, in the form with ``prefix``."""
    if field_name.startswith("rows-"):
        return f"{prefix}{field_name}-field"
    if field_name.startswith("bands-"):
        return f"{prefix}band_sets-{field_name.split('-', 1)[1]}-sex"
    if field_name == "rows" and prefix in ("cond-", "flag-"):
        return f"{prefix}rows-0-field"
    first_of_list = {"options": "options-0-value", "matrix_rows": "matrix_rows-0-label",
                     "items": "items-0-chosen", "json": "text", "case_name": "case-name",
                     "sample_age": "age"}
    if field_name in first_of_list:
        return prefix + first_of_list[field_name]
    if field_name in ("fillers", "languages", "accept", "login", "copy_to_citizen", "method",
                      "combine", "widget"):
        return f"{prefix}{field_name}-0"  # the first checkbox or radio button of the group
    return prefix + field_name


def _node_of(nodes: list[Any], name: str) -> Any:
    for node in nodes:
        if node.name == name:
            return node
        found = _node_of(node.children, name)
        if found is not None:
            return found
    return None
