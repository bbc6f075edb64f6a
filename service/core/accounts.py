"""Accounts: argon2id password hashes and the password rules, for the API and the command line."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" for an online attack with limits
_hasher = PasswordHasher()  # argon2id, the library's recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, email: str | None = None) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 128:
        problems.append("must be at most 128 characters")
    if len(set(password)) < 4:
        problems.append("must not repeat so few characters")
    if email and password.lower() == email.lower():
        problems.append("must not be the email address")
    if not problems:
        # Length is not strength: "password12" passes every rule above. zxcvbn knows the common
        # passwords (its frequency lists ship with it), keyboard walks, dates, l33t and the email.
        guess = zxcvbn(password, user_inputs=[email] if email else [])
        if guess["score"] < MIN_STRENGTH:
            hint = guess["feedback"]["warning"] or "it is easy to guess"
            problems.append(f"is too easy to guess ({hint.rstrip('.')}): try a few uncommon words")
    return problems
