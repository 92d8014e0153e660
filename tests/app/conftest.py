"""AppTest fixtures: Streamlit's caches are process-global, so every test starts with empty ones."""

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def clear_caches():
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
