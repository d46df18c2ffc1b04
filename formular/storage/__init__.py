"""Persistence: SQLAlchemy 2.x models, the session per request, Alembic migrations."""
