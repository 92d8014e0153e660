"""cxdash: a self-hosted customer-service management dashboard."""

__version__ = "0.1.0"
