"""Jinja filters and globals shared by all templates."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

FILE_TYPE_NAMES = {
    "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
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

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_locale": lambda: str(get_locale() or "sv")}
