"""Fail closed at start-up: settings that would leave the app open are refused with how to fix them."""

from collections.abc import Mapping

MIN_SECRET_BYTES = 32
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "secret", "changeme", "change-me", "some_key", "some_cookie_name", "abcdef", "cxdash", "password"}
)
# Used only for a database that `python -m cxdash demo` generated; such a database says so on every page.
DEMO_SECRET = "cxdash demo mode: sessions of a demo database only"
HOW_TO_GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def startup_problems(*, demo: bool, secret: str, options: Mapping[str, object]) -> list[str]:
    """Everything that must be fixed before the app may serve a page (empty: fine)."""
    problems = []
    if not demo:
        if secret.strip().lower() in KNOWN_DEFAULT_SECRETS or secret == DEMO_SECRET:
            problems.append(
                "No session secret is set (or it is a known default). Set CXDASH_SESSION_SECRET to at least "
                f"{MIN_SECRET_BYTES} random bytes, e.g. from `{HOW_TO_GENERATE}`."
            )
        elif len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            problems.append(
                f"CXDASH_SESSION_SECRET is {len(secret.encode('utf-8'))} bytes; it needs at least "
                f"{MIN_SECRET_BYTES}. Generate one with `{HOW_TO_GENERATE}`."
            )
    if options.get("client.showErrorDetails") not in ("none", False):
        problems.append(
            'Set client.showErrorDetails = "none" in .streamlit/config.toml: '
            "tracebacks must not reach the browser."
        )
    if options.get("server.enableCORS") is False:
        problems.append("Set server.enableCORS = true in .streamlit/config.toml.")
    if options.get("server.enableXsrfProtection") is False:
        problems.append("Set server.enableXsrfProtection = true in .streamlit/config.toml.")
    return problems
