"""The demo's listed population: imported through the real import, a 1976 cohort with its
year boundaries, and left alone when run again."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select

from formular.definitions.personnummer import IdentityNumber
from formular.population.demo import LISTED, listed_number, seed_listed_population
from formular.population.service import cohort_numbers
from formular.storage.db import db
from formular.storage.identity import Citizen
from formular.storage.population import PopulationImport
from tests import factories


def test_the_demo_population_is_imported_once(app: Flask) -> None:
    numbers = [listed_number(b, d, c) for _n, b, d, _e, c in LISTED]
    assert len(set(numbers)) == len(LISTED) == 15
    for value in numbers:
        IdentityNumber(value)  # valid check digits
    born_1976 = [n for n in numbers if n.startswith("1976")]
    assert len(born_1976) >= 5
    assert any(IdentityNumber(n).is_coordination_number for n in born_1976)
    with app.app_context():
        session = db.session()
        clinic = factories.unit(session, slug="demo-listning", name="Demo-listningen")
        session.commit()
        already = set(session.scalars(select(Citizen.personnummer).where(
            Citizen.personnummer.in_(numbers))))
        listed = seed_listed_population(session, clinic)
        session.commit()
        assert listed == len(LISTED) - len(already)
        record = session.scalars(select(PopulationImport).where(
            PopulationImport.filename == "demo-listning.csv")
            .order_by(PopulationImport.id.desc())).first()
        assert record is not None
        assert (record.status, record.created_by_id) == ("applied", None)
        cohort = set(cohort_numbers(session, clinic.id, 1976))
        assert cohort == {n for n in born_1976 if n not in already}
        assert listed_number(dt.date(1975, 12, 31), 8) not in cohort
        assert listed_number(dt.date(1977, 1, 1), 7) not in cohort
        before = session.scalar(select(func.count()).select_from(PopulationImport))
        assert seed_listed_population(session, clinic) == 0
        assert session.scalar(select(func.count()).select_from(PopulationImport)) == before
