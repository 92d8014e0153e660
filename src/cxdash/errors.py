"""Expected failures: each carries a message that says what is wrong and what to do.

The message is English (the command line's language); a message key and its arguments let the app
show the same message translated (`i18n` catalogues, `errors.*`).
"""

import logging
import re
from collections.abc import Callable

_log = logging.getLogger("cxdash.db")
# What SQLAlchemy and the drivers append to a message: the statement, its parameters, a help link.
_NOISE = re.compile(
    r"\[SQL:.*?\]|\[parameters:.*?\]|\(Background on this error at:[^)]*\)|^\([\w.]+\)\s*", re.DOTALL
)


class CxdashError(Exception):
    """An expected failure whose message is shown to the user as it is."""

    def __init__(self, message: str, *, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values

    def translated(self, t: Callable[..., str], has: Callable[[str], bool]) -> str:
        """The message in the translator's language when a catalogue has its key, else the English."""
        return t(self.key, **self.values) if self.key and has(self.key) else str(self)


class DatabaseError(CxdashError):
    """The database is missing, unreachable, foreign or of another schema version."""


class InputError(CxdashError):
    """A value given by the user (period, team, scale, …) is not valid."""


def driver_message(exc: BaseException) -> str:
    """The driver's one-line reason for `exc` (e.g. "file is not a database"), without SQLAlchemy's
    statement, parameters and help link; the full exception goes to the debug log."""
    _log.debug("database error", exc_info=exc)
    orig = getattr(exc, "orig", None)
    text = _NOISE.sub("", str(orig if orig is not None else exc)).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line.rstrip(".") or type(exc).__name__


def unreadable_database(exc: BaseException, what: str = "the database") -> DatabaseError:
    """The one message for a database read that failed: the driver's reason and what to check."""
    reason = driver_message(exc)
    return DatabaseError(
        f"Cannot read {what}: {reason}. Check --db / CXDASH_DB_URL.",
        key="errors.cannot_read_database",
        detail=reason,
    )
