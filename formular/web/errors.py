"""Error pages: every error is a translated page with the right status, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from formular.audit.service import AccessLogUnavailable

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("The page could not be found. It may have been removed, or the address is wrong."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large. Attachments may be at most 20 MB each."),
    429: _l("Too many attempts. Wait a moment and try again."),
    500: _l("Something went wrong on our side. What you have saved is kept; try again later."),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        message = _l("Your session has ended or the page was sent from somewhere else. "
                     "Reload the page and send it again; saved answers are kept.")
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(AccessLogUnavailable)
    def _access_log(error: AccessLogUnavailable) -> tuple[str, int]:
        message = _l("The access log cannot be written right now, so no answers are shown. "
                     "Try again in a moment; contact support if it persists.")
        return render_template("error.html", code=503, message=message), 503

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error", exc_info=error)
        return render_template("error.html", code=500,
                               message=MESSAGES[InternalServerError.code]), 500
