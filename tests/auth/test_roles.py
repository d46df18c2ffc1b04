"""The role changes behind ``/admin/staff`` when two administrators act at once: the
database's unique constraints decide, the loser gets the same refusal as a second try, and
the rest of its transaction is kept (the insert ran in a savepoint)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formular.auth import accounts, roles
from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment


def _racing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pre-checks miss what is stored, as a concurrent request's would."""
    monkeypatch.setattr(session, "scalar", lambda *args, **kwargs: None)


def test_a_role_given_twice_at_once_is_refused_not_an_error(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    slug, name = f"vc-{uuid.uuid4().hex[:6]}", f"racer-{uuid.uuid4().hex[:6]}"
    with app.app_context(), db.transaction() as session:
        unit = accounts.ensure_unit(session, slug, "Vårdcentralen Kapplöpning")
        user = accounts.create_staff(session, name, "Rut Race", None, [(slug, Role.SENDER)])
        with monkeypatch.context() as racing:
            _racing(session, racing)
            with pytest.raises(roles.RoleChangeRefused) as refused:
                roles.grant(session, unit_id=unit.id, username=name, role=Role.SENDER,
                            by=None)
        assert refused.value.reason == "held-already"
        assert session.scalar(select(func.count()).select_from(RoleAssignment).where(
            RoleAssignment.user_id == user.id)) == 1
    with app.app_context():
        assert accounts.staff_by_username(db.session(), name) is not None  # kept


def test_an_account_added_twice_at_once_is_refused_not_an_error(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    slug, name = f"vc-{uuid.uuid4().hex[:6]}", f"twin-{uuid.uuid4().hex[:6]}"
    with app.app_context(), db.transaction() as session:
        unit = accounts.ensure_unit(session, slug, "Vårdcentralen Tvilling")
        roles.add_account(session, unit_id=unit.id, unit_slug=slug, username=name,
                          display_name="Tea Tvilling", email=None, oidc_subject=f"hsa-{name}",
                          role=Role.SENDER, by=None)
        with monkeypatch.context() as racing:
            _racing(session, racing)
            racing.setattr(accounts, "staff_by_username", lambda *args: None)
            with pytest.raises(roles.RoleChangeRefused) as refused:
                roles.add_account(session, unit_id=unit.id, unit_slug=slug, username=name,
                                  display_name="Tea Tvilling", email=None,
                                  oidc_subject=f"hsa-{name}", role=Role.SENDER, by=None)
        assert refused.value.reason == "username-taken"
        assert accounts.staff_by_username(session, name) is not None
