"""The Quarterly review page: pick a quarter (default the last complete one) in the user's scope, or a
frozen snapshot; every KPI against the previous quarter and last year with significance and target,
the movers, the written narrative linking to the pages that show it, the PowerPoint deck, and freezing."""

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from cxdash.auth.roles import sees_all_data
from cxdash.db.reviews import delete_snapshot, freeze_review, list_snapshots, open_snapshot, rename_snapshot
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.kpi_report import period_text, scope_text, shown_change, shown_value
from cxdash.metrics.kpis import KPI_BY_NAME
from cxdash.periods import Period, parse_period
from cxdash.plain_text import markdown_plain
from cxdash.reports.deck import review_deck
from cxdash.ui import auth
from cxdash.ui.loaders import available_periods, dataset, review_data
from cxdash.ui.registry import PAGE_BY_ID
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, choose_quarter, export_record
from cxdash.ui.widgets import audited_download, chart_free_table
from cxdash.views.review import AREAS, MOVERS_SHOWN, statement_text

LIVE = 0  # the snapshot choice that means "the live data"
FROZEN_KEY = "rev_frozen_message"  # what freezing said, shown after the page is drawn again
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def render() -> None:
    run_page("review", _render)


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("review.title"))
    engine = auth.auth_engine(context.settings.db_url)
    everyone = sees_all_data(context.user.roles)
    with engine.connect() as conn:
        snapshots = list_snapshots(conn, username=context.user.username, sees_all=everyone)
    names = {s.snapshot_id: s for s in snapshots}
    left, right = st.columns(2)
    chosen = left.selectbox(
        t("review.source"),
        [LIVE, *names],
        key="rev_source",
        format_func=lambda i: (
            t("review.live")
            if i == LIVE
            else t("review.snapshot_label", name=names[i].name, period=names[i].period, owner=names[i].owner)
        ),
    )
    if chosen == LIVE:
        quarters = list(available_periods(context.settings.db_url, "quarter", context.settings.display_tz))
        complete = [p for p in quarters if not _running(context, p)] or quarters
        quarter = right.selectbox(
            t("review.quarter"),
            [p.label for p in reversed(quarters)],
            key="rev_quarter",
            index=list(reversed(quarters)).index(complete[-1]),
            format_func=lambda label: t.period(parse_period(label)),
        )
        data = review_data(
            context.settings.db_url,
            context.version,
            parse_period(quarter),
            context.scope,
            context.options,
            context.settings.display_tz,
            context.user,
        )
    else:
        with engine.connect() as conn:
            data = open_snapshot(conn, chosen, username=context.user.username, sees_all=everyone)
        if data is None:
            st.error(t("review.snapshot_gone"))
            return
        info = names[chosen]
        st.info(
            t(
                "review.frozen_note",
                name=info.name,
                owner=info.owner,
                at=t.datetime(
                    info.created_at if info.created_at.tzinfo else info.created_at.replace(tzinfo=UTC),
                    context.settings.display_tz,
                ),
            ),
            icon=":material/ac_unit:",
        )
    report = data["report"]
    st.caption(
        t(
            "review.caption",
            period=period_text(t, report["period"]),
            scope=scope_text(t, report["scope"]),
            as_of=t.datetime(datetime.fromisoformat(report["data_as_of"]), report["timezone"]),
            level=f"{data['alpha']:g}",
        )
    )
    _movers(t, data)
    _kpis(context, t, data)
    _narrative(t, data)
    _actions(context, t, data, chosen, names)


def _running(context: PageContext, period: Period) -> bool:
    span = dataset(context.settings.db_url, context.version).span
    return span is None or period.end(context.settings.display_tz) > span.data_as_of


def _movers(t: Translator, data: dict) -> None:
    """The most significant changes as cards: green when for the better, red when for the worse, grey for
    volumes (neither)."""
    st.subheader(t("review.movers"))
    movers = data["movers"][:MOVERS_SHOWN]
    if not movers:
        st.caption(t("review.no_movers", level=f"{data['alpha']:g}"))
        return
    with st.container(horizontal=True):
        for mover in movers:
            unit, higher = mover["unit"], KPI_BY_NAME[mover["kpi"]].higher_is_better
            st.metric(
                t(f"kpi.{mover['kpi']}.label"),
                shown_value(t, mover["value"], unit),
                delta=f"{shown_change(t, mover['delta'], unit)} {t('review.against_' + mover['against'])}",
                delta_color="off" if higher is None else ("normal" if higher else "inverse"),
                help=t(
                    f"review.mover_help_{mover['against']}",
                    other=shown_value(t, mover["other"], unit),
                    p=f"{mover['p_value']:.4f}",
                ),
                border=True,
            )


def _kpis(context: PageContext, t: Translator, data: dict) -> None:
    st.subheader(t("review.summary"))
    kpis = data["report"]["kpis"]
    alpha = data["alpha"]
    rows = []
    for area, names in AREAS.items():
        for name in names:
            if name not in kpis:
                continue
            k, unit = kpis[name], kpis[name]["unit"]
            rows.append(
                {
                    t("review.col_area"): t(f"review.area_{area}"),
                    t("review.col_kpi"): t(f"kpi.{name}.label"),
                    t("review.col_value"): shown_value(t, k["value"], unit),
                    "N": k["n"],
                    t("review.col_previous"): shown_value(t, k["previous"], unit),
                    t("review.col_change"): shown_change(t, k["change"], unit),
                    t("review.col_p"): None if k["p_value"] is None else round(k["p_value"], 4),
                    t("review.col_sig"): k["p_value"] is not None and k["p_value"] < alpha,
                    t("review.col_last_year"): shown_value(t, k["last_year"], unit),
                    t("review.col_change_ly"): shown_change(t, k["change_vs_last_year"], unit),
                    t("review.col_p_ly"): None
                    if k["p_value_vs_last_year"] is None
                    else round(k["p_value_vs_last_year"], 4),
                    t("review.col_target"): shown_value(t, k["target"], unit),
                    t("review.col_status"): t(f"overview.status_{k['status']}") if k["status"] else "",
                }
            )
    chart_free_table(
        pl.DataFrame(rows, infer_schema_length=None),
        t=t,
        key="review_kpis",
        file_name=f"cxdash_review_{data['report']['period']}.csv",
        record=export_record(context, f"review.kpis.{data['report']['period']}"),
    )


def _narrative(t: Translator, data: dict) -> None:
    st.subheader(t("review.narrative"))
    period = data["report"]["period"]
    for i, said in enumerate(data["narrative"]):
        with st.container(border=True):
            st.markdown(markdown_plain(statement_text(t, said)))
            for evidence in said.get("evidence", []):
                st.markdown("- " + markdown_plain(statement_text(t, evidence)))
            page = PAGE_BY_ID.get(said.get("page") or "overview")
            if page is not None and st.button(
                t("review.see_page", page=t(page.title_key)),
                icon=":material/arrow_forward:",
                type="tertiary",
                key=f"rev_see_{i}",
                on_click=choose_quarter,
                args=(period,),
            ):
                st.switch_page(page.script)


def _actions(context: PageContext, t: Translator, data: dict, chosen: int, names: dict) -> None:
    st.subheader(t("review.share"))
    lang = t.lang
    deck_name = f"cxdash_review_{data['report']['period']}_{lang}.pptx"
    audited_download(
        t("review.download_deck"),
        t=t,
        make=lambda: review_deck(data, lang=lang),
        file_name=deck_name,
        mime=PPTX,
        key=f"review_deck_{lang}",
        record=export_record(context, f"review.deck.{data['report']['period']}"),
        rows=len(data["report"]["kpis"]),
    )
    engine = auth.auth_engine(context.settings.db_url)
    if chosen == 0:
        with st.form("rev_freeze", clear_on_submit=True):
            name = st.text_input(t("review.freeze_name"), max_chars=120)
            if st.form_submit_button(t("review.freeze"), icon=":material/ac_unit:"):
                try:
                    snapshot = freeze_review(
                        engine, data, name=name, owner=context.user.username, client=auth.client_id()
                    )
                except InputError as exc:
                    st.error(exc.translated(t, t.has))
                else:  # drawn again, so that the list of frozen reviews above already holds it
                    st.session_state[FROZEN_KEY] = t(
                        "review.frozen", name=" ".join(name.split()), id=snapshot
                    )
                    st.rerun()
        if said := st.session_state.pop(FROZEN_KEY, None):
            st.success(said)
    elif names[chosen].owner == context.user.username:
        _own_snapshot(context, t, chosen, names[chosen].name)


def _own_snapshot(context: PageContext, t: Translator, chosen: int, name: str) -> None:
    """The owner renames or deletes a frozen review."""
    engine = auth.auth_engine(context.settings.db_url)
    with st.form("rev_rename"):
        new_name = st.text_input(t("review.rename_name"), value=name, max_chars=120, key="rev_new_name")
        if st.form_submit_button(t("review.rename"), icon=":material/edit:"):
            try:
                rename_snapshot(
                    engine, chosen, new_name, username=context.user.username, client=auth.client_id()
                )
            except InputError as exc:
                st.error(exc.translated(t, t.has))
            else:
                st.rerun()
    if st.button(t("review.delete"), icon=":material/delete:", key="rev_delete"):
        delete_snapshot(engine, chosen, username=context.user.username, client=auth.client_id())
        st.session_state.pop("rev_source", None)
        st.rerun()
