"""Reusable pieces of every page: KPI card, chart with its table and download, empty state, error boundary."""

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from cxdash.auth import store
from cxdash.errors import CxdashError
from cxdash.i18n import Translator
from cxdash.reports.export import csv_bytes
from cxdash.ui import auth
from cxdash.views.overview import KpiCard

log = logging.getLogger("cxdash.ui")
STATUS_BADGE = {"green": "green", "amber": "orange", "red": "red"}
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@contextmanager
def error_boundary(t: Translator) -> Iterator[None]:
    """Expected failures show their message; anything else a short note with a log reference."""
    try:
        yield
    except CxdashError as exc:
        st.error(t("app.data_error", detail=exc.translated(t, t.has)), icon=":material/error:")
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("unexpected error (ref %s)", ref)
        st.error(t("app.error", ref=ref), icon=":material/error:")


def empty_state(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


def _comparison_text(t: Translator, label: str, card: KpiCard, which: str) -> str | None:
    comparison = getattr(card, which)
    delta = t.kpi_delta(comparison.delta, card.unit)
    if delta is None:
        return None
    per_day = f" {t('overview.per_day')}" if comparison.adjusted else ""
    if comparison.p_value is None:
        return f"{label} {delta}{per_day}"
    marker = t("overview.significant") if comparison.significant else t("overview.not_significant")
    return f"{label} {delta}{per_day} ({marker})"


def _card_value(t: Translator, card: KpiCard) -> str:
    """The value, "—" when there is none for a reason (said below the card), or "no data"."""
    if card.value is not None:
        return t.kpi_value(card.value, card.unit)
    if card.reason:
        return "—"
    return t.kpi_value(card.value, card.unit) if card.n else t("overview.empty_kpi")


def kpi_card(t: Translator, card: KpiCard, sparkline: Sequence[float], *, help_text: str) -> None:
    """A bordered metric: value, change vs previous with significance, sparkline, N, target light, YoY."""
    delta = _comparison_text(t, "", card, "vs_previous")
    colour = "off" if card.higher_is_better is None else ("normal" if card.higher_is_better else "inverse")
    with st.container(border=True):
        st.metric(
            t(f"kpi.{card.name}.label"),
            _card_value(t, card),
            delta=delta.strip() if delta else None,
            delta_color=colour,
            help=help_text,
            chart_data=[v for v in sparkline if v is not None] or None,
            chart_type="line",
        )
        details = [t(f"reason.{card.reason}")] if card.reason else [t("overview.n", n=f"{card.n:,}")]
        if card.running:
            details.append(t("overview.running_short"))
        if card.served:
            details.append(t("overview.served_short"))
        yoy = _comparison_text(t, t("overview.vs_last_year"), card, "vs_last_year")
        if yoy:
            details.append(yoy)
        st.caption(" · ".join(details))
        if card.target is not None:
            target_text = t("overview.target", target=t.kpi_value(card.target, card.unit))
            if card.status:
                st.badge(
                    f"{t('overview.status_' + card.status)} · {target_text}", color=STATUS_BADGE[card.status]
                )
            else:
                st.caption(target_text)


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """What the audit log keeps of a download: who, from where, which view with which filters."""

    url: str
    username: str
    client: str
    view: str
    filters: dict


def audited_csv(engine: Engine, record: ExportRecord, file_name: str, table: pl.DataFrame) -> bytes:
    """The CSV of a download, produced only once its audit record is written (no record, no file)."""
    data = csv_bytes(table)
    with engine.begin() as conn:
        store.write_audit(
            conn, now=datetime.now(UTC), action="export", username=record.username, client=record.client,
            view=record.view, file=file_name, rows=table.height, filters=record.filters,
        )  # fmt: skip
    return data


def _download(
    table: pl.DataFrame, *, t: Translator, key: str, file_name: str, record: ExportRecord | None
) -> None:
    # With a record, the file is made on click (a deferred download), after the audit record is written.
    data = (
        partial(audited_csv, auth.auth_engine(record.url), record, file_name, table)
        if record
        else csv_bytes(table)
    )
    st.download_button(
        t("chart.download_csv"),
        data=data,
        file_name=file_name,
        mime="text/csv",
        key=f"download_{key}",
        icon=":material/download:",
        on_click="ignore",
    )


def chart_with_table(
    fig: go.Figure,
    table: pl.DataFrame,
    *,
    t: Translator,
    key: str,
    file_name: str,
    record: ExportRecord | None,
) -> None:
    """The chart, then an expander with its data table and a CSV download of exactly that table."""
    st.plotly_chart(fig, key=f"chart_{key}", config=PLOTLY_CONFIG, width="stretch")
    with st.expander(t("chart.show_table")):
        st.dataframe(table, hide_index=True, width="stretch", key=f"table_{key}")
        _download(table, t=t, key=key, file_name=file_name, record=record)


def chart_free_table(
    table: pl.DataFrame, *, t: Translator, key: str, file_name: str, record: ExportRecord | None
) -> None:
    """A table shown as data (never as HTML or Markdown) with a CSV download of exactly it."""
    st.dataframe(table, hide_index=True, width="stretch", key=f"table_{key}")
    _download(table, t=t, key=key, file_name=file_name, record=record)
