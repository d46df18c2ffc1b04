"""Choosing the language of a response.

An explicit choice (kept in the session) wins; then, on form pages, the form's source language
when the visitor's language is not offered; then Accept-Language as a first guess.

On a form page the interface and the form's content are in one language: a form page calls
:func:`offer_form_languages` with the languages its definition version is complete in (the
publish gate of :mod:`formular.i18n.service`), which limits both the choice here and the
header's language switch; :func:`content_locale` then names the language to render the
definition in.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, get_locale, refresh

from formular.i18n.service import StoredVersion, offered_for, source_compiled

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


def offer_form_languages(version: StoredVersion) -> list[str]:
    """Limit this response to the languages the version is offered in (source first).

    A locale Flask-Babel may already have chosen in this request (before the form was known)
    is forgotten, so that the page and its content cannot end up in different languages.
    """
    offered = offered_for(version)
    g.offered_languages = offered
    g.form_version_key = version.cache_key
    refresh()
    return offered


def content_locale(version: StoredVersion) -> str:
    """The language to render a definition version in: the response's language when the
    version is offered in it, else the version's source language (also outside a request)."""
    source = source_compiled(version).language
    if not has_request_context():
        return source
    if g.get("form_version_key") == version.cache_key:
        offered: list[str] = g.offered_languages
    else:
        offered = offered_for(version)
    locale = get_locale()
    return str(locale) if locale is not None and str(locale) in offered else source


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
