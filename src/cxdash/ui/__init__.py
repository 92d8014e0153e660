"""The only package that imports Streamlit: state, cached loaders, widgets, the app frame, page bodies."""
