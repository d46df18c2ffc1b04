"""Deliver the e-mail outbox (the ``notification`` table) over SMTP, or to files in the demo.

Services write ``Notification`` rows in the same transaction as what caused them, so a
rolled-back request never mails anyone; this module sends them afterwards, from a job.

**Claiming is the attempt.** A batch of due rows is claimed with one ``UPDATE … RETURNING``
that adds one to ``attempts`` and stamps ``sent_at`` with the attempt's time; the same
condition that picks due rows guards the update, so two drains running at once (two workers,
or a tick and a send-out job) cannot both claim a row, and on PostgreSQL ``FOR UPDATE SKIP
LOCKED`` lets them take disjoint batches. A claimed row is not due again before its backoff
has passed, which makes the claim a lease: a worker that dies mid-batch leaves rows that are
simply retried later (at-least-once delivery; a file in the demo outbox is overwritten).

**``sent_at`` while pending** holds the time of the last attempt (it is the send time once
``status`` is ``sent``). Backoff after *n* attempts is 1, 2, 4 … minutes, at most an hour;
after :data:`MAX_ATTEMPTS` the row is ``failed``. A 5xx answer for one message fails that row
at once and a 4xx defers it; a refused connection, a time-out, a TLS or log-in failure leaves
the rest of the batch pending and stops the drain (the server, not the message, is the
problem). A line break in an address or subject fails the row (no header injection).

Without ``SMTP_HOST`` in the demo setting (or with ``MAIL_OUTBOX_DIR`` set) the mails are
written as ``.eml`` files to ``<instance>/outbox/`` so a developer can read them. Log lines
name notification ids, never addresses.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from formular.storage.base import utcnow
from formular.storage.sendouts import Notification

log = logging.getLogger(__name__)

#: After this many attempts a notification that still cannot be delivered is ``failed``.
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=1)
#: Rows claimed per batch (one SMTP connection serves many batches).
BATCH_SIZE = 100
DEFAULT_SENDER = "Formulär <no-reply@formular.invalid>"


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after ``attempts`` failed attempts before the next one."""
    if attempts <= 0:
        return dt.timedelta(0)
    return min(BACKOFF_BASE * (1 << min(attempts - 1, 30)), BACKOFF_MAX)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class MailSettings:
    """How to deliver mail: SMTP, or files in ``outbox_dir`` when there is no SMTP host."""

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = DEFAULT_SENDER
    outbox_dir: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_app(cls, app: Flask) -> MailSettings:
        """Read ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``,
        ``SMTP_STARTTLS``, ``MAIL_FROM`` and ``MAIL_OUTBOX_DIR`` (values from the environment
        arrive as text and are typed here)."""
        config = app.config
        host = str(config.get("SMTP_HOST") or "").strip() or None
        starttls = _flag(config.get("SMTP_STARTTLS", False))
        port = int(config.get("SMTP_PORT") or (587 if starttls else 25))
        outbox: Path | None = None
        if host is None and (config.get("DEMO") or config.get("MAIL_OUTBOX_DIR")):
            outbox = Path(config.get("MAIL_OUTBOX_DIR") or Path(app.instance_path) / "outbox")
        return cls(host=host, port=port, user=config.get("SMTP_USER") or None,
                   password=config.get("SMTP_PASSWORD") or None, starttls=starttls,
                   sender=str(config.get("MAIL_FROM") or DEFAULT_SENDER), outbox_dir=outbox)

    @property
    def configured(self) -> bool:
        return self.host is not None or self.outbox_dir is not None

    def delivery(self) -> Delivery:
        if self.host is not None:
            return SmtpDelivery(self)
        if self.outbox_dir is not None:
            return FileDelivery(self.outbox_dir)
        raise RuntimeError("no SMTP_HOST and no outbox folder: mail cannot be delivered")


class PermanentFailure(Exception):
    """The server refused this message for good (5xx); retrying will not help."""


class TransientFailure(Exception):
    """The server refused this message for now (4xx); try it again later."""


class ConnectionFailure(Exception):
    """The server cannot be used now (refused, time-out, log-in, TLS); stop draining."""


class Delivery(Protocol):
    def send(self, message: Message, key: str) -> None:
        """Deliver one message; raise one of the three failures above."""

    def close(self) -> None: ...


class SmtpDelivery:
    """One SMTP connection, opened on the first message and reused for the whole drain."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        assert settings.host is not None
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message, key: str) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _text in refused.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused ({codes[0]})") from refused
            raise TransientFailure(f"recipient deferred ({codes[0] if codes else '?'})") \
                from refused
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(f"message refused ({error.smtp_code})") from error
            raise TransientFailure(f"message deferred ({error.smtp_code})") from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise ConnectionFailure(type(error).__name__) from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


_announced: set[Path] = set()


class FileDelivery:
    """Writes each message to ``<folder>/notification-<id>.eml`` (the demo's outbox).

    The name is the notification's id, so delivering a row twice rewrites the same file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Message, key: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.folder not in _announced:
                _announced.add(self.folder)
                log.warning("SMTP_HOST is not set: e-mails are written to %s instead of "
                            "being sent (demo setting)", self.folder)
            target = self.folder / f"{key}.eml"
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
        except OSError as error:
            raise ConnectionFailure(f"outbox folder: {type(error).__name__}") from error

    def close(self) -> None:
        return None


@dataclass
class DrainResult:
    """What one drain did; ``more`` means it stopped for time with rows still due."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    more: bool = False
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "deferred": self.deferred,
                "more": self.more, "stopped": self.stopped}


def due(now: dt.datetime, ids: Collection[int] | None = None) -> ColumnElement[bool]:
    """Pending rows never tried, or whose backoff after the last attempt has passed."""
    waits = [Notification.attempts == 0]
    for attempts in range(1, MAX_ATTEMPTS):
        waits.append(and_(Notification.attempts == attempts,
                          or_(Notification.sent_at.is_(None),
                              Notification.sent_at <= now - backoff(attempts))))
    condition = and_(Notification.status == "pending", or_(*waits))
    if ids is not None:
        condition = and_(condition, Notification.id.in_(list(ids)))
    return condition


def has_due(session: Session, now: dt.datetime | None = None) -> bool:
    """Whether a drain would find anything to send now (cheap; for the tick)."""
    return session.scalar(select(Notification.id).where(due(now or utcnow())).limit(1)) \
        is not None


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    attempts: int


@dataclass
class _Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    stop: str | None = None


_UTF8_QP = Charset("utf-8")
_UTF8_QP.header_encoding = QP
_UTF8_QP.body_encoding = QP


def build_message(settings: MailSettings, to_address: str, subject: str, body: str,
                  key: str) -> Message:
    """A plain-text UTF-8 message (quoted-printable, so the demo's files stay readable).

    Built with the ``compat32`` classes: the modern ``EmailMessage`` makes a header class per
    header and costs three times as much, which shows at 100,000 recipients. Raises
    ``ValueError`` for a line break in the address or subject (header injection) or an
    address without ``@``.
    """
    for value in (to_address, subject):
        if "\r" in value or "\n" in value:
            raise ValueError("line break in a header")
    if "@" not in to_address or any(ch.isspace() for ch in to_address):
        raise ValueError("not an e-mail address")
    name, address = parseaddr(settings.sender)
    domain = address.rpartition("@")[2] or "localhost"
    message = MIMEText(body, "plain", _UTF8_QP)  # type: ignore[arg-type]
    message["From"] = formataddr((name, address), charset="utf-8") if name else address
    message["To"] = to_address
    message["Subject"] = Header(subject, _UTF8_QP).encode()
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(idstring=key, domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    return message


def _claim(session_factory: Callable[[], Session], now: dt.datetime, batch_size: int,
           ids: Collection[int] | None) -> list[_Claimed]:
    condition = due(now, ids)
    with session_factory() as session:
        candidates = (select(Notification.id).where(condition).order_by(Notification.id)
                      .limit(batch_size))
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        rows = session.execute(
            update(Notification)
            .where(Notification.id.in_(candidates), condition)
            .values(attempts=Notification.attempts + 1, sent_at=now)
            .returning(Notification.id, Notification.to_address, Notification.subject,
                       Notification.body, Notification.attempts)
            .execution_options(synchronize_session=False)).all()
        session.commit()
    return sorted((_Claimed(*row) for row in rows), key=lambda row: row.id)


def _deliver(delivery: Delivery, settings: MailSettings, batch: Sequence[_Claimed]) -> _Outcome:
    outcome = _Outcome()
    for position, row in enumerate(batch):
        key = f"notification-{row.id}"
        try:
            delivery.send(build_message(settings, row.to_address, row.subject, row.body, key),
                          key)
        except ValueError:
            log.error("notification %s: malformed address or subject, not sent", row.id)
            outcome.failed.append(row.id)
        except PermanentFailure as failure:
            log.warning("notification %s failed for good: %s", row.id, failure)
            outcome.failed.append(row.id)
        except TransientFailure as failure:
            log.info("notification %s deferred: %s", row.id, failure)
            outcome.deferred.append(row.id)
        except ConnectionFailure as failure:
            # The whole rest of the batch was claimed for this connection: it waits too.
            outcome.deferred.extend(r.id for r in batch[position:])
            outcome.stop = str(failure)
            break
        else:
            outcome.sent.append(row.id)
    return outcome


def _record(session_factory: Callable[[], Session], batch: Sequence[_Claimed],
            outcome: _Outcome, now: dt.datetime) -> tuple[int, int]:
    """Write the outcome; deferred rows that used their last attempt become ``failed``."""
    attempts = {row.id: row.attempts for row in batch}
    exhausted = [i for i in outcome.deferred if attempts[i] >= MAX_ATTEMPTS]
    failed = outcome.failed + exhausted
    with session_factory() as session:
        if outcome.sent:
            session.execute(update(Notification).where(Notification.id.in_(outcome.sent))
                            .values(status="sent", sent_at=now)
                            .execution_options(synchronize_session=False))
        if failed:
            session.execute(update(Notification).where(Notification.id.in_(failed))
                            .values(status="failed")
                            .execution_options(synchronize_session=False))
        session.commit()
    return len(failed), len(outcome.deferred) - len(exhausted)


def send_pending(session_factory: Callable[[], Session], settings: MailSettings, *,
                 clock: Callable[[], dt.datetime] = utcnow, batch_size: int = BATCH_SIZE,
                 ids: Collection[int] | None = None,
                 max_seconds: float | None = None) -> DrainResult:
    """Send every due notification (only those in ``ids`` when given), batch by batch.

    Stops when nothing is due, when the server cannot be used (``stopped``), or after
    ``max_seconds`` (``more``: the caller should queue another drain).
    """
    result = DrainResult()
    if not settings.configured:
        log.warning("SMTP_HOST is not set (and this is not the demo setting): "
                    "notifications stay pending until it is")
        result.stopped = "not-configured"
        return result
    delivery = settings.delivery()
    started = time.monotonic()
    try:
        while True:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                with session_factory() as session:
                    result.more = session.scalar(
                        select(Notification.id).where(due(clock(), ids)).limit(1)) is not None
                break
            batch = _claim(session_factory, clock(), batch_size, ids)
            if not batch:
                break
            outcome = _deliver(delivery, settings, batch)
            failed, deferred = _record(session_factory, batch, outcome, clock())
            result.sent += len(outcome.sent)
            result.failed += failed
            result.deferred += deferred
            if outcome.stop is not None:
                log.warning("mail delivery stopped (%s); %s notification(s) wait for a retry",
                            outcome.stop, deferred)
                result.stopped = outcome.stop
                break
    finally:
        delivery.close()
    if result.sent or result.failed:
        log.info("notifications: %s sent, %s failed, %s deferred",
                 result.sent, result.failed, result.deferred)
    return result
