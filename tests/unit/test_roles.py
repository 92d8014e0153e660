import subprocess
import sys
from pathlib import Path

import pytest

from cxdash.auth.passwords import check_password_rules, hash_password, verify_password
from cxdash.auth.roles import ROLES, allowed_scope, may_see_pii, parse_roles
from cxdash.errors import InputError
from cxdash.i18n import LANGUAGES, Translator
from cxdash.metrics.scope import Scope
from cxdash.ui.registry import PAGES, may_open, pages_for

ROOT = Path(__file__).resolve().parents[2]


def test_parse_roles_keeps_the_canonical_order_and_rejects_unknown_ones():
    assert parse_roles("viewer, admin") == ("admin", "viewer")
    with pytest.raises(ValueError, match="unknown role"):
        parse_roles("admin,root")
    with pytest.raises(ValueError, match="at least one"):
        parse_roles(" , ")


# Every role opens every view; the Data page's import and definitions editing are gated inside it.
VIEWS = ["overview", "satisfaction", "complaints", "loyalty", "team", "service_map", "review", "data"]


@pytest.mark.parametrize(
    ("roles", "pages"),
    [
        (["admin"], [*VIEWS, "admin"]),
        (["manager"], VIEWS),
        (["team_lead"], VIEWS),
        (["analyst"], VIEWS),
        (["viewer"], VIEWS),
        (["viewer", "admin"], [*VIEWS, "admin"]),  # the union, in navigation order
        (["root"], []),
        ([], []),
    ],
)
def test_pages_by_role(roles, pages):
    assert [spec.id for spec in pages_for(roles)] == pages
    assert [spec.id for spec in PAGES if may_open(roles, spec.id)] == pages


def test_an_unknown_page_is_open_to_no_one():
    assert not may_open(ROLES, "nowhere")


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.id)
def test_every_registered_page_has_its_script_a_title_and_known_roles(spec):
    assert (ROOT / spec.script).is_file()
    assert spec.roles and spec.roles <= set(ROLES)
    assert all(Translator(lang).has(spec.title_key) for lang in LANGUAGES)
    assert len({s.id for s in PAGES}) == len(PAGES)


def test_the_registry_does_not_import_streamlit():
    code = "import sys, cxdash.ui.registry; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_pii_by_role():
    assert may_see_pii(["manager"]) and may_see_pii(["team_lead"])
    assert not may_see_pii(["analyst"]) and not may_see_pii(["viewer"])


@pytest.mark.parametrize(
    ("roles", "teams", "chosen", "expected"),
    [
        (["manager"], (), Scope(teams=("T03",)), ("T03",)),
        (["manager"], (), Scope(), ()),
        (["team_lead"], ("T01", "T02"), Scope(), ("T01", "T02")),
        (["team_lead"], ("T01", "T02"), Scope(teams=("T02",)), ("T02",)),
        # choosing another team (a tampered widget value) cannot widen the scope
        (["team_lead"], ("T01",), Scope(teams=("T05",)), ("T01",)),
    ],
)
def test_allowed_scope(roles, teams, chosen, expected):
    assert allowed_scope(roles, teams, chosen).teams == expected


def test_a_team_lead_without_teams_sees_nothing_rather_than_everything():
    scope = allowed_scope(["team_lead"], (), Scope())
    assert scope.teams and not scope.is_everything


def test_passwords():
    hashed = hash_password("correct horse battery")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong password!!", hashed)
    assert not verify_password("correct horse battery", None)  # unknown user: dummy hash, never true


def test_a_78_byte_chinese_password_gets_a_clear_message():
    password = "密" * 26  # 78 bytes in UTF-8
    with pytest.raises(InputError, match="78 bytes"):
        check_password_rules(password)
    assert not verify_password(password, hash_password("short but fine ok"))
