"""Translations: compiling and checking the gettext catalogs in ``translations/``."""
