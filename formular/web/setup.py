"""Wiring the extensions, hooks and blueprints into an app (called by ``create_app``)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from formular.storage.db import db

from . import errors, i18n, security, templating

csrf = CSRFProtect()

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    db.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from . import audit, auth, citizen, exports, home, preview, staff, translate

    auth.init_app(app)
    for blueprint in (home.bp, preview.bp, staff.bp, citizen.bp, audit.bp, exports.bp,
                      translate.bp):
        app.register_blueprint(blueprint)
