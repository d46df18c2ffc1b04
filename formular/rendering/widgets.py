"""One widget class per item type, in a registry keyed by the definition's item type names.

A widget knows which WTForms field coerces its input, which Jinja macro draws it, how a
coerced value becomes an answer, and how an answer is shown on the review page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from wtforms import Field, Form, fields
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm

from formular.definitions.service import ItemSpec

WIDGETS: dict[str, type[Widget]] = {}


def register(cls: type[Widget]) -> type[Widget]:
    for name in cls.item_types:
        if name in WIDGETS:
            raise ValueError(f"widget for {name!r} registered twice")
        WIDGETS[name] = cls
    return cls


def widget_for(item: ItemSpec) -> type[Widget]:
    return WIDGETS[item.type]


def labelled_fields(item: ItemSpec) -> dict[str, Any]:
    """The item's unbound fields with the item's own label: otherwise WTForms makes (and
    translates) a default label per field on every request, which the macros never show."""
    made = widget_for(item).make_fields(item)
    for unbound in made.values():
        unbound.kwargs.setdefault("label", item.label)
    return made


def choices(item: ItemSpec) -> list[SelectChoice]:
    return [SelectChoice(str(option["value"]), str(option["label"])) for option in item.options]


def option_pairs(item: ItemSpec) -> tuple[tuple[str, str], ...]:
    """(value as text, label) of every option the item offers, in order."""
    if item.type == "scale":
        low, high = int(item.prop["minimum"]), int(item.prop["maximum"])
        return tuple((str(n), str(n)) for n in range(low, high + 1))
    return tuple((str(option["value"]), str(option["label"])) for option in item.options)


def _coerce_to_option(item: ItemSpec) -> Any:
    by_text = {str(option["value"]): option["value"] for option in item.options}

    def coerce(value: Any) -> Any:
        if value is None or value == "":
            return None
        text = str(value)
        if text not in by_text:
            raise ValueError("not an option")
        return by_text[text]

    return coerce


class Widget:
    """Base widget: a single-line text input."""

    item_types: ClassVar[tuple[str, ...]] = ()
    #: Name of the macro in ``templates/form/widgets.html``.
    macro: ClassVar[str] = "text"
    input_type: ClassVar[str] = "text"
    inputmode: ClassVar[str | None] = None
    autocomplete: ClassVar[str | None] = None

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        """Unbound WTForms fields keyed by input name (usually one, matrix: one per row)."""
        return {item.name: fields.StringField(filters=[_strip])}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        """Typed answers from a validated form, keyed by answer name; None means no answer."""
        value = form[item.name].data
        return {item.name: None if value in ("", None) else value}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers as the field expects its ``data`` (to pre-fill from a draft)."""
        return {item.name: answers.get(item.name)}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        """A plain-text rendering of an answer for review pages and exports."""
        return "" if value is None else str(value)


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13)) | {127: None}


def _strip(value: Any) -> Any:
    """Trim, and drop control characters (a NUL cannot even be stored in PostgreSQL JSONB)."""
    return value.translate(_CONTROL).strip() if isinstance(value, str) else value


@register
class TextWidget(Widget):
    item_types = ("text",)


@register
class TextareaWidget(Widget):
    item_types = ("textarea",)
    macro = "textarea"


@register
class EmailWidget(Widget):
    item_types = ("email",)
    input_type = "email"
    autocomplete = "email"


@register
class PhoneWidget(Widget):
    item_types = ("phone",)
    input_type = "tel"
    autocomplete = "tel"


@register
class PostcodeWidget(Widget):
    item_types = ("postcode",)
    inputmode = "numeric"
    autocomplete = "postal-code"


@register
class PersonnummerWidget(Widget):
    item_types = ("personnummer",)
    inputmode = "numeric"

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        """Store the canonical ``YYYYMMDD-NNNN`` form when the number parses; otherwise keep
        what was typed so the schema's format check reports it at the field."""
        from formular.definitions.personnummer import IdentityNumber

        value = form[item.name].data
        if not value:
            return {item.name: None}
        try:
            return {item.name: IdentityNumber.parse(value).display}
        except ValueError:
            return {item.name: value}


class BlankIsNoAnswer:
    """Mixin: an empty input is "no answer" (None), not a coercion error. Whether an answer
    is required is the schema's call, made with visibility in mind."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or str(valuelist[0]).strip() == "":
            self.data = None
            return
        super().process_formdata([str(valuelist[0]).strip()])  # type: ignore[misc]


class OptionalIntegerField(BlankIsNoAnswer, fields.IntegerField):
    pass


class OptionalDateField(BlankIsNoAnswer, fields.DateField):
    pass


@register
class IntegerWidget(Widget):
    item_types = ("integer",)
    inputmode = "numeric"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: OptionalIntegerField()}


class LocaleDecimalField(fields.DecimalField):
    """Accepts both "72,5" (Swedish) and "72.5"; stores a float (JSON has no decimals)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        text = str(valuelist[0]).strip().replace(" ", "").replace(",", ".")
        try:
            self.data = Decimal(text)
            if not self.data.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from None


@register
class DecimalWidget(Widget):
    item_types = ("decimal",)
    inputmode = "decimal"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: LocaleDecimalField(places=None)}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        value = form[item.name].data
        if value is None:
            return {item.name: None}
        number = float(value)
        return {item.name: int(number) if number.is_integer() and "." not in str(value)
                else number}


@register
class DateWidget(Widget):
    item_types = ("date",)
    macro = "date"
    input_type = "date"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: OptionalDateField(format="%Y-%m-%d")}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        value = form[item.name].data
        return {item.name: value.isoformat() if isinstance(value, dt.date) else None}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        value = answers.get(item.name)
        try:
            return {item.name: dt.date.fromisoformat(value) if value else None}
        except (TypeError, ValueError):
            return {item.name: None}


class OptionalRadioField(fields.RadioField):
    """A radio group where sending nothing means "no answer", not an error: whether an answer
    is required is the schema's call, made with visibility in mind."""

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            return
        super().pre_validate(form)


class OptionalSelectField(fields.SelectField):
    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            return
        super().pre_validate(form)


def _choice_field(item: ItemSpec, select: bool = False) -> Field:
    kind = OptionalSelectField if select else OptionalRadioField
    return kind(choices=choices(item), coerce=_coerce_to_option(item))


@register
class ChoiceWidget(Widget):
    item_types = ("choice",)
    macro = "radio"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: _choice_field(item, item.raw.get("widget") == "select")}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        labels = {repr(o["value"]): str(o["label"]) for o in item.options}
        return labels.get(repr(value), "" if value is None else str(value))


@register
class SelectWidget(Widget):
    """Registered for no item type of its own: choice items with ``widget: select`` use the
    choice widget's coercion with this macro (see :func:`macro_for`)."""

    item_types = ()
    macro = "select"


@register
class YesNoWidget(Widget):
    item_types = ("yes-no",)
    macro = "yesno"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        def coerce(value: Any) -> Any:
            if value in (None, ""):
                return None
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
            raise ValueError("not yes or no")

        return {item.name: OptionalRadioField(
            choices=[SelectChoice("true", "yes"), SelectChoice("false", "no")], coerce=coerce)}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        return "" if value is None else ("true" if value else "false")


@register
class ScaleWidget(Widget):
    item_types = ("scale",)
    macro = "scale"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        low, high = int(item.prop["minimum"]), int(item.prop["maximum"])

        def coerce(value: Any) -> Any:
            return None if value in (None, "") else int(value)

        return {item.name: OptionalRadioField(
            choices=[SelectChoice(str(n), str(n)) for n in range(low, high + 1)], coerce=coerce)}


@register
class MultiChoiceWidget(Widget):
    item_types = ("multi-choice",)
    macro = "checkboxes"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: fields.SelectMultipleField(
            choices=choices(item), coerce=_coerce_to_option(item))}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        values = [v for v in (form[item.name].data or []) if v is not None]
        exclusive = {repr(o["value"]) for o in item.options if o.get("exclusive")}
        chosen = [v for v in values if repr(v) in exclusive]
        if chosen:
            # "None of these" wins over the others, as the label promises.
            values = chosen[:1]
        return {item.name: values or None}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        value = answers.get(item.name)
        return {item.name: list(value) if isinstance(value, list) else []}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        labels = {repr(o["value"]): str(o["label"]) for o in item.options}
        values = value if isinstance(value, list) else []
        return ", ".join(labels.get(repr(v), str(v)) for v in values)


@register
class MatrixWidget(Widget):
    item_types = ("matrix",)
    macro = "matrix"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {row.name: _choice_field(item) for row in item.rows}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        return {row.name: form[row.name].data for row in item.rows}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        return {row.name: answers.get(row.name) for row in item.rows}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        return ChoiceWidget.display(item, value)


class DisplayOnlyWidget(Widget):
    """Shown, never posted: no input field and no answer taken from the form."""

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        return {}


@register
class InfoWidget(DisplayOnlyWidget):
    item_types = ("info",)
    macro = "info"


@register
class CalculatedWidget(DisplayOnlyWidget):
    """The server computes the value from the other answers."""

    item_types = ("calculated",)
    macro = "calculated"


@register
class FileWidget(Widget):
    """Files are stored by the web layer as uploads; the answer lists their metadata."""

    item_types = ("file",)
    macro = "file"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        return {item.name: fields.MultipleFileField(),
                f"{item.name}__keep": fields.SelectMultipleField(choices=[], validate_choice=False)}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        return {}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        return {}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        files = value if isinstance(value, list) else []
        return ", ".join(str(f.get("name", "")) for f in files if isinstance(f, dict))


@register
class GroupWidget(Widget):
    """A repeating group; its rows are handled by :mod:`.forms` (one sub-form per row)."""

    item_types = ("group",)
    macro = "group"

    @classmethod
    def make_fields(cls, item: ItemSpec) -> dict[str, Field]:
        row_fields: dict[str, Field] = {}
        for child in item.children:
            row_fields.update(labelled_fields(child))
        row_form = type(f"Row_{item.name}", (Form,), row_fields)
        return {item.name: fields.FieldList(
            fields.FormField(row_form), min_entries=0,
            max_entries=int(item.prop.get("maxItems", 50)))}

    @classmethod
    def answer(cls, item: ItemSpec, form: BaseForm) -> dict[str, Any]:
        rows = []
        for entry in form[item.name].entries:
            row: dict[str, Any] = {}
            for child in item.children:
                row.update(widget_for(child).answer(child, entry.form))
            rows.append({k: v for k, v in row.items() if v is not None})
        return {item.name: rows or None}

    @classmethod
    def formdata(cls, item: ItemSpec, answers: dict[str, Any]) -> dict[str, Any]:
        rows = answers.get(item.name)
        result = []
        for row in rows if isinstance(rows, list) else []:
            data: dict[str, Any] = {}
            for child in item.children:
                data.update(widget_for(child).formdata(child, row if isinstance(row, dict)
                                                        else {}))
            result.append(data)
        return {item.name: result}

    @classmethod
    def display(cls, item: ItemSpec, value: Any) -> str:
        return ""


def macro_for(item: ItemSpec) -> str:
    if item.type == "choice" and item.raw.get("widget") == "select":
        return SelectWidget.macro
    return widget_for(item).macro
