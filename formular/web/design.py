"""The designer's workspace (``/design``): drafts, published forms, shared templates.

Only designers reach these pages (``design:definition:edit``; publishing and withdrawing need
``design:definition:publish``). Every draft and every unit-owned definition belongs to one
unit: a designer of another unit gets 404, so ids cannot be probed. Every mutation is a
CSRF-protected POST that writes the event log (in :mod:`formular.design`). The editor itself
is :mod:`formular.web.design_editor`; this module also serves the editor's live preview
(an ``<iframe>`` of the real renderer) and its JSON validation endpoint.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from sqlalchemy import select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from formular.auth.permissions import Permission
from formular.definitions.loader import MAX_DEFINITION_BYTES, parse_json
from formular.design import drafts, workspace
from formular.design.diff import diff
from formular.design.forms import (
    BlankForm,
    CopyForm,
    ImportForm,
    PublishForm,
    RevisionForm,
    SubscribeForm,
    UnitForm,
)
from formular.design.importing import check_import
from formular.design.preview import PreviewRequest, render_preview
from formular.design.problems import problems_of, problems_of_parse
from formular.storage.db import db
from formular.storage.design import DesignDraft
from formular.storage.identity import Unit
from formular.storage.models import DefinitionVersion

from .access import authorize_or_404, current_actor, require

bp = Blueprint("design", __name__, url_prefix="/design")


# -- helpers -------------------------------------------------------------------------------


def _units(permission: Permission = Permission.DEFINITION_EDIT) -> list[Unit]:
    ids = current_actor().units_with(permission)
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)))


def _chosen_unit(value: Any, permission: Permission = Permission.DEFINITION_EDIT) -> Unit:
    """The unit named by a form or query value; 404 unless the actor may act there."""
    text = str(value or "")
    if not text.isdigit():
        units = _units(permission)
        if not units or value:
            abort(404)
        return units[0]
    authorize_or_404(permission, int(text))
    unit = db.session.get(Unit, int(text))
    if unit is None:
        abort(404)
    return unit


def _staff_id() -> int:
    staff_user_id = current_actor().staff_user_id
    if staff_user_id is None:
        abort(403)
    return staff_user_id


def _draft(draft_id: int, permission: Permission = Permission.DEFINITION_EDIT) -> DesignDraft:
    return drafts.get_draft_for(db.session(), current_actor(), draft_id, permission)


def editor_url(draft: DesignDraft) -> str:
    """The editor of a draft (the editor blueprint), or its overview while there is none."""
    try:
        return url_for("design_editor.edit", draft_id=draft.id)
    except BuildError:
        return url_for("design.draft", draft_id=draft.id)


def problem_link(draft: DesignDraft) -> Any:
    """The link of a problem in the validation panel: the editor with the element selected."""
    base = editor_url(draft)

    def link(problem: Any) -> str:
        target = problem.item or problem.pointer
        return f"{base}?{urlencode({'select': target})}" if target else base

    return link


def _conflict_message(conflict: drafts.DraftConflict) -> str:
    return str(_("%(name)s saved this draft after you opened it, so nothing was changed. Look "
                 "at the latest version and try again.",
                 name=conflict.updated_by or _("Someone")))


def _usable_version(definition_id: str, number: int | None = None) -> DefinitionVersion:
    """A version some unit of the designer may use (own, shipped, shared or subscribed);
    404 otherwise. ``number`` None: the newest such version."""
    session = db.session()
    query = select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
    if number is not None:
        query = query.where(DefinitionVersion.version == number)
    for version in session.scalars(query.order_by(DefinitionVersion.version.desc())):
        if any(workspace.can_use_version(session, unit.id, version) for unit in _units()):
            return version
    abort(404)


def _json_download(document: Any, filename: str) -> BaseResponse:
    payload = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    response = Response(payload, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- the workspace -------------------------------------------------------------------------


@bp.get("/")
@require(Permission.DEFINITION_EDIT)
def index() -> str:
    unit = _chosen_unit(request.args.get("unit"))
    session = db.session()
    space = workspace.workspace(session, unit)
    names = {d.id: drafts.display_name(session, d.updated_by_id) for d in space.drafts}
    return render_template(
        "design/index.html", space=space, units=_units(), unit=unit, updated_by=names,
        editor_url=editor_url,
        can_publish=current_actor().can(Permission.DEFINITION_PUBLISH, unit.id),
        unit_form=UnitForm(unit=str(unit.id)))


def _copy_choices(unit: Unit, space: workspace.Workspace) -> list[SelectChoice]:
    """The versions a new form may start from, grouped (optgroups) as the designer thinks
    of them."""
    own_group = str(_("Our unit's forms"))
    shared_group = str(_("Shared templates of other units"))
    library_group = str(_("Forms that come with Formulär"))
    return [
        *(SelectChoice(v.id, f"{v.title} ({v.definition_id}, v{v.version})", optgroup=own_group)
          for p in space.published for v in p.versions),
        *(SelectChoice(o.version.id, f"{o.version.title} – {o.owner.name} "
                       f"(v{o.version.version})", optgroup=shared_group)
          for o in space.templates),
        *(SelectChoice(v.id, f"{v.title} ({v.definition_id}, v{v.version})",
                       optgroup=library_group) for v in space.library),
    ]


def _new_page(unit: Unit, *, blank: BlankForm | None = None, copy: CopyForm | None = None,
              imported: ImportForm | None = None, import_problems: list[Any] | None = None,
              status: int = 200) -> tuple[str, int]:
    space = workspace.workspace(db.session(), unit)
    copy = copy or CopyForm(unit=str(unit.id))
    copy.version.choices = _copy_choices(unit, space)
    if copy.version.data is None and request.args.get("from", "").isdigit():
        copy.version.data = int(request.args["from"])
    html = render_template(
        "design/new.html", unit=unit, units=_units(),
        blank=blank or BlankForm(unit=str(unit.id)), copy=copy,
        imported=imported or ImportForm(unit=str(unit.id)), import_problems=import_problems)
    return html, status


@bp.get("/new")
@require(Permission.DEFINITION_EDIT)
def new() -> tuple[str, int]:
    return _new_page(_chosen_unit(request.args.get("unit")))


@bp.post("/new/blank")
@require(Permission.DEFINITION_EDIT)
def create_blank() -> Any:
    form = BlankForm()
    unit = _chosen_unit(form.unit.data)
    if not form.validate_on_submit():
        return _new_page(unit, blank=form, status=400)
    try:
        draft = workspace.create_blank(
            db.session(), unit_id=unit.id, definition_id=str(form.definition_id.data),
            title=str(form.title.data).strip(), language=str(form.language.data),
            staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        form.definition_id.errors = [error.message]
        return _new_page(unit, blank=form, status=400)
    db.session.commit()
    flash(_("The draft was created."), "success")
    return redirect(editor_url(draft))


@bp.post("/new/copy")
@require(Permission.DEFINITION_EDIT)
def create_copy() -> Any:
    form = CopyForm()
    unit = _chosen_unit(form.unit.data)
    space = workspace.workspace(db.session(), unit)
    form.version.choices = _copy_choices(unit, space)
    if not form.validate_on_submit():
        return _new_page(unit, copy=form, status=400)
    version = db.session.get(DefinitionVersion, form.version.data)
    if version is None:
        abort(404)
    try:
        draft = workspace.create_from_version(
            db.session(), unit_id=unit.id, version=version,
            definition_id=str(form.definition_id.data),
            title=(form.title.data or "").strip() or None, staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        form.definition_id.errors = [error.message]
        return _new_page(unit, copy=form, status=400)
    db.session.commit()
    flash(_("The draft was created."), "success")
    return redirect(editor_url(draft))


@bp.post("/new/import")
@require(Permission.DEFINITION_EDIT)
def create_import() -> Any:
    form = ImportForm()
    unit = _chosen_unit(form.unit.data)
    if not form.validate_on_submit():
        return _new_page(unit, imported=form, status=400)
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose a file to import.")]
        return _new_page(unit, imported=form, status=400)
    data = upload.read(MAX_DEFINITION_BYTES + 1)
    document, problems = check_import(data)
    if document is None:
        return _new_page(unit, imported=form, import_problems=problems, status=400)
    try:
        draft = workspace.create_from_import(db.session(), unit_id=unit.id, document=document,
                                             staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        form.file.errors = [error.message]
        return _new_page(unit, imported=form, status=400)
    db.session.commit()
    if problems:
        flash(_("The file was imported. Fix the problems in the list before publishing."),
              "success")
    else:
        flash(_("The file was imported."), "success")
    return redirect(editor_url(draft))


@bp.post("/definitions/<definition_id>/next")
@require(Permission.DEFINITION_EDIT)
def next_version(definition_id: str) -> Any:
    form = UnitForm()
    unit = _chosen_unit(form.unit.data)
    if not form.validate_on_submit():
        abort(400)
    if unit.id not in workspace.owners_of(db.session(), definition_id):
        abort(404)
    try:
        draft = workspace.open_next_version(db.session(), unit_id=unit.id,
                                            definition_id=definition_id,
                                            staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        flash(error.message, "error")
        return redirect(url_for("design.index", unit=unit.id))
    db.session.commit()
    return redirect(editor_url(draft))


# -- one draft -----------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>")
@require(Permission.DEFINITION_EDIT)
def draft(draft_id: int) -> str:
    found = _draft(draft_id)
    session = db.session()
    latest = workspace.latest_version(session, found.definition_id)
    changes = diff(latest.document, found.document) if latest is not None and \
        latest.owner_unit_id == found.unit_id else None
    return render_template(
        "design/draft.html", draft=found, problems=problems_of(found.document),
        unit=session.get(Unit, found.unit_id), latest=latest, changes=changes,
        updated_by=drafts.display_name(session, found.updated_by_id),
        editor_url=editor_url(found), form=RevisionForm(revision=found.revision),
        problem_link=problem_link(found),
        can_publish=current_actor().can(Permission.DEFINITION_PUBLISH, found.unit_id))


@bp.get("/drafts/<int:draft_id>/export")
@require(Permission.DEFINITION_EDIT)
def export(draft_id: int) -> BaseResponse:
    found = _draft(draft_id)
    return _json_download(found.document, f"{found.definition_id}-draft.json")


@bp.post("/drafts/<int:draft_id>/discard")
@require(Permission.DEFINITION_EDIT)
def discard(draft_id: int) -> BaseResponse:
    found = _draft(draft_id)
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400)
    unit_id = found.unit_id
    try:
        workspace.discard(db.session(), found, expected_revision=int(form.revision.data or 0),
                          staff_user_id=_staff_id())
    except drafts.DraftConflict as conflict:
        flash(_conflict_message(conflict), "error")
        return redirect(url_for("design.draft", draft_id=draft_id))
    db.session.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("design.index", unit=unit_id))


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
@require(Permission.DEFINITION_PUBLISH)
def publish(draft_id: int) -> Any:
    found = _draft(draft_id, Permission.DEFINITION_PUBLISH)
    session = db.session()
    form = PublishForm()
    if request.method == "GET":
        form = PublishForm(revision=found.revision)
        template = workspace.template_of(session, found.definition_id)
        if template is not None and template.withdrawn_at is None:
            form.audience.data = "shared"
    error: str | None = None
    if form.validate_on_submit():
        try:
            version = workspace.publish(session, found,
                                        expected_revision=int(form.revision.data or 0),
                                        audience=str(form.audience.data),
                                        staff_user_id=_staff_id())
        except drafts.DraftConflict as conflict:
            session.rollback()
            found = _draft(draft_id, Permission.DEFINITION_PUBLISH)
            error = _conflict_message(conflict)
            form.revision.data = found.revision
        except workspace.WorkspaceError as refused:
            session.rollback()
            found = _draft(draft_id, Permission.DEFINITION_PUBLISH)
            error = refused.message
        else:
            session.commit()
            flash(_("Version %(n)s of “%(title)s” was published.", n=version.version,
                    title=version.title), "success")
            return redirect(url_for("design.index", unit=version.owner_unit_id))
    elif request.method == "POST":
        error = _("Choose who may use the form.")
    latest = workspace.latest_version(session, found.definition_id)
    own_latest = latest if latest is not None and latest.owner_unit_id == found.unit_id \
        else None
    template = workspace.template_of(session, found.definition_id)
    html = render_template(
        "design/publish.html", draft=found, form=form, error=error,
        problems=problems_of(found.document), latest=own_latest,
        changes=diff(own_latest.document, found.document) if own_latest else None,
        next_number=workspace.latest_number(session, found.definition_id) + 1,
        shared=template is not None and template.withdrawn_at is None,
        editor_url=editor_url(found), problem_link=problem_link(found))
    return (html, 409 if error and request.method == "POST" else 200)


# -- preview and validation (used by the editor) -------------------------------------------


@bp.route("/drafts/<int:draft_id>/preview", methods=["GET", "POST"])
@require(Permission.DEFINITION_EDIT)
def preview(draft_id: int) -> Any:
    found = _draft(draft_id)
    try:
        wanted = PreviewRequest.from_request(request.values, found.document)
    except ValueError:
        abort(400)
    # The interface of the frame speaks the previewed language, like the citizen's page.
    g.offered_languages = [wanted.language]
    refresh()
    g.frame_same_origin = True
    return render_preview(found, wanted)


@bp.post("/drafts/<int:draft_id>/validate")
@require(Permission.DEFINITION_EDIT)
def validate(draft_id: int) -> Any:
    _draft(draft_id)
    if (request.content_length or 0) > MAX_DEFINITION_BYTES:
        return jsonify(error=_("The definition is too large (at most 2 MB)."),
                       problems=[]), 400
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # A plain form post (no fetch): the document is the ``document`` field.
        body: str | bytes = request.form.get("document", "")
    else:
        body = request.get_data(cache=False)
    document, parse_problems = parse_json(body)
    if parse_problems:
        message = _("The definition is too large (at most 2 MB).") \
            if parse_problems[0].keyword == "too-large" else _("This is not valid JSON.")
        return jsonify(error=message,
                       problems=[p.as_json() for p in problems_of_parse(parse_problems)]), 400
    return jsonify(problems=[p.as_json() for p in problems_of(document)])


# -- published definitions and templates ---------------------------------------------------


@bp.get("/definitions/<definition_id>/versions/<int:version>/export")
@require(Permission.DEFINITION_EDIT)
def export_version(definition_id: str, version: int) -> BaseResponse:
    found = _usable_version(definition_id, version)
    return _json_download(found.document, f"{found.definition_id}-v{found.version}.json")


@bp.get("/definitions/<definition_id>/diff")
@require(Permission.DEFINITION_EDIT)
def version_diff(definition_id: str) -> str:
    newest = _usable_version(definition_id)
    session = db.session()
    usable = [v for v in workspace.versions_of(session, definition_id)
              if any(workspace.can_use_version(session, u.id, v) for u in _units())]
    numbers = [v.version for v in usable]

    def pick(name: str, default: int) -> DefinitionVersion:
        text = request.args.get(name, "")
        number = int(text) if text.isdigit() else default
        if number not in numbers:
            abort(404)
        return next(v for v in usable if v.version == number)

    after = pick("to", newest.version)
    before = pick("from", max([n for n in numbers if n < after.version], default=after.version))
    return render_template("design/diff.html", before=before, after=after,
                           changes=diff(before.document, after.document), numbers=numbers)


@bp.post("/definitions/<definition_id>/withdraw")
@require(Permission.DEFINITION_PUBLISH)
def withdraw(definition_id: str) -> BaseResponse:
    form = UnitForm()
    unit = _chosen_unit(form.unit.data, Permission.DEFINITION_PUBLISH)
    if not form.validate_on_submit():
        abort(400)
    if unit.id not in workspace.owners_of(db.session(), definition_id):
        abort(404)
    try:
        workspace.withdraw(db.session(), unit_id=unit.id, definition_id=definition_id,
                           staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        flash(error.message, "error")
        return redirect(url_for("design.index", unit=unit.id))
    db.session.commit()
    flash(_("The template is no longer shared. Units that use it keep the versions "
            "published until now."), "success")
    return redirect(url_for("design.index", unit=unit.id))


def _template_or_404(definition_id: str) -> None:
    template = workspace.template_of(db.session(), definition_id)
    if template is None:
        abort(404)


@bp.post("/templates/<definition_id>/subscribe")
@require(Permission.DEFINITION_EDIT)
def subscribe(definition_id: str) -> BaseResponse:
    form = SubscribeForm()
    unit = _chosen_unit(form.unit.data)
    _template_or_404(definition_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        workspace.subscribe(db.session(), unit_id=unit.id, definition_id=definition_id,
                            follow=form.follow.data == "1", staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        flash(error.message, "error")
        return redirect(url_for("design.index", unit=unit.id))
    db.session.commit()
    flash(_("Your unit subscribes to the template. Senders can now choose it."), "success")
    return redirect(url_for("design.index", unit=unit.id))


@bp.post("/templates/<definition_id>/unsubscribe")
@require(Permission.DEFINITION_EDIT)
def unsubscribe(definition_id: str) -> BaseResponse:
    form = UnitForm()
    unit = _chosen_unit(form.unit.data)
    _template_or_404(definition_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        workspace.unsubscribe(db.session(), unit_id=unit.id, definition_id=definition_id,
                              staff_user_id=_staff_id())
    except workspace.WorkspaceError as error:
        flash(error.message, "error")
        return redirect(url_for("design.index", unit=unit.id))
    db.session.commit()
    flash(_("Your unit no longer subscribes to the template."), "success")
    return redirect(url_for("design.index", unit=unit.id))

