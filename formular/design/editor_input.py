"""What a posted editor form means: the keyword arguments of one operation.

Each operation's form (:mod:`.editor_forms`) is read here into the parameters of
:func:`.operations.apply`. A post no page of the editor sends (no target, a bad index) is a
400; everything a designer can get wrong is left to the operation to refuse, with a message
at the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from formular.definitions.loader import MAX_DEFINITION_BYTES, parse_json

from . import tryout
from .editor_forms import (
    FIELDS_BY_TYPE,
    ConditionForm,
    DetailsForm,
    FlagForm,
    ItemForm,
    PageForm,
    PolicyForm,
    ScoreForm,
    SectionForm,
)
from .operations import OperationError
from .outline import Json, find


def _target(form: Mapping[str, Any], key: str = "target") -> str:
    value = str(form.get(key) or "")
    if not value or len(value) > 200:
        abort(400)
    return value


def _rows(entries: Any) -> list[tuple[str, str, str]]:
    """Condition rows as (field, operator, value text); an option picked from the list wins
    over typed text when it belongs to the row's field."""
    rows: list[tuple[str, str, str]] = []
    for entry in entries:
        row = entry.form
        path = str(row.field.data or "")
        text = str(row.value.data or "").strip()
        choice = str(row.choice.data or "")
        if choice and not text:
            chosen_path, _sep, chosen_value = choice.partition("\x1f")
            if chosen_path == path:
                text = chosen_value
        rows.append((path, str(row.operator.data or ""), text))
    return rows


def _item_changes(form: ItemForm, kind: str) -> dict[str, Any]:
    wanted = FIELDS_BY_TYPE.get(kind, ())
    changes: dict[str, Any] = {"name": form.name.data or "", "audience": form.audience.data}
    if kind != "info":
        changes.update(label=form.label.data, help=form.help.data)
    simple = {"required": ("required",), "unit": ("unit",), "widget": ("widget",),
              "rows": ("rows",), "autocomplete": ("autocomplete",), "pattern": ("pattern",),
              "error_text": ("error_text",), "text": ("text",), "style": ("style",),
              "expression": ("expression",), "decimals": ("decimals",),
              "code": ("code", "code_system"), "scale_labels": ("min_label", "max_label"),
              "group_labels": ("add_label", "remove_label")}
    for key, names in simple.items():
        if key in wanted:
            for name in names:
                changes[name] = getattr(form, name).data
    if "type" in wanted and form.type.data:
        changes["type"] = form.type.data
    pairs = {"length": ("min_length", "max_length", "length_min", "length_max"),
             "value": ("minimum", "maximum", "value_min", "value_max"),
             "dates": ("min_date", "max_date", "min_date", "max_date"),
             "items": ("min_items", "max_items", "items_min", "items_max")}
    for key, (low, high, low_field, high_field) in pairs.items():
        if key in wanted:
            changes[low] = getattr(form, low_field).data
            changes[high] = getattr(form, high_field).data
    if "options" in wanted and form.options.entries:
        changes["options"] = [
            {k: v for k, v in row.data.items() if k != "remove"}
            for row in form.options.entries if not row.form.remove.data]
    if "matrix_rows" in wanted and form.matrix_rows.entries:
        changes["matrix_rows"] = [
            {"name": row.data["name"], "label": row.data["label"]}
            for row in form.matrix_rows.entries if not row.form.remove.data]
    if "files" in wanted:
        changes.update(accept=form.accept.data or [], max_size_mb=form.max_size_mb.data,
                       max_count=form.max_count.data)
    return changes


def _score_params(form: ScoreForm) -> dict[str, Any]:
    items = []
    for entry in form.items.entries:
        row = entry.form
        if not row.chosen.data:
            continue
        weights = {w.form.value.data: w.form.weight.data for w in row.weights.entries
                   if str(w.form.weight.data or "").strip()}
        items.append({"name": row.name.data, "reverse": row.reverse.data, "weights": weights})
    band_sets: list[dict[str, Any]] | None = None
    if form.keep_bands.data != "1":
        band_sets = [{"sex": s.form.sex.data, "age_min": s.form.age_min.data,
                      "age_max": s.form.age_max.data,
                      "bands": [b.data for b in s.form.bands.entries]}
                     for s in form.band_sets.entries]
    return {
        "score_id": form.score_id.data or None, "new_id": form.new_id.data or "",
        "label": form.label.data or "", "description": form.description.data or "",
        "method": form.method.data or "", "items": items,
        "count_values": [v for v in (form.count_values.data or "").split(",")],
        "missing_policy": form.missing_policy.data or "", "max_missing": form.max_missing.data,
        "decimals": form.decimals.data, "citizen_visible": bool(form.citizen_visible.data),
        "band_sets": band_sets,
    }


def _index(form: Mapping[str, Any]) -> int:
    text = str(form.get("index") or "")
    if not text.isdigit():
        abort(400)
    return int(text)


def parse(name: str, form: MultiDict[str, Any], document: Json,
          texts: Mapping[str, str]) -> dict[str, Any]:
    """The keyword arguments of operation ``name`` from a posted form (400 for a form no
    page of the editor sends; what a designer can get wrong is the operation's to refuse)."""
    if name == "add-item":
        params = {"item_type": str(form.get("item_type") or ""), "texts": texts}
        for key in ("section", "group", "after"):
            if form.get(key):
                params[key] = str(form[key])
        return params
    if name == "add-page":
        return {"title": str(form.get("title") or ""), "after": form.get("after") or None,
                "item_type": str(form.get("item_type") or "text"), "texts": texts}
    if name == "add-section":
        return {"page": _target(form, "page"), "title": str(form.get("title") or ""),
                "item_type": str(form.get("item_type") or "text"), "texts": texts}
    if name == "update-item":
        target = _target(form)
        located = find(document, target)
        if located is None or located.kind != "item":
            raise OperationError(_("%(name)s no longer exists; it may have been deleted.",
                                   name=target))
        item_form = ItemForm(form)
        return {"name": target, "changes": _item_changes(item_form,
                                                         str(located.element.get("type")))}
    if name in ("update-page", "update-section"):
        kind_form = PageForm(form) if name == "update-page" else SectionForm(form)
        changes = {key: value for key, value in kind_form.data.items()}
        return {("page" if name == "update-page" else "section"): _target(form),
                "changes": changes}
    if name in ("delete-item", "delete-section", "delete-page"):
        key = {"delete-item": "name", "delete-section": "section", "delete-page": "page"}[name]
        return {key: _target(form)}
    if name == "move-item":
        return {"name": _target(form), "direction": str(form.get("direction") or "")}
    if name == "move-item-to":
        position = str(form.get("position") or "")
        return {"name": _target(form), "section": form.get("section") or None,
                "before": form.get("before") or None,
                "position": int(position) if position.isdigit() else None}
    if name == "move-section":
        return {"section": _target(form), "direction": str(form.get("direction") or "")}
    if name == "move-section-to":
        return {"section": _target(form), "page": _target(form, "page")}
    if name == "move-page":
        return {"page": _target(form), "direction": str(form.get("direction") or "")}
    if name == "set-condition":
        condition = ConditionForm(form)
        return {"target": _target(form), "combine": condition.combine.data or "",
                "rows": _rows(condition.rows.entries)}
    if name == "remove-condition":
        return {"target": _target(form)}
    if name == "set-score":
        return _score_params(ScoreForm(form))
    if name == "delete-score":
        return {"score_id": _target(form)}
    if name == "set-flag":
        flag = FlagForm(form)
        return {"flag_id": flag.flag_id.data or None, "new_id": flag.new_id.data or "",
                "label": flag.flag_label.data or "", "severity": flag.severity.data or "",
                "citizen_visible": bool(flag.citizen_visible.data),
                "combine": flag.combine.data or "", "rows": _rows(flag.rows.entries)}
    if name == "delete-flag":
        return {"flag_id": _target(form)}
    if name == "update-policy":
        policy = PolicyForm(form)
        return {"login": policy.login.data or "", "fillers": policy.fillers.data or [],
                "age_min": policy.age_min.data, "age_max": policy.age_max.data,
                "drafts": bool(policy.drafts.data), "review": bool(policy.review.data),
                "copy_to_citizen": policy.copy_to_citizen.data or "",
                "discretion": bool(policy.discretion.data), "terms": policy.terms.data or ""}
    if name == "update-details":
        details = DetailsForm(form)
        return {"title": details.title.data or "", "description": details.description.data,
                "contact": details.contact.data, "licence": details.licence.data,
                "copyright": details.copyright.data, "languages": details.languages.data or []}
    if name == "add-test-case":
        fields = tryout.sample_fields(document)
        sex, age = subject(form)
        return {"name": str(form.get("case_name") or ""),
                "answers": tryout.typed_answers(fields, form.to_dict(flat=False)),
                "sex": sex, "age": age}
    if name == "delete-test-case":
        return {"index": _index(form)}
    if name == "replace-document":
        text = str(form.get("json") or "")
        replacement, problems = parse_json(text, max_bytes=MAX_DEFINITION_BYTES)
        if problems:
            raise OperationError(_("This is not valid JSON: %(detail)s",
                                   detail=problems[0].message), "json")
        return {"replacement": replacement}
    abort(404)


def subject(form: Mapping[str, Any]) -> tuple[str | None, int | None]:
    sex = str(form.get("sample_sex") or "") or None
    if sex not in (None, "female", "male"):
        abort(400)
    age_text = str(form.get("sample_age") or "").strip()
    if age_text and not (age_text.isdigit() and int(age_text) <= 130):
        raise OperationError(_("An age is a whole number from 0 to 130."), "sample_age")
    return sex, int(age_text) if age_text else None
