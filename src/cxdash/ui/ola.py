"""The OLA attainment section (internal targets per workflow stage): per stage as figures, per stage and
per team × stage as downloadable tables; on the complaints page (complaints) and the Service map (all
tickets)."""

from dataclasses import replace

import polars as pl
import streamlit as st

from cxdash.i18n import Translator
from cxdash.metrics.ola import OLA_STAGES, OlaTargets, format_ola_targets
from cxdash.ui.loaders import dataset, ola_data
from cxdash.ui.state import PageContext, export_record
from cxdash.ui.widgets import chart_free_table


def ola_section(context: PageContext, t: Translator, *, complaints_only: bool, key: str, view: str) -> None:
    """OLA attainment of the period's tickets (or complaints) per stage and per team × stage, against
    the targets in force (Settings.ola_targets, set by admins on the Data page)."""
    url, version, tz = context.settings.db_url, context.version, context.settings.display_tz
    whose = "" if complaints_only else "_tickets"
    targets = context.settings.ola_targets
    ola = ola_data(url, version, context.period, context.scope, tz, context.user, targets, complaints_only)
    minutes = dict(zip(OLA_STAGES, targets, strict=True))
    stages = {stage: t(f"ola.stage_{stage}") for stage in OLA_STAGES}
    st.subheader(t("ola.title"))
    as_of = min(context.period.end(tz), dataset(url, version).span.data_as_of)
    st.caption(
        t(
            f"ola.caption{whose}",
            assign=t.number(minutes["assign"]),
            first_action=t.number(minutes["first_action"]),
            feedback_request=t.number(minutes["feedback_request"]),
            period=t.period(context.period),
            as_of=t.datetime(as_of, tz),
        )
    )
    cols = st.columns(len(OLA_STAGES))
    for column, row in zip(cols, ola.by_stage.iter_rows(named=True), strict=True):
        stage = str(row["stage"])
        pct = row["attainment_pct"]
        column.metric(
            stages[stage],
            "—" if pct is None else f"{pct:.1f}%",
            help=t(f"ola.metric_help{whose}", target=t.number(row["target_min"]), n=t.number(row["n"])),
        )
    # The audit record of a download says which targets the figures were measured against.
    record = export_record(context, view)
    record = replace(
        record, filters={**record.filters, "ola_targets": format_ola_targets(OlaTargets(*targets))}
    )
    st.markdown(f"**{t('ola.by_stage')}**")
    chart_free_table(
        ola_table(t, ola.by_stage, stages),
        t=t,
        key=f"{key}_stage",
        file_name=f"cxdash_{key}_by_stage.csv",
        record=replace(record, view=f"{view}_by_stage"),
    )
    st.markdown(f"**{t('ola.by_team')}**")
    chart_free_table(
        ola_table(t, ola.by_team, stages),
        t=t,
        key=f"{key}_team",
        file_name=f"cxdash_{key}_by_team.csv",
        record=replace(record, view=f"{view}_by_team"),
    )


def ola_table(t: Translator, table: pl.DataFrame, stages: dict[str, str]) -> pl.DataFrame:
    """An OLA attainment table with translated stage names and column headers."""
    team = (
        [pl.col("team_id").alias(t("ola.col_team_id")), pl.col("team_name").alias(t("ola.col_team"))]
        if "team_id" in table.columns
        else []
    )
    return table.select(
        *team,
        pl.col("stage").cast(pl.String).replace_strict(stages).alias(t("ola.col_stage")),
        pl.col("target_min").alias(t("ola.col_target")),
        pl.col("met").alias(t("ola.col_met")),
        pl.col("breached").alias(t("ola.col_breached")),
        pl.col("n").alias(t("ola.col_n")),
        pl.col("attainment_pct").round(1).alias(t("ola.col_attainment")),
        pl.col("median_min").round(1).alias(t("ola.col_median")),
    )
