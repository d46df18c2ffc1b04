"""A view's first read, made in the same round trip as the request's log-in session lookup.

Every request that carries a log-in cookie starts with one SELECT of its session; a citizen's
form page then reads its assignment with a second. On PostgreSQL each statement is a round
trip to the server and about 0.15 ms of SQLAlchemy and driver work in the worker, several per
cent of a short survey's submission. A view can therefore declare a read it will make
(:class:`Alongside`: a prebuilt SELECT and its parameters); the session lookup joins it to its
own SELECT (``LEFT OUTER JOIN (…) ON true``, so a missing row costs nothing) and leaves the
values here, in the request's database session, for the view to :func:`take`. A view that
finds nothing left here (no cookie, another statement, other parameters) reads for itself.

The values were read in the request's transaction, before anything the request wrote; every
write on the form path is a compare-and-set, so nothing is decided on them that a concurrent
change could make wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, true
from sqlalchemy.orm import Session

from formular.lru import Lru

#: Key in ``Session.info`` of the values read alongside.
_HELD = "formular.alongside"


@dataclass(frozen=True)
class Alongside:
    """A read to make with the request's first statement: a prebuilt SELECT (its columns
    labelled so they cannot clash with the session lookup's) and its parameters."""

    statement: Select[Any]
    params: Mapping[str, Any] = field(default_factory=dict)


def joined(first: Select[Any], alongside: Select[Any]) -> tuple[Select[Any], tuple[str, ...]]:
    """``first`` with ``alongside``'s columns added by an outer join on true, and the names of
    those columns (built once per pair: both are prebuilt statements, compared by identity)."""

    def make() -> tuple[Select[Any], tuple[str, ...]]:
        inner = alongside.subquery("alongside")
        return first.add_columns(*inner.c).outerjoin(inner, true()), tuple(inner.c.keys())

    return _JOINED.get_or_make((first, alongside), make)


def stash(session: Session, alongside: Alongside, values: Mapping[str, Any]) -> None:
    """Keep what was read alongside for the view that asked for it."""
    session.info[_HELD] = (alongside.statement, dict(alongside.params), values)


def take(session: Session, statement: Select[Any], params: Mapping[str, Any]
         ) -> Mapping[str, Any] | None:
    """The values ``statement`` with ``params`` gave alongside the session lookup of this
    request, or None (then read them yourself). Taken once: a second call reads afresh."""
    held = session.info.pop(_HELD, None)
    if held is None or held[0] is not statement or held[1] != dict(params):
        return None
    values: Mapping[str, Any] = held[2]
    return values


_JOINED: Lru[tuple[Select[Any], Select[Any]], tuple[Select[Any], tuple[str, ...]]] = Lru(32)
