"""Argon2id hashing: verify, refuse, upgrade old parameters, and no shortcut for unknown users."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher

from formular.auth import passwords


def test_production_parameters_are_argon2id_rfc9106() -> None:
    hasher = PasswordHasher()  # what passwords.HASHER is outside these tests
    assert hasher.type.name == "ID"
    assert hasher.memory_cost >= 64 * 1024
    assert hasher.time_cost >= 2


def test_hash_is_argon2id_with_salt() -> None:
    first = passwords.hash_password("a long enough pass phrase")
    second = passwords.hash_password("a long enough pass phrase")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time


def test_verify_accepts_the_password_and_refuses_others() -> None:
    stored = passwords.hash_password("a long enough pass phrase")
    assert passwords.verify_password(stored, "a long enough pass phrase") == (True, None)
    assert passwords.verify_password(stored, "a long enough pass phrasE") == (False, None)


def test_changed_parameters_give_a_replacement_hash() -> None:
    weak = PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    stored = passwords.hash_password("old and weak", hasher=weak)
    ok, replacement = passwords.verify_password(stored, "old and weak")
    assert ok
    assert replacement is not None
    assert replacement != stored
    assert passwords.verify_password(replacement, "old and weak") == (True, None)


@pytest.mark.parametrize("stored", [None, "", "not a hash", "$argon2id$v=19$broken"])
def test_missing_or_malformed_hash_never_matches(stored: str | None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = passwords.dummy_verify
    monkeypatch.setattr(passwords, "dummy_verify", lambda p: _spy(calls, real, p))
    assert passwords.verify_password(stored, "anything") == (False, None)
    assert calls == ["anything"]  # the same work as a real check, so timing tells nothing


def test_overlong_password_is_refused_without_hashing_it() -> None:
    with pytest.raises(ValueError, match="too long"):
        passwords.hash_password("x" * (passwords.MAX_PASSWORD_LENGTH + 1))
    stored = passwords.hash_password("short one")
    assert passwords.verify_password(stored, "x" * 5000) == (False, None)


def _spy(calls: list[str], real: Callable[[str], None], password: str) -> None:
    calls.append(password)
    real(password)
