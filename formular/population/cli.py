"""``formular population import FILE --unit CODE``: the listed-population import on the
command line, with the same reading and checks as the page.

Only rows whose listing unit is ``CODE`` are imported (rows naming another unit are reported
as errors, as on the page for a unit the importer may not import for). ``--dry-run`` prints
the report without importing. The import is recorded (without a staff member) and written to
the event log like one made on the page.

Registered on the ``formular`` command by ``formular.cli`` (``main.add_command(population)``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


@click.group()
def population() -> None:
    """The listed population (listning)."""


@population.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="The code (slug) of the listing unit.")
@click.option("--dry-run", is_flag=True, help="Check and report; import nothing.")
def import_command(file: Path, unit_code: str, dry_run: bool) -> None:
    """Import a CSV file of personnummer, name, listing unit and (optional) e-mail."""
    from formular import create_app

    app = create_app()
    sys.exit(run_import(app, file, unit_code, dry_run=dry_run, echo=click.echo))


def run_import(app: Any, file: Path, unit_code: str, *, dry_run: bool = False,
               echo: Any = print) -> int:
    """Import ``file`` for the unit ``unit_code``; returns the exit status (0 imported or
    checked, 1 the file or unit was refused)."""
    from sqlalchemy import select

    from formular.auth.clock import swedish_today
    from formular.storage.base import utcnow
    from formular.storage.db import db
    from formular.storage.identity import Unit

    from . import service
    from .csv_import import MAX_BYTES, FileProblem
    from .texts import file_problem_text, problem_text

    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit).where(Unit.slug == unit_code)).first()
        if unit is None:
            echo(f"{file}: no unit with the code {unit_code!r}")
            return 1
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        today = swedish_today(utcnow())
        try:
            record = service.stage_import(session, data=data, filename=file.name,
                                          staff_user_id=None, allowed_unit_ids=[unit.id],
                                          today=today)
        except FileProblem as problem:
            session.rollback()
            echo(f"{file}: {file_problem_text(problem)}")
            return 1
        for row in record.staged.get("report", []):
            for severity, code, other in row["problems"]:
                echo(f"{file}:{row['line']}: {severity}: {problem_text(code, other)}")
        counts = record.counts
        if dry_run:
            session.rollback()
            echo(f"checked {counts['rows']} rows: {counts['import']} would be listed at "
                 f"{unit.slug} ({counts['create']} new), {counts['error']} refused")
            return 0
        outcome = service.apply_import(session, record, digest=record.digest,
                                       allowed_unit_ids=[unit.id], today=today,
                                       actor_kind="system")
        session.commit()
        done = outcome.counts
        echo(f"imported: {done['import']} listed at {unit.slug} ({done['create']} new), "
             f"{done['error']} rows refused")
        return 0
