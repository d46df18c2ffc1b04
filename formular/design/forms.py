"""WTForms of the designer's workspace (creating drafts, publishing, subscribing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
SLUG_MESSAGE = _l("Use 1–64 lower-case letters, digits and hyphens (not first or last).")


def _id_field(label: str | None = None) -> StringField:
    return StringField(
        label or _l("Id"),
        description=_l("A short technical name, e.g. “back-pain-2026”. Lower-case letters, "
                       "digits and hyphens; it cannot be changed after publishing."),
        validators=[DataRequired(), Length(max=64), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)])


class UnitForm(FlaskForm):  # type: ignore[misc]
    """Forms that act on behalf of one of the designer's units."""

    unit = HiddenField(validators=[DataRequired()])


class BlankForm(UnitForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    definition_id = _id_field()
    language = SelectField(_l("Language of the texts"),
                           choices=[SelectChoice("sv", "svenska"),
                                    SelectChoice("en", "English")])


class CopyForm(UnitForm):
    version = SelectField(_l("Start from"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Title of the new form"),
                        description=_l("Leave empty to keep the title."),
                        validators=[Optional(), Length(max=500)])
    definition_id = _id_field(_l("Id of the new form"))


class ImportForm(UnitForm):
    file = FileField(_l("Definition file (JSON)"),
                     description=_l("A file exported from Formulär (“Export JSON”), at most "
                                    "2 MB."))


class RevisionForm(FlaskForm):  # type: ignore[misc]
    """A form acting on a draft as the designer saw it (compare-and-set)."""

    revision = IntegerField(validators=[InputRequired()])


class PublishForm(RevisionForm):
    audience = RadioField(
        _l("Who may use the form"),
        choices=[SelectChoice("unit", _l("Only our unit")),
                 SelectChoice("shared", _l("Our unit, and shared as a template: other units "
                                           "may subscribe to it or take a copy"))],
        default="unit", validators=[InputRequired()])


class SubscribeForm(UnitForm):
    follow = RadioField(
        _l("Versions"),
        choices=[SelectChoice("1", _l("Follow new versions")),
                 SelectChoice("0", _l("Stay at the current version"))],
        default="1", validators=[InputRequired()])
