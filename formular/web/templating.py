"""Jinja filters and globals shared by all templates."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

FILE_TYPE_NAMES = {
    "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
}


STATE_LABELS = {
    "scheduled": _l("Scheduled"), "sent": _l("Sent"), "opened": _l("Opened"),
    "in-progress": _l("Started"), "answered": _l("Answered"), "handled": _l("Handled"),
    "expired": _l("Expired"), "cancelled": _l("Cancelled"), "failed": _l("Failed"),
    "queued": _l("Queued"), "sending": _l("Sending"),
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
ACCESS_LABELS = {
    "submission:read": _l("Read your answers"), "sendout:list": _l("Saw you in a list"),
    "export:csv": _l("Exported answers"), "export:xlsx": _l("Exported answers"),
    "export:pdf": _l("Printed your answers"), "draft:read": _l("Read an unsent draft"),
}


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
    def widget_texts() -> dict[str, str]:
        """The few fixed words of the widgets, translated once per page rather than per field."""
        return {"error": str(_l("Error:")), "optional": str(_l("optional")),
                "yes": str(_l("Yes")), "no": str(_l("No")), "choose": str(_l("Choose…")),
                "required": str(_l("required"))}

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_locale": lambda: str(get_locale() or "sv"),
                "state_label": lambda key: str(STATE_LABELS.get(key, key)),
                "event_label": lambda key: str(EVENT_LABELS.get(key, key)),
                "answered_by_label": lambda key: str(ACTOR_LABELS.get(key, key)),
                "access_label": lambda key: str(ACCESS_LABELS.get(key, key))}
