"""Compiled definition + answers + language → HTML forms; posted data → typed answers.

WTForms does coercion and CSRF; the HTML comes from one Jinja2 macro per widget (WTForms' own
widget rendering costs about four times a macro). The JSON Schema stays the authority on what
is valid: this package only turns text into typed values and back.
"""
