"""The translator's catalog editor (``/translate``): progress, entries, editing, PO files.

Only staff with the translator role (``i18n:catalog:read`` / ``:write``) get here. A saved
translation takes effect at once in this worker and within a second in every other one
(:mod:`formular.i18n.overlay`); every save and import is written to the event log.
"""

from __future__ import annotations

import gettext as gettext_module
from typing import Any, cast

from babel import Locale
from babel.messages.plurals import get_plural
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from formular.auth.permissions import Permission
from formular.i18n import editor, overlay
from formular.i18n.editor import DESIGNS, DOMAINS, MESSAGES, Entry
from formular.storage import drafts
from formular.storage.db import db

from .access import current_actor, require, safe_next

bp = Blueprint("translate", __name__, url_prefix="/translate")

PAGE_SIZE = 50
FILTERS = ("missing", "stale", "all", "translated")
MAX_UPLOAD = 5 * 1024 * 1024
DOMAIN = "<any(messages,designs):domain>"


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    overlay.install(cast(Flask, state.app))


def _language_name(code: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(str(get_locale() or "sv")) or code
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:]


def _check_language(lang: str) -> None:
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)


def _designs() -> dict[str, Any]:
    """The latest stored version of every definition, by id (for titles and pointers)."""
    return {version.definition_id: version for version in drafts.latest_versions(db.session())}


def _group_title(group: str, designs: dict[str, Any]) -> str:
    if group == MESSAGES:
        return str(_("Interface"))
    version = designs.get(group)
    return f"{version.title} ({group})" if version is not None else group


@bp.get("/")
@require(Permission.CATALOG_READ)
def index() -> str:
    designs = _designs()
    languages = []
    for lang in current_app.config["LANGUAGES"]:
        rows = []
        for domain in DOMAINS:
            for group, counts in editor.progress(editor.entries(domain, lang)).items():
                rows.append({"domain": domain, "group": group, "counts": counts,
                             "title": _group_title(group, designs)})
        languages.append({"code": lang, "name": _language_name(lang), "rows": rows})
    return render_template("translate/index.html", languages=languages)


@bp.get(f"/<lang>/{DOMAIN}/")
@require(Permission.CATALOG_READ)
def entries(lang: str, domain: str) -> str:
    _check_language(lang)
    state = request.args.get("state", "all")
    state = state if state in FILTERS else "all"
    search = request.args.get("q", "").strip()[:200]
    group = request.args.get("form", "").strip() if domain == DESIGNS else ""
    everything = editor.entries(domain, lang)
    chosen = editor.select_entries(everything, state, search, group or None)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(page, pages)
    designs = _designs()
    groups = [(g, _group_title(g, designs)) for g in editor.progress(everything)] \
        if domain == DESIGNS else []
    return render_template(
        "translate/entries.html", lang=lang, language=_language_name(lang), domain=domain,
        domain_title=_domain_title(domain, group, designs), state=state, search=search,
        group=group, groups=groups, entries=chosen[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
        total=len(chosen), page=page, pages=pages, filters=FILTERS,
        back=request.full_path.rstrip("?"))


def _domain_title(domain: str, group: str, designs: dict[str, Any]) -> str:
    if domain == MESSAGES:
        return str(_("Interface"))
    if group:
        return _group_title(group, designs)
    return str(_("Form content"))


def _plural_labels(lang: str, count: int) -> list[str]:
    plural = get_plural(lang)
    choose = gettext_module.c2py(plural.plural_expr)
    examples: dict[int, list[str]] = {}
    for n in [*range(0, 30), 100, 1000]:
        examples.setdefault(choose(n), []).append(str(n))
    return [_("Plural form %(index)s, used for %(examples)s", index=i + 1,
              examples=", ".join(examples.get(i, [])[:4]) + ("…" if len(
                  examples.get(i, [])) > 4 else "")) for i in range(count)]


def _load(lang: str, domain: str, key: str) -> Entry:
    _check_language(lang)
    entry = editor.find(domain, lang, key)
    if entry is None:
        abort(404)
    return entry


def _entry_page(entry: Entry, *, values: list[str] | None = None,
                problems: list[Any] | None = None, conflict: Any = None,
                status: int = 200) -> tuple[str, int]:
    where: list[tuple[str, str]] = []
    if entry.domain == DESIGNS:
        version = _designs().get(entry.group)
        where = editor.where_used(version.document if version is not None else None,
                                  entry.pointer)
    forms = len(entry.translation) if entry.plural else 1
    if entry.plural:
        forms = get_plural(entry.locale).num_plurals
    current = list(entry.translation) + [""] * (forms - len(entry.translation))
    return render_template(
        "translate/entry.html", entry=entry, lang=entry.locale,
        language=_language_name(entry.locale), where=where,
        values=values if values is not None else current[:forms],
        labels=_plural_labels(entry.locale, forms) if entry.plural else [
            _("Translation (%(language)s)", language=_language_name(entry.locale))],
        problems=problems or [], conflict=conflict,
        revision=conflict.revision if conflict is not None else entry.revision,
        back=safe_next(request.values.get("back"), url_for(
            "translate.entries", lang=entry.locale, domain=entry.domain))), status


@bp.get(f"/<lang>/{DOMAIN}/entry/<key>")
@require(Permission.CATALOG_READ)
def entry(lang: str, domain: str, key: str) -> tuple[str, int]:
    return _entry_page(_load(lang, domain, key))


@bp.post(f"/<lang>/{DOMAIN}/entry/<key>")
@require(Permission.CATALOG_WRITE)
def save_entry(lang: str, domain: str, key: str) -> Any:
    found = _load(lang, domain, key)
    forms = get_plural(lang).num_plurals if found.plural else 1
    values = [request.form.get(f"msgstr-{i}", "")[:20_000] for i in range(forms)]
    base = request.form.get("revision", 0, type=int) or 0
    session = db.session()
    result = editor.save(session, found, values, current_actor().staff_user_id, base)
    if result.outcome == "conflict":
        session.rollback()
        return _entry_page(found, values=values, conflict=result.edit, status=409)
    if result.outcome == "refused":
        session.rollback()
        return _entry_page(found, values=values, problems=result.problems, status=400)
    session.commit()
    overlay.invalidate()
    if result.outcome == "saved":
        flash(_("The translation was saved."), "status")
    else:
        flash(_("Nothing changed: the translation was already this."), "status")
    return redirect(safe_next(request.form.get("back"),
                              url_for("translate.entries", lang=lang, domain=domain)))


@bp.get(f"/<lang>/{DOMAIN}.po")
@require(Permission.CATALOG_READ)
def export(lang: str, domain: str) -> Response:
    _check_language(lang)
    data = editor.export_po(domain, lang)
    response = current_app.response_class(data, mimetype="text/x-gettext-translation")
    response.headers["Content-Disposition"] = f'attachment; filename="{lang}-{domain}.po"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/<lang>/{DOMAIN}/import")
@require(Permission.CATALOG_WRITE)
def import_form(lang: str, domain: str) -> str:
    _check_language(lang)
    return render_template("translate/import.html", lang=lang, domain=domain,
                           language=_language_name(lang), error=None,
                           domain_title=_domain_title(domain, "", {}))


@bp.post(f"/<lang>/{DOMAIN}/import")
@require(Permission.CATALOG_WRITE)
def import_file(lang: str, domain: str) -> tuple[str, int]:
    _check_language(lang)
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD + 1) if upload is not None and upload.filename else b""
    title = _domain_title(domain, "", {})
    if not data or len(data) > MAX_UPLOAD:
        error = _("Choose a PO file.") if not data else _("The file is too large.")
        return render_template("translate/import.html", lang=lang, domain=domain, error=error,
                               language=_language_name(lang), domain_title=title), 400
    session = db.session()
    report = editor.import_po(session, domain, lang, data, current_actor().staff_user_id)
    if report.error is not None:
        session.rollback()
        return render_template(
            "translate/import.html", lang=lang, domain=domain, language=_language_name(lang),
            domain_title=title, error=_("The file could not be read as a PO file of this "
                                        "catalog: %(reason)s", reason=report.error)), 400
    session.commit()
    overlay.invalidate()
    return render_template("translate/import_result.html", lang=lang, domain=domain,
                           language=_language_name(lang), domain_title=title,
                           report=report), 200

