"""Expected failures: each carries a message that says what is wrong and what to do.

The message is English (the command line's language); a message key and its arguments let the app
show the same message translated (`i18n` catalogues, `errors.*`).
"""

from collections.abc import Callable


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
