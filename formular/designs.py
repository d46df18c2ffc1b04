"""Checking design files and storing them as immutable definition versions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.definitions.service import Problem, check, digest, read_file
from formular.storage.models import DefinitionVersion


@dataclass(frozen=True)
class FileReport:
    path: Path
    problems: list[Problem]

    def lines(self) -> list[str]:
        return [f"{self.path}:{p.pointer or '/'}: {p.message}" for p in self.problems]


def check_files(paths: list[Path]) -> list[FileReport]:
    reports = []
    for path in paths:
        document, problems = read_file(path)
        if not problems:
            problems = check(document)
        reports.append(FileReport(path, problems))
    return reports


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
