"""Health profiles ("stjärnprofil"): areas whose levels are computed from a survey, its scores,
staff measurements and the subject's sex and age, by rules that are data (see
docs/profile-definition.md).

:mod:`.model` (the definition as immutable objects), :mod:`.loader` (schema, lint, sources),
:mod:`.compute` (the pure engine) and :mod:`.translate` (texts in another language) are
independent of Flask and the database except that :mod:`.translate` reads the shared ``designs``
catalogs.
"""
