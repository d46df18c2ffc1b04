"""The editor's WTForms: what the designer fills in, turned into an operation's parameters.

Forms only *read* input (and render it back, with the designer's own values after an error or
a conflict); every rule about what is allowed lives in :mod:`.operations`, whose
:class:`~.operations.OperationError` names the field a message belongs to. Numbers are read as
text so that "2,5" and a blank (meaning "no limit") reach the operation unchanged.

CSRF is checked for every POST by Flask-WTF's ``CSRFProtect``; these are plain ``Form``s.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from . import conditions
from .operations import ACCEPT, TEXT_FAMILY
from .outline import Json, Located, as_dict, as_list
from .score_operations import scorable_fields

#: Extra blank rows offered for new options, rows, bands and conditions (no JavaScript
#: needed to add one).
BLANK_ROWS = 2


def choices(pairs: list[tuple[str, Any]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


#: Item types as the palette offers them.
ITEM_TYPE_LABELS: dict[str, Any] = {
    "text": _l("Short text"),
    "textarea": _l("Long text"),
    "integer": _l("Whole number"),
    "decimal": _l("Decimal number"),
    "date": _l("Date"),
    "yes-no": _l("Yes or no"),
    "choice": _l("Single choice"),
    "multi-choice": _l("Multiple choice"),
    "scale": _l("Scale"),
    "matrix": _l("Questions sharing options (matrix)"),
    "group": _l("Repeating group"),
    "info": _l("Information text"),
    "file": _l("Attachment"),
    "personnummer": _l("Personal identity number"),
    "email": _l("E-mail address"),
    "phone": _l("Phone number"),
    "postcode": _l("Postcode"),
    "calculated": _l("Calculated value"),
}

#: Which settings the item editor shows per type (besides name, label, help, audience…).
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "text": ("type", "required", "length", "pattern", "autocomplete", "error_text", "code"),
    "textarea": ("type", "required", "length", "pattern", "rows", "error_text", "code"),
    "personnummer": ("type", "required", "error_text", "code"),
    "email": ("type", "required", "length", "error_text", "code"),
    "phone": ("type", "required", "error_text", "code"),
    "postcode": ("type", "required", "error_text", "code"),
    "integer": ("type", "required", "value", "unit", "error_text", "code"),
    "decimal": ("type", "required", "value", "unit", "error_text", "code"),
    "date": ("required", "dates", "error_text", "code"),
    "yes-no": ("required", "error_text", "code"),
    "choice": ("type", "required", "options", "widget", "error_text", "code"),
    "multi-choice": ("type", "required", "options", "items", "error_text", "code"),
    "scale": ("required", "value", "scale_labels", "error_text", "code"),
    "matrix": ("required", "options", "matrix_rows", "error_text", "code"),
    "group": ("required", "items", "group_labels", "code"),
    "info": ("text", "style"),
    "file": ("required", "files", "error_text", "code"),
    "calculated": ("expression", "unit", "decimals", "code"),
}

TYPE_FAMILIES: dict[str, tuple[str, ...]] = {
    **{kind: TEXT_FAMILY for kind in TEXT_FAMILY},
    "integer": ("integer", "decimal"), "decimal": ("integer", "decimal"),
    "choice": ("choice", "multi-choice"), "multi-choice": ("choice", "multi-choice"),
}

AUDIENCES = [("all", _l("Everyone")), ("staff", _l("Staff only"))]
SEVERITY_CHOICES = [("", _l("No severity")), ("none", _l("None")), ("low", _l("Low")),
                    ("moderate", _l("Moderate")), ("high", _l("High")),
                    ("critical", _l("Critical"))]
ACCEPT_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG",
                 "image/gif": "GIF"}


class OptionRow(Form):  # type: ignore[misc]
    value = StringField(_l("Value"))
    label = StringField(_l("Label"))
    weight = StringField(_l("Weight"))
    code_system = StringField(_l("Code system"))
    code = StringField(_l("Code"))
    exclusive = BooleanField(_l("Clears the others"))
    remove = BooleanField(_l("Remove"))


class MatrixRow(Form):  # type: ignore[misc]
    name = StringField(_l("Id"))
    label = StringField(_l("Question"))
    remove = BooleanField(_l("Remove"))


class ItemForm(Form):  # type: ignore[misc]
    name = StringField(_l("Question id"), description=_l(
        "Used in conditions, scores and exports. Lower-case letters, digits and _."))
    type = SelectField(_l("Kind of answer"))
    label = StringField(_l("Question"))
    help = TextAreaField(_l("Help text"))
    required = BooleanField(_l("An answer is required"))
    audience = SelectField(_l("Who sees it"), choices=choices(AUDIENCES), default="all")
    error_text = StringField(_l("Own error message"), description=_l(
        "Replaces the standard messages (except “required”). Optional."))
    code_system = StringField(_l("Code system"))
    code = StringField(_l("Code"))
    unit = StringField(_l("Unit"), description=_l("For example kg or cm."))
    widget = RadioField(_l("Shown as"), choices=choices([("radio", _l("Buttons")),
                                                  ("select", _l("A list"))]), default="radio")
    rows = StringField(_l("Height in lines"))
    autocomplete = StringField(_l("Autocomplete"), description=_l(
        "An HTML autocomplete token such as name. Optional."))
    length_min = StringField(_l("Fewest characters"))
    length_max = StringField(_l("Most characters"))
    pattern = StringField(_l("Pattern (regular expression)"), description=_l(
        "Optional. For personal identity numbers, e-mail, phone and postcodes choose the "
        "kind of answer instead."))
    value_min = StringField(_l("Lowest value"))
    value_max = StringField(_l("Highest value"))
    min_date = StringField(_l("Earliest date"), description=_l(
        "A date (2024-01-31) or today, today-P18Y, today+P30D. Optional."))
    max_date = StringField(_l("Latest date"), description=_l(
        "A date (2024-01-31) or today, today-P18Y, today+P30D. Optional."))
    items_min = StringField(_l("Fewest"))
    items_max = StringField(_l("Most"))
    min_label = StringField(_l("Text at the low end"))
    max_label = StringField(_l("Text at the high end"))
    add_label = StringField(_l("Text of the add button"))
    remove_label = StringField(_l("Text of the remove button"))
    text = TextAreaField(_l("Text"), description=_l(
        "Markdown: **bold**, lists and links (https and mailto only)."))
    style = SelectField(_l("Style"), choices=choices([("plain", _l("Plain")),
                                              ("notice", _l("Notice")),
                                              ("warning", _l("Warning"))]), default="plain")
    accept = SelectMultipleField(_l("File types"),
                                 choices=choices([(a, ACCEPT_LABELS[a]) for a in ACCEPT]))
    max_size_mb = StringField(_l("Largest file (MB)"))
    max_count = StringField(_l("Most files"))
    expression = TextAreaField(_l("Calculation (JSON Logic)"), description=_l(
        'For example {"+": [{"var": "weight"}, 2]}. Only answers of this form can be read.'))
    decimals = StringField(_l("Decimals"))
    options = FieldList(FormField(OptionRow))
    matrix_rows = FieldList(FormField(MatrixRow))


class PageForm(Form):  # type: ignore[misc]
    id = StringField(_l("Page id"))
    title = StringField(_l("Title"))
    intro = TextAreaField(_l("Introduction"))
    audience = SelectField(_l("Who sees it"), choices=choices(AUDIENCES), default="all")


class SectionForm(Form):  # type: ignore[misc]
    id = StringField(_l("Section id"))
    title = StringField(_l("Heading"), description=_l("Optional."))
    help = TextAreaField(_l("Help text"))
    audience = SelectField(_l("Who sees it"), choices=choices(AUDIENCES), default="all")


class ConditionRow(Form):  # type: ignore[misc]
    field = SelectField(_l("Field"))
    operator = SelectField(_l("Comparison"))
    choice = SelectField(_l("Option"))
    value = StringField(_l("Value"))


class ConditionForm(Form):  # type: ignore[misc]
    combine = RadioField(_l("Show when"), choices=choices([
        ("all", _l("all of the rows hold")), ("any", _l("any of the rows holds"))]),
        default="all")
    rows = FieldList(FormField(ConditionRow))


class WeightRow(Form):  # type: ignore[misc]
    value = HiddenField()
    weight = StringField(_l("Weight"))


class ScoreItemRow(Form):  # type: ignore[misc]
    name = HiddenField()
    chosen = BooleanField(_l("In the score"))
    reverse = BooleanField(_l("Reversed"))
    weights = FieldList(FormField(WeightRow))


class BandRow(Form):  # type: ignore[misc]
    id = StringField(_l("Id"))
    min = StringField(_l("From"))
    max = StringField(_l("To"))
    label = StringField(_l("Label"))
    severity = SelectField(_l("Severity"), choices=choices(SEVERITY_CHOICES), default="")


class BandSetForm(Form):  # type: ignore[misc]
    sex = SelectField(_l("Sex"), choices=choices([("", _l("Any")), ("female", _l("Female")),
                                          ("male", _l("Male"))]), default="")
    age_min = StringField(_l("Age from"))
    age_max = StringField(_l("Age to"))
    bands = FieldList(FormField(BandRow))


class ScoreForm(Form):  # type: ignore[misc]
    score_id = HiddenField()
    new_id = StringField(_l("Score id"), description=_l(
        "Lower-case letters, digits and hyphens. Made from the name when empty."))
    label = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    method = RadioField(_l("Computed as"), choices=choices([
        ("sum", _l("Sum of the weights")), ("mean", _l("Mean of the weights")),
        ("count", _l("Number of chosen answers"))]), default="sum")
    items = FieldList(FormField(ScoreItemRow))
    count_values = StringField(_l("Answers that count"), description=_l(
        "Option values separated by commas (for “number of chosen answers”)."))
    missing_policy = SelectField(_l("When answers are missing"), choices=choices([
        ("no-total", _l("No result")), ("prorate", _l("Scale up from the answered items")),
        ("zero", _l("Count them as zero"))]), default="no-total")
    max_missing = StringField(_l("Missing answers allowed"))
    decimals = StringField(_l("Decimals"))
    citizen_visible = BooleanField(_l("Show the result to the citizen"))
    keep_bands = HiddenField()
    band_sets = FieldList(FormField(BandSetForm))


class FlagForm(Form):  # type: ignore[misc]
    flag_id = HiddenField()
    new_id = StringField(_l("Flag id"), description=_l("Made from the text when empty."))
    flag_label = StringField(_l("Text for staff"))
    severity = SelectField(_l("Severity"), choices=choices(SEVERITY_CHOICES), default="")
    citizen_visible = BooleanField(_l("Show to the citizen too"))
    combine = RadioField(_l("Raise when"), choices=choices([
        ("all", _l("all of the rows hold")), ("any", _l("any of the rows holds"))]),
        default="all")
    rows = FieldList(FormField(ConditionRow))


class PolicyForm(Form):  # type: ignore[misc]
    login = RadioField(_l("Log-in"), choices=choices([
        ("required", _l("Required (e-legitimation)")), ("optional", _l("Optional")),
        ("none", _l("None (anonymous)"))]), default="required")
    fillers = SelectMultipleField(_l("Who may fill in"), choices=choices([
        ("citizen", _l("The citizen")), ("guardian", _l("A guardian for a child")),
        ("staff", _l("Staff"))]))
    age_min = StringField(_l("Youngest age"))
    age_max = StringField(_l("Oldest age"))
    drafts = BooleanField(_l("Answers can be saved and finished later"))
    review = BooleanField(_l("A review page comes before sending (off: the last page sends)"))
    copy_to_citizen = RadioField(_l("Copy to the citizen"), choices=choices([
        ("none", _l("No copy")), ("pdf", _l("A PDF copy of the answers"))]), default="none")
    discretion = BooleanField(_l("Discretion: notifications name no form and no content"))
    terms = TextAreaField(_l("Terms shown before the form"))


class DetailsForm(Form):  # type: ignore[misc]
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description"))
    contact = StringField(_l("Contact person"), description=_l(
        "Who answers questions about the form (required in practice)."))
    licence = TextAreaField(_l("Licence"))
    copyright = StringField(_l("Copyright"))
    languages = SelectMultipleField(_l("Languages offered"), choices=choices([
        ("sv", "svenska"), ("en", "English")]))


# -- forms filled from a document -------------------------------------------------------------


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def pad(field_list: Any, blanks: int) -> None:
    for _number in range(blanks):
        field_list.append_entry()


def answer_schema(document: Json, located: Located) -> tuple[Json, Json]:
    """(the schema object holding the item's answer, the answer's property), read only."""
    holder = as_dict(document.get("schema"))
    if located.group is not None:
        group_prop = as_dict(as_dict(holder.get("properties")).get(
            str(located.group.get("name"))))
        holder = as_dict(group_prop.get("items"))
    item = located.element
    names = [item.get("name")] if item.get("type") != "matrix" else [
        r.get("name") for r in as_list(item.get("rows")) if isinstance(r, dict)]
    prop = as_dict(as_dict(holder.get("properties")).get(str(names[0]))) if names else {}
    return holder, prop


def item_data(document: Json, located: Located) -> dict[str, Any]:
    item = located.element
    holder, prop = answer_schema(document, located)
    names = [item.get("name")] if item.get("type") != "matrix" else [
        r.get("name") for r in as_list(item.get("rows")) if isinstance(r, dict)]
    code = as_dict(item.get("code"))
    options = item.get("options")
    if isinstance(options, str):
        options = as_dict(document.get("option_sets")).get(options)
    size = item.get("max_size")
    return {
        "name": item.get("name", ""), "type": item.get("type"),
        "label": item.get("label", ""), "help": item.get("help", ""),
        "required": bool(names) and names[0] in as_list(holder.get("required")),
        "audience": item.get("audience", "all"), "error_text": item.get("error_text", ""),
        "code_system": code.get("system", ""), "code": code.get("code", ""),
        "unit": item.get("unit", ""), "widget": item.get("widget", "radio"),
        "rows": shown(item.get("rows")), "autocomplete": item.get("autocomplete", ""),
        "length_min": shown(prop.get("minLength")), "length_max": shown(prop.get("maxLength")),
        "pattern": prop.get("pattern", ""),
        "value_min": shown(prop.get("minimum")), "value_max": shown(prop.get("maximum")),
        "min_date": prop.get("formatMinimum", ""), "max_date": prop.get("formatMaximum", ""),
        "items_min": shown(prop.get("minItems")), "items_max": shown(prop.get("maxItems")),
        "min_label": item.get("min_label", ""), "max_label": item.get("max_label", ""),
        "add_label": item.get("add_label", ""), "remove_label": item.get("remove_label", ""),
        "text": item.get("text", ""), "style": item.get("style", "plain"),
        "accept": as_list(item.get("accept")),
        "max_size_mb": shown(round(size / 1024 / 1024, 2))
        if isinstance(size, (int, float)) and not isinstance(size, bool) else "",
        "max_count": shown(item.get("max_count")),
        "expression": json.dumps(item.get("expression"), ensure_ascii=False)
        if "expression" in item else "",
        "decimals": shown(item.get("decimals")),
        "options": [{"value": shown(o.get("value")), "label": o.get("label", ""),
                     "weight": shown(o.get("weight")),
                     "code_system": as_dict(o.get("code")).get("system", ""),
                     "code": as_dict(o.get("code")).get("code", ""),
                     "exclusive": bool(o.get("exclusive"))}
                    for o in as_list(options) if isinstance(o, dict)],
        "matrix_rows": [{"name": r.get("name", ""), "label": r.get("label", "")}
                        for r in as_list(item.get("rows")) if isinstance(r, dict)]
        if item.get("type") == "matrix" else [],
    }


def condition_choices(rows: Any, offered: list[conditions.FieldChoice]) -> None:
    """Choices of the condition rows: the offered fields, every comparison (the browser
    narrows them to the field's kind), and the options of choice fields grouped by field."""
    field_choices = [SelectChoice("", _("Choose a field"))] + [
        SelectChoice(c.path, c.label) for c in offered]
    operator_choices = [SelectChoice(key, str(label))
                        for key, label in conditions.OPERATOR_LABELS.items()]
    option_choices = [SelectChoice("", _("Type a value instead"))]
    known: set[str] = set()
    for choice in offered:
        pairs: list[tuple[Any, str]] = list(choice.options) if choice.kind in (
            "choice", "multi") else [(True, _("Yes")), (False, _("No"))] if (
            choice.kind == "boolean") else []
        for value, text in pairs:
            key = f"{choice.path}\x1f{conditions.value_text(value)}"
            known.add(key)
            option_choices.append(SelectChoice(key, text, optgroup=choice.label))
    for entry in rows.entries:
        row = entry.form
        row.field.choices = field_choices
        row.operator.choices = operator_choices
        row.choice.choices = option_choices
        # A saved value of an option field is shown as the chosen option.
        key = f"{row.field.data or ''}\x1f{row.value.data or ''}"
        if row.value.data and key in known:
            row.choice.data = key
            row.value.data = ""


def score_form(document: Json, score: Json | None, posted: MultiDict[str, Any] | None) -> Any:
    score = score or {}
    chosen: dict[str, Json] = {}
    for entry in as_list(score.get("items")):
        if isinstance(entry, str):
            chosen[entry] = {}
        elif isinstance(entry, dict):
            chosen[str(entry.get("name"))] = entry
    rows = []
    for choice in scorable_fields(document):
        entry = chosen.get(choice.path)
        weights = as_dict(entry.get("weights")) if entry else {}
        rows.append({"name": choice.path, "chosen": entry is not None,
                     "reverse": bool(entry and entry.get("reverse")),
                     "weights": [{"value": shown(value), "weight": shown(
                         weights.get(shown(value)))} for value, _label in choice.options]})
    band_sets = [s for s in as_list(score.get("band_sets")) if isinstance(s, dict)]
    subjects = [conditions.band_set_subject(s.get("when")) for s in band_sets]
    handwritten = any(subject is None for subject in subjects)
    sets_data = []
    if not handwritten:
        for band_set, subject in zip(band_sets, subjects, strict=True):
            assert subject is not None
            sex, age_min, age_max = subject
            sets_data.append({"sex": sex or "", "age_min": shown(age_min),
                              "age_max": shown(age_max), "bands": [
                                  {"id": b.get("id", ""), "min": shown(b.get("min")),
                                   "max": shown(b.get("max")), "label": b.get("label", ""),
                                   "severity": b.get("severity", "")}
                                  for b in as_list(band_set.get("bands")) if isinstance(b, dict)]})
    missing = as_dict(score.get("missing"))
    form = ScoreForm(posted, data={
        "score_id": score.get("id", ""), "new_id": score.get("id", ""),
        "label": score.get("label", ""), "description": score.get("description", ""),
        "method": score.get("method", "sum"), "items": rows,
        "count_values": ", ".join(shown(v) for v in as_list(score.get("count_values"))),
        "missing_policy": missing.get("policy", "no-total"),
        "max_missing": shown(missing.get("max_missing")), "decimals": shown(score.get("decimals")),
        "citizen_visible": bool(score.get("citizen_visible")),
        "keep_bands": "1" if handwritten else "", "band_sets": sets_data})
    if not handwritten and posted is None:
        if not form.band_sets.entries:
            form.band_sets.append_entry()
        for band_set_form in form.band_sets.entries:
            pad(band_set_form.form.bands, BLANK_ROWS)
        # One more set, for a sex or an age group with bands of its own.
        extra = form.band_sets.append_entry()
        pad(extra.form.bands, BLANK_ROWS)
    labels = {c.path: c for c in scorable_fields(document)}
    form.field_labels = labels
    return form


def flag_form(document: Json, flag: Json | None, posted: MultiDict[str, Any] | None) -> Any:
    flag = flag or {}
    parsed = conditions.from_logic(flag.get("when")) if flag else None
    rows = [] if parsed is None else [
        {"field": r.field, "operator": r.operator,
         "value": "" if r.operator in conditions.UNARY else conditions.value_text(r.value)}
        for r in parsed[1]]
    form = FlagForm(posted, data={
        "flag_id": flag.get("id", ""), "new_id": flag.get("id", ""),
        "flag_label": flag.get("label", ""), "severity": flag.get("severity", ""),
        "citizen_visible": bool(flag.get("citizen_visible")),
        "combine": parsed[0] if parsed else "all", "rows": rows})
    if posted is None:
        pad(form.rows, BLANK_ROWS if rows else BLANK_ROWS + 1)
    condition_choices(form.rows, conditions.flag_fields(document))
    form.handwritten = bool(flag) and parsed is None
    return form
