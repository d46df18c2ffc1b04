"""The start page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from .access import current_actor, public

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index() -> str | Response:
    actor = current_actor()
    if actor.is_citizen:
        return redirect(url_for("citizen.inbox"))
    return render_template("home.html", demo=current_app.config["DEMO"], actor=actor)


@bp.post("/language")
@public
def language() -> Response:
    """Remember the chosen language; go back only to a page of this site."""
    choice = request.form.get("lang", "")
    if choice not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = choice
    target = request.form.get("next", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)
