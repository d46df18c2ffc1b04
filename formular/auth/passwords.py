"""Password hashing for local staff accounts: Argon2id (ASVS 11.4.2) through argon2-cffi.

The verifier is constant-time in the password (Argon2 itself plus a constant-time comparison
inside libargon2), and an unknown username still costs one full verification against a dummy
hash, so response times do not tell an attacker which usernames exist (ASVS 6.3.8). When the
hashing parameters are raised, a successful log-in returns a fresh hash to store, so old hashes
are upgraded without anybody resetting a password.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: argon2-cffi's defaults are RFC 9106's second recommended profile (Argon2id, t=3, 64 MiB, p=4).
HASHER = PasswordHasher()

#: Longer inputs are refused before hashing: Argon2 cost grows with the input, and nobody types
#: a kilobyte-long password.
MAX_PASSWORD_LENGTH = 1024


def _current(hasher: PasswordHasher | None) -> PasswordHasher:
    # Looked up at call time, so tests can swap in cheap parameters for speed.
    return hasher if hasher is not None else HASHER


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """The Argon2id hash of ``password``, in PHC string form (salt and parameters included)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError("password too long")
    return _current(hasher).hash(password)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made once per hasher, lazily, so importing this module stays cheap.
    return hasher.hash(secrets.token_urlsafe(24))


def dummy_verify(password: str) -> None:
    """Spend the time of one real verification, for an unknown user or a passwordless account."""
    hasher = _current(None)
    try:
        hasher.verify(_dummy_hash(hasher), password[:MAX_PASSWORD_LENGTH])
    except VerificationError:
        pass


def verify_password(stored_hash: str | None, password: str,
                    hasher: PasswordHasher | None = None) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored_hash``, and a replacement hash when the stored one
    was made with other parameters than ``hasher``'s (else None).

    A missing or malformed stored hash never matches but still takes the time of a real check.
    """
    hasher = _current(hasher)
    if stored_hash is None or len(password) > MAX_PASSWORD_LENGTH:
        dummy_verify(password)
        return False, None
    try:
        hasher.verify(stored_hash, password)
    except VerifyMismatchError:
        return False, None
    except (VerificationError, InvalidHashError):
        dummy_verify(password)
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, hasher.hash(password)
    return True, None
