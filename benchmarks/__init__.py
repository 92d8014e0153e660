"""Peers for `python -m cxdash bench`: the same work done the way a typical dashboard does it."""
