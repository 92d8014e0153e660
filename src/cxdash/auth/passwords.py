"""Password hashing with bcrypt (the hash streamlit-authenticator checks)."""

from collections.abc import Callable

import bcrypt

from cxdash.errors import InputError

MAX_PASSWORD_BYTES = 72  # bcrypt's limit (26 CJK characters)
MIN_PASSWORD_CHARS = 10
# A real hash of a random password: checking unknown users against it costs the same time.
DUMMY_HASH = bcrypt.hashpw(b"no user has this password", bcrypt.gensalt()).decode()


def check_password_rules(password: str) -> None:
    """InputError for passwords bcrypt cannot take or that are too short."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise InputError(
            f"The password is {len(password.encode('utf-8'))} bytes long; the limit is "
            f"{MAX_PASSWORD_BYTES} bytes (about 24 Chinese characters). Choose a shorter one."
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"The password must have at least {MIN_PASSWORD_CHARS} characters.")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode()


def _bcrypt_checkpw(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode())


def verify_password(
    password: str, password_hash: str | None, *, checkpw: Callable[[str, str], bool] = _bcrypt_checkpw
) -> bool:
    """True if `password` matches; an unknown user (hash None) is checked against a dummy hash, so
    both cost one bcrypt check. `checkpw` is the bcrypt check to use (the login form's, in the app)."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    try:
        matches = checkpw(password, password_hash or DUMMY_HASH)
    except ValueError:
        return False
    return bool(matches) and password_hash is not None
