"""Reusable pieces of every page: KPI card, chart with its table and download, empty state, error boundary."""

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import PurePath
from typing import Any, Final

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime import Runtime
from streamlit.runtime.media_file_storage import MediaFileKind, MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import (
    MemoryFile,
    MemoryMediaFileStorage,
    get_extension_for_mimetype,
)
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cxdash.auth import store
from cxdash.business_hours import CLOCKS, Clock
from cxdash.errors import CxdashError
from cxdash.i18n import Translator
from cxdash.metrics.kpis import HEADLINE_KPIS
from cxdash.reports.export import csv_bytes, xlsx_bytes
from cxdash.ui import auth
from cxdash.views.overview import KpiCard

KPI_NAMES: Final = tuple(spec.name for spec in HEADLINE_KPIS)

log = logging.getLogger("cxdash.ui")
STATUS_BADGE = {"green": "green", "amber": "orange", "red": "red"}
CLOCK_KEY: Final = "clock"  # the session's clock, language-free; a link's `clock=` seeds it
CLOCK_PARAM: Final = "clock"  # the query parameter; absent while the clock is the setting's
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


def url_choice(
    t: Translator, *, key: str, param: str, options: Sequence, default: object, label: str,
    format_func: Callable[[Any], str], help_text: str,
) -> Any:  # fmt: skip
    """A page-wide choice kept for the session and, while it differs from the setting `default`, in the
    URL (`param`): the session's choice, else a link's `param=`, else `default`.

    The widget is keyed per language (its option texts change with it); the value lives under `key`, so
    it survives page and language changes. A value that is not an option falls back to `default`.
    """
    widget_key = f"{key}__{t.lang}"
    by_text = {str(option): option for option in options}
    # The value reaches the widget as its default, not by writing its state (see state.remembered).
    current = st.session_state.get(
        widget_key, st.session_state.get(key, by_text.get(st.query_params.get(param, "")))
    )
    chosen = st.segmented_control(
        label,
        options,
        format_func=format_func,
        key=widget_key,
        required=True,
        help=help_text,
        default=current if current in options else default,
    )
    st.session_state[key] = chosen
    if chosen == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != str(chosen):
        st.query_params[param] = str(chosen)
    return chosen


def clock_control(t: Translator, *, default: Clock) -> Clock:
    """Calendar or business hours for the durations on a page (a link's `clock=` seeds it)."""
    return url_choice(
        t, key=CLOCK_KEY, param=CLOCK_PARAM, options=CLOCKS, default=default, label=t("clock.label"),
        format_func=lambda c: t(f"clock.{c}"), help_text=t("clock.help"),
    )  # fmt: skip


THRESHOLD_KEY: Final = "csat_threshold"
THRESHOLD_PARAM: Final = "csat"
THRESHOLDS: Final = (5, 4, 3)  # top-1, top-2 and top-3 box on the 1–5 scale


def threshold_control(t: Translator, *, default: int) -> int:
    """The CSAT "satisfied" threshold as a what-if setting: top-1 (5), top-2 (4–5) or top-3 (3–5) box."""
    return url_choice(
        t, key=THRESHOLD_KEY, param=THRESHOLD_PARAM, options=THRESHOLDS, default=default,
        label=t("satisfaction.threshold"), format_func=lambda v: t(f"satisfaction.threshold_{v}"),
        help_text=t("satisfaction.threshold_help"),
    )  # fmt: skip


def clock_label(t: Translator, text: str, clock: Clock) -> str:
    """`text` with the clock it is measured on, e.g. "首次响应时长(中位数)· 工作时间"."""
    return t("clock.labelled", text=text, clock=t(f"clock.{clock}"))


def kpi_card(
    t: Translator, card: KpiCard, sparkline: Sequence[float], *, help_text: str, clock: Clock | None = None
) -> None:
    """A bordered metric: value, change vs previous with significance, sparkline, N, target light, YoY;
    for a duration, the `clock` it is measured on."""
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
        if clock is not None:
            details.append(t(f"clock.{clock}"))
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


# A download's file lives this long after the click, for this many requests: Streamlit's frontend
# fetches the URL once to check it and once more to save it.
DOWNLOAD_TTL_S = 60
DOWNLOAD_GETS = 2
_made_here = threading.local()  # set by a download's callable for the storage call that follows it


@dataclass(slots=True)
class _Ticket:
    session_id: str
    deadline: float
    gets_left: int


class OneShotDownloads(MemoryMediaFileStorage):
    """Streamlit's in-memory media storage, with downloads made by cxdash served once and briefly.

    Streamlit stores a download under the hash of its content and serves `/media/<id>` to anyone, as
    often as asked, until the session moves on. A file our deferred callable just made instead gets a
    random id and a ticket: served only while the session that clicked is connected, at most
    DOWNLOAD_GETS times, within DOWNLOAD_TTL_S seconds, then deleted (404). Streamlit 1.67 offers no
    documented hook for this, so `install_one_shot_downloads` swaps the class of the process's storage
    object (whose `/media` route holds that very object); other media files behave as before.
    """

    _tickets: dict[str, _Ticket]
    _ticket_lock: threading.Lock

    def load_and_get_id(
        self, path_or_data: str | bytes, mimetype: str, kind: MediaFileKind, filename: str | None = None
    ) -> str:
        session_id = getattr(_made_here, "session_id", None)
        if session_id is None or kind != MediaFileKind.DOWNLOADABLE or not isinstance(path_or_data, bytes):
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)
        del _made_here.session_id
        file_id = secrets.token_hex(16)
        with self._ticket_lock:
            self._sweep()
            self._files_by_id[file_id] = MemoryFile(
                content=path_or_data, mimetype=mimetype, kind=kind, filename=filename
            )
            self._tickets[file_id] = _Ticket(session_id, time.monotonic() + DOWNLOAD_TTL_S, DOWNLOAD_GETS)
        return file_id

    def get_url(self, file_id: str) -> str:
        file = self._files_by_id.get(file_id) if file_id in self._tickets else None
        if file is not None:  # Streamlit asks for the URL once: not a request for the file
            return f"{self._media_endpoint}/{file_id}{get_extension_for_mimetype(file.mimetype)}"
        return super().get_url(file_id)

    def get_file(self, filename: str) -> MemoryFile:
        file_id = PurePath(filename).stem
        if file_id not in self._tickets:
            return super().get_file(filename)
        with self._ticket_lock:
            self._sweep()
            ticket = self._tickets.get(file_id)
            file = self._files_by_id.get(file_id)
            if ticket is None or file is None or not _session_is_live(ticket.session_id):
                self._drop(file_id)
                raise MediaFileStorageError(f"Download {file_id} is gone")
            ticket.gets_left -= 1
            if ticket.gets_left <= 0:
                self._drop(file_id)
            return file

    def delete_file(self, file_id: str) -> None:
        with self._ticket_lock:
            self._drop(file_id)
        super().delete_file(file_id)

    def _drop(self, file_id: str) -> None:
        """Forget one ticketed file (the caller holds the ticket lock)."""
        self._tickets.pop(file_id, None)
        self._files_by_id.pop(file_id, None)

    def _sweep(self) -> None:
        """Delete ticketed files past their deadline (the caller holds the ticket lock)."""
        now = time.monotonic()
        for file_id in [f for f, ticket in self._tickets.items() if ticket.deadline < now]:
            self._drop(file_id)


def _session_is_live(session_id: str) -> bool:
    return Runtime.exists() and Runtime.instance().is_active_session(session_id)


def install_one_shot_downloads() -> bool:
    """Make the running server's media storage a OneShotDownloads (once); False where there is none."""
    if not Runtime.exists():
        return False
    storage = Runtime.instance().media_file_mgr._storage  # no public accessor
    if isinstance(storage, OneShotDownloads):
        return True
    if type(storage) is not MemoryMediaFileStorage:  # a host's own storage: leave it alone
        return False
    storage._tickets = {}
    storage._ticket_lock = threading.Lock()
    storage.__class__ = OneShotDownloads
    return True


def _failed_key(key: str) -> str:
    return f"download_failed_{key}"


@dataclass(frozen=True, slots=True)
class DeferredCsv:
    """A download's callable, run by Streamlit when the button is clicked (on a worker thread).

    The audit record is written first; if it or the file cannot be made, the session is told (a flag
    in its state and a rerun that shows the message) and Streamlit gets an error, so no file is served.
    """

    engine: Engine
    record: ExportRecord
    file_name: str
    table: pl.DataFrame
    session_id: str
    on_failure: Callable[[], None]

    def __call__(self) -> bytes:
        try:
            data = audited_csv(self.engine, self.record, self.file_name, self.table)
        except Exception:
            log.exception("download %s refused: no audit record", self.file_name)
            self.on_failure()
            raise
        _made_here.session_id = self.session_id  # the storage call that follows on this thread
        return data


@dataclass(slots=True)
class DeferredFile:
    """Like DeferredCsv for any file (e.g. the review deck): made on click, after its audit record."""

    engine: Engine
    record: ExportRecord
    file_name: str
    make: Callable[[], bytes]
    rows: int
    session_id: str
    on_failure: Callable[[], None]

    def __call__(self) -> bytes:
        try:
            data = self.make()
            with self.engine.begin() as conn:
                store.write_audit(
                    conn, now=datetime.now(UTC), action="export", username=self.record.username,
                    client=self.record.client, view=self.record.view, file=self.file_name, rows=self.rows,
                    filters=self.record.filters,
                )  # fmt: skip
        except Exception:
            log.exception("download %s refused: no audit record", self.file_name)
            self.on_failure()
            raise
        _made_here.session_id = self.session_id
        return data


def audited_download(
    label: str, *, t: Translator, make: Callable[[], bytes], file_name: str, mime: str, key: str,
    record: ExportRecord, rows: int,
) -> None:  # fmt: skip
    """A download button whose file is made on click, audited, and served once to this session."""
    ctx = get_script_run_ctx()
    if ctx is None:  # no script context (never in the app)
        return
    install_one_shot_downloads()
    data = DeferredFile(
        auth.auth_engine(record.url), record, file_name, make, rows, ctx.session_id,
        partial(_tell_session, ctx.session_id, ctx.session_state, _failed_key(key)),
    )  # fmt: skip
    st.download_button(
        label, data=data, file_name=file_name, mime=mime, key=f"download_{key}", icon=":material/download:",
        on_click="ignore",
    )  # fmt: skip
    if st.session_state.pop(_failed_key(key), False):
        st.error(t("download.audit_failed"), icon=":material/gpp_bad:")


def _tell_session(session_id: str, state: object, key: str) -> None:
    """Flag a failed download in the session's state and rerun it so the page says so."""
    try:
        state[key] = True  # type: ignore[index]
        session = Runtime.instance().get_app_session(session_id) if Runtime.exists() else None
        if session is not None:
            # AppSession's methods belong to the server's event loop (no public way to ask a rerun).
            session._event_loop.call_soon_threadsafe(session.request_rerun, None)
    except Exception:
        log.exception("could not tell session %s about a failed download", session_id)


def _download(
    table: pl.DataFrame, *, t: Translator, key: str, file_name: str, record: ExportRecord | None
) -> None:
    # With a record, the file is made on click (a deferred download), after the audit record is
    # written, and served once to this session (OneShotDownloads).
    ctx = get_script_run_ctx()
    data: bytes | DeferredCsv
    if record is not None and ctx is not None:
        install_one_shot_downloads()
        data = DeferredCsv(
            auth.auth_engine(record.url), record, file_name, table, ctx.session_id,
            partial(_tell_session, ctx.session_id, ctx.session_state, _failed_key(key)),
        )  # fmt: skip
    elif record is not None:  # no script context (never in the app): no way to tell the user
        data = partial(audited_csv, auth.auth_engine(record.url), record, file_name, table)  # type: ignore[assignment]
    else:
        data = csv_bytes(table)
    with st.container(horizontal=True):
        st.download_button(
            t("chart.download_csv"),
            data=data,
            file_name=file_name,
            mime="text/csv",
            key=f"download_{key}",
            icon=":material/download:",
            on_click="ignore",
        )
        if record is not None and ctx is not None:
            workbook = str(PurePath(file_name).with_suffix(".xlsx"))
            _excel_button(t, table, key=key, file_name=workbook, record=record, session_id=ctx.session_id)
    if st.session_state.pop(_failed_key(key), False):
        st.error(t("download.audit_failed"), icon=":material/gpp_bad:")


def export_definitions(t: Translator, record: ExportRecord) -> pl.DataFrame:
    """The definitions sheet of an Excel export: the view, its filters and every KPI's definition."""
    filters = record.filters
    threshold, window = filters.get("csat_threshold", 4), filters.get("churn_window_days", 180)
    rows = [
        ("view", record.view),
        ("exported_by", record.username),
        ("exported_at", datetime.now(UTC).isoformat(timespec="seconds")),
        *((f"filter.{name}", str(value)) for name, value in filters.items()),
        *(
            (name, t(f"kpi.{name}.label") + ": " + t(f"kpi.{name}.help", threshold=threshold, window=window))
            for name in KPI_NAMES
            if t.has(f"kpi.{name}.help")
        ),
    ]
    return pl.DataFrame(rows, schema={"name": pl.String, "definition": pl.String}, orient="row")


def _excel_button(
    t: Translator, table: pl.DataFrame, *, key: str, file_name: str, record: ExportRecord, session_id: str
) -> None:
    """The table as an .xlsx (its sheet and a definitions sheet), made on click and audited."""
    definitions = export_definitions(t, record)
    sheet = PurePath(file_name).stem.removeprefix("cxdash_")
    data = DeferredFile(
        auth.auth_engine(record.url), record, file_name,
        partial(xlsx_bytes, {sheet: table}, definitions=definitions), table.height, session_id,
        partial(_tell_session, session_id, get_script_run_ctx().session_state, _failed_key(key)),
    )  # fmt: skip
    st.download_button(
        t("chart.download_xlsx"), data=data, file_name=file_name,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"download_xlsx_{key}", icon=":material/table_view:", on_click="ignore",
    )  # fmt: skip


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
    table: pl.DataFrame,
    *,
    t: Translator,
    key: str,
    file_name: str,
    record: ExportRecord | None,
    column_config: dict | None = None,
) -> None:
    """A table shown as data (never as HTML or Markdown) with a CSV download of exactly it."""
    st.dataframe(table, hide_index=True, width="stretch", key=f"table_{key}", column_config=column_config)
    _download(table, t=t, key=key, file_name=file_name, record=record)


def lazy_tabs(
    t: Translator,
    key: str,
    sections: dict[str, Callable[[], None]],
    *,
    label: Callable[[str], str],
) -> None:
    """Tabs of which only the open one runs its section (`st.tabs(on_change="rerun")`); the open tab is
    remembered under `key` across reruns and languages.

    The tab open when this language's tabs were first drawn is their default for good: a keyed st.tabs'
    default is part of its identity (a new default would reset it), and giving the value as a default
    rather than as written state keeps the browser and the server agreeing on the open tab.
    """
    ids = list(sections)
    labels = [label(tab_id) for tab_id in ids]
    initial_key = f"{key}_initial__{t.lang}"
    if initial_key not in st.session_state:
        stored = st.session_state.get(key)
        st.session_state[initial_key] = labels[ids.index(stored)] if stored in ids else labels[0]
    tabs = st.tabs(labels, key=f"{key}__{t.lang}", default=st.session_state[initial_key], on_change="rerun")
    for tab_id, tab in zip(ids, tabs, strict=True):
        if tab.open is False:  # None: no rerun information yet, draw it
            continue
        st.session_state[key] = tab_id
        with tab:
            sections[tab_id]()
