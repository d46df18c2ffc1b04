"""Citizens submitting a 20-item form over HTTP: Formulär under gunicorn against a bare Flask app.

A closed-loop load generator (``--clients`` threads, 16 by default, each with its own
keep-alive ``http.client`` connection and cookie jar) drives two servers started by this
script, each ``gunicorn -w 2 -k sync``, as in ``/work/shared/brief/performance.md`` §1b and
its "GET page + POST 20 answers, stateful client, c16" denominator:

* **ours**: ``formular:create_app()`` as in production (``FORMULAR_DATABASE_URL``,
  ``FORMULAR_SECRET_KEY``, no demo setting). Every client is a citizen logged in with a
  server-side session (``formular.auth.sessions.create``, the cookie a real log-in gives).
  One **submission** is two requests on one of the citizen's own assignments, each a fresh
  send-out released to the citizen by the send-out service. The form's policy has
  ``"review": false`` (a short one-page survey), so its page's button sends:

  1. ``GET /forms/<token>/0``: the 20-item page (opens the assignment, creates its draft);
  2. ``POST /forms/<token>/0`` with the 20 answers, the page's CSRF token, ``_revision``,
     ``_action=send`` and ``_js=1`` (as the browser's script sends it): coerces, validates,
     stores the draft, validates the whole document, stores the submission and moves the
     assignment to "answered", answered by ``302`` to ``…/receipt``.

  (Forms with a review page add a third request, ``POST /forms/<token>/submit``; the first
  session's figures, 0.13–0.15, were of that path.)

  Redirects are not followed (the review and receipt pages are not part of a submission).
* **baseline**: a bare Flask app defined in this file. ``GET /f/<token>`` renders the same
  20 questions with bare Jinja2 (templates compiled once, the widget macros of
  ``render_validate.py``) and a CSRF-like hidden token kept in Flask's signed session cookie;
  ``POST /f/<token>`` checks the token, takes the form as a dict and inserts it as one JSON
  row with SQLAlchemy Core in its own transaction (``engine.begin()``), answered by ``302``.
  One submission is these two requests.

Each client sends exactly the same answer body to both. A response other than the expected
status and redirect target is an error: it is counted, the first few are printed, and the
script exits 1 (a benchmark full of 400s is worthless). After every run of ours the database
must hold a submission for every acknowledged one.

Timing: first an uncounted 2 s run of ours (it warms the workers up and sizes the pool of
assignments the timed runs need); then ``--repeats`` (3) runs of each, interleaved (ours and
the baseline alternate which goes first), of ``--duration`` seconds (10) each after two
warm-up submissions per client. A submission counts when it completes inside the window; its
latency is its wall time (all its requests). The figures are the median of the runs.

SQLite is a temporary file (WAL, synchronous=NORMAL: the app's own engine settings; the
baseline uses the same pragmas in a file of its own); PostgreSQL (psycopg 3 for both; the
baseline without ours' ``pool_pre_ping``) runs when ``FORMULAR_BENCH_DATABASE_URL`` or
``FORMULAR_TEST_DATABASE_URL`` is set, in a scratch database created beside it and dropped
afterwards (``--sqlite-only`` skips it; ``--postgresql-only`` skips SQLite).

``--profile N`` instead runs N submissions of ours in-process under cProfile (Flask test
client, SQLite) and prints the top functions.

Run: ``.venv/bin/python bench/submit.py [--quick] [--duration S] [--repeats R]``. A table goes
to stderr and one JSON line to stdout. Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from render_validate import (  # noqa: E402
    AGREE_5,
    BASE_TEMPLATE,
    PAGE_TEMPLATE,
    SMOKING,
    WIDGET_MACROS,
    _choice,
    _date,
    _decimal,
    _email,
    _integer,
    _options,
    _phone,
    _text,
    _textarea,
    _yes_no,
    baseline_fields,
)

Json = dict[str, Any]
SECRET_KEY = "bench-submit-" + "k" * 32
LOGIN_COOKIE = "formular_session"

# ---------------------------------------------------------------------------------------------
# The definition: 20 items on one page
# ---------------------------------------------------------------------------------------------

SECTIONS = [
    ("identity", "Personuppgifter", [
        _text("first_name", "Förnamn", autocomplete="given-name"),
        _text("last_name", "Efternamn", autocomplete="family-name"),
        _date("birth_date", "Födelsedatum", minimum="today-P120Y", maximum="today"),
        _choice("sex", "Kön", _options(("female", "Kvinna"), ("male", "Man"),
                                       ("other", "Annat"))),
        _email("email", "E-postadress"),
        _phone("phone", "Mobiltelefon"),
    ]),
    ("habits", "Levnadsvanor", [
        _choice("smoking", "Röker du?", SMOKING),
        _integer("alcohol_units", "Standardglas alkohol per vecka", 0, 100, "glas"),
        _integer("exercise_minutes", "Minuter motion per vecka", 0, 3000, "min"),
        _integer("sleep_hours", "Timmar sömn per natt", 0, 24, "h"),
    ]),
    ("measurements", "Mätvärden", [
        _integer("height", "Längd", 100, 250, "cm"),
        _decimal("weight", "Vikt", 20, 300, "kg"),
    ]),
    ("health", "Hälsa", [
        _choice("general_health", "Hur bedömer du ditt allmänna hälsotillstånd?", _options(
            ("excellent", "Utmärkt"), ("good", "Mycket gott"), ("fair", "Gott"),
            ("poor", "Någorlunda"), ("bad", "Dåligt"))),
        _yes_no("has_medication", "Tar du några läkemedel?"),
        _textarea("medication_list", "Vilka läkemedel och doser?"),
    ]),
    ("wellbeing", "Välbefinnande", [
        _choice("stress_1", "Jag har känt mig stressad.", "agree-5",
                help_text="Tänk på den senaste månaden."),
        _choice("stress_2", "Jag har kunnat koppla av.", "agree-5"),
        _choice("stress_3", "Jag har haft för mycket att göra.", "agree-5"),
        _choice("mood_1", "Jag har känt mig nedstämd.", "agree-5"),
    ]),
    ("finally", "Till sist", [
        _yes_no("consent", "Jag har läst informationen och vill skicka in svaren.", const=True),
    ]),
]

REQUIRED = ["first_name", "last_name", "birth_date", "sex", "smoking", "height", "weight",
            "general_health", "stress_1", "stress_2", "stress_3", "has_medication", "consent"]

#: The 20 answers as a browser posts them (the same body goes to ours and the baseline).
FORM_FIELDS: list[tuple[str, str]] = [
    ("first_name", "Tolvan"), ("last_name", "Tolvansson"), ("birth_date", "1970-05-05"),
    ("sex", "female"), ("email", "tolvan@exempel.se"), ("phone", "070-123 45 67"),
    ("smoking", "former"), ("alcohol_units", "5"), ("exercise_minutes", "150"),
    ("sleep_hours", "7"), ("height", "172"), ("weight", "68,5"), ("general_health", "good"),
    ("has_medication", "true"), ("medication_list", "Levaxin 50 µg dagligen"),
    ("stress_1", "3"), ("stress_2", "4"), ("stress_3", "2"), ("mood_1", "2"),
    ("consent", "true"),
]

#: What ours must store for that body.
ANSWERS: Json = {
    "first_name": "Tolvan", "last_name": "Tolvansson", "birth_date": "1970-05-05",
    "sex": "female", "email": "tolvan@exempel.se", "phone": "070-123 45 67",
    "smoking": "former", "alcohol_units": 5, "exercise_minutes": 150, "sleep_hours": 7,
    "height": 172, "weight": 68.5, "general_health": "good", "has_medication": True,
    "medication_list": "Levaxin 50 µg dagligen", "stress_1": 3, "stress_2": 4, "stress_3": 2,
    "mood_1": 2, "consent": True,
}


def build_definition() -> Json:
    properties: Json = {}
    sections = []
    for section_id, title, items in SECTIONS:
        for item, prop in items:
            properties[item["name"]] = prop
        sections.append({"id": section_id, "title": title, "items": [i for i, _ in items]})
    return {
        "formular": 1, "id": "bench-submit-20", "version": 1, "kind": "questionnaire",
        "title": "Hälsoenkät (benchmark)", "language": "sv", "languages": ["sv"],
        "option_sets": {"agree-5": AGREE_5},
        "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "type": "object", "additionalProperties": False, "required": REQUIRED,
                   "properties": properties},
        "layout": {"pages": [{"id": "all", "title": "Hälsoenkät",
                              "intro": "Frågor med * måste besvaras.", "sections": sections}]},
        "rules": [{"id": "medications", "when": {"==": [{"var": "has_medication"}, True]},
                   "show": ["medication_list"], "require": ["medication_list"]}],
        "scores": [{"id": "stress", "label": "Stresspoäng", "method": "sum",
                    "items": ["stress_1", {"name": "stress_2", "reverse": True}, "stress_3"],
                    "citizen_visible": True}],
        # Short single-page survey: the page's button sends (no review step), as in the
        # issue's "GET the form page, POST a 20-item answer" and the baseline.
        "policy": {"drafts": True, "review": False},
    }


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The baseline app (served by gunicorn: ``submit:baseline_app()``)
# ---------------------------------------------------------------------------------------------

BASELINE_URL_ENV = "BENCH_BASELINE_DATABASE_URL"


def baseline_app() -> Any:
    """A bare Flask app: a 20-question Jinja page with a CSRF-like token, one insert per POST.

    The database URL comes from ``BENCH_BASELINE_DATABASE_URL``; the table must exist.
    """
    import hmac

    import jinja2
    from flask import Flask, abort, redirect, request, session
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert
    from sqlalchemy.dialects.postgresql import JSONB

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY
    engine = bare_engine(os.environ[BASELINE_URL_ENV])
    table = baseline_table(MetaData(), JSON().with_variant(JSONB(), "postgresql"),
                           Column, DateTime, Integer, String, Table)
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"base.html": BASE_TEMPLATE, "widgets.html": WIDGET_MACROS,
                                  "page.html": PAGE_TEMPLATE}), autoescape=True)
    template = env.get_template("page.html")
    definition = build_definition()
    sections = baseline_fields(definition)
    title = definition["layout"]["pages"][0]["title"]

    @app.get("/f/<token>")
    def page(token: str) -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return template.render(page_title=title, sections=sections, values={}, errors={},
                               summary=[], action=f"/f/{token}", csrf=session["csrf"])

    @app.post("/f/<token>")
    def post(token: str) -> Any:
        expected = session.get("csrf")
        if not expected or not hmac.compare_digest(expected, request.form.get("csrf_token", "")):
            abort(400)
        answers = {k: v for k, v in request.form.items() if k[0] != "_" and k != "csrf_token"}
        with engine.begin() as connection:
            connection.execute(insert(table).values(token=token, data=answers,
                                                    created_at=dt.datetime.now(dt.UTC)))
        return redirect(f"/f/{token}/done")

    @app.get("/")
    def home() -> str:
        return "ok"

    return app


def bare_engine(url: str) -> Any:
    """A plain engine: SQLite in WAL mode with synchronous=NORMAL (as ours), PostgreSQL
    through psycopg 3 (as ours) but without ours' ``pool_pre_ping``."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def baseline_table(metadata: Any, json_type: Any, Column: Any, DateTime: Any,  # noqa: N803
                   Integer: Any, String: Any, Table: Any) -> Any:
    return Table("bench_baseline_submission", metadata,
                 Column("id", Integer, primary_key=True), Column("token", String(64)),
                 Column("data", json_type), Column("created_at", DateTime(timezone=True)))


def create_baseline_table(url: str) -> None:
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table
    from sqlalchemy.dialects.postgresql import JSONB

    from formular.storage.db import make_engine

    metadata = MetaData()
    baseline_table(metadata, JSON().with_variant(JSONB(), "postgresql"), Column, DateTime,
                   Integer, String, Table)
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


# ---------------------------------------------------------------------------------------------
# Preparing our database: a unit, a sender, citizens with log-in sessions, send-outs
# ---------------------------------------------------------------------------------------------


def personnummer(index: int) -> str:
    """A fictional 12-digit number (serial 23x, the series for testing) born in 1960–1989."""
    from formular.definitions.personnummer import luhn_check_digit

    birth = dt.date(1960, 1, 1) + dt.timedelta(days=index * 7 % 10950)
    short = birth.strftime("%y%m%d") + "23" + str(index % 10)
    return birth.strftime("%Y%m%d") + short[6:] + str(luhn_check_digit(short))


@dataclass
class World:
    """Our database, ready for clients: one citizen (and log-in cookie) per client, and each
    client's unused assignment tokens."""

    url: str
    engine: Any
    sessions: Any
    unit_id: int
    staff_id: int
    version_id: int
    citizen_ids: list[int]
    cookies: list[str]
    pools: list[list[str]] = field(default_factory=list)

    def top_up(self, per_client: int) -> None:
        """Release ``per_client`` more send-outs of the form to every client's citizen."""
        from formular.auth.permissions import Actor
        from formular.sendouts import service
        from formular.sendouts.recipients import RawRow, RowVerdict
        from formular.storage.base import utcnow
        from formular.storage.identity import Role
        from formular.storage.models import DefinitionVersion
        from formular.storage.sendouts import Assignment

        actor = Actor(kind="staff", staff_user_id=self.staff_id,
                      units={self.unit_id: frozenset({Role.SENDER})})
        verdicts = [RowVerdict(RawRow(n + 1, ""), "ok", None, citizen_id)
                    for n, citizen_id in enumerate(self.citizen_ids)]
        by_citizen = {citizen_id: n for n, citizen_id in enumerate(self.citizen_ids)}
        for _ in range(per_client):
            now = utcnow()
            with self.sessions() as session:
                version = session.get(DefinitionVersion, self.version_id)
                send_out, job = service.create_send_out(
                    session, actor, unit_id=self.unit_id, version=version, verdicts=verdicts,
                    scheduled_at=now - dt.timedelta(seconds=1), deadline_at=None,
                    expires_at=None, reminder_days_before=[], subject="Hälsoenkät",
                    body="Svara gärna.")
                session.commit()
                send_out_id, job_id = send_out.id, job.id
            service.insert_assignments(self.sessions, job_id, now=now)
            with self.sessions() as session:
                rows = session.execute(
                    Assignment.__table__.select()
                    .with_only_columns(Assignment.citizen_id, Assignment.token,
                                       Assignment.state)
                    .where(Assignment.send_out_id == send_out_id)).all()
            for citizen_id, token, state in rows:
                if state != "sent":
                    raise SystemExit(f"send-out {send_out_id} was not released: {state}")
                self.pools[by_citizen[citizen_id]].append(token)

    def wrong_answers(self) -> int:
        """Submissions whose stored answers are not :data:`ANSWERS`."""
        from sqlalchemy import select

        from formular.storage.models import Submission

        with self.sessions() as session:
            return sum(1 for answers in session.scalars(select(Submission.answers))
                       if answers != ANSWERS)

    def counts(self) -> tuple[int, int]:
        """(submissions, answered assignments) in our database."""
        from sqlalchemy import func, select

        from formular.storage.models import Submission
        from formular.storage.sendouts import Assignment

        with self.sessions() as session:
            submissions = session.scalar(select(func.count()).select_from(Submission)) or 0
            answered = session.scalar(select(func.count()).select_from(Assignment).where(
                Assignment.state == "answered")) or 0
        return int(submissions), int(answered)


def prepare(url: str, clients: int) -> World:
    from sqlalchemy.orm import sessionmaker

    from formular.auth import sessions as login
    from formular.definitions.service import check
    from formular.designs import store
    from formular.storage import migrate
    from formular.storage.base import utcnow
    from formular.storage.db import make_engine
    from formular.storage.identity import Citizen, StaffUser, Unit

    definition = build_definition()
    problems = check(definition)
    if problems:
        raise SystemExit(f"the 20-item definition has problems: {problems}")
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        version, _new = store(session, definition)
        unit = Unit(slug=f"bench-{secrets.token_hex(4)}", name="Vårdcentralen Bänk",
                    kind="clinic")
        session.add(unit)
        session.flush()
        staff = StaffUser(username=f"bench-{secrets.token_hex(4)}", display_name="Bänk")
        session.add(staff)
        people = [Citizen(personnummer=personnummer(n), name=f"Bänk Testsson {n}",
                          email=None) for n in range(clients)]
        session.add_all(people)
        session.flush()
        cookies = [login.create(session, kind="citizen", method="oidc", now=utcnow(),
                                citizen_id=person.id, assurance_level=3)[1]
                   for person in people]
        session.commit()
        world = World(url, engine, factory, unit.id, staff.id, version.id,
                      [p.id for p in people], cookies, [[] for _ in people])
    create_baseline_table(url)
    return world


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_gunicorn(name: str, app: str, env: dict[str, str], folder: Path,
                   workers: int = 2) -> Server:
    """``gunicorn -w 2 -k sync`` on a free port; returns when it answers."""
    port = free_port()
    log = folder / f"{name}-gunicorn.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORMULAR_")}
    clean.update(env)
    clean["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH)])
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=clean, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name}: gunicorn exited\n{server.log_tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{name}: gunicorn did not answer\n{server.log_tail()}")


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REVISION = re.compile(r'name="_revision" value="(\d+)"')


class Refused(Exception):
    """A response that is not what a successful submission gets."""

    def __init__(self, step: str, status: int, detail: str) -> None:
        super().__init__(f"{step}: {status} {detail}")
        self.step, self.status, self.detail = step, status, detail


class Browser:
    """One keep-alive connection and a cookie jar (what a browser tab has)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, body: str | None = None
                ) -> tuple[int, str, str]:
        """(status, Location, body text)"""
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body.encode() if body is not None else None,
                                    headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.connection.close()
        return response.status, response.headers.get("Location", ""), data.decode(
            "utf-8", "replace")

    def close(self) -> None:
        self.connection.close()


def _expect(step: str, status: int, location: str, body: str, want: int,
            location_end: str | None = None) -> None:
    if status != want or (location_end is not None and not location.split("?")[0].endswith(
            location_end)):
        detail = location or " ".join(re.sub(r"<[^>]+>", " ", body).split())[:160]
        raise Refused(step, status, detail)


def _page_tokens(step: str, html: str) -> tuple[str, str]:
    csrf, revision = CSRF.search(html), REVISION.search(html)
    if csrf is None:
        raise Refused(step, 200, "no CSRF token on the page")
    return csrf.group(1), revision.group(1) if revision else "0"


STEPS_OURS = ("get_page", "post_page")
STEPS_BASELINE = ("get_page", "post_page")


def our_submission(browser: Browser, token: str) -> list[float]:
    """GET the page, POST the 20 answers with ``send``; seconds per request."""
    marks = [time.perf_counter()]
    status, location, html = browser.request("GET", f"/forms/{token}/0")
    _expect("get_page", status, location, html, 200)
    csrf, revision = _page_tokens("get_page", html)
    marks.append(time.perf_counter())
    body = urlencode([("csrf_token", csrf), ("_revision", revision), ("_js", "1"),
                      *FORM_FIELDS, ("_action", "send")])
    status, location, html = browser.request("POST", f"/forms/{token}/0", body)
    _expect("post_page", status, location, html, 302, f"/forms/{token}/receipt")
    marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:], strict=False)]


def baseline_submission(browser: Browser, token: str) -> list[float]:
    marks = [time.perf_counter()]
    status, location, html = browser.request("GET", f"/f/{token}")
    _expect("get_page", status, location, html, 200)
    csrf, _revision = _page_tokens("get_page", html)
    marks.append(time.perf_counter())
    body = urlencode([("csrf_token", csrf), ("_revision", "0"), ("_js", "1"), *FORM_FIELDS,
                      ("_action", "next")])
    status, location, html = browser.request("POST", f"/f/{token}", body)
    _expect("post_page", status, location, html, 302, f"/f/{token}/done")
    marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:], strict=False)]


@dataclass
class Run:
    completed: int = 0
    late: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    steps: list[list[float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    exhausted: int = 0
    #: submissions answered with success (warm-up and late ones included)
    acknowledged: int = 0

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def step_percentile(self, index: int, q: float) -> float:
        return percentile([s[index] for s in self.steps], q) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def run_load(port: int, submission: Callable[[Browser, str], list[float]],
             cookies: list[dict[str, str]], tokens: list[Iterator[str]], duration: float,
             warmup: int) -> Run:
    """Closed loop: each client submits, then at once submits again, for ``duration`` s."""
    clients = len(cookies)
    run = Run()
    lock = threading.Lock()
    window: dict[str, float] = {}

    def start_clock() -> None:
        window["start"] = time.perf_counter()
        window["end"] = window["start"] + duration

    barrier = threading.Barrier(clients, action=start_clock)

    def record_error(error: BaseException) -> None:
        key = (f"{error.step} {error.status}" if isinstance(error, Refused)
               else f"{type(error).__name__}")
        with lock:
            run.errors[key] += 1
            if len(run.examples) < 8:
                run.examples.append(str(error)[:240])

    def client(index: int) -> None:
        browser = Browser(port, cookies[index])
        mine = tokens[index]
        try:
            for _ in range(warmup):
                token = next(mine, None)
                if token is None:
                    break
                try:
                    submission(browser, token)
                    with lock:
                        run.acknowledged += 1
                except (Refused, OSError, http.client.HTTPException) as error:
                    record_error(error)
            barrier.wait()
            end = window["end"]
            while time.perf_counter() < end:
                token = next(mine, None)
                if token is None:
                    with lock:
                        run.exhausted += 1
                    break
                started = time.perf_counter()
                try:
                    steps = submission(browser, token)
                except (Refused, OSError, http.client.HTTPException) as error:
                    record_error(error)
                    continue
                finished = time.perf_counter()
                with lock:
                    run.acknowledged += 1
                    if finished <= end:
                        run.completed += 1
                        run.latencies.append(finished - started)
                        run.steps.append(steps)
                    else:
                        run.late += 1
        finally:
            browser.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = duration
    return run


# ---------------------------------------------------------------------------------------------
# Measuring one database
# ---------------------------------------------------------------------------------------------


@dataclass
class Side:
    """The runs of ours or of the baseline on one database."""

    runs: list[Run] = field(default_factory=list)
    #: Runs whose errors count but whose figures do not (the calibration run).
    untimed: list[Run] = field(default_factory=list)

    def median(self, what: Callable[[Run], float]) -> float:
        return statistics.median(what(r) for r in self.runs)

    @property
    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs + self.untimed:
            total.update(run.errors)
        return total


def names(prefix: str) -> Iterator[str]:
    """Endless tokens for the baseline's URLs."""
    number = 0
    while True:
        number += 1
        yield f"{prefix}-{number}"


def measure(world: World, folder: Path, clients: int, duration: float, repeats: int,
            guess_rps: float) -> tuple[Side, Side, list[str]]:
    """Serve ours and the baseline with gunicorn and run them alternately."""
    problems: list[str] = []
    ours_env = {"FORMULAR_DATABASE_URL": world.url, "FORMULAR_SECRET_KEY": SECRET_KEY}
    base_url = world.url
    if base_url.startswith("sqlite"):
        base_url = base_url.replace("bench.sqlite", "baseline.sqlite")
        create_baseline_table(base_url)
    ours_server = start_gunicorn("ours", "formular:create_app()", ours_env, folder)
    base_server = start_gunicorn("baseline", "submit:baseline_app()",
                                 {BASELINE_URL_ENV: base_url}, folder)
    ours, baseline = Side(), Side()
    login_cookies = [{LOGIN_COOKIE: cookie} for cookie in world.cookies]
    warmup = 2
    try:
        # A short run of ours, not counted: it warms the workers up and tells how many
        # assignments the timed runs will use.
        calibration = min(2.0, duration)
        world.top_up(warmup + math.ceil(guess_rps * calibration / clients))
        tokens = [iter(list(pool)) for pool in world.pools]
        run = run_load(ours_server.port, our_submission, [dict(c) for c in login_cookies],
                       tokens, calibration, warmup)
        world.pools = [list(rest) for rest in tokens]
        rate = run.rps
        note(f"  calibration: ours {rate:.1f} submissions/s over {calibration:g} s"
             + (f"  ERRORS {dict(run.errors)}" if run.errors else ""))
        ours.untimed.append(run)
        for repeat in range(repeats):
            order = ("ours", "baseline") if repeat % 2 == 0 else ("baseline", "ours")
            for which in order:
                if which == "ours":
                    need = warmup + math.ceil(rate * 2.5 * duration / clients) + 4
                    short = max(0, need - min(len(p) for p in world.pools))
                    if short:
                        note(f"  preparing {short * clients:,} assignments …")
                        world.top_up(short)
                    before, _ = world.counts()
                    tokens = [iter(list(pool)) for pool in world.pools]
                    run = run_load(ours_server.port, our_submission,
                                   [dict(c) for c in login_cookies], tokens, duration, warmup)
                    world.pools = [list(rest) for rest in tokens]  # the unused ones
                    after, _ = world.counts()
                    if after - before != run.acknowledged:
                        problems.append(
                            f"ours: {run.acknowledged} submissions acknowledged but "
                            f"{after - before} stored")
                    if run.exhausted:
                        problems.append(f"ours: {run.exhausted} clients ran out of "
                                        "assignments (the rate is a lower bound)")
                    rate = max(rate, run.rps)
                    ours.runs.append(run)
                else:
                    prefix = secrets.token_hex(3)
                    tokens = [names(f"{prefix}-{i}") for i in range(clients)]
                    run = run_load(base_server.port, baseline_submission,
                                   [{} for _ in range(clients)], tokens, duration, warmup)
                    baseline.runs.append(run)
                note(f"  run {repeat + 1} {which:<8} {run.rps:8.1f} submissions/s  "
                     f"p50 {run.percentile(50):7.1f} ms  p99 {run.percentile(99):7.1f} ms"
                     + (f"  ERRORS {dict(run.errors)}" if run.errors else ""))
    finally:
        ours_server.stop()
        base_server.stop()
    wrong = world.wrong_answers()
    if wrong:
        problems.append(f"ours: {wrong} submissions stored other answers than were posted")
    for name, side, server in (("ours", ours, ours_server), ("baseline", baseline, base_server)):
        if side.errors:
            problems.append(f"{name}: errors {dict(side.errors)}")
            for run in side.runs + side.untimed:
                for example in run.examples:
                    note(f"  {name} error: {example}")
            tail = server.log_tail()
            if tail:
                note(f"  {name} server log (tail):\n{tail}")
    return ours, baseline, problems


def figures(ours: Side, baseline: Side) -> Json:
    result: Json = {
        "submit_rps": round(ours.median(lambda r: r.rps), 1),
        "baseline_rps": round(baseline.median(lambda r: r.rps), 1),
        "submit_p50_ms": round(ours.median(lambda r: r.percentile(50)), 1),
        "submit_p99_ms": round(ours.median(lambda r: r.percentile(99)), 1),
        "baseline_p50_ms": round(baseline.median(lambda r: r.percentile(50)), 1),
        "baseline_p99_ms": round(baseline.median(lambda r: r.percentile(99)), 1),
        "submit_rps_spread": [round(min(r.rps for r in ours.runs), 1),
                              round(max(r.rps for r in ours.runs), 1)],
        "baseline_rps_spread": [round(min(r.rps for r in baseline.runs), 1),
                                round(max(r.rps for r in baseline.runs), 1)],
        "submit_errors": sum(ours.errors.values()),
        "baseline_errors": sum(baseline.errors.values()),
    }
    result["submit_rate_ratio"] = round(result["submit_rps"] / result["baseline_rps"], 3) \
        if result["baseline_rps"] else None
    for prefix, side, steps in (("submit", ours, STEPS_OURS),
                                ("baseline", baseline, STEPS_BASELINE)):
        for index, step in enumerate(steps):
            result[f"{prefix}_{step}_p50_ms"] = round(statistics.median(
                run.step_percentile(index, 50) for run in side.runs), 1)
    return result


def report(label: str, result: Json) -> None:
    note(f"\n{label}: median of the runs")
    note(f"  {'':<40} {'subm./s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    note(f"  {'ours (GET page, POST page + send)':<40} {result['submit_rps']:>9.1f} "
         f"{result['submit_p50_ms']:>8.1f} {result['submit_p99_ms']:>8.1f} "
         f"{result['submit_errors']:>7}")
    note(f"  {'baseline (GET page, POST + 1 insert)':<40} {result['baseline_rps']:>9.1f} "
         f"{result['baseline_p50_ms']:>8.1f} {result['baseline_p99_ms']:>8.1f} "
         f"{result['baseline_errors']:>7}")
    note("  ours per request, p50 ms: " + ", ".join(
        f"{step} {result[f'submit_{step}_p50_ms']:.1f}" for step in STEPS_OURS))
    note("  baseline per request, p50 ms: " + ", ".join(
        f"{step} {result[f'baseline_{step}_p50_ms']:.1f}" for step in STEPS_BASELINE))
    ratio = result["submit_rate_ratio"]
    note(f"  rate ratio ours/baseline: {ratio if ratio is None else f'{ratio:.2f}'} "
         "(target >= 0.5)")


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


@contextmanager
def postgres_scratch(url: str) -> Iterator[str]:
    """A database of its own beside ``url`` (so the test database is left alone)."""
    from sqlalchemy import make_url, text

    from formular.storage.db import make_engine

    name = f"formular_bench_submit_{os.getpid()}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_database(url: str, folder: Path, args: argparse.Namespace) -> tuple[Json, list[str]]:
    note(f"  preparing {args.clients} citizens and their log-in sessions …")
    world = prepare(url, args.clients)
    try:
        ours, baseline, problems = measure(world, folder, args.clients, args.duration,
                                           args.repeats, args.guess_rps)
    finally:
        world.engine.dispose()
    return figures(ours, baseline), problems


# ---------------------------------------------------------------------------------------------
# Profiling ours in-process
# ---------------------------------------------------------------------------------------------


def profile(count: int) -> None:
    """N submissions through the Flask test client under cProfile; top functions to stderr."""
    import cProfile
    import io
    import pstats

    from werkzeug.datastructures import MultiDict

    from formular import create_app

    with tempfile.TemporaryDirectory(prefix="formular-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        world = prepare(url, 1)
        world.top_up(count + count // 2 + 5)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY})
        client = app.test_client()
        client.set_cookie(LOGIN_COOKIE, world.cookies[0], domain="localhost")

        def one(token: str) -> None:
            html = client.get(f"/forms/{token}/0").get_data(as_text=True)
            csrf, revision = _page_tokens("get_page", html)
            response = client.post(f"/forms/{token}/0", data=MultiDict([
                ("csrf_token", csrf), ("_revision", revision), ("_js", "1"), *FORM_FIELDS,
                ("_action", "send")]))
            assert response.headers["Location"].endswith("/receipt"), response.status_code

        pool = world.pools[0]
        for token in pool[:5]:
            one(token)
        started = time.perf_counter()
        for token in pool[5:5 + count // 2]:
            one(token)
        plain = (time.perf_counter() - started) / (count // 2)
        note(f"{count // 2} submissions in-process without the profiler: "
             f"{plain * 1000:.2f} ms each")
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for token in pool[5 + count // 2:5 + count // 2 + count]:
            one(token)
        profiler.disable()
        elapsed = time.perf_counter() - started
        note(f"{count} submissions in-process: {elapsed / count * 1000:.2f} ms each "
             "(profiler on)")
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats("cumulative").print_stats(r"/formular/", 45)
        stats.strip_dirs().sort_stats("tottime").print_stats(30)
        note(buffer.getvalue().replace(str(ROOT) + "/", ""))
        world.engine.dispose()


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="one 2 s run per side")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    only.add_argument("--postgresql-only", action="store_true", help="skip SQLite")
    parser.add_argument("--guess-rps", type=float, default=300.0,
                        help="an upper bound of our submissions/s, to prepare the assignments "
                             "of the 2 s calibration run (300)")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="profile N submissions in-process instead of benchmarking")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    if args.quick:
        args.duration, args.repeats = min(args.duration, 2.0), 1
    result: Json = {"items": 20, "clients": args.clients, "duration_s": args.duration,
                    "repeats": args.repeats, "requests_per_submission": len(STEPS_OURS),
                    "baseline_requests_per_submission": len(STEPS_BASELINE),
                    "workers": "gunicorn -w 2 -k sync"}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="formular-bench-") as folder:
        if not args.postgresql_only:
            note("SQLite (temporary file, WAL, synchronous=NORMAL)")
            url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
            figures_sqlite, found = bench_database(url, Path(folder), args)
            report("SQLite", figures_sqlite)
            result.update(figures_sqlite)
            problems += [f"sqlite: {p}" for p in found]

        pg_url = os.environ.get("FORMULAR_BENCH_DATABASE_URL") or os.environ.get(
            "FORMULAR_TEST_DATABASE_URL")
        if pg_url and pg_url.startswith("postgresql") and not args.sqlite_only:
            note("\nPostgreSQL (psycopg 3, synchronous_commit as configured)")
            with postgres_scratch(pg_url) as scratch:
                figures_pg, found = bench_database(scratch, Path(folder), args)
            report("PostgreSQL", figures_pg)
            result.update({f"{key}_pg": value for key, value in figures_pg.items()})
            problems += [f"postgresql: {p}" for p in found]
    for problem in problems:
        note(f"PROBLEM: {problem}")
    result["problems"] = problems
    print(json.dumps(result, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
