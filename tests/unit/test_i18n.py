"""Both catalogues hold the same keys, every key the code uses exists, and formats follow the language."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cxdash.i18n import LANGUAGES, Translator, catalogue, normalise_language
from cxdash.metrics.kpis import HEADLINE_KPIS
from cxdash.periods import custom_period, parse_period
from cxdash.views.overview import KPI_GROUPS

ROOT = Path(__file__).resolve().parents[2]
# t("some.key") and t(f"prefix.{...}") calls in the code
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]*[a-z])["']""")


def test_catalogues_have_the_same_keys():
    zh, en = set(catalogue("zh")), set(catalogue("en"))
    assert zh - en == set(), "missing in en"
    assert en - zh == set(), "missing in zh"


def test_placeholders_agree_between_languages():
    for key, text in catalogue("zh").items():
        other = catalogue("en")[key]
        assert set(re.findall(r"{(\w+)}", text)) <= set(re.findall(r"{(\w+)}", other)) | {
            "month",
            "month_name",
        }, key


def test_every_literal_key_in_the_code_exists():
    used = set()
    for path in [*(ROOT / "src" / "cxdash").rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        used |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys"
    for lang in LANGUAGES:
        assert used - set(catalogue(lang)) == set(), lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_kpi_group_and_channel_has_text(lang):
    t = Translator(lang)
    for spec in HEADLINE_KPIS:
        assert t.has(f"kpi.{spec.name}.label") and t.has(f"kpi.{spec.name}.help")
    for group in KPI_GROUPS:
        assert t.has(f"overview.group_{group}")


def test_missing_key_comes_back_raw_so_tests_can_see_it():
    assert Translator("zh")("no.such_key") == "no.such_key"


@pytest.mark.parametrize(
    ("lang", "value", "unit", "shown"),
    [
        ("zh", 81.7757, "%", "81.8%"),
        ("en", 81.7757, "%", "81.8%"),
        ("zh", 2_380_705.07, "currency", "¥238.07万"),
        ("zh", 312_345_678.0, "currency", "¥3.12亿"),
        ("en", 2_380_705.07, "currency", "¥2.38M"),
        ("en", 5_300.0, "currency", "¥5.3K"),
        ("zh", 12.0583, "min", "12.1 分钟"),
        ("en", 12.0583, "min", "12.1 min"),
        ("en", 28.39, "h", "28.4 h"),
        ("zh", 4.1437, "score", "4.14"),
        ("en", 16741.0, "count", "16,741"),
        ("zh", -11.27, "points", "-11.3"),
        ("zh", None, "%", "—"),
    ],
)
def test_kpi_values(lang, value, unit, shown):
    assert Translator(lang).kpi_value(value, unit) == shown


@pytest.mark.parametrize(
    ("lang", "delta", "unit", "shown"),
    [
        ("zh", 1.52, "%", "+1.5 个百分点"),
        ("en", -0.25, "%", "-0.2 pp"),
        ("en", 1224.0, "count", "+1,224"),
        ("zh", -883_700.0, "currency", "-¥88.37万"),
        ("en", 0.0, "score", "0.00"),
        ("en", None, "%", None),
        ("en", -0.04, "%", "0.0 pp"),
        ("zh", 0.3, "per 1k orders", "+0.3 /千单"),
    ],
)
def test_kpi_deltas(lang, delta, unit, shown):
    assert Translator(lang).kpi_delta(delta, unit) == shown


def test_periods_and_dates():
    zh, en = Translator("zh"), Translator("en")
    assert zh.period(parse_period("2026Q3")) == "2026年第3季度"
    assert en.period(parse_period("2026Q3")) == "2026 Q3"
    assert zh.period(parse_period("2026-07")) == "2026年7月"
    assert en.period(parse_period("2026-07")) == "Jul 2026"
    assert en.period(custom_period(date(2026, 7, 1), date(2026, 7, 9))) == "1 Jul 2026 to 9 Jul 2026"
    assert zh.datetime(datetime(2026, 6, 30, 16, 5, tzinfo=UTC), "Asia/Shanghai") == "2026年7月1日 00:05"


@pytest.mark.parametrize(
    ("setting", "lang"), [("zh_CN", "zh"), ("en-US", "en"), ("EN", "en"), ("fr", "zh"), (None, "zh")]
)
def test_language_setting(setting, lang):
    assert normalise_language(setting) == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_keys_built_at_run_time_exist(lang):
    from cxdash.auth.roles import ROLES
    from cxdash.metrics.quality import CHECKS

    t = Translator(lang)
    keys = [f"role.{r}" for r in ROLES]
    keys += [f"login.ended_{r}" for r in ("idle", "expired", "revoked", "disabled")]
    keys += [f"admin.col_{c}" for c in ("audit_id", "at", "username", "action", "client", "detail")]
    keys += [f"dq.check.{check.id}" for check in CHECKS]
    keys += [f"dq.share.{table}" for table in {check.table for check in CHECKS}]
    keys += [f"filters.kind_{k}" for k in ("quarter", "month", "custom")]
    keys += [f"overview.trend_{k}" for k in ("quarter", "month")]
    keys += [f"overview.status_{s}" for s in ("green", "amber", "red")]
    keys += [f"channel.{c}" for c in ("phone", "email", "chat", "social", "web_form", "app")]
    assert [k for k in keys if not t.has(k)] == []
