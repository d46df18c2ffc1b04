"""View models of a form page, its review and the client-side rule plan.

Templates receive plain objects with everything resolved (ids, values as text, messages), so
the macros stay small and the same view model serves the preview, the citizen and staff.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from wtforms.form import BaseForm

from formular.definitions.service import (
    CompiledDefinition,
    Evaluation,
    FieldError,
    ItemSpec,
    PageSpec,
)
from formular.lru import Lru

from .forms import page_items
from .markdown import to_html
from .widgets import Widget, macro_for, option_pairs, widget_for

#: Turns a field error into a translated sentence (supplied by the web layer).
Describe = Callable[[FieldError, ItemSpec | None], str]


@dataclass
class FieldView:
    item: ItemSpec
    #: HTML id of the input (or of the fieldset for groups of inputs).
    id: str
    #: Name of the posted input.
    input_name: str
    macro: str
    widget: type[Widget]
    label: str
    help: str | None = None
    required: bool = False
    hidden: bool = False
    #: The text to show in a text-like input (what was typed, even when it was invalid).
    text: str = ""
    #: Chosen option values as strings (radio, select, checkboxes, yes/no, scale).
    chosen: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    #: Option values (as text) that clear the others when chosen ("none of these").
    exclusive: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    rows: list[FieldView] = field(default_factory=list)
    #: Repetitions of a group: each a list of child views.
    repetitions: list[list[FieldView]] = field(default_factory=list)
    html: str = ""
    value: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def describedby(self) -> str:
        ids = []
        if self.help:
            ids.append(f"{self.id}-help")
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass
class SectionView:
    id: str
    title: str | None
    help: str | None
    hidden: bool
    fields: list[FieldView]


@dataclass
class PageView:
    page: PageSpec
    sections: list[SectionView]
    #: (field id, question label, message) in page order, for the error summary at the top.
    summary: list[tuple[str, str, str]]
    number: int
    total: int


def build_page(
    compiled: CompiledDefinition,
    page_index: int,
    audience: str,
    form: BaseForm,
    evaluation: Evaluation,
    errors: list[FieldError],
    describe: Describe,
    visible_pages: list[int],
) -> PageView:
    """The view of one page with its current values, visibility and errors."""
    page = compiled.pages[page_index]
    allowed = {item.name for item in page_items(compiled, page_index, audience)}
    by_path: dict[tuple[str | int, ...], list[str]] = {}
    for error in errors:
        spec = compiled.fields.get(error.name) if error.name else None
        if len(error.path) == 3:
            spec = compiled.fields.get(f"{error.path[0]}/{error.path[2]}")
        by_path.setdefault(error.path, []).append(describe(error, spec))
    sections = []
    for section in page.sections:
        views = [
            _field_view(item, form, evaluation, by_path)
            for item in section.items if item.name in allowed
        ]
        if views:
            sections.append(SectionView(section.id, section.title, section.help,
                                        section.id in evaluation.hidden, views))
    summary = [
        entry
        for section_view in sections if not section_view.hidden
        for view in section_view.fields if not view.hidden
        for entry in _messages(view)
    ]
    return PageView(page, sections, summary, *_position(page_index, visible_pages))


def frame_view(compiled: CompiledDefinition, page_index: int,
               visible_pages: list[int]) -> PageView:
    """What is drawn around a page's questions (title, progress) when the questions
    themselves come ready-drawn: no field views, no errors."""
    return PageView(compiled.pages[page_index], [], [], *_position(page_index, visible_pages))


def _position(page_index: int, visible_pages: list[int]) -> tuple[int, int]:
    """("page N of M"): the page's number among the visible pages, and how many there are."""
    number = visible_pages.index(page_index) + 1 if page_index in visible_pages else 1
    return number, len(visible_pages)


def _messages(view: FieldView) -> list[tuple[str, str, str]]:
    """(field id, question, message): the summary must say which question is wrong."""
    found = [(view.id, view.label, message) for message in view.errors]
    for row in view.rows:
        found += _messages(row)
    for repetition in view.repetitions:
        for child in repetition:
            if not child.hidden:
                found += _messages(child)
    return found


def _field_view(
    item: ItemSpec,
    form: BaseForm,
    evaluation: Evaluation,
    by_path: dict[tuple[str | int, ...], list[str]],
    prefix: str = "",
    path: tuple[str | int, ...] = (),
    hidden: bool | None = None,
) -> FieldView:
    widget = widget_for(item)
    input_name = f"{prefix}{item.name}"
    own_path = path + (item.name,)
    view = FieldView(
        item=item, id="f-" + "-".join(str(p) for p in own_path), input_name=input_name,
        macro=macro_for(item), widget=widget, label=item.label, help=item.help,
        required=item.required,
        hidden=evaluation.is_hidden(item.name) if hidden is None else hidden,
        errors=list(by_path.get(own_path, [])),
    )
    fields = form._fields if hasattr(form, "_fields") else {}
    bound = fields.get(item.name)
    if bound is not None and item.type not in ("group", "file"):
        # WTForms' own coercion messages are replaced by ours (see filling._coercion_errors).
        view.text = bound._value() if hasattr(bound, "_value") else ""
        data = bound.data
        if isinstance(data, list):
            view.chosen = tuple(_as_text(v) for v in data)
        elif data is not None:
            view.chosen = (_as_text(data),)
        view.options = option_pairs(item)
        view.exclusive = tuple(str(o["value"]) for o in item.options if o.get("exclusive"))
    if item.type == "info":
        view.html = to_html(str(item.raw.get("text", "")))
    elif item.type == "matrix":
        view.options = option_pairs(item)
        for row in item.rows:
            row_field = fields.get(row.name)
            chosen = () if row_field is None or row_field.data is None else (
                _as_text(row_field.data),)
            row_errors: list[str] = []
            view.rows.append(FieldView(
                item=item, id=f"f-{row.name}", input_name=f"{prefix}{row.name}",
                macro="radio", widget=widget, label=row.label, required=row.required,
                chosen=chosen, options=view.options,
                errors=row_errors + list(by_path.get(path + (row.name,), [])),
            ))
    elif item.type == "calculated":
        view.value = evaluation.answers.get(item.name)
    elif item.type == "file":
        files = evaluation.answers.get(item.name)
        view.files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    elif item.type == "group" and bound is not None:
        for index, entry in enumerate(bound.entries):
            row_form = entry.form
            row_path = (item.name, index)
            view.repetitions.append([
                _child_view(child, row_form, evaluation, by_path, item, index, row_path)
                for child in item.children
            ])
    return view


def _child_view(child: ItemSpec, row_form: BaseForm, evaluation: Evaluation,
                by_path: dict[tuple[str | int, ...], list[str]], group: ItemSpec, index: int,
                row_path: tuple[str | int, ...]) -> FieldView:
    view = _field_view(child, row_form, evaluation, by_path, prefix=f"{group.name}-{index}-",
                       path=row_path, hidden=evaluation.is_hidden(child.name, group.name, index))
    if child.type == "calculated":
        rows = evaluation.answers.get(group.name)
        row = rows[index] if isinstance(rows, list) and index < len(rows) else {}
        view.value = row.get(child.name) if isinstance(row, dict) else None
    return view


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class ReviewEntry:
    page: PageSpec
    label: str
    answer: str
    field_id: str
    missing: bool
    #: The item type, so the template can word yes/no answers and numbers in the page's
    #: language.
    kind: str = ""
    #: The stored value (numbers are formatted by the template for the page's locale).
    value: Any = None


def build_review(compiled: CompiledDefinition, audience: str, evaluation: Evaluation
                 ) -> list[tuple[PageSpec, list[ReviewEntry]]]:
    """Every visible question with its answer, page by page, for the review before submit."""
    pages = []
    for page in compiled.pages:
        if page.index in evaluation.hidden_pages:
            continue
        entries: list[ReviewEntry] = []
        for item in page_items(compiled, page.index, audience):
            if item.type == "info" or evaluation.is_hidden(item.name):
                continue
            entries += _review_entries(page, item, evaluation)
        if entries:
            pages.append((page, entries))
    return pages


def _review_entries(page: PageSpec, item: ItemSpec, evaluation: Evaluation
                    ) -> list[ReviewEntry]:
    answers = evaluation.answers
    widget = widget_for(item)
    if item.type == "matrix":
        return [ReviewEntry(page, row.label,
                            widget.display(item, answers.get(row.name)), f"f-{row.name}",
                            answers.get(row.name) is None, item.type, answers.get(row.name))
                for row in item.rows]
    if item.type == "group":
        entries = []
        rows = answers.get(item.name)
        for index, row in enumerate(rows if isinstance(rows, list) else []):
            for child in item.children:
                if child.type == "info" or evaluation.is_hidden(child.name, item.name, index):
                    continue
                value = row.get(child.name) if isinstance(row, dict) else None
                entries.append(ReviewEntry(
                    page, f"{item.label} {index + 1}: {child.label}",
                    widget_for(child).display(child, value),
                    f"f-{item.name}-{index}-{child.name}", value is None, child.type, value))
        return entries
    value = answers.get(item.name)
    return [ReviewEntry(page, item.label, widget.display(item, value), f"f-{item.name}",
                        value is None, item.type, value)]


def client_plan(compiled: CompiledDefinition, audience: str) -> dict[str, Any]:
    """What the browser needs to show/hide and calculate at once: the same rules as data,
    limited to what this audience may see (a citizen's page never names staff-only items).
    Worked out once per definition content and audience (every form page prints it); the
    result is shared, so callers must not change it."""
    return _plans.get_or_make((compiled.digest, audience),
                              lambda: _client_plan(compiled, audience))


_plans: Lru[tuple[str, str], dict[str, Any]] = Lru(256)


def client_plan_json(compiled: CompiledDefinition, audience: str) -> Markup:
    """:func:`client_plan` as the JSON a page embeds in ``<script type="application/json">``
    (``<``, ``>``, ``&`` and ``'`` escaped, so no text in it can end the element). Serialised
    once per definition content and audience: every form page prints it."""
    return _plan_json.get_or_make((compiled.digest, audience), lambda: htmlsafe_json_dumps(
        client_plan(compiled, audience), dumps=_sorted_json))


_plan_json: Lru[tuple[str, str], Markup] = Lru(256)


def _sorted_json(value: Any, **options: Any) -> str:
    return json.dumps(value, sort_keys=True, **options)


def _client_plan(compiled: CompiledDefinition, audience: str) -> dict[str, Any]:
    document = compiled.document
    allowed = {item.name for item in _all_items(compiled, audience)}
    allowed |= {row.name for item in _all_items(compiled, audience) for row in item.rows}
    containers = {page.id for page in compiled.pages
                  if not (audience == "citizen" and page.audience == "staff")}
    containers |= {section.id for page in compiled.pages for section in page.sections
                   if not (audience == "citizen" and "staff" in (page.audience,
                                                                  section.audience))}
    fields: dict[str, str] = {}
    values: dict[str, list[Any]] = {}
    for name, spec in compiled.fields.items():
        short = name.rsplit("/", 1)[-1]
        if short not in allowed:
            continue
        fields[short] = spec.type
        if spec.options:
            values[short] = [option["value"] for option in spec.options]
    return {
        "rules": [
            {"when": rule["when"],
             "show": [t for t in rule["show"] if t in allowed or t in containers]}
            for rule in document.get("rules", [])
            if "show" in rule and any(t in allowed or t in containers for t in rule["show"])
        ],
        "calculations": [
            {"name": spec.name, "expression": spec.raw["expression"],
             "decimals": spec.raw.get("decimals", 1), "group": spec.group}
            for spec in _all_items(compiled, audience) if spec.type == "calculated"
        ],
        "fields": fields,
        "values": values,
        "groups": {spec.name: [c.name for c in spec.children]
                   for spec in _all_items(compiled, audience) if spec.type == "group"},
    }


def _all_items(compiled: CompiledDefinition, audience: str = "staff") -> list[ItemSpec]:
    """Every item (group children included) this audience may see."""
    items = []
    for page in compiled.pages:
        for item in page_items(compiled, page.index, audience):
            items.append(item)
            items.extend(child for child in item.children
                         if not (audience == "citizen" and child.audience == "staff"))
    return items
