"""Choosing the language of a response.

An explicit choice (kept in the session) wins; then, on form pages, the form's source language
when the visitor's language is not offered; then Accept-Language as a first guess.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel

babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        # Jobs (reminders, exports) write in the platform's default language.
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    offered: list[str] = g.get("offered_languages") or current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in offered:
        return str(chosen)
    guess = request.accept_languages.best_match(offered) if request else None
    if g.get("offered_languages"):
        return guess or offered[0]
    return guess or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
