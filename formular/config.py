"""Configuration from environment variables, with an instance folder for local state.

Every setting can be given as ``FORMULAR_<NAME>``; tests pass a mapping to ``create_app``.
The embedded default is SQLite in the instance folder, so one command starts a working
platform; production sets a PostgreSQL URL and a secret key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DEMO": False,
    "DATABASE_URL": None,  # default: SQLite in the instance folder
    "DESIGNS_DIR": str(Path(__file__).resolve().parents[1] / "designs"),
    "MAX_CONTENT_LENGTH": 110 * 1024 * 1024,  # 5 attachments of 20 MB plus the form
    "MAX_FORM_PARTS": 2000,
    "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # a long questionnaire must not lose its token
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ["sv", "en"],
    # Background jobs: without a broker URL, a SQLite file in the instance folder (embedded).
    "CELERY_BROKER_URL": None,
    "CELERY_TASK_ALWAYS_EAGER": False,
    "JOBS_TICK_SECONDS": 60,
    "SENDOUT_BATCH_SIZE": 5000,
    # Errands begun and not sent are deleted this many days after their last change.
    "CASE_DRAFT_RETENTION_DAYS": 30,
    # E-mail: without SMTP_HOST in the demo, mails are written to instance/outbox/*.eml.
    "SMTP_HOST": None,
    "SMTP_PORT": None,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "Formulär <no-reply@formular.invalid>",
    "MAIL_OUTBOX_DIR": None,
}

_BOOLEAN = {"DEMO", "SESSION_COOKIE_SECURE", "CELERY_TASK_ALWAYS_EAGER", "SMTP_STARTTLS"}
_INTEGER = {"MAX_CONTENT_LENGTH", "MAX_FORM_PARTS", "MAX_FORM_MEMORY_SIZE", "JOBS_TICK_SECONDS",
            "SENDOUT_BATCH_SIZE", "SMTP_PORT", "CASE_DRAFT_RETENTION_DAYS"}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings given as FORMULAR_* environment variables, typed."""
    environ = dict(os.environ if environ is None else environ)
    settings: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith("FORMULAR_"):
            continue
        name = key.removeprefix("FORMULAR_")
        if name in _BOOLEAN:
            settings[name] = value.strip().lower() in ("1", "true", "yes", "on")
        elif name in _INTEGER:
            settings[name] = int(value)
        else:
            settings[name] = value
    return settings


def secret_key(instance_path: Path, demo: bool) -> str:
    """The session signing key.

    Production must set FORMULAR_SECRET_KEY. In the demo setting a key is made once and kept in
    the instance folder, so restarts do not log everybody out or invalidate drafts' tokens.
    """
    if not demo:
        raise RuntimeError("FORMULAR_SECRET_KEY must be set outside the demo setting")
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
