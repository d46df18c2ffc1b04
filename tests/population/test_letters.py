"""Invitation letters: one PDF page per recipient who needs one, in Swedish or English, with
no personal identity number; unit staff only, written to the event and access logs."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, format_date, gettext
from sqlalchemy import func, select

from formular.storage.audit import AccessLog, EventLog
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.population import CohortInvitation
from formular.web.timezone import to_local
from tests.functional import staff_support as s
from tests.functional.support import assert_accessible, parse

from .support import make_person

pypdf = pytest.importorskip("pypdf")

WORLD_PREFIX = "letters"
DEADLINE = utcnow().replace(microsecond=0) + dt.timedelta(days=30)


@pytest.fixture(scope="module")
def send_out(sapp: Flask, world: s.World) -> dict[str, Any]:
    """A PHQ-9 send-out to: two people without e-mail, one with, one with protected identity,
    and one who has already answered (no e-mail either)."""
    people = {
        "paper1": make_person(sapp, "Papper Persson", dt.date(1976, 2, 2), email=None),
        "paper2": make_person(sapp, "Brev Bengtsson", dt.date(1976, 2, 3), email=None),
        "mail": make_person(sapp, "Mejl Månsson", dt.date(1976, 2, 4),
                            email="mejl@example.org"),
        "hidden": make_person(sapp, "Skyddad Svensson", dt.date(1976, 2, 5), email=None,
                              protected_identity=True),
        "done": make_person(sapp, "Klar Karlsson", dt.date(1976, 2, 6), email=None),
    }
    send_out_id = s.send_out_via_service(sapp, world, "phq-9", [p.id for p in people.values()],
                                         deadline_at=DEADLINE)
    token = s.assignment_of(sapp, send_out_id, people["done"].id).token
    form = s.CitizenForm(s.citizen_client(sapp, people["done"]), token)
    assert s.answer_phq9(form).status_code == 302
    return {"id": send_out_id, "people": people}


def letters_url(send_out: dict[str, Any]) -> str:
    return f"/staff/sendouts/{send_out['id']}/letters"


def post_letters(client: Any, send_out: dict[str, Any], **data: str) -> Any:
    page = client.get(letters_url(send_out))
    assert page.status_code == 200, page.status_code
    return client.post(letters_url(send_out), data={
        "csrf_token": s.csrf_of(s.body(page)), "language": "sv",
        "recipients": "without-email", "kind": "questionnaire", "contact": "", **data})


def pages_of(response: Any) -> list[str]:
    assert response.status_code == 200, s.body(response)[:1000]
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    return [page.extract_text() or "" for page in reader.pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_page_counts_the_letters(sapp: Flask, world: s.World, sender: Any,
                                     send_out: dict[str, Any]) -> None:
    page = sender.get(letters_url(send_out))
    assert page.status_code == 200
    dom = assert_accessible(s.body(page))
    labels = {n.attrs.get("for"): n.text() for n in dom.find_all("label")}
    assert "2" in labels["recipients-0"]  # paper1, paper2
    assert "3" in labels["recipients-1"]  # and mail


def test_swedish_letters_for_those_without_email(sapp: Flask, world: s.World, sender: Any,
                                                 send_out: dict[str, Any]) -> None:
    people = send_out["people"]
    events = _count(sapp, EventLog, EventLog.event == "letters.printed")
    pages = pages_of(post_letters(sender, send_out, contact="Ring 010-123 45 67, vardagar 8–10"))
    assert len(pages) == 2
    texts = [flat(t) for t in pages]
    assert people["paper2"].name in texts[0]  # sorted by name: Brev before Papper
    assert people["paper1"].name in texts[1]
    with sapp.test_request_context("/"), force_locale("sv"):
        deadline = format_date(to_local(DEADLINE).date(), "long")  # type: ignore[union-attr]
        how = gettext("How to answer")
    for person_key in ("paper1", "paper2"):
        assert all(people[person_key].personnummer not in t and
                   f"{people[person_key].personnummer[:8]}-" not in t for t in texts)
    for text in texts:
        assert world.unit_name in text
        assert flat(deadline) in text
        assert flat(how) in text
        assert "http://localhost" in text
        assert "010-123 45 67" in text
        assert "PHQ-9" in text
    joined = " ".join(texts)
    for absent in ("mail", "hidden", "done"):
        assert people[absent].name not in joined, absent
    with sapp.app_context():
        event = db.session.scalars(select(EventLog).where(
            EventLog.event == "letters.printed").order_by(EventLog.id.desc())).first()
        assert event is not None
        assert (event.unit_id, event.object_id, event.actor_id) == (
            world.unit_id, send_out["id"], world.staff["sender"].id)
        assert event.data == {"letters": 2, "language": "sv", "recipients": "without-email"}
        logged = set(db.session.scalars(select(AccessLog.citizen_id).where(
            AccessLog.object_id == send_out["id"], AccessLog.action == "sendout:list",
            AccessLog.staff_user_id == world.staff["sender"].id)))
        assert {people["paper1"].id, people["paper2"].id} <= logged
    assert _count(sapp, EventLog, EventLog.event == "letters.printed") == events + 1


def test_english_letters_for_everyone_who_has_not_answered(
        sapp: Flask, world: s.World, sender: Any, send_out: dict[str, Any]) -> None:
    people = send_out["people"]
    pages = pages_of(post_letters(sender, send_out, language="en", recipients="all",
                                  kind="health-check"))
    assert len(pages) == 3
    joined = flat(" ".join(pages))
    for key in ("paper1", "paper2", "mail"):
        assert people[key].name in joined
    assert people["hidden"].name not in joined
    assert people["done"].name not in joined
    assert "How to answer" in joined
    assert "Invitation to a health check" in joined
    assert "Dear Mejl Månsson," in joined
    assert format_date_en(DEADLINE) in joined


def format_date_en(value: dt.datetime) -> str:
    from babel.dates import format_date as babel_format_date

    local = to_local(value)
    assert local is not None
    return str(babel_format_date(local.date(), "long", locale="en"))


def test_a_cohort_letter_says_why(sapp: Flask, world: s.World, sender: Any,
                                  send_out: dict[str, Any]) -> None:
    with sapp.app_context():
        db.session.add(CohortInvitation(send_out_id=send_out["id"], unit_id=world.unit_id,
                                        year=2026, age=50))
        db.session.commit()
    page = s.body(sender.get(letters_url(send_out)))
    checked = parse(page).find(id="kind-0")
    assert checked is not None
    assert "checked" in checked.attrs, "health check by default"
    pages = pages_of(post_letters(sender, send_out, language="en", kind="health-check"))
    assert "This year you turn 50." in flat(pages[0])


def test_nothing_to_print_is_said_and_logs_nothing(sapp: Flask, world: s.World,
                                                   send_out: dict[str, Any]) -> None:
    lonely = make_person(sapp, "Med Mejl", dt.date(1976, 2, 9), email="med@example.org")
    only_mail = {"id": s.send_out_via_service(sapp, world, "phq-9", [lonely.id])}
    client = s.staff_client(sapp, world.staff["sender"])
    events = _count(sapp, EventLog, EventLog.event == "letters.printed")
    response = post_letters(client, only_mail)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_accessible(s.body(response))
    assert _count(sapp, EventLog, EventLog.event == "letters.printed") == events


def test_a_bad_choice_is_refused(sender: Any, send_out: dict[str, Any]) -> None:
    response = post_letters(sender, send_out, language="fi")
    assert response.status_code == 400
    assert_accessible(s.body(response))


def test_only_staff_of_the_unit(sapp: Flask, world: s.World, send_out: dict[str, Any]) -> None:
    url = letters_url(send_out)
    reviewer = s.staff_client(sapp, world.staff["reviewer"])
    assert reviewer.get(url).status_code == 200
    for key in ("b-sender", "b-reviewer", "other"):
        client = s.staff_client(sapp, world.staff[key])
        assert client.get(url).status_code == 404, key
        posted = client.post(url, data={"csrf_token": s.fresh_csrf(client), "language": "sv",
                                        "recipients": "all", "kind": "questionnaire"})
        assert posted.status_code == 404, key
    for key in ("designer", "admin", "auditor"):
        client = s.staff_client(sapp, world.staff[key])
        assert client.get(url).status_code == 403, key
    citizen = s.citizen_client(sapp, send_out["people"]["paper1"])
    assert citizen.get(url).status_code == 403


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)
