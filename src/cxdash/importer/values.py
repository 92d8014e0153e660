"""The schema values a file's values plainly mean ("Web Form" → web_form, 电话 → phone, Medium → normal),
for the suggestions of the Data page and of `python -m cxdash import` without a mapping file."""

import unicodedata
from typing import Final

import polars as pl

from cxdash.importer.mapping import Mapping, Target

# Common spellings of the schema's closed values in Chinese and English exports.
VALUE_SYNONYMS: Final[dict[str, dict[str, str]]] = {
    "channel": {
        "电话": "phone", "热线": "phone", "呼叫中心": "phone", "phone call": "phone",
        "邮件": "email", "电子邮件": "email", "邮箱": "email", "e-mail": "email", "mail": "email",
        "在线": "chat", "在线客服": "chat", "聊天": "chat", "live chat": "chat", "im": "chat",
        "微信": "social", "微博": "social", "社交媒体": "social", "social media": "social",
        "网页": "web_form", "表单": "web_form", "网站": "web_form", "web": "web_form", "form": "web_form",
        "应用": "app", "手机app": "app", "app内": "app", "mobile app": "app",
    },
    "priority": {
        "紧急": "urgent", "特急": "urgent", "critical": "urgent", "p1": "urgent",
        "高": "high", "重要": "high", "p2": "high",
        "中": "normal", "普通": "normal", "一般": "normal", "medium": "normal", "p3": "normal",
        "低": "low", "p4": "low",
    },
    "status": {
        "新建": "new", "待分配": "new", "处理中": "open", "打开": "open", "进行中": "open",
        "待处理": "pending", "挂起": "pending", "等待客户": "pending", "pending customer response": "pending",
        "已解决": "resolved", "解决": "resolved", "solved": "resolved",
        "已关闭": "closed", "关闭": "closed", "结案": "closed",
        "已完成": "completed", "完成": "completed", "成功": "completed",
        "已退款": "refunded", "退款": "refunded", "已取消": "cancelled", "取消": "cancelled",
        "canceled": "cancelled",
    },
    "segment": {
        "个人": "consumer", "消费者": "consumer", "c端": "consumer", "企业": "business", "b端": "business",
    },
    "kind": {"满意度": "csat", "净推荐值": "nps", "费力度": "ces"},
}  # fmt: skip
NOT_MAPPED: Final = ""  # a value or column left to be chosen


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def suggested_value(target: Target, value: str) -> str | None:
    """The schema value a file's value plainly means ("Web Form" → web_form, 电话 → phone), or None."""
    key = _key(value).replace("-", "_")
    if key.replace(" ", "_") in target.choices:
        return key.replace(" ", "_")
    return VALUE_SYNONYMS.get(target.column, {}).get(_key(value))


def suggested_values(frame: pl.DataFrame, mapping: Mapping) -> dict[str, dict[str, str]]:
    """The mapping's value translations completed with the plain meanings of the file's other values
    of each mapped column with closed values (a value that means nothing known stays untranslated)."""
    values = {name: dict(found) for name, found in mapping.values.items()}
    for target in mapping.targets():
        header = mapping.columns.get(target.name)
        if not target.choices or not header or header not in frame.columns:
            continue
        known = values.setdefault(target.name, {})
        for value in frame.get_column(header).drop_nulls().str.strip_chars().unique().to_list():
            meaning = suggested_value(target, value)
            if value not in known and meaning and meaning != value:
                known[value] = meaning
    return {name: found for name, found in values.items() if found}
