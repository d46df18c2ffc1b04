"""The meta-schemas in ``schemas/``, loaded once into an immutable registry.

``$ref`` in a definition resolves only against this registry and inside the document itself:
the registry's ``retrieve`` refuses everything else, so nothing is ever fetched over the
network or read from files named by a definition.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

#: The schemas ship beside the package in a source checkout and inside it when installed.
SCHEMA_DIRS = (
    Path(__file__).resolve().parents[2] / "schemas",
    Path(__file__).resolve().parents[1] / "schemas",
)
DEFINITION_SCHEMA_ID = "urn:formular:schema:form-definition:1"


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def schema_dir() -> Path:
    for candidate in SCHEMA_DIRS:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("schemas/ not found beside the formular package")


@cache
def registry() -> Registry[Any]:
    """Every schema in ``schemas/`` keyed by its ``$id``, crawled once."""
    resources = []
    for path in sorted(schema_dir().glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry(retrieve=_refuse).with_resources(resources).crawl()  # type: ignore[call-arg]


@cache
def definition_validator() -> Validator:
    """The validator of whole definitions against ``form-definition.schema.json``."""
    schema = registry().contents(DEFINITION_SCHEMA_ID)
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def empty_registry() -> Registry[Any]:
    """A registry that resolves nothing: answer schemas may only use ``#`` references."""
    return Registry(retrieve=_refuse)  # type: ignore[call-arg]
