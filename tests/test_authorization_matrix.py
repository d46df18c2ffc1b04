"""Every route × every kind of actor, against a policy table written here.

Each rule of ``app.url_map`` (static files aside) gets a concrete URL whose path variables are
real objects of clinic A and citizen A, made once for the module; every actor — anonymous,
citizen A, citizen B, a guardian acting for A's child, staff of clinic A in each role and staff
of clinic B in each role — requests it (GET, or POST with a valid CSRF token of the same
client for POST-only rules), and the outcome class must be the one :data:`POLICY` expects:

``ok``         2xx, or a redirect that is not to a log-in page (and stays on this site)
``login``      a redirect to a log-in page (or 401 for JSON)
``forbidden``  403
``not-found``  404 (another unit's or another citizen's object: existence is not revealed)

A route in the url_map without an entry in :data:`POLICY` fails
:func:`test_every_route_has_a_policy`: a new route must be classified here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.auth import accounts
from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment
from formular.storage.sendouts import InboxMessage, SavedText
from formular.web.access import undeclared_endpoints
from tests.functional import staff_support as s
from tests.functional.support import fill_showcase

# -- actors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    name: str
    kind: str  # anonymous, citizen, staff
    unit: str | None = None  # "A" or "B" (staff)
    role: str | None = None  # sender, reviewer, designer, admin, auditor (staff)

    def __str__(self) -> str:
        return self.name


STAFF_ROLES = ("sender", "reviewer", "designer", "admin", "auditor",
               # the case inbox (issue #6): made by tests/cases/support.build_cases_world
               "case-receiver", "case-handler")
ACTORS: tuple[Who, ...] = (
    Who("anonymous", "anonymous"),
    Who("citizen-a", "citizen"),
    Who("citizen-b", "citizen"),
    Who("guardian-of-a-child", "citizen"),
    *(Who(f"a-{role}", "staff", "A", role) for role in STAFF_ROLES),
    *(Who(f"b-{role}", "staff", "B", role) for role in STAFF_ROLES),
)

Expect = Callable[[Who], str]


# -- policies ------------------------------------------------------------------------------


def public(outcome: str = "ok") -> Expect:
    return lambda who: outcome


def staff_only(roles: set[str], *, unit_object: bool) -> Expect:
    """A staff view needing a permission that ``roles`` grant. ``unit_object``: it shows an
    object of clinic A, so staff of clinic B holding the permission get 404."""

    def expect(who: Who) -> str:
        if who.kind == "anonymous":
            return "login"
        if who.kind == "citizen" or who.role not in roles:
            return "forbidden"
        if unit_object and who.unit != "A":
            return "not-found"
        return "ok"

    return expect


def preview_draft() -> Expect:
    """A preview draft belongs to the browser session that started it: 404 for everybody
    else who may preview at all."""
    allowed = staff_only(PREVIEW, unit_object=False)
    return lambda who: "not-found" if allowed(who) == "ok" else allowed(who)


def citizen_only(owners: set[str] | None = None) -> Expect:
    """A citizen view; ``owners``: only these citizens (the object is citizen A's), others
    get 404. None: every citizen (their own inbox, log…)."""

    def expect(who: Who) -> str:
        if who.kind == "anonymous":
            return "login"
        if who.kind == "staff":
            return "forbidden"
        if owners is not None and who.name not in owners:
            return "not-found"
        return "ok"

    return expect


SENDERS = {"sender"}
READERS = {"sender", "reviewer"}  # staff:sendout:read and :remind
REVIEWERS = {"reviewer"}  # staff:submission:read, :handle, :export
PREVIEW = {"sender", "reviewer", "designer"}
AUDITORS = {"auditor"}
#: The catalog editor; no actor of this matrix is a translator (tests/translate covers them).
TRANSLATORS = {"translator"}
#: Designers read translation progress (to see which languages a form is complete in).
CATALOG_READERS = TRANSLATORS | {"designer"}
CITIZEN_A = {"citizen-a"}
#: staff:population:import (issue #7, part 3)
IMPORTERS = {"sender", "admin"}


def own_import() -> Expect:
    """A population import is shown only to the one who uploaded it (clinic A's sender)."""
    allowed = staff_only(IMPORTERS, unit_object=False)
    return lambda who: ("ok" if who.name == "a-sender" else "not-found") \
        if allowed(who) == "ok" else allowed(who)


#: The form designer (issue #4): designers only; clinic A's drafts and forms are 404 for B.
DESIGNERS = {"designer"}
DESIGN_DRAFT = {"draft_id": "design_draft_id"}
DESIGN_VERSION = {"definition_id": "design_definition_id", "version": "design_version"}


@dataclass
class Route:
    expect: Expect
    #: URL values that differ from the defaults (:meth:`Objects.defaults`), by object name.
    values: dict[str, str] = field(default_factory=dict)
    #: Form data of a POST, from the objects.
    data: Callable[[Objects], dict[str, Any]] | None = None
    #: Changes who the client is (log-out, log-in, act-as): use a fresh client.
    fresh: bool = False


#: Endpoint → policy. GET routes first, then POST routes; mutating routes are placed so that
#: their outcome class does not depend on the order (a second cancel is a refused 302 too).
POLICY: dict[str, Route] = {
    # public pages
    "home.index": Route(public()),
    "auth.login": Route(public()),
    "auth.logged_out": Route(public()),
    "auth.citizen_login": Route(public()),  # the demo setting offers test persons
    "auth.oidc_start": Route(public("not-found")),  # no identity provider configured
    "auth.oidc_callback": Route(public("not-found")),
    "auth.session_status": Route(public()),
    # citizens
    "citizen.inbox": Route(citizen_only()),
    "citizen.access_log": Route(citizen_only()),
    "auth.act_as": Route(citizen_only()),
    "citizen.message": Route(citizen_only(CITIZEN_A)),
    "citizen.page": Route(citizen_only(CITIZEN_A)),
    "citizen.review": Route(citizen_only(CITIZEN_A)),
    "citizen.receipt": Route(citizen_only(CITIZEN_A), {"token": "answered_token"}),
    "citizen.copy_pdf": Route(citizen_only(CITIZEN_A), {"token": "answered_token"}),
    # preview
    "preview.index": Route(staff_only(PREVIEW, unit_object=False)),
    "preview.page": Route(preview_draft(), {"token": "preview_token"}),
    "preview.review": Route(preview_draft(), {"token": "preview_token"}),
    "preview.receipt": Route(preview_draft(), {"token": "preview_token"}),
    # staff
    "staff.index": Route(staff_only(READERS, unit_object=False)),
    "staff.new_send_out": Route(staff_only(SENDERS, unit_object=False)),
    "staff.preview_send_out": Route(staff_only(SENDERS, unit_object=True)),
    "staff.send_out": Route(staff_only(READERS, unit_object=True)),
    "staff.send_out_progress": Route(staff_only(READERS, unit_object=True)),
    "staff.assignment": Route(staff_only(READERS, unit_object=True),
                              {"token": "answered_token"}),
    "exports.send_out_csv": Route(staff_only(REVIEWERS, unit_object=True),
                                  {"send_out_id": "showcase_send_out_id"}),
    "exports.send_out_xlsx": Route(staff_only(REVIEWERS, unit_object=True),
                                   {"send_out_id": "showcase_send_out_id"}),
    "exports.submission_pdf_view": Route(staff_only(REVIEWERS, unit_object=True),
                                         {"token": "answered_token"}),
    # auditors
    "audit.index": Route(staff_only(AUDITORS, unit_object=False)),
    # translators
    "translate.index": Route(staff_only(CATALOG_READERS, unit_object=False)),
    "translate.entries": Route(staff_only(CATALOG_READERS, unit_object=False)),
    # The matrix's entry key does not exist: readers get 404, everyone else is refused first.
    "translate.entry": Route(lambda who: "not-found" if staff_only(
        CATALOG_READERS, unit_object=False)(who) == "ok" else staff_only(
        CATALOG_READERS, unit_object=False)(who)),
    "translate.export": Route(staff_only(CATALOG_READERS, unit_object=False)),
    "translate.import_form": Route(staff_only(TRANSLATORS, unit_object=False)),
    # POST routes
    "home.language": Route(public(), data=lambda o: {"lang": "sv", "next": "/"}),
    "auth.session_extend": Route(
        lambda who: "login" if who.kind == "anonymous" else "ok"),
    "preview.start": Route(staff_only(PREVIEW, unit_object=False),
                           data=lambda o: {"audience": "citizen"}),
    "preview.post_page": Route(preview_draft(), {"token": "preview_token"},
                               data=lambda o: {"_revision": "0", "_action": "save"}),
    "preview.submit": Route(preview_draft(), {"token": "preview_token"}),
    "citizen.post_page": Route(citizen_only(CITIZEN_A),
                               data=lambda o: {"_revision": "0", "_action": "save"}),
    "citizen.submit": Route(citizen_only(CITIZEN_A)),
    "staff.remind": Route(staff_only(READERS, unit_object=True)),
    "staff.remind_all": Route(staff_only(READERS, unit_object=True)),
    "staff.cancel": Route(staff_only(SENDERS, unit_object=True), {"token": "cancel_token"}),
    "staff.cancel_send_out": Route(staff_only(SENDERS, unit_object=True),
                                   {"send_out_id": "cancel_send_out_id"}),
    "staff.handle": Route(staff_only(REVIEWERS, unit_object=True),
                          {"token": "answered_token"}),
    "staff.confirm_send_out": Route(staff_only(SENDERS, unit_object=True)),
    "translate.save_entry": Route(staff_only(TRANSLATORS, unit_object=False),
                                  data=lambda o: {"msgstr-0": "x", "revision": "0"}),
    "translate.import_file": Route(staff_only(TRANSLATORS, unit_object=False)),
    "auth.demo_citizen_login": Route(public(), data=lambda o: {"citizen": str(o.citizen_a)},
                                     fresh=True),
    "auth.logout": Route(public(), fresh=True),
    # listed population, cohort send-outs, invitation letters (issue #7, part 3)
    "population.import_population": Route(staff_only(IMPORTERS, unit_object=False)),
    "population.import_preview": Route(own_import(), {"import_id": "population_import_id"}),
    "population.new_cohort": Route(staff_only(SENDERS, unit_object=False)),
    "population.cohort_preview": Route(staff_only(SENDERS, unit_object=True),
                                       {"job_id": "cohort_job_id"}),
    "population.letters": Route(staff_only(READERS, unit_object=True)),
    "population.confirm_import": Route(own_import(), {"import_id": "population_import_id"},
                                       data=lambda o: {"digest": o.population_import_digest}),
    "population.confirm_cohort": Route(staff_only(SENDERS, unit_object=True),
                                       {"job_id": "cohort_job_id"}),
    "population.print_letters": Route(staff_only(READERS, unit_object=True), data=lambda o: {
        "language": "sv", "recipients": "all", "kind": "questionnaire"}),
    # health check: measurements, health profile, register export (issue #7, part 2)
    "health.index": Route(staff_only(REVIEWERS, unit_object=False)),
    "health.measurements": Route(staff_only(REVIEWERS, unit_object=True),
                                 {"token": "health_token"}),
    "health.staff_profile": Route(staff_only(REVIEWERS, unit_object=True),
                                  {"token": "health_token"}),
    "health.staff_profile_pdf": Route(staff_only(REVIEWERS, unit_object=True),
                                      {"token": "health_token"}),
    "health.send_out_csv": Route(staff_only(REVIEWERS, unit_object=True),
                                 {"send_out_id": "health_send_out_id"}),
    "health.unit_csv": Route(staff_only(REVIEWERS, unit_object=True), {"unit_id": "unit_a"}),
    "health.citizen_profile": Route(citizen_only(CITIZEN_A), {"token": "health_token"}),
    "health.citizen_profile_pdf": Route(citizen_only(CITIZEN_A), {"token": "health_token"}),
    "health.save_measurements": Route(staff_only(REVIEWERS, unit_object=True),
                                      {"token": "health_token"},
                                      data=lambda o: {"_revision": "0", **HEALTH_VALUES}),
    # the form designer's workspace, preview and publishing (issue #4)
    "design.index": Route(staff_only(DESIGNERS, unit_object=False)),
    "design.new": Route(staff_only(DESIGNERS, unit_object=False)),
    "design.draft": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT),
    "design.export": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT),
    "design.preview": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT),
    "design.publish": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT),
    "design.export_version": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_VERSION),
    "design.version_diff": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_VERSION),
    "design.validate": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT,
                             data=lambda o: {"document": "{}"}),
    "design.discard": Route(staff_only(DESIGNERS, unit_object=True),
                            {"draft_id": "design_discard_draft_id"},
                            data=lambda o: {"revision": "1"}),
    "design.create_blank": Route(staff_only(DESIGNERS, unit_object=True), data=lambda o: {
        "unit": str(o.unit_a), "title": "Matris", "definition_id": "mx-blank",
        "language": "sv"}),
    "design.create_copy": Route(staff_only(DESIGNERS, unit_object=True), data=lambda o: {
        "unit": str(o.unit_a), "version": str(o.design_phq_version_id),
        "definition_id": "mx-copy"}),
    "design.create_import": Route(staff_only(DESIGNERS, unit_object=True), data=lambda o: {
        "unit": str(o.unit_a), "file": (__import__("io").BytesIO(o.design_import), "m.json")}),
    "design.next_version": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_VERSION,
                                 data=lambda o: {"unit": str(o.unit_a)}),
    "design.withdraw": Route(staff_only(DESIGNERS, unit_object=True),
                             {"definition_id": "design_shared_id"},
                             data=lambda o: {"unit": str(o.unit_a)}),
    "design.subscribe": Route(staff_only(DESIGNERS, unit_object=True),
                              {"definition_id": "design_shared_id"},
                              data=lambda o: {"unit": str(o.unit_a), "follow": "1"}),
    "design.unsubscribe": Route(staff_only(DESIGNERS, unit_object=True),
                                {"definition_id": "design_shared_id"},
                                data=lambda o: {"unit": str(o.unit_a)}),
    # the form editor (issue #4): only clinic A's designers edit clinic A's drafts
    "design_editor.edit": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT),
    "design_editor.try_it": Route(staff_only(DESIGNERS, unit_object=True), DESIGN_DRAFT,
                                  data=lambda o: {"revision": "1", "mood": "never"}),
    "design_editor.operate": Route(staff_only(DESIGNERS, unit_object=True),
                                   {**DESIGN_DRAFT, "name": "design_op"},
                                   data=lambda o: {"revision": "1", "item_type": "text"}),
}
#: Citizen pages outside the citizen blueprint (an anonymous visitor goes to /login/citizen).
CITIZEN_SIDE = {"health.citizen_profile", "health.citizen_profile_pdf"}

# -- the citizen's errands (issue #6): citizen A's case at clinic A -----------------------
C1_DRAFT = {"token": "c1_draft_token"}
C1_CASE = {"token": "c1_case_token"}
C1_CASE_TYPE = {"unit_id": "c1_unit_id", "definition_id": "c1_definition_id"}
POLICY.update({
    "cases_citizen.my_cases": Route(citizen_only()),
    "cases_citizen.choose_clinic": Route(citizen_only()),
    "cases_citizen.choose_case_type": Route(citizen_only(), {"unit_id": "c1_unit_id"}),
    "cases_citizen.terms": Route(citizen_only(), C1_CASE_TYPE),
    "cases_citizen.page": Route(citizen_only(CITIZEN_A), C1_DRAFT),
    "cases_citizen.review": Route(citizen_only(CITIZEN_A), C1_DRAFT),
    "cases_citizen.attachments": Route(citizen_only(CITIZEN_A), C1_DRAFT),
    "cases_citizen.receipt": Route(citizen_only(CITIZEN_A), C1_DRAFT),
    "cases_citizen.show": Route(citizen_only(CITIZEN_A), C1_CASE),
    "cases_citizen.download": Route(citizen_only(CITIZEN_A), {
        "token": "c1_case_token", "file_token": "c1_file_token"}),
    # POST: a page save, a send of an incomplete form (back to the review), an answer to the
    # clinic's question, a withdrawal (a second one is a refused redirect too)
    "cases_citizen.post_page": Route(citizen_only(CITIZEN_A), C1_DRAFT,
                                     data=lambda o: {"_revision": "0", "_action": "save"}),
    "cases_citizen.submit": Route(citizen_only(CITIZEN_A), C1_DRAFT),
    "cases_citizen.reply": Route(citizen_only(CITIZEN_A), {"token": "c1_reply_token"},
                                 data=lambda o: {"message": "Svar från invånaren"}),
    "cases_citizen.withdraw": Route(citizen_only(CITIZEN_A), {"token": "c1_withdraw_token"}),
})
#: Citizen-side endpoints outside the citizen blueprint (log-in at /login/citizen).
CITIZEN_SIDE |= {name for name in POLICY if name.startswith("cases_citizen.")}

# -- case-type administration (issue #6): clinic A's case types, replies and hand-outs ---
#: admin:casetype:manage; clinic B's administrator gets 404 for clinic A's unit and objects.
CASETYPE_ADMINS = {"admin"}
C2_UNIT = {"unit_id": "c2_unit_id"}
POLICY.update({
    "casetypes_admin.index": Route(staff_only(CASETYPE_ADMINS, unit_object=False)),
    "casetypes_admin.unit": Route(staff_only(CASETYPE_ADMINS, unit_object=True), C2_UNIT),
    "casetypes_admin.setting": Route(staff_only(CASETYPE_ADMINS, unit_object=True), {
        "unit_id": "c2_unit_id", "definition_id": "c2_definition_id"}),
    "casetypes_admin.replies": Route(staff_only(CASETYPE_ADMINS, unit_object=True), C2_UNIT),
    "casetypes_admin.new_reply": Route(staff_only(CASETYPE_ADMINS, unit_object=True), C2_UNIT),
    "casetypes_admin.reply": Route(staff_only(CASETYPE_ADMINS, unit_object=True), {
        "unit_id": "c2_unit_id", "reply_id": "c2_reply_id"}),
    "casetypes_admin.grants": Route(staff_only(CASETYPE_ADMINS, unit_object=True), C2_UNIT),
    # POST: a revoke (a second one is a refused redirect with a message too)
    "casetypes_admin.revoke": Route(staff_only(CASETYPE_ADMINS, unit_object=True), {
        "unit_id": "c2_unit_id", "grant_id": "c2_grant_id"}),
})
# -- saved message texts: clinic A's -------------------------------------------------------
#: admin:unit:manage; clinic B's administrator gets 404 for clinic A's unit and texts.
TEXT_ADMINS = {"admin"}
POLICY.update({
    "texts_admin.index": Route(staff_only(TEXT_ADMINS, unit_object=False)),
    "texts_admin.texts": Route(staff_only(TEXT_ADMINS, unit_object=True), {"unit_id": "unit_a"}),
    "texts_admin.new_text": Route(staff_only(TEXT_ADMINS, unit_object=True),
                                  {"unit_id": "unit_a"}),
    "texts_admin.text": Route(staff_only(TEXT_ADMINS, unit_object=True), {
        "unit_id": "unit_a", "text_id": "text_id"}),
    # POST: deletes a text of its own (an actor refused deletes nothing)
    "texts_admin.delete": Route(staff_only(TEXT_ADMINS, unit_object=True), {
        "unit_id": "unit_a", "text_id": "deleted_text_id"}),
})
# -- staff and roles: clinic A's ------------------------------------------------------------
#: admin:user:manage; clinic B's administrator gets 404 for clinic A's unit and roles.
USER_ADMINS = {"admin"}
POLICY.update({
    "staff_admin.index": Route(staff_only(USER_ADMINS, unit_object=False)),
    "staff_admin.unit": Route(staff_only(USER_ADMINS, unit_object=True), {"unit_id": "unit_a"}),
    "staff_admin.new_account": Route(staff_only(USER_ADMINS, unit_object=True),
                                     {"unit_id": "unit_a"}),
    # POST: gives an existing account a role in clinic A (once: refused actors change nothing)
    "staff_admin.grant": Route(staff_only(USER_ADMINS, unit_object=True), {"unit_id": "unit_a"},
                               data=lambda o: {"username": o.grant_username,
                                               "role": "auditor"}),
    # POST: takes away a role of clinic A made for it
    "staff_admin.revoke": Route(staff_only(USER_ADMINS, unit_object=True), {
        "unit_id": "unit_a", "assignment_id": "revoked_assignment_id"}),
})
# -- the staff case inbox (issue #6): clinic A's cases ------------------------------------
#: staff:case:read, :reply, :close; staff:case:assign is the receiver's alone. Clinic B's case
#: staff get 404 for clinic A's cases.
CASE_STAFF = {"case-receiver", "case-handler"}
C3_CASE = {"token": "c3_case_token"}
POLICY.update({
    "cases_staff.index": Route(staff_only(CASE_STAFF, unit_object=False)),
    "cases_staff.case": Route(staff_only(CASE_STAFF, unit_object=True), C3_CASE),
    "cases_staff.attachment": Route(staff_only(CASE_STAFF, unit_object=True), {
        "token": "c3_case_token", "file_token": "c3_file_token"}),
    # POST: (re)assign to the handler (the state stays "assigned"), a partial reply. The
    # route is open to the unit's case staff; the workflow refuses a handler who does not
    # hold the errand (tests/cases/test_staff_reply.py).
    "cases_staff.assign": Route(staff_only(CASE_STAFF, unit_object=True), C3_CASE,
                                data=lambda o: {"assignee": str(o.c3_handler_id)}),
    "cases_staff.reply": Route(staff_only(CASE_STAFF, unit_object=True), C3_CASE,
                               data=lambda o: {"_kind": "partial_reply",
                                               "_message": "Vi återkommer."}),
})
#: Valid measurements (a save by the reviewer of clinic A succeeds).
HEALTH_VALUES = {"visit_date": "2026-03-02", "weight_kg": "72,5", "height_cm": "168",
                 "waist_cm": "84", "systolic": "128", "diastolic": "82"}


# -- the objects and the clients -----------------------------------------------------------


@dataclass
class Objects:
    """What the URLs point at: all of clinic A and citizen A."""

    citizen_a: int
    citizen_a_name: str
    citizen_a_number: str
    send_out_id: int
    open_token: str
    message_id: int
    showcase_send_out_id: int
    answered_token: str
    cancel_token: str
    cancel_send_out_id: int
    job_id: int
    preview_token: str
    # population and cohorts (issue #7, part 3)
    population_import_id: int = 0
    population_import_digest: str = ""
    cohort_job_id: int = 0
    # health check (issue #7, part 2): an answered and measured health survey of citizen A
    health_token: str = ""
    health_send_out_id: int = 0
    unit_a: int = 0
    # the form designer (issue #4): drafts and published forms of clinic A
    design_draft_id: int = 0
    design_discard_draft_id: int = 0
    design_definition_id: str = ""
    design_version: int = 1
    design_shared_id: str = ""
    design_phq_version_id: int = 0
    design_import: bytes = b""
    # the form editor (issue #4): the operation posted to clinic A's draft
    design_op: str = "add-item"
    # the citizen's errands (issue #6): see tests/cases/support.matrix_objects
    c1_unit_id: int = 0
    c1_definition_id: str = ""
    c1_draft_token: str = ""
    c1_case_token: str = ""
    c1_file_token: str = ""
    c1_reply_token: str = ""
    c1_withdraw_token: str = ""
    # case-type administration (issue #6): see tests/casetypes/support.matrix_objects
    c2_unit_id: int = 0
    c2_definition_id: str = ""
    c2_reply_id: int = 0
    c2_grant_id: int = 0
    # saved message texts of clinic A: one to show, one to delete
    text_id: int = 0
    deleted_text_id: int = 0
    # staff and roles of clinic A: an account to give a role, a role to take away
    grant_username: str = ""
    revoked_assignment_id: int = 0
    # the staff case inbox (issue #6): citizen A's case with a file, and clinic A's handler
    c3_case_token: str = ""
    c3_file_token: str = ""
    c3_handler_id: int = 0

    def defaults(self) -> dict[str, Any]:
        """URL values by variable name."""
        return {"send_out_id": self.send_out_id, "token": self.open_token,
                "job_id": self.job_id, "message_id": self.message_id, "page": 0,
                "definition_id": "phq-9", "kind": "citizen",
                "lang": "sv", "domain": "messages", "key": "0"}


@dataclass
class Matrix:
    app: Flask
    world: s.World
    objects: Objects
    clients: dict[str, FlaskClient]

    def new_client(self, who: Who) -> FlaskClient:
        people = self.world.citizens
        if who.kind == "anonymous":
            return self.app.test_client()
        if who.name == "citizen-a":
            return s.citizen_client(self.app, people["adult"])
        if who.name == "citizen-b":
            return s.citizen_client(self.app, people["outsider"])
        if who.name == "guardian-of-a-child":
            return s.citizen_client(self.app, people["parent"], acting_for=people["child"])
        key = who.role if who.unit == "A" else f"b-{who.role}"
        return s.staff_client(self.app, self.world.staff[str(key)])

    def url(self, endpoint: str) -> str:
        route = POLICY[endpoint]
        values = self.objects.defaults()
        values.update({k: getattr(self.objects, v) for k, v in route.values.items()})
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        with self.app.test_request_context("/"):
            return url_for(endpoint, **{k: values[k] for k in rule.arguments})

    def request(self, endpoint: str, who: Who) -> Any:
        route = POLICY[endpoint]
        client = self.new_client(who) if route.fresh else self.clients[who.name]
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        url = self.url(endpoint)
        if "GET" in (rule.methods or set()):
            return client.get(url)
        data = {"csrf_token": s.fresh_csrf(client)}
        if route.data is not None:
            data.update(route.data(self.objects))
        if "_revision" in data:
            page = client.get(url)
            found = re.search(r'name="_revision" value="(\d+)"', s.body(page))
            if found:
                data["_revision"] = found.group(1)
        return client.post(url, data=data)


@pytest.fixture(scope="module")
def matrix(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    sapp = s.staff_app(database_url, tmp_path_factory.mktemp("matrix-outbox"))
    from tests.cases import support as case_support  # adds the case staff (issue #6)

    world = case_support.build_cases_world(sapp, "mx")
    people = world.citizens
    adult, other = people["adult"], people["adult2"]
    phq = s.send_out_via_service(sapp, world, "phq-9", [adult.id, other.id, people["child"].id])
    open_token = s.assignment_of(sapp, phq, adult.id).token
    with sapp.app_context():
        message_id = db.session.scalars(select(InboxMessage.id).where(
            InboxMessage.assignment_id == s.assignment_of(sapp, phq, adult.id).id)).one()
    showcase = s.send_out_via_service(sapp, world, "showcase", [adult.id])
    answered_token = s.assignment_of(sapp, showcase, adult.id).token
    form = s.CitizenForm(s.citizen_client(sapp, adult), answered_token)
    fill_showcase(form)
    assert form.submit().status_code == 302
    assert s.assignment_of(sapp, showcase, adult.id).state == "answered"
    cancel_send_out = s.send_out_via_service(sapp, world, "phq-9", [other.id])
    wizard = s.start_send_out(s.staff_client(sapp, world.staff["sender"]), world.unit_id,
                              other.personnummer)
    assert wizard.job_id is not None
    designer = s.staff_client(sapp, world.staff["designer"])
    started = designer.post("/preview/phq-9/start", data={
        "csrf_token": s.fresh_csrf(designer), "audience": "citizen"})
    assert started.status_code == 302
    preview_token = s.location(started).rstrip("/").split("/")[-2]
    objects = Objects(
        citizen_a=adult.id, citizen_a_name=adult.name, citizen_a_number=adult.personnummer,
        send_out_id=phq, open_token=open_token, message_id=message_id,
        showcase_send_out_id=showcase, answered_token=answered_token,
        cancel_token=s.assignment_of(sapp, phq, other.id).token,
        cancel_send_out_id=cancel_send_out, job_id=wizard.job_id, preview_token=preview_token)
    # population and cohorts (issue #7, part 3): an import preview and a cohort preview of A
    from tests.population import support as population

    mx_sender = s.staff_client(sapp, world.staff["sender"])
    uploaded = population.upload(mx_sender, population.csv_bytes(
        [(people["adult3"].personnummer, people["adult3"].name, "mx-a", "")]))
    assert uploaded.import_id is not None
    objects.population_import_id = uploaded.import_id
    objects.population_import_digest = population.digest_of(uploaded.html)
    objects.cohort_job_id = population.cohort_job(population.start_cohort(
        mx_sender, world.unit_id, year=2026, deadline="", reminder_days=""))
    # health check (issue #7, part 2)
    from tests.health import support as health

    objects.health_send_out_id = health.send_survey(sapp, world, [adult.id])
    objects.health_token = health.answer_survey(sapp, objects.health_send_out_id, adult.id)
    health.measure(s.staff_client(sapp, world.staff["reviewer"]), objects.health_token)
    objects.unit_a = world.unit_id
    # the form designer (issue #4)
    from tests.design import workspace_support as design

    objects.design_draft_id = design.make_draft(sapp, world, design.scored_definition("mx-d"))
    objects.design_discard_draft_id = design.make_draft(
        sapp, world, design.scored_definition("mx-discard"))
    published = design.make_draft(sapp, world, design.scored_definition("mx-published"))
    design.publish_via_service(sapp, world, published)
    shared = design.make_draft(sapp, world, design.scored_definition("mx-shared"))
    design.publish_via_service(sapp, world, shared, audience="shared")
    objects.design_definition_id, objects.design_shared_id = "mx-published", "mx-shared"
    objects.design_phq_version_id = design.versions(sapp, "phq-9")[0].id
    objects.design_import = __import__("json").dumps(
        design.scored_definition("mx-imported")).encode()
    # the citizen's errands (issue #6)
    from tests.cases import support as c1_cases

    for name, value in c1_cases.matrix_objects(sapp, world).items():
        setattr(objects, name, value)
    # case-type administration (issue #6)
    from tests.casetypes import support as c2_casetypes

    for name, value in c2_casetypes.matrix_objects(sapp, world).items():
        setattr(objects, name, value)
    # the staff case inbox (issue #6)
    staff_case_type = case_support.add_case_type(sapp, world.unit_id, "Inkorgsärende",
                                                 attachments=True)
    objects.c3_case_token = case_support.make_case(sapp, staff_case_type, adult,
                                                   files=[("intyg.pdf", case_support.PDF)])
    with sapp.app_context():
        from formular.cases import service as case_service

        found = case_service.case_by_token(db.session(), objects.c3_case_token)
        assert found is not None
        objects.c3_file_token = case_service.attachments_of(db.session(), found)[0].token
    objects.c3_handler_id = world.staff["case-handler"].id
    # saved message texts
    with sapp.app_context(), db.transaction() as session:
        kept, deleted = (SavedText(unit_id=world.unit_id, title=title, body="Hej!")
                         for title in ("Matris", "Matris att ta bort"))
        session.add_all([kept, deleted])
        session.flush()
        objects.text_id, objects.deleted_text_id = kept.id, deleted.id
        target = accounts.create_staff(session, "mx-role-target", "Rolf Rollbyte", None, [])
        held = RoleAssignment(user_id=target.id, unit_id=world.unit_id, role=Role.TRANSLATOR)
        session.add(held)
        session.flush()
        objects.revoked_assignment_id = held.id
        objects.grant_username = target.username
    built = Matrix(sapp, world, objects, {})
    built.clients = {who.name: built.new_client(who) for who in ACTORS}
    return built


# -- classifying responses -----------------------------------------------------------------

LOGIN_PATHS = ("/login", "/login/citizen")


def classify(response: Any) -> str:
    code = response.status_code
    if code == 401:
        return "login"
    if 300 <= code < 400:
        target = urlsplit(s.location(response))
        if target.netloc not in ("", "localhost"):
            return f"redirect-off-site:{s.location(response)}"
        return "login" if target.path in LOGIN_PATHS else "ok"
    if 200 <= code < 300:
        return "ok"
    return {403: "forbidden", 404: "not-found"}.get(code, f"status-{code}")


# -- the tests -----------------------------------------------------------------------------


def test_every_route_has_a_policy(app: Flask) -> None:
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert sorted(routed - set(POLICY)) == [], "routes missing from the policy table"
    assert sorted(set(POLICY) - routed) == [], "policies of routes that no longer exist"


def test_every_view_declares_a_policy(app: Flask) -> None:
    assert undeclared_endpoints(app) == []


def test_post_only_routes_are_posted(app: Flask) -> None:
    """Routes that accept GET are requested with GET; the others with POST (a rule that took
    neither would not be tested at all)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert {"GET", "POST"} & (rule.methods or set()), rule


ON_SQLITE = not __import__("os").environ.get(
    "FORMULAR_TEST_DATABASE_URL", "").startswith("postgresql")
#: Routes with a known bug, marked strict xfail until fixed (none at the moment).
KNOWN_BUGS: dict[str, pytest.MarkDecorator] = {}


@pytest.mark.parametrize("endpoint", [
    pytest.param(name, marks=[KNOWN_BUGS[name]] if name in KNOWN_BUGS else [])
    for name in POLICY])
def test_route_policy(matrix: Matrix, endpoint: str) -> None:
    objects = matrix.objects
    expected = {who.name: POLICY[endpoint].expect(who) for who in ACTORS}
    seen: dict[str, str] = {}
    for who in ACTORS:
        response = matrix.request(endpoint, who)
        outcome = classify(response)
        seen[who.name] = outcome
        if outcome != "ok" and who.name != "citizen-a":
            # A refusal shows nothing of the citizen it is about (their own pages show their
            # name in the account menu).
            text = response.get_data(as_text=True)
            assert objects.citizen_a_name not in text, (who.name, endpoint)
            assert objects.citizen_a_number not in text, (who.name, endpoint)
        if outcome == "login":
            citizen_side = endpoint.startswith("citizen.") or endpoint == "auth.act_as" \
                or endpoint in CITIZEN_SIDE
            target = urlsplit(s.location(response)).path if response.status_code != 401 \
                else "json"
            assert target in ("json", "/login/citizen" if citizen_side else "/login"), (
                who.name, endpoint, target)
    assert seen == expected, matrix.url(endpoint)
