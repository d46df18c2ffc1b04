"""What a citizen's form request reads of an assignment: plain rows from one Core SELECT.

Every page a citizen opens or sends needs the assignment, its send-out, the definition version,
the citizen and the draft. Loaded as ORM entities these cost more than the rest of the query's
work together (identity map, eager-load row processors, instance state for five objects); as
plain dataclasses filled from one row they cost a fraction. The workflow service
(:func:`formular.sendouts.transitions.fire`) and the draft store work on either kind: they
read the same attribute names and record what they wrote with
:func:`formular.storage.rows.record`.

Staff views, exports and jobs keep the ORM entities; the few citizen views that need one (a
PDF copy) load it by id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.orm import Session

from formular.definitions.personnummer import IdentityNumber
from formular.storage import alongside as reads_alongside
from formular.storage.alongside import Alongside
from formular.storage.drafts import DraftRow
from formular.storage.identity import Citizen, Identified
from formular.storage.models import DefinitionVersion, Draft
from formular.storage.sendouts import Assignment, SendOut

Json = dict[str, Any]


@dataclass
class VersionRow:
    """A stored definition version without its document (read only when its compiled form
    is not cached yet, see ``formular.i18n.service.source_compiled``)."""

    id: int
    definition_id: str
    version: int
    digest: str
    _read_document: Callable[[], Json] = field(repr=False)

    @property
    def cache_key(self) -> str:
        """As ``DefinitionVersion.cache_key``: immutable rows make id and digest a safe key."""
        return f"row:{self.id}:{self.digest}"

    @cached_property
    def document(self) -> Json:
        return self._read_document()


@dataclass
class SendOutRow:
    id: int
    unit_id: int
    created_by_id: int | None
    deadline_at: dt.datetime | None
    expires_at: dt.datetime | None
    reminder_days_before: list[int]
    notify_staff_on_answer: bool
    definition_version: VersionRow


@dataclass
class CitizenRow(Identified):
    """The person a form is about: who may answer for them depends on their age today."""

    id: int
    personnummer: str

    @cached_property
    def identity(self) -> IdentityNumber:
        return IdentityNumber.parse(self.personnummer)


@dataclass
class AssignmentRow:
    id: int
    token: str
    state: str
    state_changed_at: dt.datetime
    last_reminded_at: dt.datetime | None
    citizen_id: int
    draft_id: int | None
    submission_id: int | None
    send_out: SendOutRow
    citizen: CitizenRow


@dataclass(frozen=True)
class Found:
    assignment: AssignmentRow
    #: None until the citizen's first save.
    draft: DraftRow | None


def alongside(token: str) -> Alongside:
    """What :func:`find` reads, to be read with the request's log-in session lookup."""
    return Alongside(_BY_TOKEN, {"token": token})


def find(session: Session, token: str) -> Found | None:
    """The assignment with ``token`` and what its form pages need, or None. The version's
    document is read later, in the same session, only if it is asked for. Read alongside
    the log-in session when the view asked for it (see :func:`alongside`)."""
    params = {"token": token}
    taken = reads_alongside.take(session, _BY_TOKEN, params)
    values: Mapping[Any, Any]
    if taken is not None:
        values = taken
    else:
        row = session.connection().execute(_BY_TOKEN, params).first()
        if row is None:
            return None
        values = row._mapping
    if values["a_id"] is None:
        return None
    version_id = values["v_id"]
    version = VersionRow(values["v_id"], values["v_definition_id"], values["v_version"],
                         values["v_digest"],
                         lambda: _document(session, version_id))
    send_out = SendOutRow(values["s_id"], values["s_unit_id"], values["s_created_by_id"],
                          values["s_deadline_at"], values["s_expires_at"],
                          list(values["s_reminder_days_before"] or []),
                          bool(values["s_notify_staff_on_answer"]), version)
    assignment = AssignmentRow(
        values["a_id"], values["a_token"], values["a_state"], values["a_state_changed_at"],
        values["a_last_reminded_at"], values["a_citizen_id"], values["a_draft_id"],
        values["a_submission_id"], send_out,
        CitizenRow(values["c_id"], values["c_personnummer"]))
    draft = None
    if values["d_id"] is not None:
        draft = DraftRow(values["d_id"], values["d_token"], values["d_definition_version_id"],
                         values["d_answers"], values["d_page"], values["d_revision"],
                         values["d_submitted_at"], values["d_citizen_id"], version)
    return Found(assignment, draft)


def _document(session: Session, version_id: int) -> Json:
    document = session.execute(_DOCUMENT, {"id": version_id}).scalar_one()
    return cast(Json, document)


_A = cast(Table, Assignment.__table__)
_S = cast(Table, SendOut.__table__)
_V = cast(Table, DefinitionVersion.__table__)
_C = cast(Table, Citizen.__table__)
_D = cast(Table, Draft.__table__)


def _labelled(table: Table, prefix: str, names: tuple[str, ...]) -> list[Any]:
    return [table.c[name].label(f"{prefix}_{name}") for name in names]


#: Built once: a citizen's every form request runs it.
_BY_TOKEN: Select[Any] = (
    select(*_labelled(_A, "a", ("id", "token", "state", "state_changed_at", "last_reminded_at",
                                "citizen_id", "draft_id", "submission_id")),
           *_labelled(_S, "s", ("id", "unit_id", "created_by_id", "deadline_at", "expires_at",
                                "reminder_days_before", "notify_staff_on_answer")),
           *_labelled(_V, "v", ("id", "definition_id", "version", "digest")),
           *_labelled(_C, "c", ("id", "personnummer")),
           *_labelled(_D, "d", ("id", "token", "definition_version_id", "answers", "page",
                                "revision", "submitted_at", "citizen_id")))
    .select_from(_A.join(_S, _S.c.id == _A.c.send_out_id)
                 .join(_V, _V.c.id == _S.c.definition_version_id)
                 .join(_C, _C.c.id == _A.c.citizen_id)
                 .outerjoin(_D, _D.c.id == _A.c.draft_id))
    .where(_A.c.token == bindparam("token")))
_DOCUMENT = select(_V.c.document).where(_V.c.id == bindparam("id"))
