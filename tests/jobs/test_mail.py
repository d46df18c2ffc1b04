"""The e-mail outbox against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, insert, select

from formular.jobs.celery_app import session_factory
from formular.notify import mail
from formular.sendouts import service
from formular.storage.base import utcnow
from formular.storage.sendouts import Notification
from tests.conftest import DESIGNS

from .helpers import Clinic, SendOutMaker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """Collects what the server accepted; refuses recipients listed in ``refuse``."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]) == address]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _notifications(app: Flask, *addresses: str, attempts: int = 0,
                   last_attempt: dt.datetime | None = None) -> list[int]:
    now = utcnow()
    with session_factory(app)() as session:
        ids = list(session.scalars(insert(Notification).returning(Notification.id), [
            {"to_address": address, "subject": "Nytt meddelande / New message",
             "body": "Logga in för att läsa det.\n", "status": "pending", "attempts": attempts,
             "sent_at": last_attempt, "created_at": now} for address in addresses]))
        session.commit()
    return ids


def _rows(app: Flask, ids: list[int]) -> dict[int, tuple[str, int, dt.datetime | None]]:
    with session_factory(app)() as session:
        return {row.id: (row.status, row.attempts, row.sent_at) for row in session.execute(
            select(Notification.id, Notification.status, Notification.attempts,
                   Notification.sent_at).where(Notification.id.in_(ids)))}


def _texts(node: Any) -> Iterator[str]:
    """Every human text in a definition: titles, labels, texts, descriptions, options."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("title", "label", "text", "description", "hint") and isinstance(
                    value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def test_phq9_send_out_mails_arrive_without_health_information(
        app: Flask, clinic: Clinic, make_send_out: SendOutMaker,
        smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    subject, body = "PHQ-9 om nedstämdhet", "Fyll i PHQ-9: frågor om nedstämdhet och sömn."
    send_out, job = make_send_out(3, scheduled_at=utcnow() - dt.timedelta(minutes=1),
                                  subject=subject, body=body)
    factory = session_factory(app)
    with factory() as session:
        before = session.scalar(select(func.max(Notification.id))) or 0
    service.insert_assignments(factory, job)  # due already: released, e-mails queued
    addresses = [clinic.emails[c] for c in clinic.citizen_ids[:3]]
    with factory() as session:
        ids = list(session.scalars(select(Notification.id).where(
            Notification.id > before, Notification.to_address.in_(addresses))))
    assert len(ids) == 3

    result = mail.send_pending(factory, mail.MailSettings(host="127.0.0.1", port=port),
                               ids=ids)

    assert (result.sent, result.failed, result.deferred, result.stopped) == (3, 0, 0, None)
    assert {str(m["To"]) for m in box.messages} == set(addresses)
    assert all(status == "sent" and attempts == 1 for status, attempts, _ in
               _rows(app, ids).values())
    phq9 = json.loads((DESIGNS / "phq-9.json").read_text(encoding="utf-8"))
    forbidden = {text for text in _texts(phq9) if len(text) >= 6}
    forbidden |= {"PHQ", "phq", "nedstämdhet", "depress", subject, body}
    assert len(forbidden) > 20
    for message in box.messages:
        content = message.get_content()
        assert isinstance(content, str)
        everything = f"{message['Subject']}\n{content}"
        leaked = sorted(text for text in forbidden if text in everything)
        assert not leaked, f"health information in the e-mail: {leaked}"
        assert message["Auto-Submitted"] == "auto-generated"


def test_refused_connection_counts_the_attempt_and_keeps_mail_pending(
        app: Flask, smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    ids = _notifications(app, "refused1@example.org", "refused2@example.org")
    closed = mail.MailSettings(host="127.0.0.1", port=free_port(), timeout=5)
    factory = session_factory(app)
    first_try = utcnow()

    result = mail.send_pending(factory, closed, ids=ids, clock=lambda: first_try)

    assert (result.sent, result.deferred) == (0, 2)
    assert result.stopped == "ConnectionRefusedError"
    rows = _rows(app, ids)
    assert [(status, attempts) for status, attempts, _ in rows.values()] == [("pending", 1)] * 2
    # Not due again before the backoff has passed (so a second drain does not hammer) ...
    assert mail.send_pending(factory, mail.MailSettings(host="127.0.0.1", port=port),
                             ids=ids, clock=lambda: first_try + dt.timedelta(seconds=30)).sent == 0
    # ... and sent once it has, to the server that is up now.
    later = first_try + mail.backoff(1) + dt.timedelta(seconds=1)
    result = mail.send_pending(factory, mail.MailSettings(host="127.0.0.1", port=port),
                               ids=ids, clock=lambda: later)
    assert result.sent == 2
    assert [(status, attempts) for status, attempts, _ in _rows(app, ids).values()] == [
        ("sent", 2)] * 2
    assert len(box.to("refused1@example.org")) == 1


def test_a_5xx_for_one_recipient_fails_that_row_only(
        app: Flask, smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    box.refuse["nobody@example.org"] = "550 5.1.1 No such user"
    box.refuse["full@example.org"] = "452 4.2.2 Mailbox full"
    ids = _notifications(app, "nobody@example.org", "full@example.org", "fine@example.org")

    result = mail.send_pending(session_factory(app),
                               mail.MailSettings(host="127.0.0.1", port=port), ids=ids)

    assert (result.sent, result.failed, result.deferred) == (1, 1, 1)
    rows = _rows(app, ids)
    assert [rows[i][0] for i in ids] == ["failed", "pending", "sent"]
    assert [m["To"] for m in box.messages] == ["fine@example.org"]


def test_the_last_attempt_fails_for_good(app: Flask) -> None:
    long_ago = utcnow() - dt.timedelta(days=1)
    ids = _notifications(app, "tired@example.org", attempts=mail.MAX_ATTEMPTS - 1,
                         last_attempt=long_ago)
    closed = mail.MailSettings(host="127.0.0.1", port=free_port(), timeout=5)

    result = mail.send_pending(session_factory(app), closed, ids=ids)

    assert result.failed == 1
    assert _rows(app, ids)[ids[0]][:2] == ("failed", mail.MAX_ATTEMPTS)


def test_a_claimed_row_is_not_claimed_twice(app: Flask) -> None:
    """The claim is the lease: a second drain running at the same moment finds nothing."""
    ids = _notifications(app, "once@example.org")
    factory = session_factory(app)
    now = utcnow()
    first = mail._claim(factory, now, 10, ids)
    second = mail._claim(factory, now, 10, ids)
    assert [row.id for row in first] == ids
    assert second == []


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [mail.backoff(n).total_seconds() for n in range(0, 9)] == [
        0, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_without_smtp_host_the_demo_writes_eml_files(app: Flask, tmp_path: Path) -> None:
    demo = Flask("demo", instance_path=str(tmp_path))
    demo.config.update(DEMO=True)
    settings = mail.MailSettings.from_app(demo)
    assert settings.host is None
    assert settings.outbox_dir == tmp_path / "outbox"
    production = Flask("production", instance_path=str(tmp_path))
    assert not mail.MailSettings.from_app(production).configured
    ids = _notifications(app, "demo@example.org")

    result = mail.send_pending(session_factory(app), settings, ids=ids)

    assert result.sent == 1
    written = (tmp_path / "outbox" / f"notification-{ids[0]}.eml").read_bytes()
    message = email.message_from_bytes(written, policy=policy.default)
    assert message["To"] == "demo@example.org"
    assert _rows(app, ids)[ids[0]][:2] == ("sent", 1)


def test_settings_from_the_environment_are_typed(tmp_path: Path) -> None:
    app = Flask("smtp", instance_path=str(tmp_path))
    app.config.update(SMTP_HOST="mail.example.org", SMTP_PORT="2525", SMTP_STARTTLS="yes",
                      SMTP_USER="formular", SMTP_PASSWORD="secret", MAIL_FROM="a@b.example")
    settings = mail.MailSettings.from_app(app)
    assert (settings.host, settings.port, settings.starttls, settings.user) == (
        "mail.example.org", 2525, True, "formular")
    assert mail.MailSettings.from_app(Flask("tls", instance_path=str(tmp_path))).port == 25


def test_not_configured_leaves_everything_pending(app: Flask) -> None:
    ids = _notifications(app, "later@example.org")
    result = mail.send_pending(session_factory(app), mail.MailSettings(), ids=ids)
    assert result.stopped == "not-configured"
    assert _rows(app, ids)[ids[0]][:2] == ("pending", 0)


def test_a_line_break_in_an_address_is_refused_not_sent(
        app: Flask, smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    ids = _notifications(app, "evil@example.org\r\nBcc: many@example.org", "ok@example.org")

    result = mail.send_pending(session_factory(app),
                               mail.MailSettings(host="127.0.0.1", port=port), ids=ids)

    assert (result.sent, result.failed) == (1, 1)
    assert [m["To"] for m in box.messages] == ["ok@example.org"]
    assert _rows(app, ids)[ids[0]][0] == "failed"
