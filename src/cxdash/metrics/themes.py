"""What customers say: the terms that most separate detractors' comments from promoters' (zh and en).

Terms: Chinese runs are cut by jieba-rs (`rjieba`, dictionary bundled in the wheel, nothing downloaded);
English is lower-cased and split on non-letters, with plurals and possessives folded. Stop words,
punctuation, numbers, emoji, single Latin letters and other scripts are dropped. A negation word
(不 没 没有 未 … / not no never) is joined to the content word right after it (没解决, not solved),
because "还没解决" and "问题解决了" mean opposite things: left apart, 解决 would land in both groups
and separate nothing. A negation followed by anything else (a stop word, punctuation) is dropped.
The text is only ever matched by regular expressions: never evaluated, parsed as markup or rendered.

Scores: the weighted log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi & Quinn
(2008, "Fightin' Words"), z-scored, on document frequencies (a comment counts once per term). The
prior is the pooled counts of both groups (α_w = y_w, so α_0 = n): a term is pulled towards the
pooled rate as strongly as the data pushes it away, which keeps rare terms from topping the list.
"""

import functools
import re
import unicodedata
from typing import TYPE_CHECKING, Final

import polars as pl

if TYPE_CHECKING:
    import rjieba

DETRACTOR: Final = "detractor"
PROMOTER: Final = "promoter"

THEME_SCHEMA: Final = {
    "term": pl.String,
    "leaning": pl.String,  # "detractor" | "promoter"
    "detractor_count": pl.Int64,  # comments containing the term (each comment counted once)
    "promoter_count": pl.Int64,
    "detractor_share_pct": pl.Float64,  # of the group's comments
    "promoter_share_pct": pl.Float64,
    "z": pl.Float64,  # separation score, positive = leans detractor
    "examples": pl.List(pl.String),  # distinct comments of the leaning group, shortest first
}


def _words(text: str) -> frozenset[str]:
    """The white-space separated words of `text`: word lists stay readable as prose."""
    return frozenset(text.split())


# Words jieba's dictionary holds with too low a frequency to win over their characters (很 + 久).
_DOMAIN_WORDS: Final = ("很久", "好久", "好几次", "好几天", "好几遍", "到账")

# Function words, pronouns, particles, degree adverbs and vague verbs: frequent in both groups.
# Negations are not here: they are handled by _NEGATIONS.
_ZH_STOP: Final = _words(
    """
    的 地 得 之 了 着 过 是 在 有 和 与 及 或 也 都 就 还 才 又 再 而 但 却 并 即 呢 吗 吧 啊 呀 哦 嗯
    哈 啦 嘛 么 哎 唉 把 被 让 给 对 向 从 到 为 以 于 跟 将 个 次 些 人 这 那 哪 我 你 您 他 她 它 谁
    很 太 挺 真 更 最 好像 说 会 能 要 想 去 来 看 做 用 弄 搞 等等 上 下 里 中 后 前 时
    我们 你们 他们 她们 它们 咱们 自己 大家 这个 那个 这样 那样 这么 那么 这里 那里 这些 那些 这次 那次
    什么 怎么 怎么样 为什么 哪里 哪个 还是 就是 只是 也是 都是 不是 但是 可是 而且 并且 所以 因为
    如果 虽然 然后 之后 以后 之前 时候 已经 一直 一下 一个 一些 一点 一次 有点 有些 有人 比较 非常
    特别 十分 真的 实在 确实 感觉 觉得 可以 可能 应该 现在 今天 还有 没什么 一样
    """
)
_EN_STOP: Final = _words(
    """
    a an the and or but if then than so as of in on at to for from by with about into onto over under
    around within without across through first last next another every
    up down out off again once is am are was were be been being do does did done doing have has had
    having i me my mine we us our you your yours he him his she her it its they them their this that
    these those there here what which who whom whose when where why how all any both each few more most
    other some such only own same can could will would shall should may might must also still
    even ever really very too quite much many lot lots get got getting make made let far way thing
    things nothing anything something everything nobody anybody somebody someone anyone everyone
    anywhere somewhere everywhere now today yet already because while after before until during per via
    since though although however just one two three pm ok okay yes please
    """
)
_ZH_NEGATIONS: Final = _words(
    "不 没 没有 未 无 别 不太 不够 不能 不会 不想 不要 并不 从不 从没 从未 从来不 从来没 绝不 毫无 无法"
)
_EN_NEGATIONS: Final = frozenset({"not", "no", "never"})
_NEGATIONS: Final = _ZH_NEGATIONS | _EN_NEGATIONS
# Degree words an English negation reaches across: "not very helpful" is "not helpful".
_EN_INTENSIFIERS: Final = _words("very really so too that quite at all even particularly")
_NOT_TERMS: Final = _ZH_STOP | _EN_STOP | _NEGATIONS

_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# One CJK run, one ASCII word, or a run of anything else but white space (a break: punctuation,
# digits, emoji, other scripts). White space separates English words without breaking a phrase.
_TOKEN: Final = re.compile(rf"([{_CJK}]+)|([a-z]+)|[^\s{_CJK}a-z]+")
_COMBINING: Final = re.compile(r"[\u0300-\u036f]")
# Contractions before splitting on non-letters: "didn't" must give "not", not "didn" and "t".
_CONTRACTIONS: Final = (
    (re.compile(r"\bcan['’]t\b"), "can not"),
    (re.compile(r"\bwon['’]t\b"), "will not"),
    (re.compile(r"n['’]t\b"), " not"),
    (re.compile(r"['’](?:s|re|ve|ll|d|m)\b"), ""),
)
_SEPARATOR: Final = "|"  # a break character: never inside a term
_MIN_STEM = 4  # shorter words keep their final s ("bus", "gas", "yes")


@functools.cache
def _segmenter() -> "rjieba.Jieba":
    """jieba-rs with its bundled dictionary and _DOMAIN_WORDS, built on first use (~0.1 s), not at import."""
    import rjieba

    segmenter = rjieba.Jieba()  # its own instance: rjieba's module default stays untouched
    for word in _DOMAIN_WORDS:
        segmenter.add_word(word, None, None)  # no frequency: jieba suggests one that keeps the word whole
    return segmenter


@functools.lru_cache(maxsize=1 << 16)  # words repeat across comments; bounded against junk input
def _fold_english(word: str) -> str:
    """`word` without a plural s ("replies" → "reply", "agents" → "agent"); stop words unchanged."""
    if word in _EN_STOP or len(word) <= _MIN_STEM:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _normalised(text: str) -> str:
    """`text` lower-cased, full-width forms and accents folded (Ｑｕｉｃｋ, café), contractions expanded."""
    folded = (
        text.lower() if text.isascii() else _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()
    )
    if "'" in folded or "’" in folded:
        for pattern, replacement in _CONTRACTIONS:
            folded = pattern.sub(replacement, folded)
    return folded


def _tokens(text: str) -> list[str | None]:
    """Words of `text` in order, None where punctuation, digits or symbols break the phrase."""
    tokens: list[str | None] = []
    cut = _segmenter().cut
    for match in _TOKEN.finditer(_normalised(text)):
        chinese, english = match.groups()
        if chinese:
            tokens.extend(cut(chinese))
        elif english:
            tokens.append(_fold_english(english))
        else:
            tokens.append(None)
    return tokens


def _is_content(token: str) -> bool:
    """`token` can be a term: not a stop word, not a negation, not a single Latin letter."""
    return token not in _NOT_TERMS and not (len(token) == 1 and token.isascii())


def _negated(negation: str, token: str) -> str:
    """The term for `negation` directly before `token`: 没 + 解决 → 没解决, not + solved → not solved."""
    return f"{negation} {token}" if negation.isascii() else negation + token


def _carried(negation: str | None, token: str | None) -> str | None:
    """The negation still pending after `token`: an English one across an intensifier, else none."""
    return negation if negation in _EN_NEGATIONS and token in _EN_INTENSIFIERS else None


def _text_terms(text: str) -> list[str]:
    """Distinct terms of one comment in order of first appearance; [] for a text without any."""
    terms: dict[str, None] = {}  # an ordered set
    negation: str | None = None
    for token in _tokens(text):
        if token is not None and _is_content(token):
            terms[_negated(negation, token) if negation else token] = None
        negation = token if token in _NEGATIONS else _carried(negation, token)
    return list(terms)


def _terms_by_text(texts: pl.Series) -> pl.DataFrame:
    """(text, terms) for each distinct non-null text: each text is segmented once however often it repeats."""
    distinct = texts.drop_nulls().unique()
    # One joined string per text, split by Polars: far faster than building a Series from Python lists.
    joined = pl.Series("terms", [_SEPARATOR.join(_text_terms(text)) for text in distinct], dtype=pl.String)
    terms = joined.str.split(_SEPARATOR).list.filter(pl.element() != "")
    return pl.DataFrame({"text": distinct, "terms": terms})


def comment_terms(comments: pl.Series) -> pl.Series:
    """The distinct terms of each comment (List[String], same name and order); null or empty → []."""
    texts = comments.cast(pl.String)
    looked_up = texts.to_frame("text").join(
        _terms_by_text(texts), on="text", how="left", maintain_order="left"
    )
    no_terms = pl.lit([], dtype=pl.List(pl.String))
    return looked_up.select(pl.col("terms").fill_null(no_terms)).to_series().alias(comments.name)


def log_odds_z_expr(first: pl.Expr, second: pl.Expr) -> pl.Expr:
    """Monroe et al. (2008) z of the weighted log-odds ratio, `first` vs `second` group counts, one row
    per term of the whole vocabulary; positive leans to `first`. NaN when one term is the vocabulary."""
    # δ_w = ln((y¹ + α_w) / (n¹ + α_0 − y¹ − α_w)) − ln((y² + α_w) / (n² + α_0 − y² − α_w)),
    # σ²(δ_w) ≈ 1/(y¹ + α_w) + 1/(y² + α_w), z = δ_w / σ; informative prior α_w = y¹ + y² (α_0 = n).
    first, second = first.cast(pl.Float64), second.cast(pl.Float64)
    alpha = first + second
    alpha_0 = alpha.sum()
    log_odds_first = ((first + alpha) / (first.sum() + alpha_0 - first - alpha)).log()
    log_odds_second = ((second + alpha) / (second.sum() + alpha_0 - second - alpha)).log()
    variance = 1 / (first + alpha) + 1 / (second + alpha)
    return (log_odds_first - log_odds_second) / variance.sqrt()


def _comment_counts(comments: pl.DataFrame, *, group: str, text: str) -> pl.DataFrame:
    """(text, group, n): how many non-blank detractor / promoter comments have each distinct text."""
    return (
        comments.select(
            pl.col(text).cast(pl.String).alias("text"), pl.col(group).cast(pl.String).alias("group")
        )
        .filter(
            pl.col("group").is_in([DETRACTOR, PROMOTER])
            & (pl.col("text").str.strip_chars().str.len_chars() > 0)
        )
        .group_by("text", "group")
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )


def _group_size(counts: pl.DataFrame, name: str) -> int:
    """Comments of group `name` in `counts`."""
    return int(counts.filter(pl.col("group") == name)["n"].sum())


def _scored_terms(mentions: pl.DataFrame, *, detractors: int, promoters: int) -> pl.DataFrame:
    """One row per term: counts, shares of each group's comments, z and leaning (null at z = 0)."""
    in_group = {name: pl.col("n").filter(pl.col("group") == name).sum() for name in (DETRACTOR, PROMOTER)}
    z = pl.col("z")
    return (
        mentions.group_by("term")
        .agg(in_group[DETRACTOR].alias("detractor_count"), in_group[PROMOTER].alias("promoter_count"))
        .with_columns(
            (100 * pl.col("detractor_count") / detractors).alias("detractor_share_pct"),
            (100 * pl.col("promoter_count") / promoters).alias("promoter_share_pct"),
            log_odds_z_expr(pl.col("detractor_count"), pl.col("promoter_count")).alias("z"),
        )
        .with_columns(
            pl.when(z > 0).then(pl.lit(DETRACTOR)).when(z < 0).then(pl.lit(PROMOTER)).alias("leaning")
        )
    )


def _leading(scored: pl.DataFrame, *, top: int, min_count: int) -> pl.DataFrame:
    """The `top` terms of each leaning in ≥ `min_count` comments: detractors first, by |z| then term."""
    frequent = scored.filter(
        (pl.col("detractor_count") + pl.col("promoter_count") >= min_count) & pl.col("z").is_finite()
    )
    return pl.concat(
        frequent.filter(pl.col("leaning") == leaning)
        .sort(pl.col("z").abs(), "term", descending=[True, False])
        .head(top)
        for leaning in (DETRACTOR, PROMOTER)
    )


def _examples(mentions: pl.DataFrame, leading: pl.DataFrame, *, examples: int) -> pl.DataFrame:
    """(term, examples): up to `examples` distinct comments of the term's leaning group, shortest first."""
    return (
        mentions.join(leading.select("term", pl.col("leaning").alias("group")), on=["term", "group"])
        .group_by("term")
        .agg(pl.col("text").sort_by(pl.col("text").str.len_chars(), "text").head(examples).alias("examples"))
    )


def comment_themes(
    comments: pl.DataFrame,
    *,
    group: str = "group",
    text: str = "comment",
    top: int = 10,
    min_count: int = 3,
    examples: int = 3,
) -> pl.DataFrame:
    """The `top` terms leaning detractor then the `top` leaning promoter (THEME_SCHEMA), |z| descending;
    other groups, null and blank comments ignored; no rows when either group has no comment."""
    empty = pl.DataFrame(schema=THEME_SCHEMA)
    if comments.is_empty():
        return empty
    counts = _comment_counts(comments, group=group, text=text)
    detractors, promoters = _group_size(counts, DETRACTOR), _group_size(counts, PROMOTER)
    if not (detractors and promoters):
        return empty
    terms = _terms_by_text(counts["text"]).explode("terms").rename({"terms": "term"}).drop_nulls("term")
    mentions = counts.join(terms, on="text")  # (text, group, n, term): each distinct text once per term
    leading = _leading(
        _scored_terms(mentions, detractors=detractors, promoters=promoters), top=top, min_count=min_count
    )
    if leading.is_empty():
        return empty
    return (
        leading.join(
            _examples(mentions, leading, examples=examples), on="term", how="left", maintain_order="left"
        )
        .select(list(THEME_SCHEMA))
        .cast(THEME_SCHEMA)
    )
