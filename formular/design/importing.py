"""Checking a definition file a designer imports ("Importera mall", R-08).

An import is refused as a whole, with every reason listed and nothing saved, when the file is
not JSON (or too large, too deep, has duplicate keys), fails the meta-schema, has a ``$ref``
that leaves the document, or carries script in its texts: a ``<script>`` tag, an ``on…=``
event attribute or a ``javascript:``/``vbscript:``/``data:text/html`` link. Other HTML in a text
is kept as it is, because texts are always escaped (labels) or sanitised (Markdown) when shown.
Lint problems and failing test cases do not block the import: the draft is where they are
fixed, and publishing is refused until they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l

from formular.definitions.loader import MAX_DEFINITION_BYTES, parse_json
from formular.definitions.problems import pointer_join

from .problems import DesignProblem, problems_of, problems_of_parse

_SCRIPT = re.compile(r"<\s*/?\s*script", re.IGNORECASE)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_BAD_URL = re.compile(r"(?:javascript|vbscript)\s*:|data\s*:\s*text/html", re.IGNORECASE)

SCRIPT_MESSAGE = _l("A text contains script (a script tag, an on…= attribute or a "
                    "javascript: link)")
#: Keywords of problems that refuse an import even though the draft could hold them.
REFUSING_LINT = frozenset({"remote-ref"})


def strings_of(node: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string value of a JSON document with its pointer (iteratively)."""
    stack = [(node, pointer)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend((child, where + pointer_join(str(key))) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, f"{where}/{index}") for index, child in enumerate(value))


def has_script(text: str) -> bool:
    return bool(_SCRIPT.search(text) or _HANDLER.search(text) or _BAD_URL.search(text))


def script_problems(document: Any) -> list[DesignProblem]:
    from .problems import element_at

    found = [
        DesignProblem(where, str(SCRIPT_MESSAGE), "schema", element_at(document, where),
                      "script", text[:120])
        for where, text in strings_of(document) if has_script(text)
    ]
    return sorted(found, key=lambda p: p.pointer)


def check_import(data: bytes) -> tuple[dict[str, Any] | None, list[DesignProblem]]:
    """The document of an imported file and its problems.

    :return: (document, problems). The document is None when the import is refused; otherwise
        the problems are those the draft keeps (lint, test cases) for the panel.
    """
    document, parse_problems = parse_json(data, max_bytes=MAX_DEFINITION_BYTES)
    if parse_problems:
        return None, problems_of_parse(parse_problems)
    problems = problems_of(document)
    refusing = [p for p in problems if p.source == "schema" or p.keyword in REFUSING_LINT]
    refusing += script_problems(document)
    if refusing or not isinstance(document, dict):
        return None, refusing
    return document, problems
