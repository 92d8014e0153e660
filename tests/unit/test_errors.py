"""Expected failures carry a message key: the app shows them in the user's language, the CLI in English."""

import pytest

from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.periods import custom_period, parse_period


def translated(exc: InputError, lang: str) -> str:
    t = Translator(lang)
    return exc.translated(t, t.has)


def test_a_bad_period_is_explained_in_each_language():
    with pytest.raises(InputError) as caught:
        parse_period("2026Q5")
    assert str(caught.value).startswith("'2026Q5' is not a period")
    assert translated(caught.value, "zh").startswith("“2026Q5”不是有效周期")
    assert translated(caught.value, "en").startswith("'2026Q5' is not a period")


def test_a_reversed_range_names_both_dates():
    from datetime import date

    with pytest.raises(InputError) as caught:
        custom_period(date(2026, 9, 2), date(2026, 9, 1))
    assert "2026-09-01" in translated(caught.value, "zh") and "结束日期" in translated(caught.value, "zh")


def test_an_error_without_a_key_falls_back_to_its_english_message():
    assert translated(InputError("plain message"), "zh") == "plain message"
    assert translated(InputError("plain", key="errors.no_such_key"), "zh") == "plain"


def test_every_error_key_in_the_code_is_in_both_catalogues():
    import re
    from pathlib import Path

    from cxdash.i18n import LANGUAGES, catalogue

    root = Path(__file__).resolve().parents[2] / "src" / "cxdash"
    keys = {
        k for p in root.rglob("*.py") for k in re.findall(r'key="(errors\.[a-z_]+)"', p.read_text("utf-8"))
    }
    assert len(keys) >= 8
    for lang in LANGUAGES:
        assert keys <= set(catalogue(lang)), (lang, keys - set(catalogue(lang)))
