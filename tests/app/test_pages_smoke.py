"""Every registered page × every role through AppTest, parametrized from the page registry: a new page
is covered as soon as it is registered.

A page the role may open renders without an exception or error; one it may not is not served (the
forbidden message, no page content). Pages are opened directly, as Streamlit serves `/<page>` on a
freshly started server: the page itself must check the session, draw the frame and the navigation.
"""

import pytest
from streamlit.testing.v1 import AppTest

from cxdash.auth.roles import ROLES
from cxdash.i18n import LANGUAGES, Translator
from cxdash.ui.registry import PAGES, PageSpec, may_open
from tests.app.session import ROOT, token_for

ACCOUNTS = {
    "admin": "admin",
    "manager": "manager",
    "team_lead": "lead_t01",
    "analyst": "analyst",
    "viewer": "viewer",
}
ZH = Translator("zh")


def open_page(
    monkeypatch, url: str, spec: PageSpec | None, *, username: str | None, lang: str = "zh"
) -> AppTest:
    """A new session that opens `spec` by its address (None: the app's start page)."""
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", lang)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if username:
        at.session_state["cxdash_token"] = token_for(url, username)
    if spec is not None:
        at.switch_page(spec.script)
    return at.run()


def navigation_titles(at: AppTest) -> list[str]:
    """The page titles of the navigation the last run registered (AppTest has no public view of it);
    the start page is registered twice, at "/" and (hidden) at its own address."""
    return list(dict.fromkeys(info["page_name"] for info in at._registered_pages.values()))


def test_every_role_has_a_demo_account():
    assert set(ACCOUNTS) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.id)
def test_every_page_for_every_role(monkeypatch, small_db, spec, role):
    at = open_page(monkeypatch, small_db, spec, username=ACCOUNTS[role])
    assert not at.exception
    forbidden = [e for e in at.error if e.value == ZH("app.forbidden")]
    if may_open([role], spec.id):
        assert not at.error, [e.value for e in at.error]  # the error boundary would show one here
        assert at.title, "every page has a title"
    else:
        assert forbidden
        assert not at.title and not at.metric and not at.dataframe and not at.tabs and not at.table
    # the navigation lists the role's pages by their translated titles, never by file names
    assert navigation_titles(at) == [ZH(s.title_key) for s in PAGES if may_open([role], s.id)]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_the_start_page_navigation_is_translated(monkeypatch, small_db, role, lang):
    at = open_page(monkeypatch, small_db, None, username=ACCOUNTS[role], lang=lang)
    assert not at.exception and not at.error
    t = Translator(lang)
    titles = navigation_titles(at)
    assert titles == [t(s.title_key) for s in PAGES if may_open([role], s.id)]
    assert not {"app", *(s.id for s in PAGES)} & set(titles)


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.id)
def test_a_page_opened_by_its_address_before_login_shows_the_login_form(monkeypatch, small_db, spec):
    at = open_page(monkeypatch, small_db, spec, username=None)
    assert not at.exception
    assert [w.label for w in at.text_input][:2] == ["用户名", "密码"]
    assert not at.metric and not at.tabs and not at.dataframe
    assert not at.warning  # the form itself, not a note pointing to it
