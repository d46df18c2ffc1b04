"""Permissions named ``scope:resource:action`` and which roles grant them.

Every non-public view names the permission it needs (``formular.web.access.require``); a view
that acts on one unit's data also names the unit, and staff hold roles per unit, so a sender
at one clinic cannot see another clinic's send-outs. Citizens' permissions are about their own
data (and their children's under 13); ownership is checked by the view's loader.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from formular.storage.identity import Role


class Permission(enum.StrEnum):
    DEFINITION_PREVIEW = "staff:definition:preview"
    DEFINITION_EDIT = "design:definition:edit"
    SENDOUT_CREATE = "staff:sendout:create"
    SENDOUT_READ = "staff:sendout:read"
    SENDOUT_REMIND = "staff:sendout:remind"
    SENDOUT_CANCEL = "staff:sendout:cancel"
    SUBMISSION_READ = "staff:submission:read"
    SUBMISSION_HANDLE = "staff:submission:handle"
    SUBMISSION_EXPORT = "staff:submission:export"
    UNIT_MANAGE = "admin:unit:manage"
    USER_MANAGE = "admin:user:manage"
    ACCESS_LOG_AUDIT = "audit:accesslog:read"
    INBOX_READ = "citizen:inbox:read"
    FORM_ANSWER = "citizen:form:answer"
    OWN_ACCESS_LOG_READ = "citizen:accesslog:read"
    CATALOG_READ = "i18n:catalog:read"
    CATALOG_WRITE = "i18n:catalog:write"
    DEFINITION_PUBLISH = "design:definition:publish"
    POPULATION_IMPORT = "staff:population:import"
    MEASUREMENT_WRITE = "staff:measurement:write"
    PROFILE_READ = "staff:profile:read"
    PROFILE_EXPORT = "staff:profile:export"
    OWN_PROFILE_READ = "citizen:profile:read"
    CASE_READ = "staff:case:read"
    CASE_ASSIGN = "staff:case:assign"
    CASE_REPLY = "staff:case:reply"
    CASE_CLOSE = "staff:case:close"
    CASETYPE_MANAGE = "admin:casetype:manage"
    CASE_CREATE = "citizen:case:create"
    CASE_CITIZEN_REPLY = "citizen:case:reply"
    CASE_WITHDRAW = "citizen:case:withdraw"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Designers see each form's translation progress (read only) to know what is complete.
    Role.DESIGNER: frozenset({Permission.DEFINITION_PREVIEW, Permission.DEFINITION_EDIT,
                              Permission.DEFINITION_PUBLISH, Permission.CATALOG_READ}),
    Role.SENDER: frozenset({
        Permission.DEFINITION_PREVIEW, Permission.SENDOUT_CREATE, Permission.SENDOUT_READ,
        Permission.SENDOUT_REMIND, Permission.SENDOUT_CANCEL, Permission.POPULATION_IMPORT,
    }),
    Role.REVIEWER: frozenset({
        Permission.DEFINITION_PREVIEW, Permission.SENDOUT_READ, Permission.SENDOUT_REMIND,
        Permission.SUBMISSION_READ, Permission.SUBMISSION_HANDLE, Permission.SUBMISSION_EXPORT,
        # The health coach: measurements and lab values at the visit, the health profile.
        Permission.MEASUREMENT_WRITE, Permission.PROFILE_READ, Permission.PROFILE_EXPORT,
    }),
    # Administrators manage units and users; reading answers needs the reviewer role too
    # (inner confidentiality: access follows the care task, not the admin title).
    Role.ADMIN: frozenset({Permission.UNIT_MANAGE, Permission.USER_MANAGE,
                           Permission.POPULATION_IMPORT, Permission.CASETYPE_MANAGE}),
    Role.AUDITOR: frozenset({Permission.ACCESS_LOG_AUDIT}),
    # The case receiver (ärendemottagare) assigns the unit's incoming cases and may answer;
    # handlers answer and close the cases of their unit.
    Role.CASE_RECEIVER: frozenset({Permission.CASE_READ, Permission.CASE_ASSIGN,
                                   Permission.CASE_REPLY, Permission.CASE_CLOSE}),
    Role.CASE_HANDLER: frozenset({Permission.CASE_READ, Permission.CASE_REPLY,
                                  Permission.CASE_CLOSE}),
    # Translators edit the interface and form-content catalogs (not unit data).
    Role.TRANSLATOR: frozenset({Permission.CATALOG_READ, Permission.CATALOG_WRITE}),
}

CITIZEN_PERMISSIONS = frozenset({
    Permission.INBOX_READ, Permission.FORM_ANSWER, Permission.OWN_ACCESS_LOG_READ,
    Permission.OWN_PROFILE_READ, Permission.CASE_CREATE, Permission.CASE_CITIZEN_REPLY,
    Permission.CASE_WITHDRAW,
})


@dataclass(frozen=True)
class Actor:
    """Who is making a request, resolved once per request from the log-in session."""

    #: "anonymous", "staff" or "citizen"
    kind: str = "anonymous"
    staff_user_id: int | None = None
    citizen_id: int | None = None
    #: A guardian answering for a child: the child's citizen id.
    acting_for_id: int | None = None
    display_name: str = ""
    #: unit id → roles held there (staff only)
    units: dict[int, frozenset[Role]] = field(default_factory=dict)
    login_session_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    @property
    def subject_citizen_id(self) -> int | None:
        """The citizen whose data a citizen session works on (the child when acting for one)."""
        return self.acting_for_id or self.citizen_id

    def permissions_in(self, unit_id: int) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.units.get(unit_id, frozenset()):
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def can(self, permission: Permission, unit_id: int | None = None) -> bool:
        """Whether the actor holds ``permission`` — in ``unit_id`` if given, else anywhere."""
        if self.kind == "citizen":
            return permission in CITIZEN_PERMISSIONS
        if self.kind != "staff":
            return False
        if unit_id is not None:
            return permission in self.permissions_in(unit_id)
        return any(permission in self.permissions_in(unit) for unit in self.units)

    def units_with(self, permission: Permission) -> list[int]:
        """The units where the actor holds ``permission`` (for scoping list queries)."""
        return sorted(unit for unit in self.units if permission in self.permissions_in(unit))


ANONYMOUS = Actor()


# -- helpers (added with log-in; the names and grants above are the contract) ------------------


def scope_of(permission: Permission) -> str:
    """The ``scope`` part of ``scope:resource:action``: who the permission is for."""
    return permission.value.split(":", 1)[0]


def is_citizen_permission(permission: Permission) -> bool:
    """Whether the permission belongs to the citizen side (its log-in is e-legitimation, not
    the staff log-in): decides where an anonymous visitor is sent to log in."""
    return scope_of(permission) == "citizen"
