"""Checking design files and storing them as immutable definition versions.

Health-profile definitions (``designs/profiles/*.json``, listed by :func:`profile_files`) are
checked here too (:func:`check_paths`, :func:`check_profile_file`) but never stored as form
definitions: :func:`check_files`, which guards ``formular designs load``, refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.definitions.service import Problem, check, digest, read_file
from formular.i18n.extract import is_profile
from formular.profiles.loader import (
    PROFILES_FOLDER,
    ProfileInvalid,
    check_sources,
    load_profile,
    profile_files,
)
from formular.profiles.testcases import run_profile_tests
from formular.storage.models import DefinitionVersion

__all__ = ["FileReport", "VersionConflict", "check_files", "check_paths", "check_profile_document",
           "check_profile_file", "profile_files", "store"]


@dataclass(frozen=True)
class FileReport:
    path: Path
    problems: list[Problem]

    def lines(self) -> list[str]:
        return [f"{self.path}:{p.pointer or '/'}: {p.message}" for p in self.problems]


def check_files(paths: list[Path]) -> list[FileReport]:
    """Check form-definition files (a profile definition is reported as a problem: it is not
    a form and must not be stored as one)."""
    reports = []
    for path in paths:
        document, problems = read_file(path)
        if not problems and is_profile(document):
            problems = [Problem("", "not-a-form", "a health-profile definition, not a form "
                                "definition: it lives in designs/profiles/ and is not loaded "
                                "as a form")]
        elif not problems:
            problems = check(document)
        reports.append(FileReport(path, problems))
    return reports


def check_paths(paths: list[Path]) -> list[FileReport]:
    """What ``formular designs check`` reports: form definitions and profile definitions, each
    file checked as what it is."""
    reports = []
    for path in paths:
        document, problems = read_file(path)
        if not problems and is_profile(document):
            reports.append(FileReport(path, check_profile_document(document, path)))
        else:
            reports += check_files([path]) if not problems else [FileReport(path, problems)]
    return reports


def check_profile_file(path: Path) -> list[Problem]:
    document, problems = read_file(path)
    return problems or check_profile_document(document, path)


def check_profile_document(document: Any, path: Path) -> list[Problem]:
    """Schema and lint; then the file name, the id not clashing with a form definition's (the
    two share the designs translation domain, keyed by id), every source existing in the
    survey and measurement definitions it names (read from the designs folder the profiles
    folder sits in), and the profile's own test cases."""
    try:
        profile = load_profile(document)
    except ProfileInvalid as invalid:
        return list(invalid.problems)
    problems: list[Problem] = []
    if profile.id != path.stem:
        problems.append(Problem("/id", "file-name", f"the file name must be the profile id "
                                f"({profile.id}.json)"))
    designs_dir = path.parent.parent if path.parent.name == PROFILES_FOLDER else path.parent
    if (designs_dir / f"{profile.id}.json").is_file():
        problems.append(Problem("/id", "duplicate-id", f"{profile.id!r} is also the id of a "
                                "form definition; profile and form texts share one translation "
                                "domain keyed by id"))
    problems += check_sources(profile, _definition(designs_dir, profile.survey),
                              _definition(designs_dir, profile.measurements))
    return problems + run_profile_tests(profile)


def _definition(designs_dir: Path, definition_id: str) -> dict[str, Any] | None:
    path = designs_dir / f"{definition_id}.json"
    if not path.is_file():
        return None
    document, problems = read_file(path)
    return document if not problems and isinstance(document, dict) else None


class VersionConflict(Exception):
    """A stored version has other content: published versions never change."""


def store(session: Session, document: dict[str, object]) -> tuple[DefinitionVersion, bool]:
    """Store a checked definition as a version; an identical stored version is reused.

    :return: the row and whether it was new.
    :raises VersionConflict: the same id and version is stored with different content.
    """
    content_digest = digest(document)
    existing = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == document["id"],
        DefinitionVersion.version == document["version"])).first()
    if existing is not None:
        if existing.digest != content_digest:
            raise VersionConflict(
                f"{document['id']} version {document['version']} is already stored with "
                "other content; give the changed definition a new version number")
        return existing, False
    row = DefinitionVersion(definition_id=str(document["id"]), version=int(str(
        document["version"])), kind=str(document["kind"]), title=str(document["title"]),
        document=document, digest=content_digest)
    session.add(row)
    session.flush()
    return row, True
