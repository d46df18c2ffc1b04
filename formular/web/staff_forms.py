"""WTForms of the staff pages (send-out wizard)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from formular.auth.clock import swedish_today, utcnow

REMINDER_CHOICES = [SelectChoice("7", _l("7 days before the deadline")),
                    SelectChoice("3", _l("3 days before the deadline")),
                    SelectChoice("1", _l("1 day before the deadline"))]


class SendOutForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    definition = SelectField(_l("Form"), validators=[DataRequired()])
    recipients = TextAreaField(
        _l("Personal identity numbers"),
        description=_l("One per line, or separated by commas. You can also upload a file."),
        validators=[Length(max=3_000_000)])
    recipients_file = FileField(
        _l("Or upload a CSV file"),
        description=_l("A column named “personnummer”, or the numbers in the first column."))
    scheduled_at = DateTimeLocalField(
        _l("Send at (Swedish time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Leave empty to send now."))
    deadline = DateField(_l("Answer by"), validators=[Optional()])
    reminders = SelectMultipleField(_l("Automatic reminders"), choices=REMINDER_CHOICES)
    saved_text = SelectField(_l("Saved message"), coerce=int, validators=[Optional()])
    subject = StringField(_l("Message subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message to the recipients"),
                         validators=[Optional(), Length(max=5000)])
    notify_staff = BooleanField(_l("E-mail me when someone answers"))

    def validate_deadline(self, field: DateField) -> None:
        if field.data is not None and field.data < swedish_today(utcnow()):
            raise ValidationError(_l("The deadline cannot be in the past."))

    def validate_recipients(self, field: TextAreaField) -> None:
        upload = self.recipients_file.data
        if not (field.data or "").strip() and not (upload and getattr(upload, "filename", "")):
            raise ValidationError(_l("Enter at least one personal identity number or upload "
                                     "a file."))
