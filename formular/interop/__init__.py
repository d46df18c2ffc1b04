"""Exports of submissions: CSV and Excel for many, PDF for one (see :mod:`.service`)."""
