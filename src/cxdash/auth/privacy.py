"""Masking of customers' personal data (PIPL) for roles that may not see it."""

import polars as pl

from cxdash.load import Frames

PERSONAL_COLUMNS = ("name", "email", "phone")
# Free text may quote a customer's e-mail or phone number ("call me on 138…"): masked there too.
FREE_TEXT = {"tickets": ("subject",), "surveys": ("comment",)}
EMAIL_PATTERN = r"[\w.+-]+@[\w-]+(\.[\w-]+)+"
PHONE_PATTERN = r"\+?\d[\d -]{6,}\d"


def masked_name() -> pl.Expr:
    """张三丰 → 张**, Alice Smith → A**********."""
    name = pl.col("name")
    return pl.when(name.str.len_chars() > 0).then(
        name.str.slice(0, 1) + pl.lit("*").repeat_by(name.str.len_chars() - 1).list.join("")
    )


def masked_email() -> pl.Expr:
    """alice@example.com → a***@example.com."""
    email = pl.col("email")
    return (
        pl.when(email.str.contains("@"))
        .then(email.str.slice(0, 1) + pl.lit("***@") + email.str.split("@").list.last())
        .otherwise(pl.when(email.is_not_null()).then(pl.lit("***")))
    )


def masked_phone() -> pl.Expr:
    """13812345678 → *******5678."""
    phone = pl.col("phone")
    return (
        pl.when(phone.str.len_chars() > 4)
        .then(pl.lit("*").repeat_by(phone.str.len_chars() - 4).list.join("") + phone.str.slice(-4))
        .otherwise(pl.when(phone.is_not_null()).then(pl.lit("****")))
    )


def with_personal_data_for(frame: pl.LazyFrame, *, may_see: bool) -> pl.LazyFrame:
    """The frame as a role may see it: personal columns masked unless `may_see`."""
    if may_see:
        return frame
    present = set(frame.collect_schema().names())
    masks = {"name": masked_name, "email": masked_email, "phone": masked_phone}
    return frame.with_columns(masks[c]().alias(c) for c in PERSONAL_COLUMNS if c in present)


def masked_free_text(column: str) -> pl.Expr:
    """E-mail addresses and phone-like digit runs inside free text replaced by asterisks."""
    return (
        pl.col(column)
        .str.replace_all(EMAIL_PATTERN, "***@***")
        .str.replace_all(PHONE_PATTERN, "********")
        .alias(column)
    )


def frames_for(frames: Frames, *, may_see: bool) -> Frames:
    """Every table as a role may see it: customers' personal data and contact details quoted in
    free text masked unless `may_see`."""
    if may_see:
        return frames
    return frames.with_tables(
        customers=with_personal_data_for(frames.customers, may_see=False),
        **{
            table: getattr(frames, table).with_columns(masked_free_text(c) for c in columns)
            for table, columns in FREE_TEXT.items()
        },
    )
