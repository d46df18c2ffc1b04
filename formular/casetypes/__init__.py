"""Case types (ärendetyper, issue #6): which form definitions a unit offers as e-services."""
