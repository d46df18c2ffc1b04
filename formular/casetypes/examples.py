"""The clinic-made example case types shipped in ``designs/clinic-examples/``.

They are *local* case types: a clinic's designer made them, so they belong to one unit and
are never loaded as shipped (central) definitions — ``formular designs load`` reads only the
top of ``designs/``. ``formular designs check`` checks them (see :func:`clinic_example_files`),
and the demo stores them as owned by the demo clinic (:func:`store_for_unit`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from formular.definitions.loader import design_files
from formular.definitions.service import check, read_file
from formular.storage.models import DefinitionVersion

CLINIC_EXAMPLES_FOLDER = "clinic-examples"


class ExampleError(Exception):
    """A clinic example is invalid or its id is owned by another unit."""


def clinic_example_files(designs_dir: Path) -> list[Path]:
    """The example files (none when the folder does not exist)."""
    folder = designs_dir / CLINIC_EXAMPLES_FOLDER
    return design_files(folder) if folder.is_dir() else []


def store_for_unit(session: Session, designs_dir: Path, unit_id: int) -> list[DefinitionVersion]:
    """Check and store every clinic example as a version owned by *unit_id* (an identical
    stored version is reused).

    :raises ExampleError: a file has problems, or its id is already used by another owner (a
        definition id belongs to one unit, see :mod:`formular.design.workspace`).
    """
    from formular.designs import store

    rows = []
    for path in clinic_example_files(designs_dir):
        document, problems = read_file(path)
        problems = problems or check(document)
        if problems or not isinstance(document, dict):
            raise ExampleError(f"{path}: {problems[0].pointer}: {problems[0].message}"
                               if problems else f"{path}: not a definition")
        row, new = store(session, document)
        if new:
            row.owner_unit_id = unit_id
        elif row.owner_unit_id != unit_id:
            raise ExampleError(f"{path}: {row.definition_id} is already owned by another unit")
        rows.append(row)
    session.flush()
    return rows
