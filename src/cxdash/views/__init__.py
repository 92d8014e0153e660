"""One module per page: what the page shows, as data built from metrics/ (pure, no Streamlit)."""
