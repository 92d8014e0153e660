"""Localised vocabulary of the demo data: teams, places, products, causes, subjects, comments."""

from typing import Final

# (city, region, weight) — weights roughly follow online-retail population.
CITIES: Final = {
    "zh_CN": [
        ("上海", "华东", 9),
        ("杭州", "华东", 6),
        ("南京", "华东", 5),
        ("苏州", "华东", 5),
        ("宁波", "华东", 3),
        ("合肥", "华东", 3),
        ("济南", "华东", 3),
        ("青岛", "华东", 3),
        ("北京", "华北", 9),
        ("天津", "华北", 4),
        ("石家庄", "华北", 2),
        ("太原", "华北", 2),
        ("广州", "华南", 7),
        ("深圳", "华南", 8),
        ("东莞", "华南", 3),
        ("南宁", "华南", 2),
        ("厦门", "华南", 2),
        ("福州", "华南", 2),
        ("武汉", "华中", 5),
        ("长沙", "华中", 4),
        ("郑州", "华中", 4),
        ("南昌", "华中", 2),
        ("成都", "西南", 6),
        ("重庆", "西南", 5),
        ("昆明", "西南", 2),
        ("贵阳", "西南", 2),
        ("西安", "西北", 4),
        ("兰州", "西北", 1),
        ("乌鲁木齐", "西北", 1),
        ("沈阳", "东北", 3),
        ("大连", "东北", 2),
        ("哈尔滨", "东北", 2),
        ("长春", "东北", 2),
    ],
    "en_US": [
        ("New York", "Northeast", 9),
        ("Boston", "Northeast", 4),
        ("Philadelphia", "Northeast", 4),
        ("Pittsburgh", "Northeast", 2),
        ("Chicago", "Midwest", 6),
        ("Detroit", "Midwest", 3),
        ("Minneapolis", "Midwest", 3),
        ("Columbus", "Midwest", 2),
        ("Houston", "South", 5),
        ("Dallas", "South", 5),
        ("Atlanta", "South", 4),
        ("Miami", "South", 4),
        ("Charlotte", "South", 2),
        ("Nashville", "South", 2),
        ("Los Angeles", "West", 8),
        ("San Francisco", "West", 4),
        ("Seattle", "West", 4),
        ("Denver", "West", 3),
        ("Phoenix", "West", 3),
        ("Portland", "West", 2),
    ],
}

TEAMS: Final = {
    "zh_CN": {
        "T01": "电话客服组",
        "T02": "在线客服组",
        "T03": "邮件与工单组",
        "T04": "投诉处理组",
        "T05": "售后服务组",
        "T06": "账务支持组",
    },
    "en_US": {
        "T01": "Phone Support",
        "T02": "Online Chat",
        "T03": "Email & Web Forms",
        "T04": "Complaints Desk",
        "T05": "After-Sales Service",
        "T06": "Billing Support",
    },
}

PRODUCT_CATEGORIES: Final = (
    ("electronics", 0.22, 2.6),
    ("apparel", 0.24, 0.8),
    ("home", 0.16, 1.3),
    ("beauty", 0.14, 0.7),
    ("food", 0.16, 0.4),
    ("books", 0.08, 0.35),
)  # (code, share of orders, amount multiplier)

ACQUISITION_CHANNELS: Final = (
    ("search", 0.34),
    ("social", 0.30),
    ("referral", 0.16),
    ("offline_event", 0.10),
    ("partner", 0.10),
)

# Category → [(root cause, weight)]. Codes are the same in every language.
ROOT_CAUSES: Final = {
    "billing": [
        ("billing.double_charge", 0.25),
        ("billing.wrong_amount", 0.30),
        ("billing.refund_delay", 0.30),
        ("billing.invoice_error", 0.15),
    ],
    "delivery": [
        ("delivery.late", 0.45),
        ("delivery.damaged", 0.20),
        ("delivery.lost", 0.10),
        ("delivery.wrong_address", 0.25),
    ],
    "product_quality": [
        ("product_quality.defect", 0.45),
        ("product_quality.not_as_described", 0.35),
        ("product_quality.missing_parts", 0.20),
    ],
    "account": [
        ("account.login_failure", 0.40),
        ("account.password_reset", 0.35),
        ("account.data_change", 0.25),
    ],
    "after_sales": [
        ("after_sales.return_refused", 0.30),
        ("after_sales.repair_delay", 0.40),
        ("after_sales.warranty_claim", 0.30),
    ],
}
CATEGORIES: Final = tuple(ROOT_CAUSES)

SUBJECTS: Final = {
    "zh_CN": {
        "billing": [
            "订单被重复扣款",
            "退款迟迟未到账",
            "发票信息有误",
            "支付金额不对",
            "账单疑问",
        ],
        "delivery": [
            "快递一直没到",
            "包裹破损",
            "物流信息不更新",
            "收货地址填错了",
            "催发货",
        ],
        "product_quality": [
            "商品有质量问题",
            "收到的商品与描述不符",
            "配件缺失",
            "用了两天就坏了",
        ],
        "account": ["无法登录账户", "忘记密码", "修改手机号", "会员积分查询"],
        "after_sales": ["申请退货被拒", "维修进度查询", "保修怎么申请", "换货流程咨询"],
    },
    "en_US": {
        "billing": [
            "Charged twice for my order",
            "Refund not received",
            "Invoice details wrong",
            "Wrong amount charged",
            "Question about my bill",
        ],
        "delivery": [
            "Package has not arrived",
            "Parcel arrived damaged",
            "Tracking not updating",
            "Wrong delivery address",
            "When will my order ship?",
        ],
        "product_quality": [
            "Item is defective",
            "Item not as described",
            "Parts missing",
            "Stopped working after two days",
        ],
        "account": [
            "Cannot log in",
            "Forgot my password",
            "Change my phone number",
            "Loyalty points question",
        ],
        "after_sales": [
            "Return request refused",
            "Repair status",
            "How do I claim warranty?",
            "Exchange process",
        ],
    },
}

# Comments by the survey's weakest or strongest driver; (negative, positive).
COMMENTS: Final = {
    "zh_CN": {
        "resolution": (
            [
                "问题到现在还没解决",
                "退款还是没有处理好,非常失望",
                "反复沟通了好几次,问题依旧",
                "客服说会处理,结果没有下文",
            ],
            ["问题一次就解决了,很满意", "退款很快就到账了,谢谢", "处理结果让人放心"],
        ),
        "speed": (
            ["等了很久才有人回复", "排队时间太长了", "处理速度太慢,等了好几天"],
            ["回复非常及时", "几分钟就有人响应,效率很高", "速度很快,点赞"],
        ),
        "attitude": (
            ["客服态度冷淡,很不耐烦", "感觉被敷衍了", "说话语气很差"],
            ["客服态度很好,耐心细致", "服务热情周到", "小姐姐很有礼貌"],
        ),
        "knowledge": (
            ["客服对产品不了解,答非所问", "被转了好几个人都说不清楚"],
            ["客服很专业,解释得很清楚", "对产品非常熟悉,建议很有用"],
        ),
    },
    "en_US": {
        "resolution": (
            [
                "My problem is still not solved",
                "Still no refund, very disappointed",
                "Contacted you several times and nothing changed",
                "Promised a fix that never came",
            ],
            [
                "Solved on the first contact, great",
                "Refund arrived quickly, thanks",
                "Happy with how it was handled",
            ],
        ),
        "speed": (
            [
                "Waited far too long for a reply",
                "The queue was way too long",
                "Took days to get anywhere",
            ],
            [
                "Very quick reply",
                "Someone answered within minutes",
                "Fast and efficient",
            ],
        ),
        "attitude": (
            ["The agent was rude and impatient", "Felt brushed off", "Unfriendly tone"],
            ["Friendly and patient agent", "Warm and helpful service", "Very polite"],
        ),
        "knowledge": (
            [
                "The agent did not know the product",
                "Passed around and nobody knew the answer",
            ],
            [
                "Very knowledgeable agent, clear explanation",
                "Knew the product well, useful advice",
            ],
        ),
    },
}

NPS_COMMENTS: Final = {
    "zh_CN": (
        ["售后太差了,不会再买", "价格不划算,体验一般", "投诉没人管"],
        ["东西不错,会推荐给朋友", "会员服务很好,一直在这里买", "物流快,品质有保障"],
    ),
    "en_US": (
        [
            "Poor after-sales, won't buy again",
            "Not worth the price",
            "Nobody handled my complaint",
        ],
        [
            "Great products, I recommend you",
            "Love the member benefits",
            "Fast delivery, good quality",
        ],
    ),
}

ANNOTATIONS: Final = {
    "zh_CN": {
        "618": "618 大促",
        "1111": "双十一大促",
        "vendor": "更换在线客服供应商 (new chat vendor)",
        "price": "会员价格调整",
        "kb": "上线自助知识库",
    },
    "en_US": {
        "618": "618 sale",
        "1111": "Singles' Day (11.11) sale",
        "vendor": "new chat vendor",
        "price": "price change",
        "kb": "self-service knowledge base launched",
    },
}
