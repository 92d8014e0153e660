"""Chart builders: Polars frame in, Plotly figure out, one theme."""
