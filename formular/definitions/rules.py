"""Conditions and expressions in Formulär's JSON Logic subset (server side).

PROVISIONAL: evaluation entry points only; the allowlist/caps checker and the JS twin follow.
"""

from __future__ import annotations

from typing import Any

from json_logic import jsonLogic


def evaluate(expression: Any, data: dict[str, Any]) -> Any:
    """Evaluate an expression against answer data."""
    return jsonLogic(expression, data)


def holds(condition: Any, data: dict[str, Any]) -> bool:
    """Whether a condition is true, with JSON Logic's truthiness (empty list is false)."""
    value = evaluate(condition, data)
    if isinstance(value, list):
        return len(value) > 0
    return bool(value)
