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

    from . import health  # the health check: measurements, profile, register export (#7)

    app.register_blueprint(health.bp)

    from . import design  # the designer's workspace, preview and publishing (#4)

    app.register_blueprint(design.bp)

    from . import design_editor  # the form editor: tree, element editor, operations (#4)

    app.register_blueprint(design_editor.bp)

    from . import population  # listed population, cohort invitations, letters (#7, part 3)

    app.register_blueprint(population.bp)

    from . import cases_citizen  # the citizen's errands: case types, cases, replies (#6)

    app.register_blueprint(cases_citizen.bp)

    from . import cases_staff  # the staff case inbox: assign, read, answer errands (#6)

    app.register_blueprint(cases_staff.bp)

    from . import casetypes_admin  # a unit's case types, standard replies, hand-outs (#6)

    app.register_blueprint(casetypes_admin.bp)

    from . import texts_admin  # a unit's saved message texts for send-outs

    app.register_blueprint(texts_admin.bp)

    from . import staff_admin  # a unit's staff and their roles

    app.register_blueprint(staff_admin.bp)
