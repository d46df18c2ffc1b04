"""The session store without Flask: ids, hashing, idle and absolute limits, revocation."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import Flask

from formular.auth import sessions
from formular.auth.clock import utcnow
from formular.storage.db import db

from .conftest import Factory


def test_cookie_holds_256_random_bits_and_only_its_hash_is_stored(app: Flask,
                                                                    make: Factory) -> None:
    user = make.staff()
    with app.app_context(), db.transaction() as session:
        record, cookie = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                         staff_user_id=user.id)
        other, cookie2 = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                         staff_user_id=user.id)
        assert len(cookie) >= 43
        assert cookie != cookie2
        assert record.key_hash == hashlib.sha256(cookie.encode()).hexdigest()
        assert cookie not in record.key_hash


def test_resolve_touches_at_most_once_a_minute_and_times_out(app: Flask, make: Factory) -> None:
    user = make.staff()
    start = utcnow()
    with app.app_context(), db.transaction() as session:
        record, cookie = sessions.create(session, kind="staff", method="local", now=start,
                                         staff_user_id=user.id)
        seen = sessions.resolve(session, cookie, start + dt.timedelta(seconds=30), 30)
        assert seen is not None
        assert (seen.id, seen.kind, seen.staff_user_id) == (record.id, "staff", user.id)
        assert seen.owner_name
        assert seen.owner_active
        session.refresh(record)
        assert sessions.seconds_left(record, start, 30) == 1800  # not moved: under a minute
        moved = sessions.resolve(session, cookie, start + dt.timedelta(minutes=2), 30)
        assert moved is not None
        assert sessions.seconds_left(moved, start + dt.timedelta(minutes=2), 30) == 1800
        session.refresh(record)
        assert sessions.seconds_left(record, start + dt.timedelta(minutes=2), 30) == 1800
        late = start + dt.timedelta(minutes=33)
        assert sessions.resolve(session, cookie, late, 30) is None
        session.refresh(record)
        assert record.revoked_at is not None  # found timed out: revoked for good


def test_status_poll_does_not_count_as_activity(app: Flask, make: Factory) -> None:
    user = make.staff()
    start = utcnow()
    with app.app_context(), db.transaction() as session:
        record, cookie = sessions.create(session, kind="staff", method="local", now=start,
                                         staff_user_id=user.id)
        sessions.resolve(session, cookie, start + dt.timedelta(minutes=20), 30, touch=False)
        assert sessions.resolve(session, cookie, start + dt.timedelta(minutes=31), 30,
                                touch=False) is None


def test_absolute_limit_caps_an_active_session(app: Flask, make: Factory) -> None:
    user = make.staff()
    start = utcnow()
    with app.app_context(), db.transaction() as session:
        _, cookie = sessions.create(session, kind="staff", method="local", now=start,
                                    staff_user_id=user.id)
        for minutes in (20, 40, 55):
            assert sessions.resolve(session, cookie, start + dt.timedelta(minutes=minutes), 30,
                                    absolute_hours=1) is not None
        assert sessions.resolve(session, cookie, start + dt.timedelta(minutes=61), 30,
                                absolute_hours=1) is None


def test_unknown_and_garbage_cookies_resolve_to_none(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        assert sessions.resolve(session, "no-such-session", utcnow(), 30) is None
        assert sessions.resolve(session, "x" * 5000, utcnow(), 30) is None
        assert sessions.resolve(session, "", utcnow(), 30) is None


def test_revoke_all_for_staff_ends_every_live_session(app: Flask, make: Factory) -> None:
    user = make.staff()
    now = utcnow()
    with app.app_context(), db.transaction() as session:
        cookies = [sessions.create(session, kind="staff", method="local", now=now,
                                   staff_user_id=user.id)[1] for _ in range(3)]
        assert sessions.revoke_all_for_staff(session, user.id, now) == 3
        assert all(sessions.resolve(session, cookie, now, 30) is None for cookie in cookies)
