"""The medium demo as the pages' functions see it: Frames with the demo's business calendars, and its span."""

import polars as pl
import pytest

from cxdash.demo.staffing import demo_setup
from cxdash.load import frames_from_tables
from cxdash.periods import DataSpan
from tests.conftest import MEDIUM


@pytest.fixture(scope="session")
def medium_demo(medium_frames):
    return frames_from_tables(medium_frames, demo_setup(MEDIUM.tz, MEDIUM.locale))


@pytest.fixture(scope="session")
def medium_span(medium_frames):
    """From the first ticket to the latest instant the tickets and surveys record (data_as_of)."""
    tickets = medium_frames["tickets"]
    latest = max(
        frame.select(pl.col(c).max()).item()
        for frame, c in (
            (tickets, "created_at"),
            (tickets, "closed_at"),
            (medium_frames["surveys"], "responded_at"),
        )
    )
    return DataSpan(first=tickets["created_at"].min(), data_as_of=latest)
