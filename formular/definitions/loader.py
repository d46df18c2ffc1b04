"""Reading definition documents from bytes, files and the ``designs/`` folder.

Parsing is where hostile input first arrives, so it is bounded: a size cap before parsing, a
nesting cap during it, duplicate keys and non-JSON numbers (NaN, Infinity) refused. Every
failure becomes a :class:`Problem`, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .problems import Problem

#: A definition larger than this is refused before it is parsed.
MAX_DEFINITION_BYTES = 2 * 1024 * 1024
#: Deeper nesting than this is refused (a definition is rarely deeper than 15).
MAX_DEPTH = 64


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """Nesting depth, computed iteratively so hostile depth cannot exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    return deepest


def parse_json(
    data: bytes | str, *, max_bytes: int = MAX_DEFINITION_BYTES, max_depth: int = MAX_DEPTH
) -> tuple[Any, list[Problem]]:
    """Parse a JSON document with size, depth and duplicate-key checks.

    :return: the document (None on failure) and the problems found.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        return None, [
            Problem("", "too-large", f"document is {len(raw)} bytes; the limit is {max_bytes}",
                    {"limit": max_bytes, "size": len(raw)})
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [Problem("", "encoding", f"not UTF-8 text: {error.reason}")]
    try:
        document = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant
        )
    except _DuplicateKey as error:
        return None, [Problem("", "duplicate-key", f"key {error} appears twice in one object")]
    except json.JSONDecodeError as error:
        return None, [
            Problem("", "json", f"not valid JSON: {error.msg} at line {error.lineno} "
                    f"column {error.colno}", {"line": error.lineno, "column": error.colno})
        ]
    except (ValueError, RecursionError) as error:
        return None, [Problem("", "json", f"not valid JSON: {error}")]
    if _depth(document) > max_depth:
        return None, [Problem("", "too-deep", f"nesting deeper than {max_depth} levels",
                              {"limit": max_depth})]
    return document, []


def read_file(path: Path) -> tuple[Any, list[Problem]]:
    """Read and parse one definition file (size checked before reading it whole)."""
    try:
        size = path.stat().st_size
        if size > MAX_DEFINITION_BYTES:
            return None, [Problem("", "too-large", f"file is {size} bytes; the limit is "
                                  f"{MAX_DEFINITION_BYTES}", {"limit": MAX_DEFINITION_BYTES})]
        return parse_json(path.read_bytes())
    except OSError as error:
        return None, [Problem("", "io", f"cannot read: {error.strerror}")]


def design_files(folder: Path) -> list[Path]:
    """The definition files of a designs folder, in a stable order."""
    return sorted(p for p in folder.glob("*.json") if p.is_file())
