"""Identities, log-in and permissions. Permissions are checked in one place: :mod:`.permissions`."""
