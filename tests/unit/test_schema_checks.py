import pytest

from cxdash.db.engine import schema_problem
from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION

ALL = {*BUSINESS_TABLES, "app_meta"}


def test_current_schema_is_fine():
    assert schema_problem(ALL, str(SCHEMA_VERSION)) is None


@pytest.mark.parametrize(
    ("tables", "version", "phrase"),
    [
        (set(), None, "no cxdash tables"),
        ({"users", "invoices"}, None, "no cxdash tables"),
        (set(BUSINESS_TABLES), None, "init-db"),
        (ALL, str(SCHEMA_VERSION - 1), "older"),
        (ALL, str(SCHEMA_VERSION + 1), "newer"),
        (ALL, "banana", "unreadable"),
        (ALL - {"tickets"}, str(SCHEMA_VERSION), "tickets"),
    ],
)
def test_foreign_old_or_broken_databases_get_a_message(tables, version, phrase):
    problem = schema_problem(tables, version)
    assert problem is not None
    assert phrase in str(problem)
