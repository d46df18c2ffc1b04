"""WTForms form classes per (compiled definition, page, audience), built once and cached.

The class only coerces text into typed values; it carries no "required" validators, because
whether an answer is required depends on what else was answered, and that is decided by the
compiled definition's validator over the whole answer document.
"""

from __future__ import annotations

from typing import Any

from wtforms import Form
from wtforms.form import BaseForm

from formular.definitions.service import CompiledDefinition, ItemSpec
from formular.lru import Lru

from .widgets import labelled_fields, widget_for

_MAX_CLASSES = 1024
_classes: Lru[tuple[str, int, str, type[Form]], type[Form]] = Lru(_MAX_CLASSES)


def page_items(compiled: CompiledDefinition, page_index: int, audience: str) -> list[ItemSpec]:
    """The items of a page that this audience may fill in."""
    page = compiled.pages[page_index]
    if audience == "citizen" and page.audience == "staff":
        return []
    return [
        item
        for section in page.sections
        if not (audience == "citizen" and section.audience == "staff")
        for item in section.items
        if not (audience == "citizen" and item.audience == "staff")
    ]


def form_class(
    compiled: CompiledDefinition, page_index: int, audience: str, base: type[Form] = Form
) -> type[Form]:
    """The form class of one page; ``base`` supplies CSRF and translations (FlaskForm)."""
    key = (compiled.digest, page_index, audience, base)
    cached = _classes.get(key)
    if cached is not None:
        return cached
    attrs: dict[str, Any] = {}
    for item in page_items(compiled, page_index, audience):
        attrs.update(labelled_fields(item))
    return _classes.put(key, type(f"Page_{compiled.id}_{page_index}", (base,), attrs))


def prefill(compiled: CompiledDefinition, page_index: int, audience: str,
            answers: dict[str, Any]) -> dict[str, Any]:
    """Field data for a page from saved answers."""
    data: dict[str, Any] = {}
    for item in page_items(compiled, page_index, audience):
        data.update(widget_for(item).formdata(item, answers))
    return data


def page_answers(compiled: CompiledDefinition, page_index: int, audience: str,
                 form: BaseForm) -> dict[str, Any]:
    """Typed answers of one page from a processed form, keyed by answer name. Fields whose
    text could not be coerced are left out, so a saved draft never holds a wrong type."""
    answers: dict[str, Any] = {}
    for item in page_items(compiled, page_index, audience):
        values = widget_for(item).answer(item, form)
        for name, value in values.items():
            if name in form._fields and form[name].errors and item.type != "group":
                continue
            answers[name] = value
    return answers


def owned_names(compiled: CompiledDefinition, page_index: int, audience: str) -> set[str]:
    """Answer names a post of this page replaces (an unchecked box clears its answer)."""
    return {
        name
        for item in page_items(compiled, page_index, audience)
        if item.type not in ("calculated", "info", "file")
        for name in item.answer_names
    }
