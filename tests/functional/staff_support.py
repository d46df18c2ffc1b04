"""Helpers for the staff, citizen and audit functional tests: an app that runs background jobs
eagerly, a clinic with staff in every role and citizens of every kind, log-in shortcuts for
those people, and drivers for the send-out wizard and for a citizen filling in a form.

The send-out's fill job is queued with ``enqueue_after_commit`` on the app's Celery instance.
Under ``TESTING`` its broker is kombu's in-memory transport and no worker ever reads it, so
:func:`staff_app` builds a second app on the same database with ``CELERY_TASK_ALWAYS_EAGER``:
the task then runs in the request's after-commit hook (``formular.jobs.queue._after_commit`` →
``enqueue`` → ``apply_async`` → ``ContextTask`` inside the running app context), with its own
sessions, exactly as a worker would, and releases the send-out at once when it is due.

Every person is fictional: identity numbers come from the test series (serial 23x) and are
checked against the database before use, so modules can share the session database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular import create_app
from formular.auth import sessions
from formular.auth.clock import swedish_today
from formular.auth.permissions import Actor
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.identity import Citizen, Role, Unit
from tests import factories
from tests.auth.support import cookie_name, log_in_as_citizen

#: One eager app per database URL (``create_app`` re-initialises the shared ``db`` object, so
#: the app is made once and reused by every module).
_APPS: dict[str, Flask] = {}
_days = itertools.count(0)

ROLES = (Role.SENDER, Role.REVIEWER, Role.DESIGNER, Role.ADMIN, Role.AUDITOR)


# -- the app -------------------------------------------------------------------------------


def staff_app(database_url: str, outbox: Path) -> Flask:
    """An app on the test database whose Celery tasks run eagerly after each commit."""
    found = _APPS.get(database_url)
    if found is not None:
        return found
    application = create_app({
        "TESTING": True,
        "DEMO": True,
        "SECRET_KEY": "staff-test-secret",
        "DATABASE_URL": database_url,
        "SERVER_NAME": "localhost",
        "CELERY_TASK_ALWAYS_EAGER": True,
        "MAIL_OUTBOX_DIR": str(outbox),
    })
    _APPS[database_url] = application
    return application


# -- people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    personnummer: str = ""
    username: str = ""

    @property
    def dashed(self) -> str:
        """The number as the pages show it: YYYYMMDD-NNNN."""
        return f"{self.personnummer[:8]}-{self.personnummer[8:]}"


@dataclass
class World:
    """A region with clinic A, a separate clinic B, staff of both and citizens of every kind."""

    label: str
    region_id: int
    unit_id: int
    unit_name: str
    other_unit_id: int
    other_unit_name: str
    #: Staff of clinic A by role name, plus "other" (sender and reviewer of clinic B),
    #: "b-<role>" (one role each in clinic B) and "region-auditor".
    staff: dict[str, Person] = field(default_factory=dict)
    #: adult, adult2, adult3, protected, deceased, locked, child (under 13), parent (its
    #: guardian), orphan (under 13, no guardian), teen (14), teen_parent (the teen's guardian),
    #: outsider (an adult no send-out reaches).
    citizens: dict[str, Person] = field(default_factory=dict)

    def actor(self, role: str) -> Actor:
        """The staff member ``role`` as an :class:`Actor` (for service calls)."""
        person = self.staff[role]
        with_roles: dict[int, frozenset[Role]] = {}
        if role in ("other",):
            with_roles[self.other_unit_id] = frozenset({Role.SENDER, Role.REVIEWER})
        elif role.startswith("b-"):
            with_roles[self.other_unit_id] = frozenset({Role(role[2:])})
        elif role == "region-auditor":
            with_roles[self.region_id] = frozenset({Role.AUDITOR})
        else:
            with_roles[self.unit_id] = frozenset({Role(role)})
        return Actor(kind="staff", staff_user_id=person.id, display_name=person.name,
                     units=with_roles)


def free_personnummer(session: Any, birth: dt.date) -> str:
    """A test number for ``birth`` that no citizen in the database has yet."""
    for digit in range(10):
        number = factories.fake_personnummer(birth, sex_digit=digit)
        if session.scalar(select(Citizen.id).where(Citizen.personnummer == number)) is None:
            return number
    raise RuntimeError(f"no free test number left for {birth}")


def adult_birth() -> dt.date:
    """A birth date in the 1930s that no other test module uses."""
    return dt.date(1931, 1, 1) + dt.timedelta(days=next(_days) * 7 % 3200)


def years_ago(today: dt.date, years: int, days: int = 0) -> dt.date:
    """The date ``years`` years before ``today`` (28 February for a 29 February), minus
    ``days``."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return day - dt.timedelta(days=days)


def make_citizen(session: Any, name: str, birth: dt.date, **values: Any) -> Person:
    row = factories.citizen(session, birth, personnummer=free_personnummer(session, birth),
                            name=name, **values)
    return Person(row.id, row.name, row.personnummer)


def build_world(app: Flask, label: str) -> World:
    """Make the units, staff and citizens of one test module (names carry ``label``)."""
    today = swedish_today(utcnow())
    with app.app_context():
        session = db.session()
        region = factories.unit(session, slug=f"{label}-region", name=f"Region {label}")
        region.kind = "region"
        clinic = factories.unit(session, slug=f"{label}-a", name=f"Vårdcentralen Ängen {label}",
                                parent=region)
        other = factories.unit(session, slug=f"{label}-b", name=f"Vårdcentralen Björken {label}")
        world = World(label, region.id, clinic.id, clinic.name, other.id, other.name)

        def staff(key: str, roles: list[tuple[Unit, Role]], display: str) -> None:
            user = factories.staff(session, roles, username=f"{label}-{key}")
            user.display_name = f"{display} {label}"
            world.staff[key] = Person(user.id, user.display_name, username=user.username)

        names = {Role.SENDER: "Sanna Sändare", Role.REVIEWER: "Greta Granskare",
                 Role.DESIGNER: "Disa Designer", Role.ADMIN: "Adam Admin",
                 Role.AUDITOR: "Gustav Granskningsrevisor"}
        for role in ROLES:
            staff(role.value, [(clinic, role)], names[role])
            staff(f"b-{role.value}", [(other, role)], f"{names[role]} B")
        staff("other", [(other, Role.SENDER), (other, Role.REVIEWER)], "Olle Annanenhet")
        staff("region-auditor", [(region, Role.AUDITOR)], "Rita Regionrevisor")

        people = world.citizens
        people["adult"] = make_citizen(session, f"Anna Andersson {label}", adult_birth())
        people["adult2"] = make_citizen(session, f"Bertil Berg {label}", adult_birth())
        people["adult3"] = make_citizen(session, f"Cecilia Ceder {label}", adult_birth())
        people["outsider"] = make_citizen(session, f"Ulla Utanför {label}", adult_birth())
        people["protected"] = make_citizen(session, f"Skyddad Person {label}", adult_birth(),
                                           protected_identity=True)
        people["deceased"] = make_citizen(session, f"Döde Dahl {label}", adult_birth(),
                                          deceased=True)
        people["locked"] = make_citizen(session, f"Låst Lind {label}", adult_birth(),
                                        locked=True)
        day = next(_days) % 300
        people["child"] = make_citizen(session, f"Kalle Barnsson {label}",
                                       years_ago(today, 8, day))
        people["parent"] = make_citizen(session, f"Petra Förälder {label}", adult_birth())
        people["orphan"] = make_citizen(session, f"Ensam Barnsson {label}",
                                        years_ago(today, 9, day))
        people["teen"] = make_citizen(session, f"Tilda Tonåring {label}",
                                      years_ago(today, 14, day))
        people["teen_parent"] = make_citizen(session, f"Tore Förälder {label}", adult_birth())
        for guardian, child in (("parent", "child"), ("adult", "child"),
                                ("teen_parent", "teen")):
            factories.guardian_of(session, session.get(Citizen, people[guardian].id),
                                  session.get(Citizen, people[child].id))
        session.commit()
    return world


def add_citizen(app: Flask, name: str, birth: dt.date, guardians: Iterable[int] = (),
                **values: Any) -> Person:
    """One more citizen (with guardians), committed."""
    with app.app_context():
        session = db.session()
        person = make_citizen(session, name, birth, **values)
        for guardian_id in guardians:
            factories.guardian_of(session, session.get(Citizen, guardian_id),
                                  session.get(Citizen, person.id))
        session.commit()
    return person


# -- log-in --------------------------------------------------------------------------------


def log_in_staff(client: FlaskClient, app: Flask, person: Person) -> FlaskClient:
    """Give ``client`` a live session of an existing staff user."""
    with app.app_context(), db.transaction() as session:
        _, value = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                   staff_user_id=person.id)
    client.set_cookie(cookie_name(app), value, domain=app.config.get("SERVER_NAME") or "localhost")
    return client


def staff_client(app: Flask, person: Person) -> FlaskClient:
    return log_in_staff(app.test_client(), app, person)


def citizen_client(app: Flask, person: Person, acting_for: Person | None = None) -> FlaskClient:
    client = app.test_client()
    log_in_as_citizen(client, app, person.id, acting_for.id if acting_for else None)
    return client


# -- pages ---------------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_REVISION = re.compile(r'name="_revision" value="(\d+)"')


def csrf_of(html: str) -> str:
    found = _CSRF_INPUT.search(html) or _CSRF_META.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def fresh_csrf(client: FlaskClient) -> str:
    """A CSRF token of this client's session, from a page everybody may see."""
    return csrf_of(client.get("/logged-out").get_data(as_text=True))


def rendered(app: Flask, source: str, **values: Any) -> str:
    """``source`` rendered with the templates' own globals (``state_label``,
    ``answered_by_label``, ``access_label`` …) in Swedish, the default language: what a page
    shows, whatever the wording of the day."""
    from flask import g, render_template_string

    with app.test_request_context("/"):
        g.offered_languages = ["sv"]
        return str(render_template_string(source, **values))


def label(app: Flask, function: str, key: str) -> str:
    """One label as the templates show it, e.g. ``label(app, "state_label", "answered")``."""
    return rendered(app, f"{{{{ {function}(key) }}}}", key=key)


def location(response: Any) -> str:
    return str(response.headers.get("Location", ""))


def body(response: Any) -> str:
    return str(response.get_data(as_text=True))


# -- the send-out wizard -------------------------------------------------------------------


@dataclass
class Wizard:
    """The outcome of the wizard's first step: the preview page and its job."""

    response: Any
    job_id: int | None

    @property
    def html(self) -> str:
        return body(self.response)


def start_send_out(client: FlaskClient, unit_id: int, recipients: str | Sequence[str] = "", *,
                   definition: str = "phq-9", upload: bytes | None = None,
                   filename: str = "mottagare.csv", scheduled_at: str = "",
                   deadline: str = "", reminders: Sequence[str] = (), saved_text: int = 0,
                   subject: str = "", message: str = "", notify_staff: bool = False) -> Wizard:
    """Fill in /staff/sendouts/new and follow it to the preview page (the first step)."""
    page = client.get("/staff/sendouts/new")
    assert page.status_code == 200, page.status_code
    text = recipients if isinstance(recipients, str) else "\n".join(recipients)
    data: dict[str, Any] = {
        "csrf_token": csrf_of(body(page)), "unit": str(unit_id), "definition": definition,
        "recipients": text, "scheduled_at": scheduled_at, "deadline": deadline,
        "reminders": list(reminders), "saved_text": str(saved_text), "subject": subject,
        "body": message,
    }
    if notify_staff:
        data["notify_staff"] = "y"
    if upload is not None:
        import io

        data["recipients_file"] = (io.BytesIO(upload), filename)
    response = client.post("/staff/sendouts/new", data=data,
                           content_type="multipart/form-data")
    if response.status_code != 302:
        return Wizard(response, None)
    target = location(response)
    found = re.search(r"/staff/sendouts/preview/(\d+)$", target)
    assert found, target
    return Wizard(client.get(target), int(found.group(1)))


def confirm_send_out(client: FlaskClient, job_id: int) -> Any:
    """Press "Send" on the preview page; returns the POST's response."""
    page = client.get(f"/staff/sendouts/preview/{job_id}")
    assert page.status_code == 200, page.status_code
    return client.post(f"/staff/sendouts/preview/{job_id}",
                       data={"csrf_token": csrf_of(body(page))})


def send_out_via_pages(client: FlaskClient, unit_id: int, recipients: str | Sequence[str],
                       **options: Any) -> int:
    """Run the whole wizard as a sender and return the new send-out's id (its fill job has
    run eagerly by the time this returns)."""
    wizard = start_send_out(client, unit_id, recipients, **options)
    assert wizard.job_id is not None, (wizard.response.status_code, wizard.html[:2000])
    response = confirm_send_out(client, wizard.job_id)
    assert response.status_code == 302, response.status_code
    found = re.search(r"/staff/sendouts/(\d+)$", location(response))
    assert found, location(response)
    send_out_id = int(found.group(1))
    app = client.application
    with app.app_context():
        from formular.storage.sendouts import SendOut

        status = db.session.get(SendOut, send_out_id).status  # type: ignore[union-attr]
    assert status in ("scheduled", "sent"), (
        f"the fill job did not run (send-out {send_out_id} is {status!r}); see the log of "
        "formular.jobs.queue")
    return send_out_id


def send_out_via_service(app: Flask, world: World, definition_id: str,
                         citizen_ids: Sequence[int], *, sender: str = "sender",
                         unit_id: int | None = None,
                         scheduled_at: dt.datetime | None = None,
                         deadline_at: dt.datetime | None = None,
                         expires_at: dt.datetime | None = None,
                         reminder_days_before: Sequence[int] = (),
                         subject: str = "Ett formulär från din vårdcentral",
                         message: str = "Svara gärna inom två veckor.",
                         notify_staff: bool = False) -> int:
    """A send-out made with the service functions (for definitions the wizard does not offer,
    such as the showcase), filled and released like the job does."""
    from formular.jobs.celery_app import session_factory
    from formular.sendouts import service
    from formular.sendouts.recipients import RawRow, RowVerdict
    from formular.storage.models import DefinitionVersion

    when = scheduled_at or utcnow()
    with app.app_context():
        session = db.session()
        version = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == definition_id)
            .order_by(DefinitionVersion.version.desc())).first()
        assert version is not None, definition_id
        verdicts = [RowVerdict(RawRow(n + 1, str(c)), "ok", None, c)
                    for n, c in enumerate(citizen_ids)]
        send_out, job = service.create_send_out(
            session, world.actor(sender), unit_id=unit_id or world.unit_id, version=version,
            verdicts=verdicts, scheduled_at=when, deadline_at=deadline_at,
            expires_at=expires_at, reminder_days_before=list(reminder_days_before),
            subject=subject, body=message, notify_staff_on_answer=notify_staff)
        session.commit()
        send_out_id, job_id = send_out.id, job.id
        service.insert_assignments(session_factory(app), job_id, now=utcnow())
    return send_out_id


# -- looking things up ---------------------------------------------------------------------


def assignment_of(app: Flask, send_out_id: int, citizen_id: int) -> Any:
    """The assignment of one recipient, detached from the session."""
    from formular.storage.sendouts import Assignment

    with app.app_context():
        row = db.session.scalars(select(Assignment).where(
            Assignment.send_out_id == send_out_id, Assignment.citizen_id == citizen_id)).one()
        db.session.expunge(row)
        return row


def history_of(app: Flask, assignment_id: int) -> list[tuple[str, str | None, str]]:
    """(event, to_state, actor_kind) of an assignment's history, oldest first."""
    from formular.storage.sendouts import AssignmentEvent

    with app.app_context():
        rows = db.session.execute(select(
            AssignmentEvent.event, AssignmentEvent.to_state, AssignmentEvent.actor_kind)
            .where(AssignmentEvent.assignment_id == assignment_id)
            .order_by(AssignmentEvent.at, AssignmentEvent.id)).all()
        return [(r[0], r[1], r[2]) for r in rows]


def access_rows(app: Flask, *, staff_user_id: int | None = None, action: str | None = None,
                after_id: int = 0) -> list[tuple[int, int, int, str, str | None, int | None]]:
    """(staff_user_id, unit_id, citizen_id, action, object_type, object_id) of access-log rows
    written after ``after_id``."""
    from formular.storage.audit import AccessLog

    with app.app_context():
        query = select(AccessLog.staff_user_id, AccessLog.unit_id, AccessLog.citizen_id,
                       AccessLog.action, AccessLog.object_type, AccessLog.object_id) \
            .where(AccessLog.id > after_id).order_by(AccessLog.id)
        if staff_user_id is not None:
            query = query.where(AccessLog.staff_user_id == staff_user_id)
        if action is not None:
            query = query.where(AccessLog.action == action)
        return [tuple(r) for r in db.session.execute(query).all()]  # type: ignore[misc]


def last_access_id(app: Flask) -> int:
    from sqlalchemy import func

    from formular.storage.audit import AccessLog

    with app.app_context():
        return int(db.session.scalar(select(func.max(AccessLog.id))) or 0)


# -- a citizen filling in a form -----------------------------------------------------------


class CitizenForm:
    """Fills an assignment through /forms/<token>/… as a browser without JavaScript does."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token
        self.base = f"/forms/{token}"

    def get(self, page: int) -> Any:
        return self.client.get(f"{self.base}/{page}")

    def revision(self, html: str) -> str:
        found = _REVISION.search(html)
        return found.group(1) if found else "0"

    def post(self, page: int, data: dict[str, Any], action: str = "next", **kw: Any) -> Any:
        html = body(self.get(page))
        payload = {"csrf_token": csrf_of(html), "_action": action,
                   "_revision": self.revision(html), **data}
        return self.client.post(f"{self.base}/{page}", data=payload, **kw)

    def review(self) -> Any:
        return self.client.get(f"{self.base}/review")

    def submit(self) -> Any:
        html = body(self.review())
        return self.client.post(f"{self.base}/submit", data={"csrf_token": csrf_of(html)})

    def receipt(self) -> Any:
        return self.client.get(f"{self.base}/receipt")


#: PHQ-9 answers: total 14 (moderate band) with item 9 answered (a flag).
PHQ_ANSWERS = {"phq1": "2", "phq2": "2", "phq3": "2", "phq4": "2", "phq5": "2", "phq6": "2",
               "phq7": "1", "phq8": "0", "phq9": "1"}


def answer_phq9(form: CitizenForm) -> Any:
    """Answer both PHQ-9 pages and submit; returns the submit's response."""
    first = form.post(0, PHQ_ANSWERS)
    assert first.status_code == 302, first.status_code
    second = form.post(1, {"phq10": "ganska-svart"})
    assert second.status_code == 302, second.status_code
    return form.submit()
