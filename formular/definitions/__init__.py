"""The form-definition language: load, validate, lint, compile. Pure Python: no Flask, no database.

Other packages import from :mod:`formular.definitions.service` only.
"""
