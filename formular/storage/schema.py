"""Imports every model module, so the mappers and Alembic see the whole schema."""

from __future__ import annotations

from . import (
    audit,
    cases,
    casetypes,
    design,
    health,
    identity,
    models,
    population,
    sendouts,
    sessions,
    translations,
)
from .base import Base

__all__ = ["Base", "audit", "cases", "casetypes", "design", "health", "identity", "models",
           "population", "sendouts", "sessions", "translations"]
