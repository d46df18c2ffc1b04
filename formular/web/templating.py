"""Jinja filters and globals shared by all templates."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_babel import format_decimal, get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from formular.i18n.overlay import current_version
from formular.lru import Lru

FILE_TYPE_NAMES = {
    "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
}


STATE_LABELS = {
    "scheduled": _l("Scheduled"), "sent": _l("Sent"), "opened": _l("Opened"),
    "in-progress": _l("Started"), "answered": _l("Answered"), "handled": _l("Handled"),
    "expired": _l("Expired"), "cancelled": _l("Withdrawn"), "failed": _l("Failed"),
}
#: A send-out's own status (its forms have the states above).
SEND_OUT_STATUS = {
    "queued": _l("Queued"), "sending": _l("Being created"), "scheduled": _l("Scheduled"),
    "sent": lazy_pgettext("send-out status", "Sent"),
    "cancelled": lazy_pgettext("send-out status", "Cancelled"),
    "expired": lazy_pgettext("send-out status", "Closed"), "failed": _l("Failed"),
}
EVENT_LABELS = {
    "send": _l("sent"), "open": _l("opened"), "save_draft": _l("started"),
    "submit": _l("answered"), "handle": _l("marked as handled"), "remind": _l("reminded"),
    "cancel": _l("withdrawn"), "expire": _l("expired"), "fail": _l("failed"),
}
ACTOR_LABELS = {
    "citizen": _l("the citizen"), "guardian": _l("a guardian"), "staff": _l("staff"),
    "system": _l("automatically"), "preview": _l("preview"),
}
#: What an access-log row records, worded for the citizen it is about ...
ACCESS_LABELS_CITIZEN = {
    "submission:read": _l("Read your answers"), "sendout:list": _l("Saw you in a list"),
    "export:csv": _l("Exported your answers"), "export:xlsx": _l("Exported your answers"),
    "export:pdf": _l("Printed your answers"), "draft:read": _l("Read your unsent draft"),
    # the health check (#7)
    "measurement:read": _l("Read your measurements"),
    "profile:read": _l("Read your health profile"),
    "profile:pdf": _l("Printed your health profile"),
    "profile:export": _l("Exported your health profile to the register"),
    # errands (#6)
    "case:list": _l("Saw your errand in the clinic's inbox"),
    "case:read": _l("Read your errand"),
    "case:message:read": _l("Read a message in your errand"),
    "case:attachment:read": _l("Opened a file in your errand"),
}
#: ... and for the auditor reading about staff.
ACCESS_LABELS_STAFF = {
    "submission:read": _l("Read the answers"),
    "sendout:list": _l("Saw the citizen in a recipient list"),
    "export:csv": _l("Exported the answers (CSV)"),
    "export:xlsx": _l("Exported the answers (Excel)"),
    "export:pdf": _l("Printed the answers (PDF)"), "draft:read": _l("Read an unsent draft"),
    "measurement:read": _l("Read the measurements"),
    "profile:read": _l("Read the health profile"),
    "profile:pdf": _l("Printed the health profile (PDF)"),
    "profile:export": _l("Exported the health profile (register CSV)"),
    "case:list": _l("Saw the citizen's errand in the case inbox"),
    "case:read": _l("Read the errand"),
    "case:message:read": _l("Read a message of the errand"),
    "case:attachment:read": _l("Opened a file of the errand"),
}
#: "Sent <when> by <who>" as whole sentences, so each language can word them its own way.
SENT_BY = {
    "citizen": _l("Sent by the citizen %(when)s"),
    "guardian": _l("Sent by a guardian for the child %(when)s"),
    "staff": _l("Filled in by staff %(when)s"),
}


#: Why a read was logged: stored as a code ("follow-up:12"), worded when shown.
REASON_LABELS = {
    "follow-up": _l("Follow-up of send-out %(id)s"),
    "export": _l("Export of send-out %(id)s"),
    "profile-export": _l("Register export of the health profiles of unit %(id)s"),
    "case": _l("Errand %(id)s"),
    "case-inbox": _l("Case inbox of unit %(id)s"),
}


def reason_label(reason: str | None) -> str:
    kind, _sep, ident = (reason or "").partition(":")
    template = REASON_LABELS.get(kind)
    return str(template % {"id": ident}) if template is not None else (reason or "")


def access_label(action: str, reader: str = "citizen") -> str:
    labels = ACCESS_LABELS_CITIZEN if reader == "citizen" else ACCESS_LABELS_STAFF
    return str(labels.get(action, action))


def sent_by_text(kind: str | None, when: str) -> str:
    template = SENT_BY.get(kind or "")
    if template is None:
        return str(_l("Sent %(when)s", when=when))
    return str(template % {"when": when})


def init_app(app: Flask) -> None:
    @app.template_filter("format_number")
    def format_number(value: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(format_decimal(value))
        return str(value)

    @app.template_filter("file_type_name")
    def file_type_name(value: str) -> str:
        return FILE_TYPE_NAMES.get(value, value)

    @app.template_filter("yes_no")
    def yes_no(value: str) -> str:
        return {"true": str(_l("Yes")), "false": str(_l("No"))}.get(value, value)

    @app.template_filter("local_datetime")
    def local_datetime(value: Any) -> str:
        """A UTC time as Swedish local time, formatted for the page's language."""
        from flask_babel import format_datetime

        from .timezone import to_local

        local = to_local(value)
        return "" if local is None else str(format_datetime(local, "short"))

    @app.template_global()
    def page_query(number: int) -> str:
        """This page's query string (filters, search) with another page number."""
        from urllib.parse import urlencode

        from flask import request

        kept = {key: value for key, value in request.args.items() if value and key != "page"}
        return urlencode({**kept, "page": number})

    dialogs: Lru[tuple[str, int, bool], Markup] = Lru(64)

    @app.template_global()
    def session_dialog() -> Markup:
        """The idle time-out dialog of a logged-in visitor's page (auth/_session_dialog.html).
        It holds nothing of the request, only texts and urls, so it is drawn once per
        language, version of the translators' edits and kind of visitor (about a quarter of
        drawing a form page went into it)."""
        from .access import current_actor

        actor = current_actor()
        if actor.kind == "anonymous":
            return Markup("")
        key = (str(get_locale()), current_version(), actor.is_citizen)
        # An autoescaped template's output: already safe HTML.
        return dialogs.get_or_make(key, lambda: Markup(  # noqa: S704
            render_template("auth/_session_dialog.html")))

    @app.template_global()
    def widget_texts() -> dict[str, str]:
        """The few fixed words of the widgets, translated once per page rather than per field."""
        return {"error": str(_l("Error:")), "optional": str(_l("optional")),
                "yes": str(_l("Yes")), "no": str(_l("No")), "choose": str(_l("Choose…")),
                "required": str(_l("required"))}

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_locale": lambda: str(get_locale() or "sv"),
                "state_label": lambda key: str(STATE_LABELS.get(key, key)),
                "status_label": lambda key: str(SEND_OUT_STATUS.get(key, key)),
                "event_label": lambda key: str(EVENT_LABELS.get(key, key)),
                "answered_by_label": lambda key: str(ACTOR_LABELS.get(key, key)),
                "access_label": access_label, "sent_by_text": sent_by_text,
                "reason_label": reason_label}
