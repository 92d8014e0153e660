"""Fail closed at start-up: settings that would leave the app open are refused with how to fix them.

`python -m cxdash serve` runs these checks before Streamlit starts (and exits non-zero with the reasons
on the terminal); the app runs them again on every page as a second line of defence.
"""

import itertools
import math
import os
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARS = 10  # a random hex secret has at most 16, often 15; entropy does the rest
MIN_ENTROPY_BITS = 128
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "secret", "changeme", "change-me", "some_key", "some_cookie_name", "abcdef", "cxdash", "password"}
)
# Used only for a database that `python -m cxdash demo` generated; such a database says so on every page.
DEMO_SECRET = "cxdash demo mode: sessions of a demo database only"
HOW_TO_GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Secrets printed in documentation or examples: public, so never a secret (compared after trimming).
PUBLISHED_SECRETS = frozenset({DEMO_SECRET, HOW_TO_GENERATE, "secrets.token_urlsafe(48)"})
# The Streamlit options start-up checks.
STARTUP_OPTIONS = ("client.showErrorDetails", "server.enableCORS", "server.enableXsrfProtection")


def entropy_bits(text: str) -> float:
    """An estimate of the randomness in `text`: its length × the Shannon entropy of its characters."""
    if not text:
        return 0.0
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return per_char * len(text)


def _repeats(text: str) -> bool:
    """True if `text` is a shorter unit repeated ("abcdabcd…") or mostly a run of neighbouring
    characters ("abcdefgh…", "98765…")."""
    if len(text) >= 2 and text in (text + text)[1:-1]:
        return True
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(text)]
    return bool(steps) and sum(abs(s) <= 1 for s in steps) > len(steps) / 2


def secret_problem(secret: str) -> str | None:
    """Why `secret` may not sign sessions (None: it may). Whitespace around it does not count."""
    value = secret.strip()
    fix = f"Set CXDASH_SESSION_SECRET to a random value, e.g. from `{HOW_TO_GENERATE}`."
    if value.lower() in KNOWN_DEFAULT_SECRETS or value in PUBLISHED_SECRETS:
        return f"No session secret is set (or it is a known default or published value). {fix}"
    size = len(value.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        return f"CXDASH_SESSION_SECRET is {size} bytes; it needs at least {MIN_SECRET_BYTES}. {fix}"
    if len(set(value)) < MIN_DISTINCT_CHARS or _repeats(value) or entropy_bits(value) < MIN_ENTROPY_BITS:
        return (
            "CXDASH_SESSION_SECRET is not random enough (too few different characters, a repeated "
            f"pattern, or under about {MIN_ENTROPY_BITS} bits). {fix}"
        )
    return None


def startup_problems(*, demo: bool, secret: str, options: Mapping[str, object]) -> list[str]:
    """Everything that must be fixed before the app may serve a page (empty: fine)."""
    problems = []
    if not demo:
        problem = secret_problem(secret)
        if problem:
            problems.append(problem)
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


# Streamlit's defaults for the checked options (streamlit 1.67).
_STREAMLIT_DEFAULTS: dict[str, object] = {
    "client.showErrorDetails": "full",
    "server.enableCORS": True,
    "server.enableXsrfProtection": True,
}
# Streamlit's environment variables for them (`streamlit run` reads these like flags).
_ENV_VARS = {
    "client.showErrorDetails": "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS",
    "server.enableCORS": "STREAMLIT_SERVER_ENABLE_CORS",
    "server.enableXsrfProtection": "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION",
}
_TRUE = {"true", "1", "yes", "y", "on", "t"}
_FALSE = {"false", "0", "no", "n", "off", "f"}


def _typed(option: str, value: object) -> object:
    """A flag or variable's text as Streamlit reads it: booleans for the server options."""
    if isinstance(value, str):
        text = value.strip()
        if option != "client.showErrorDetails" or text.lower() in ("true", "false"):
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
        return text
    return value


def _flag_values(flags: Sequence[str]) -> dict[str, str]:
    """`--section.option value` and `--section.option=value` among `streamlit run` arguments."""
    values: dict[str, str] = {}
    for i, arg in enumerate(flags):
        if arg == "--":
            break  # the rest goes to the script
        name, _, inline = arg.removeprefix("--").partition("=")
        if arg.startswith("--") and name in STARTUP_OPTIONS:
            if inline or "=" in arg:
                values[name] = inline
            elif i + 1 < len(flags):
                values[name] = flags[i + 1]
    return values


def streamlit_options(
    *, config_files: Sequence[Path], env: Mapping[str, str], flags: Sequence[str]
) -> dict[str, object]:
    """The checked options as `streamlit run` will see them: its defaults, then the config files in
    order (later wins), then environment variables, then command-line flags."""
    options = dict(_STREAMLIT_DEFAULTS)
    for path in config_files:
        if not path.is_file():
            continue
        try:
            parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path} is not valid TOML ({exc}); fix it before starting.") from exc
        for option in STARTUP_OPTIONS:
            section, key = option.split(".")
            table = parsed.get(section)
            if isinstance(table, dict) and key in table:
                options[option] = table[key]
    for option, variable in _ENV_VARS.items():
        if variable in env:
            options[option] = _typed(option, env[variable])
    for option, value in _flag_values(flags).items():
        options[option] = _typed(option, value)
    return options


def streamlit_config_files(project: Path) -> list[Path]:
    """Where `streamlit run` (started in `project`) reads config.toml, in order: global, project."""
    return [Path.home() / ".streamlit" / "config.toml", project / ".streamlit" / "config.toml"]


def current_streamlit_options(project: Path, flags: Sequence[str]) -> dict[str, object]:
    """The checked options for `streamlit run` in `project` with `flags`, from this process's environment."""
    return streamlit_options(config_files=streamlit_config_files(project), env=os.environ, flags=flags)
