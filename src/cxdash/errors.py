"""Expected failures: each carries a message that says what is wrong and what to do."""


class CxdashError(Exception):
    """An expected failure whose message is shown to the user as it is."""


class DatabaseError(CxdashError):
    """The database is missing, unreachable, foreign or of another schema version."""


class InputError(CxdashError):
    """A value given by the user (period, team, scale, …) is not valid."""
