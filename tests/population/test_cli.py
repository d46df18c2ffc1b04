"""``formular population import FILE --unit CODE``: the same checks as the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from formular.population.cli import run_import
from formular.storage.db import db
from formular.storage.identity import Citizen
from tests.functional import staff_support as s

from .support import csv_bytes, free_number

WORLD_PREFIX = "popcli"


def test_import_dry_run_and_refusals(sapp: Flask, world: s.World, tmp_path: Path) -> None:
    good = free_number(sapp, dt.date(1976, 8, 8))
    file = tmp_path / "listning.csv"
    file.write_bytes(csv_bytes([(good, "Kalle Kommandorad", f"{world.label}-a", ""),
                                ("123", "Fel", f"{world.label}-a", ""),
                                (free_number(sapp, dt.date(1976, 8, 9)), "Annan",
                                 f"{world.label}-b", "")]))
    lines: list[str] = []
    assert run_import(sapp, file, f"{world.label}-a", dry_run=True, echo=lines.append) == 0
    assert any(":3: error:" in line for line in lines)
    assert any(":4: error:" in line for line in lines)
    assert "1 would be listed" in lines[-1]
    with sapp.app_context():
        assert db.session.scalar(select(Citizen.id).where(Citizen.personnummer == good)) is None

    lines.clear()
    assert run_import(sapp, file, f"{world.label}-a", echo=lines.append) == 0
    assert lines[-1].startswith("imported: 1 listed")
    with sapp.app_context():
        person = db.session.scalars(select(Citizen).where(Citizen.personnummer == good)).one()
        assert (person.name, person.listed_unit_id) == ("Kalle Kommandorad", world.unit_id)

    lines.clear()
    assert run_import(sapp, file, "no-such-unit", echo=lines.append) == 1
    broken = tmp_path / "trasig.csv"
    broken.write_bytes(b"namn;enhet\nKim;x\n")
    assert run_import(sapp, broken, f"{world.label}-a", echo=lines.append) == 1
    assert "personnummer" in lines[-1]
