"""Login, the session cookie and the signed-in user, on every rerun.

streamlit-authenticator draws the login form and does the bcrypt check; its own cookie is off (a
no-op controller), and users, throttling, sessions and the audit log are cxdash's (auth.store).
"""

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.hasher import Hasher

from cxdash.auth import store
from cxdash.auth.demo import DEMO_USERS
from cxdash.auth.passwords import MAX_PASSWORD_BYTES, verify_password
from cxdash.auth.startup import DEMO_SECRET
from cxdash.config import Settings
from cxdash.db.engine import shared_engine
from cxdash.i18n import Translator

COOKIE = "cxdash_session"
TOKEN_KEY = "cxdash_token"
MESSAGE_KEY = "cxdash_login_message"
COOKIE_ACTION_KEY = "cxdash_cookie_action"


def auth_engine(url: str) -> sa.engine.Engine:
    """The process's one engine for `url` (cxdash.db.engine.shared_engine), disposed at exit."""
    return shared_engine(url)


def policy(config: Settings, *, demo: bool) -> store.SessionPolicy:
    secret = DEMO_SECRET if demo and not config.session_secret else config.session_secret
    return store.SessionPolicy(
        secret=secret.encode("utf-8"),
        idle=timedelta(minutes=config.session_idle_min),
        absolute=timedelta(hours=config.session_max_hours),
    )


def client_id() -> str:
    """The browser's address (Streamlit gives none for localhost, which then counts as one client)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "localhost"  # AppTest gives a mock


def _now() -> datetime:
    return datetime.now(UTC)


def served_over_https(headers: Mapping[str, str], url: str | None) -> bool:
    """Whether the browser reached the app over HTTPS: directly, or through a reverse proxy that says
    so (X-Forwarded-Proto). A forged header can only add `Secure`, never take it away."""
    forwarded = (headers.get("X-Forwarded-Proto") or headers.get("x-forwarded-proto") or "").lower()
    return forwarded.split(",")[0].strip() == "https" or (url or "").lower().startswith("https://")


def cookie_script(action: str | tuple[str, int], *, secure: bool) -> str:
    """The JavaScript that sets (token, max-age) or clears ("clear") the session cookie. Set from
    JavaScript, so it cannot be HttpOnly (README, Security); `Secure` whenever served over HTTPS."""
    flags = "Path=/; SameSite=Strict" + ("; Secure" if secure else "")
    if action == "clear":
        return f"document.cookie = '{COOKIE}=; {flags}; Max-Age=0';"
    token, max_age = action
    return f"document.cookie = '{COOKIE}={token}; {flags}; Max-Age={int(max_age)}';"


def apply_cookie_action() -> None:
    """Set or clear the session cookie in the browser (a run after the login or logout that asked)."""
    action = st.session_state.pop(COOKIE_ACTION_KEY, None)
    if action is None:
        return
    headers = st.context.headers
    url = st.context.url
    secure = served_over_https(
        headers if isinstance(headers, Mapping) else {}, url if isinstance(url, str) else None
    )  # AppTest gives mocks
    st.html(f"<script>{cookie_script(action, secure=secure)}</script>", unsafe_allow_javascript=True)


def current_user(url: str, session_policy: store.SessionPolicy) -> store.User | None:
    """The user of this browser session if its token (session state, else cookie) is live."""
    token = st.session_state.get(TOKEN_KEY) or _cookie()
    if not isinstance(token, str) or not token:
        return None
    check = store.check_session(auth_engine(url), token, policy=session_policy, now=_now())
    if check.user is None:
        st.session_state.pop(TOKEN_KEY, None)
        if _cookie():
            st.session_state[COOKIE_ACTION_KEY] = "clear"
        if check.reason in ("idle", "expired", "revoked", "disabled"):
            st.session_state[MESSAGE_KEY] = f"login.ended_{check.reason}"
        return None
    st.session_state[TOKEN_KEY] = token
    return check.user


def _cookie() -> str | None:
    """Our session cookie as the browser sent it when this session connected (None if absent)."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) else None


class _NoCookies:
    """streamlit-authenticator's cookie, switched off: cxdash keeps its own server-side sessions."""

    def get_cookie(self) -> None:
        return None

    def set_cookie(self) -> None:
        return None

    def delete_cookie(self) -> None:
        return None


# streamlit-authenticator's bcrypt check, behind cxdash's rules (dummy hash, 72-byte limit).
_form_check = partial(verify_password, checkpw=Hasher.check_pw)


class _DatabaseLogin:
    """Stands in for streamlit-authenticator's credential check: throttled, audited, our sessions."""

    def __init__(self, url: str, session_policy: store.SessionPolicy) -> None:
        self.url = url
        self.policy = session_policy

    def login(
        self, username: str | None = None, password: str | None = None, *_: object, **__: object
    ) -> bool:
        username, password = (username or "").strip(), password or ""
        if not username or not password:
            st.session_state[MESSAGE_KEY] = "login.missing"
            return False
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            st.session_state[MESSAGE_KEY] = "login.too_long"
            return False
        result = store.login(
            auth_engine(self.url), username, password, client=client_id(), policy=self.policy, now=_now(),
            check=_form_check,
        )  # fmt: skip
        if result.retry_after is not None:
            st.session_state[MESSAGE_KEY] = (
                "login.throttled",
                max(1, round(result.retry_after.seconds / 60)),
            )
            return False
        if not result.ok:
            st.session_state[MESSAGE_KEY] = "login.failed"
            return False
        st.session_state[TOKEN_KEY] = result.token
        st.session_state[COOKIE_ACTION_KEY] = (result.token, int(self.policy.absolute.total_seconds()))
        st.session_state.pop(MESSAGE_KEY, None)
        return True


def render_login(t: Translator, url: str, session_policy: store.SessionPolicy, *, demo: bool) -> None:
    """The login page: the form, one message for every failure, the demo accounts in demo mode."""
    st.title(t("login.title"))
    message_slot = st.container()  # filled after the form: a failed submit sets the message below
    authenticator = stauth.Authenticate(
        {"usernames": {}}, cookie_name=COOKIE + "_unused", cookie_key=secrets.token_hex(32),
        cookie_expiry_days=0, auto_hash=False, login_sleep_time=0,
    )  # fmt: skip
    authenticator.cookie_controller = _NoCookies()
    authenticator.authentication_controller = _DatabaseLogin(url, session_policy)
    authenticator.login(
        location="main",
        fields={
            "Form name": t("login.form"),
            "Username": t("login.username"),
            "Password": t("login.password"),
            "Login": t("login.submit"),
        },
        key="cxdash_login",
    )
    if st.session_state.get(TOKEN_KEY):
        st.rerun()
    message = st.session_state.get(MESSAGE_KEY)
    with message_slot:
        if isinstance(message, tuple):
            st.error(t(message[0], minutes=message[1]), icon=":material/lock_clock:")
        elif message:
            st.warning(t(message), icon=":material/lock:")
    if demo:
        with st.expander(t("login.demo_accounts"), expanded=True):
            st.table({t("login.username"): [u for u, *_ in DEMO_USERS],
                      t("login.password"): [p for _, p, *_ in DEMO_USERS],
                      t("admin.roles"): [r for _, _, r, *_ in DEMO_USERS]})  # fmt: skip


def logout(url: str, session_policy: store.SessionPolicy) -> None:
    token = st.session_state.get(TOKEN_KEY)
    if token:  # revoked first: if the database is unavailable the user stays signed in and can retry
        store.logout(auth_engine(url), token, policy=session_policy, now=_now(), client=client_id())
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[COOKIE_ACTION_KEY] = "clear"
    st.session_state[MESSAGE_KEY] = "login.logged_out"
