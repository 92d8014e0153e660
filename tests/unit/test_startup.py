"""Start-up refusals: weak secrets and unsafe Streamlit options, read as `streamlit run` reads them."""

import secrets

import pytest

from cxdash.auth.startup import DEMO_SECRET, secret_problem, startup_problems, streamlit_options

SAFE = {"client.showErrorDetails": "none", "server.enableCORS": True, "server.enableXsrfProtection": True}


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "   ",
        "changeme",
        "short-secret",
        "a" * 32,
        "s" * 48,
        DEMO_SECRET,
        DEMO_SECRET + " ",
        " " + DEMO_SECRET + "\n",
        "0123456789abcdef" * 2,
        "abcdefghijklmnopqrstuvwxyz012345",
        "Xk2#pL9!" * 5,
        'python -c "import secrets; print(secrets.token_urlsafe(48))"',
    ],
)
def test_weak_or_known_secrets_are_refused(secret):
    assert secret_problem(secret)
    assert startup_problems(demo=False, secret=secret, options=SAFE)


@pytest.mark.parametrize(
    "secret", [secrets.token_urlsafe(48), secrets.token_urlsafe(32), secrets.token_hex(32)]
)
def test_random_secrets_are_accepted(secret):
    assert secret_problem(secret) is None
    assert startup_problems(demo=False, secret=f" {secret}\n", options=SAFE) == []


def test_demo_mode_needs_no_secret_but_safe_options():
    assert startup_problems(demo=True, secret="", options=SAFE) == []
    problems = startup_problems(demo=True, secret="", options={**SAFE, "server.enableCORS": False})
    assert problems and "enableCORS" in problems[0]


def test_streamlit_options_files_then_env_then_flags(tmp_path):
    home, project = tmp_path / "home.toml", tmp_path / "project.toml"
    home.write_text('[client]\nshowErrorDetails = "full"\n[server]\nenableCORS = false\n')
    project.write_text('[client]\nshowErrorDetails = "none"\n')
    options = streamlit_options(config_files=[home, project], env={}, flags=[])
    assert options == {**SAFE, "server.enableCORS": False}  # project file over home file
    env = {"STREAMLIT_SERVER_ENABLE_CORS": "true", "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}
    options = streamlit_options(config_files=[home, project], env=env, flags=[])
    assert options == {**SAFE, "server.enableXsrfProtection": False}
    flags = [
        "--server.port",
        "8502",
        "--server.enableXsrfProtection=true",
        "--client.showErrorDetails",
        "type",
    ]
    options = streamlit_options(config_files=[home, project], env=env, flags=flags)
    assert options == {**SAFE, "client.showErrorDetails": "type"}
    assert streamlit_options(config_files=[], env={}, flags=[])["client.showErrorDetails"] == "full"


def test_invalid_config_toml_is_an_error(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[client\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        streamlit_options(config_files=[bad], env={}, flags=[])
