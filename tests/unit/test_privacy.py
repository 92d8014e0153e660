import polars as pl

from cxdash.auth.privacy import with_personal_data_for


def test_personal_data_is_masked_for_roles_without_it():
    frame = pl.LazyFrame(
        {
            "customer_id": ["C0000001", "C0000002", "C0000003"],
            "name": ["张三丰", "Alice Smith", None],
            "email": ["alice@example.com", "broken", None],
            "phone": ["13812345678", "123", None],
            "city": ["上海", "Boston", None],
        }
    )
    masked = with_personal_data_for(frame, may_see=False).collect()
    assert masked["name"].to_list() == ["张**", "A**********", None]
    assert masked["email"].to_list() == ["a***@example.com", "***", None]
    assert masked["phone"].to_list() == ["*******5678", "****", None]
    assert masked["customer_id"].to_list() == ["C0000001", "C0000002", "C0000003"]
    assert masked["city"].to_list() == ["上海", "Boston", None]
    assert with_personal_data_for(frame, may_see=True).collect().equals(frame.collect())
