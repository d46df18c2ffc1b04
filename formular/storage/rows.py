"""Recording what a statement wrote on the object that stands for the row.

The hot paths write with prebuilt Core statements and then tell the object what the row now
holds, so nothing is re-selected and nothing is flushed again. The object is an ORM entity
(staff views, jobs) or a plain row dataclass (a citizen's form requests, see
``formular.sendouts.answering``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.attributes import set_committed_value


def record(target: Any, name: str, value: Any) -> None:
    """Set ``name`` on ``target`` as already stored: on an ORM entity without marking it
    changed (no UPDATE at the next flush), on a plain row as an ordinary attribute."""
    if hasattr(target, "_sa_instance_state"):
        set_committed_value(target, name, value)
    else:
        setattr(target, name, value)


def is_entity(target: Any) -> bool:
    """Whether ``target`` is an ORM entity (as opposed to a plain row dataclass)."""
    return hasattr(target, "_sa_instance_state")
