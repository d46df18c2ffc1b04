"""The staff case inbox as queries: one unit's cases by state, filtered and searched, and who
may be given a case.

No Flask here: the view passes the unit, the filter and the page, and gets rows back, so the
same queries serve the page, the tests and (later) an API. Only cases of the given unit are
ever selected; which units an actor may read is the view's business (``units_with``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from formular.auth.permissions import ROLE_PERMISSIONS, Permission
from formular.storage.cases import Case, CaseMessage
from formular.storage.identity import Citizen, Role, RoleAssignment, StaffUser
from formular.storage.models import DefinitionVersion, Submission
from formular.workflow import service as workflow

WORKFLOW: Final = "case"
PAGE_SIZE: Final = 50
#: Longest search text taken (longer input is cut, not refused).
MAX_QUERY: Final = 100
#: ``assigned`` filter values besides a staff user's id.
ASSIGNED_ANY, ASSIGNED_ME, ASSIGNED_NOBODY = "", "me", "nobody"
SORTS: Final = ("oldest", "newest", "changed")
#: The tab that shows every case not yet closed.
OPEN: Final = "open"


@cache
def states() -> tuple[str, ...]:
    """The case workflow's states in the order the workflow lists them (the inbox's tabs)."""
    return tuple(state.name for state in workflow.load_builtin(WORKFLOW).states)


@cache
def final_states() -> frozenset[str]:
    return frozenset(state.name for state in workflow.load_builtin(WORKFLOW).states
                     if state.final)


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows: a tab (a state, or :data:`OPEN`), a case type, whose cases,
    overdue only, free text, the order and the page."""

    tab: str = OPEN
    definition_id: str = ""
    assigned: str = ASSIGNED_ANY
    overdue_only: bool = False
    query: str = ""
    sort: str = "oldest"
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> InboxFilter:
        """From request arguments (any mapping with ``get``); unknown values fall back to the
        defaults, so a hand-edited URL never fails."""
        tab = str(args.get("state", "") or OPEN)
        if tab != OPEN and tab not in states():
            tab = OPEN
        assigned = str(args.get("assigned", "") or "")
        if assigned not in (ASSIGNED_ANY, ASSIGNED_ME, ASSIGNED_NOBODY) and \
                not (assigned.isdigit() and len(assigned) < 12):
            assigned = ASSIGNED_ANY
        sort = str(args.get("sort", "") or "oldest")
        page_text = str(args.get("page", "") or "1")
        page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 1
        return cls(tab=tab, definition_id=str(args.get("type", "") or "")[:64],
                   assigned=assigned, overdue_only=str(args.get("overdue", "")) == "1",
                   query=" ".join(str(args.get("q", "") or "").split())[:MAX_QUERY],
                   sort=sort if sort in SORTS else "oldest", page=max(1, page))

    def with_page(self, page: int) -> InboxFilter:
        return replace(self, page=page)


@dataclass(frozen=True)
class InboxPage:
    cases: Sequence[Case]
    total: int
    page: int
    pages: int


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(query: str) -> ColumnElement[bool]:
    """Personal identity number (4 or more digits, with or without the dash), the citizen's
    name, the case type's title, words in the citizen's answers, or in any message.

    The answers are searched as their stored JSON text: PostgreSQL gives it in plain Unicode,
    SQLite as written by ``json.dumps`` (``å`` as ``\\u00e5``), so that spelling is tried too.
    """
    pattern = f"%{_escaped(query)}%"
    answers_text = cast(Submission.answers, String)
    in_answers = [answers_text.ilike(pattern, escape="\\")]
    # SQLite folds only ASCII letters, and the escapes hide the rest: try the usual cases.
    for variant in sorted({json.dumps(v)[1:-1] for v in (query, query.lower(), query.upper(),
                                                          query.capitalize())} - {query}):
        in_answers.append(answers_text.ilike(f"%{_escaped(variant)}%", escape="\\"))
    conditions: list[ColumnElement[bool]] = [
        Citizen.name.ilike(pattern, escape="\\"),
        DefinitionVersion.title.ilike(pattern, escape="\\"),
        exists().where(CaseMessage.case_id == Case.id,
                       CaseMessage.body.ilike(pattern, escape="\\")),
        exists().where(Submission.id == Case.submission_id, or_(*in_answers)),
    ]
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4 and len(digits) >= len(query.replace("-", "").replace(" ", "")):
        conditions.append(Citizen.personnummer.contains(digits))
    return or_(*conditions)


def _filtered(unit_id: int, chosen: InboxFilter, staff_user_id: int | None) -> Select[Any]:
    query = (select(Case)
             .join(Citizen, Case.citizen_id == Citizen.id)
             .join(DefinitionVersion, Case.definition_version_id == DefinitionVersion.id)
             .where(Case.unit_id == unit_id))
    if chosen.tab == OPEN:
        query = query.where(Case.state.not_in(final_states()))
    else:
        query = query.where(Case.state == chosen.tab)
    if chosen.definition_id:
        query = query.where(DefinitionVersion.definition_id == chosen.definition_id)
    if chosen.assigned == ASSIGNED_ME:
        query = query.where(Case.assigned_to_id == (staff_user_id or -1))
    elif chosen.assigned == ASSIGNED_NOBODY:
        query = query.where(Case.assigned_to_id.is_(None))
    elif chosen.assigned:
        query = query.where(Case.assigned_to_id == int(chosen.assigned))
    if chosen.overdue_only:
        query = query.where(Case.overdue.is_(True))
    if chosen.query:
        query = query.where(_search(chosen.query))
    return query


def _order(sort: str) -> tuple[Any, ...]:
    if sort == "newest":
        return (Case.created_at.desc(), Case.id.desc())
    if sort == "changed":
        return (Case.state_changed_at.desc(), Case.id.desc())
    # Oldest first, the overdue ones on top: the order a clinic works through its inbox.
    return (Case.overdue.desc(), Case.created_at, Case.id)


def list_cases(session: Session, unit_id: int, chosen: InboxFilter,
               staff_user_id: int | None) -> InboxPage:
    """One page of the unit's cases matching ``chosen``."""
    query = _filtered(unit_id, chosen, staff_user_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(chosen.page, pages)
    rows = session.scalars(query.order_by(*_order(chosen.sort))
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return InboxPage(rows, total, page, pages)


def counts_by_state(session: Session, unit_id: int) -> dict[str, int]:
    """How many of the unit's cases are in each state (every state present, zero or not)."""
    counts = dict.fromkeys(states(), 0)
    for state, number in session.execute(
            select(Case.state, func.count()).where(Case.unit_id == unit_id)
            .group_by(Case.state)):
        counts[state] = int(number)
    return counts


def overdue_count(session: Session, unit_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.unit_id == unit_id, Case.overdue.is_(True),
        Case.state.not_in(final_states()))) or 0


def case_types_in(session: Session, unit_id: int) -> list[tuple[str, DefinitionVersion]]:
    """(definition id, its latest version among the unit's cases), for the type filter."""
    latest = (select(DefinitionVersion.definition_id,
                     func.max(DefinitionVersion.id).label("version_id"))
              .join(Case, Case.definition_version_id == DefinitionVersion.id)
              .where(Case.unit_id == unit_id)
              .group_by(DefinitionVersion.definition_id).subquery())
    versions = session.scalars(select(DefinitionVersion).join(
        latest, DefinitionVersion.id == latest.c.version_id)).all()
    return sorted(((v.definition_id, v) for v in versions), key=lambda pair: pair[1].title)


def roles_with(permission: Permission) -> list[Role]:
    return sorted(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def assignable_staff(session: Session, unit_id: int) -> list[StaffUser]:
    """Active staff of the unit who may answer cases there: whom a case may be given to."""
    return list(session.scalars(
        select(StaffUser).where(
            StaffUser.active.is_(True),
            exists().where(and_(RoleAssignment.user_id == StaffUser.id,
                                RoleAssignment.unit_id == unit_id,
                                RoleAssignment.role.in_(roles_with(Permission.CASE_REPLY)))))
        .order_by(StaffUser.display_name, StaffUser.id)).all())


def may_be_assigned(session: Session, unit_id: int, staff_user_id: int) -> bool:
    return any(user.id == staff_user_id for user in assignable_staff(session, unit_id))

