"""The Data page: import CSV/Excel files (roles that may import), data quality of the user's scope,
and the definitions ledger (admins edit the adjustable definitions)."""

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

import polars as pl
import sqlalchemy as sa
import streamlit as st

from cxdash.auth.access import rows_for_user
from cxdash.auth.roles import IMPORT_ROLES
from cxdash.db.definitions import (
    StoredDefinition,
    read_definitions,
    save_definitions,
    save_sla_targets,
    sla_targets,
)
from cxdash.db.schema import AppImportMapping
from cxdash.domain import PRIORITIES
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.importer.files import Limits, TextTable, file_hash, read_text_table
from cxdash.importer.mapping import (
    DATE_ORDERS,
    IMPORTABLE_TABLES,
    ON_EXISTING,
    Mapping,
    check_mapping,
    dump_mapping,
    load_mapping,
    targets_for,
)
from cxdash.importer.run import Prepared, commit_import, prepare_table
from cxdash.importer.shape import ROWS
from cxdash.labels import joined_labels, label_expr
from cxdash.metrics.ola import OLA_STAGES, TARGET_RANGE_MIN, OlaTargets, format_ola_targets
from cxdash.metrics.quality import CHECK_BY_ID, kpi_usability
from cxdash.plain_text import markdown_plain
from cxdash.ui import auth
from cxdash.ui.loaders import quality_data, quality_rows_data
from cxdash.ui.shell import NO_PERIOD, run_page
from cxdash.ui.state import PageContext, export_record
from cxdash.ui.widgets import chart_free_table, lazy_tabs
from cxdash.views.data import columns_from_table, kpi_ledger, mapping_table, settings_in_force, value_table

KINDS = ("flat_tickets", "order_lines", *IMPORTABLE_TABLES)
PREPARED_KEY = "imp_prepared"
PREVIEW_ROWS = 50


def render() -> None:
    run_page("data", _render, needs_data=False)  # the first import fills an empty database


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("data.title"))
    sections = {}
    if IMPORT_ROLES & set(context.user.roles):
        sections["import"] = partial(_import, context, t)
    sections["quality"] = partial(_quality, context, t)
    sections["definitions"] = partial(_definitions, context, t)
    lazy_tabs(t, "data_tab", sections, label=lambda k: t(f"data.tab_{k}"))


def _kind_label(t: Translator, kind: str) -> str:
    return (
        t(f"import.kind_{kind}")
        if kind in ("flat_tickets", "order_lines")
        else t("import.kind_table", table=kind)
    )


# Import --------------------------------------------------------------------------------------------


def _import(context: PageContext, t: Translator) -> None:
    st.caption(t("import.intro"))
    left, right = st.columns(2)
    kind = left.selectbox(t("import.kind"), KINDS, format_func=partial(_kind_label, t), key="imp_kind")
    engine = auth.auth_engine(context.settings.db_url)
    saved = _saved_mappings(engine, kind)
    start = right.selectbox(
        t("import.start_from"),
        ["", *saved],
        key=f"imp_saved_{kind}",
        format_func=lambda name: name or t("import.suggested"),
    )
    mapping_file = st.file_uploader(
        t("import.mapping_file"),
        type=["yaml", "yml"],
        key="imp_mapping_file",
        help=t("import.mapping_file_help"),
    )
    uploaded = st.file_uploader(
        t("import.file"),
        type=["csv", "tsv", "txt", "xlsx", "xlsm", "xls"],
        key="imp_file",
        help=t("import.file_help"),
    )
    if uploaded is None:
        st.info(t("import.choose_file"), icon=":material/upload_file:")
        return
    try:
        base, origin = _base_mapping(kind, saved, start, mapping_file)
    except InputError as exc:
        st.error(exc.translated(t, t.has), icon=":material/error:")
        return
    data = uploaded.getvalue()
    with st.expander(t("import.options")):
        mapping = _options(t, base, kind, key=f"{kind}_{origin}")
    try:
        table = _read(data, uploaded.name, mapping.encoding)
    except InputError as exc:
        st.error(exc.translated(t, t.has), icon=":material/error:")
        return
    st.caption(
        t(
            "import.read",
            format=table.source_format,
            rows=t.number(table.frame.height),
            columns=len(table.headers),
        )
    )
    mapping = _columns_editor(t, table, mapping, key=f"{kind}_{origin}_{table.file_hash[:12]}")
    mapping = _values_editor(t, table, mapping, key=f"{kind}_{origin}_{table.file_hash[:12]}")
    try:
        check_mapping(mapping)
    except InputError as exc:
        st.error(exc.translated(t, t.has))
        return
    _mapping_actions(context, t, engine, mapping, kind)
    key = (table.file_hash, dump_mapping(mapping))
    if st.button(t("import.check"), icon=":material/fact_check:", key="imp_check"):
        bar = st.progress(0.0, text=t("import.checking"))
        try:
            prepared = prepare_table(
                engine,
                table,
                uploaded.name,
                mapping,
                progress=lambda stage, done, total: bar.progress(
                    1.0, text=t(f"import.stage_{stage}", rows=t.number(done))
                ),
            )
        except InputError as exc:
            st.error(exc.translated(t, t.has))
            return
        st.session_state[PREPARED_KEY] = (key, prepared)
    held = st.session_state.get(PREPARED_KEY)
    if held is None or held[0] != key:
        if held is not None:
            st.info(t("import.check_again"))
        return
    _report(context, t, engine, held[1])


def _base_mapping(kind: str, saved: dict[str, str], start: str, mapping_file) -> tuple[Mapping, str]:
    """The mapping the editors start from, and a name for where it came from (keys the widgets, so
    that another starting mapping resets them): an uploaded YAML, a saved one, or the suggestions."""
    if mapping_file is not None:
        data = mapping_file.getvalue()
        mapping = load_mapping(data.decode("utf-8", errors="replace"))
        wanted = kind if kind in ("flat_tickets", "order_lines") else "table"
        if mapping.kind != wanted or (wanted == "table" and mapping.table != kind):
            raise InputError(
                "The mapping file is for another kind of file.",
                key="import.mapping_other_kind",
                kind=mapping.table or mapping.kind,
            )
        return mapping, "file_" + file_hash(data)[:8]
    if start:
        return load_mapping(saved[start]), "saved_" + start
    table = None if kind in ("flat_tickets", "order_lines") else kind
    return Mapping(kind="table" if table else kind, table=table), "suggested"  # type: ignore[arg-type]


def _frame(edited: object) -> pl.DataFrame:
    """st.data_editor's result as a Polars frame (it hands back what it was given)."""
    return edited if isinstance(edited, pl.DataFrame) else pl.DataFrame(edited)


@st.cache_data(max_entries=4, show_spinner=False)
def _read(data: bytes, name: str, encoding: str | None) -> TextTable:
    return read_text_table(data, name, limits=Limits(), encoding=encoding)


def _options(t: Translator, base: Mapping, kind: str, *, key: str) -> Mapping:
    a, b, c = st.columns(3)
    timezone = a.text_input(t("import.timezone"), value=base.timezone, key=f"imp_tz_{key}")
    date_order = b.selectbox(
        t("import.date_order"),
        DATE_ORDERS,
        index=DATE_ORDERS.index(base.date_order),
        format_func=lambda o: t(f"import.date_order_{o}"),
        key=f"imp_order_{key}",
    )
    encoding = c.text_input(
        t("import.encoding"), value=base.encoding or "", key=f"imp_enc_{key}", help=t("import.encoding_help")
    )
    create = st.multiselect(
        t("import.create_missing"),
        ["teams", "agents", "customers"],
        default=list(base.create_missing),
        key=f"imp_create_{key}",
        help=t("import.create_missing_help"),
    )
    tables = [kind] if kind in IMPORTABLE_TABLES else ["customers", "tickets", "surveys", "orders"]
    policies = st.columns(len(tables))
    on_existing = {
        name: policies[i].selectbox(
            t("import.on_existing", table=name),
            ON_EXISTING,
            index=ON_EXISTING.index(base.policy(name)),
            format_func=lambda p: t(f"import.policy_{p}"),
            key=f"imp_policy_{key}_{name}",
        )
        for i, name in enumerate(tables)
    }
    cancel_prefix, negative = base.cancel_prefix, base.negative_quantity
    if kind == "order_lines":
        d, e = st.columns(2)
        cancel_prefix = (
            d.text_input(t("import.cancel_prefix"), value=base.cancel_prefix or "", key=f"imp_cancel_{key}")
            or None
        )
        negative = e.selectbox(
            t("import.negative_quantity"),
            ("refunded", "cancelled"),
            index=("refunded", "cancelled").index(base.negative_quantity),
            key=f"imp_negative_{key}",
        )
    return replace(
        base,
        timezone=timezone.strip() or "Asia/Shanghai",
        date_order=date_order,
        encoding=encoding.strip() or None,
        create_missing=tuple(create),
        on_existing={k: v for k, v in on_existing.items() if v != "update"},
        cancel_prefix=cancel_prefix,
        negative_quantity=negative,
    )


def _columns_editor(t: Translator, table: TextTable, mapping: Mapping, *, key: str) -> Mapping:
    st.subheader(t("import.columns"))
    st.caption(t("import.columns_help"))
    targets = targets_for(mapping.kind, mapping.table)
    edited = st.data_editor(
        mapping_table(targets, mapping, table.frame.drop("_row").head(200)),
        key=f"imp_columns_{key}",
        hide_index=True,
        width="stretch",
        disabled=["target", "required", "type", "default", "example"],
        column_config={
            "target": st.column_config.TextColumn(t("import.col_target")),
            "required": st.column_config.CheckboxColumn(t("import.col_required")),
            "type": st.column_config.TextColumn(t("import.col_type")),
            "default": st.column_config.TextColumn(t("import.col_default")),
            "column": st.column_config.SelectboxColumn(t("import.col_column"), options=["", *table.headers]),
            "example": st.column_config.TextColumn(t("import.col_example")),
        },
    )
    columns = columns_from_table(_frame(edited))
    skip = st.multiselect(
        t("import.skip_rows_without"),
        sorted(columns),
        default=[c for c in mapping.skip_rows_without if c in columns],
        key=f"imp_skip_{key}",
        help=t("import.skip_rows_without_help"),
    )
    return replace(mapping, columns=columns, skip_rows_without=tuple(skip))


def _values_editor(t: Translator, table: TextTable, mapping: Mapping, *, key: str) -> Mapping:
    """For each mapped column with closed values: the file's values and what each becomes."""
    values = dict(mapping.values)
    enum_targets = [x for x in mapping.targets() if x.choices and x.name in mapping.columns]
    if not enum_targets:
        return mapping
    st.subheader(t("import.values"))
    st.caption(t("import.values_help"))
    for target in enum_targets:
        frame = value_table(
            target, table.frame.get_column(mapping.columns[target.name]), values.get(target.name, {})
        )
        if frame.height > 50:
            st.caption(t("import.too_many_values", target=target.name, count=frame.height))
            continue
        edited = st.data_editor(
            frame,
            key=f"imp_values_{key}_{target.name}",
            hide_index=True,
            width="stretch",
            disabled=["value", "rows"],
            column_config={
                "value": st.column_config.TextColumn(t("import.col_value", target=target.name)),
                "rows": st.column_config.NumberColumn(t("import.col_rows")),
                "becomes": st.column_config.SelectboxColumn(
                    t("import.col_becomes"), options=["", *target.choices]
                ),
            },
        )
        edited = _frame(edited)
        values[target.name] = {v: b for v, b in edited.select("value", "becomes").iter_rows() if b and b != v}
    return replace(mapping, values={k: v for k, v in values.items() if v})


def _saved_mappings(engine: sa.Engine, kind: str) -> dict[str, str]:
    kind_name = kind if kind in ("flat_tickets", "order_lines") else "table"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AppImportMapping.name, AppImportMapping.mapping, AppImportMapping.kind).order_by(
                AppImportMapping.name
            )
        ).all()
    kept = {}
    for name, text, stored_kind in rows:
        try:
            mapping = load_mapping(text)
        except InputError:
            continue
        if stored_kind == kind_name and (kind_name != "table" or mapping.table == kind):
            kept[name] = text
    return kept


def _mapping_actions(
    context: PageContext, t: Translator, engine: sa.Engine, mapping: Mapping, kind: str
) -> None:
    text = dump_mapping(mapping)
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = left.text_input(t("import.mapping_name"), key=f"imp_map_name_{kind}", max_chars=80)
    if middle.button(
        t("import.save_mapping"), icon=":material/save:", key="imp_save_mapping", disabled=not name.strip()
    ):
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(sa.delete(AppImportMapping).where(AppImportMapping.name == name.strip()))
            conn.execute(
                sa.insert(AppImportMapping).values(
                    name=name.strip(),
                    kind=mapping.kind,
                    mapping=text,
                    saved_by=context.user.username,
                    saved_at=now,
                )
            )
        st.success(t("import.mapping_saved", name=name.strip()))
    right.download_button(
        t("import.download_mapping"),
        data=text.encode("utf-8"),
        file_name="cxdash_mapping.yaml",
        mime="application/x-yaml",
        key="imp_mapping_yaml",
        on_click="ignore",
    )


def _report(context: PageContext, t: Translator, engine: sa.Engine, prepared: Prepared) -> None:
    st.subheader(t("import.result"))
    plan = prepared.plan.with_columns(
        pl.col("on_existing").replace_strict({p: t(f"import.policy_{p}") for p in ON_EXISTING})
    ).rename({c: t(f"import.plan_{c}") for c in prepared.plan.columns})
    st.dataframe(plan, hide_index=True, width="stretch", key="imp_plan")
    if prepared.rows_skipped:
        st.caption(t("import.skipped", rows=t.number(prepared.rows_skipped)))
    if prepared.previous is not None:
        when = t.datetime(prepared.previous.at, context.settings.display_tz)
        st.warning(
            t(
                "import.already_imported",
                at=when,
                by=prepared.previous.username or "CLI",
                batch=prepared.previous.batch_id,
            ),
            icon=":material/content_copy:",
        )
    if not prepared.errors.is_empty():
        _errors(context, t, prepared)
    _preview(context, t, prepared)
    if not prepared.ok:
        return
    total = sum(f.height for f in prepared.tables.values())
    if st.button(
        t("import.go", rows=t.number(total)), type="primary", icon=":material/upload:", key="imp_go"
    ):
        bar = st.progress(0.0, text=t("import.writing"))

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=t("import.stage_written", rows=t.number(done)))

        try:
            result = commit_import(
                engine, prepared, username=context.user.username, client=auth.client_id(), progress=progress
            )
        except InputError as exc:
            st.error(exc.translated(t, t.has), icon=":material/error:")
            return
        del st.session_state[PREPARED_KEY]
        written = "; ".join(
            t(
                "import.written_table",
                table=name,
                inserted=t.number(c["inserted"]),
                updated=t.number(c["updated"]),
            )
            for name, c in result.written.items()
        )
        st.success(t("import.done", batch=result.batch_id, written=written), icon=":material/check_circle:")


def _errors(context: PageContext, t: Translator, prepared: Prepared) -> None:
    errors = prepared.errors.with_columns(
        label_expr(
            prepared.errors,
            "problem",
            lambda p: t(f"import.problem_{p}") if t.has(f"import.problem_{p}") else p,
        )
    )
    summary = errors.group_by("column", "problem").len("rows").sort("rows", descending=True)
    st.error(
        t(
            "import.errors_found",
            count=t.number(prepared.errors.height),
            rows=t.number(errors["row"].n_unique()),
        ),
        icon=":material/error:",
    )
    st.dataframe(
        summary.rename(
            {
                "column": t("import.err_column"),
                "problem": t("import.err_problem"),
                "rows": t("import.col_rows"),
            }
        ),
        hide_index=True,
        width="stretch",
        key="imp_error_summary",
    )
    chart_free_table(
        errors.rename({c: t(f"import.err_{c}") for c in errors.columns}),
        t=t,
        key="imp_errors",
        file_name="cxdash_import_errors.csv",
        record=export_record(context, "data.import_errors"),
    )


def _preview(context: PageContext, t: Translator, prepared: Prepared) -> None:
    st.caption(t("import.preview", rows=PREVIEW_ROWS))
    names = list(prepared.tables)
    for name, tab in zip(names, st.tabs(names), strict=True):
        with tab:
            rows = (
                prepared.tables[name]
                .head(PREVIEW_ROWS)
                .with_columns(
                    pl.col(ROWS).list.eval(pl.element().cast(pl.String)).list.join(", ").alias(ROWS)
                )
            )
            rows = rows_for_user(name, rows, roles=context.user.roles).rename({ROWS: t("import.file_rows")})
            st.dataframe(rows, hide_index=True, width="stretch", key=f"imp_preview_{name}")


# Data quality --------------------------------------------------------------------------------------


def _check_title(t: Translator, check_id: str) -> str:
    key = f"dq.check.{check_id}"
    return t(key) if t.has(key) else CHECK_BY_ID[check_id].problem


def _quality(context: PageContext, t: Translator) -> None:
    if context.period is NO_PERIOD:
        st.info(t("errors.no_data_yet"), icon=":material/database:")
        return
    st.caption(t("data.quality_intro", period=t.period(context.period)))
    url, tz = context.settings.db_url, context.settings.display_tz
    report = quality_data(url, context.version, context.period, context.scope, tz, context.user)
    usability = kpi_usability(report)
    warned = usability.filter(pl.col("warn"))
    if warned.height:
        st.warning(
            t("data.quality_warn", kpis=", ".join(t(f"kpi.{k}.label") for k in warned["kpi"])),
            icon=":material/warning:",
        )
    else:
        st.success(t("data.quality_ok"), icon=":material/verified:")
    table = report.select(
        label_expr(report, "check", partial(_check_title, t)).alias(t("data.q_check")),
        pl.col("table").alias(t("data.q_table")),
        pl.col("rows_checked").alias(t("data.q_checked")),
        pl.col("rows_failing").alias(t("data.q_failing")),
        pl.col("usable_pct").round(2).alias(t("data.q_usable")),
        joined_labels(report, "kpis", lambda k: t(f"kpi.{k}.label")).alias(t("data.q_kpis")),
    )
    chart_free_table(
        table,
        t=t,
        key="quality",
        file_name="cxdash_data_quality.csv",
        record=export_record(context, "data.quality"),
    )
    failing = report.filter(pl.col("rows_failing") > 0).get_column("check").to_list()
    if not failing:
        return
    st.subheader(t("data.q_rows"))
    check_id = st.selectbox(t("data.q_pick"), failing, format_func=partial(_check_title, t), key="dq_check")
    rows = quality_rows_data(url, context.version, context.period, context.scope, tz, context.user, check_id)
    chart_free_table(
        rows,
        t=t,
        key=f"quality_rows_{check_id}",
        file_name=f"cxdash_quality_{check_id}.csv",
        record=export_record(context, f"data.quality.{check_id}"),
    )


# Definitions ---------------------------------------------------------------------------------------


def _definitions(context: PageContext, t: Translator) -> None:
    engine = auth.auth_engine(context.settings.db_url)
    stored = read_definitions(engine)
    with engine.connect() as conn:
        sla = sla_targets(conn)
    st.caption(t("definitions.intro"))
    st.subheader(t("definitions.in_force"))
    settings = settings_in_force(context.settings, stored, {p: sla[p] for p in PRIORITIES if p in sla})
    settings = _with_ola_targets(settings, context.settings.ola_targets, stored)
    shown = settings.with_columns(
        label_expr(settings, "setting", partial(_setting_label, t)),
        pl.col("set_by").fill_null(t("definitions.built_in")),
    ).rename({c: t(f"definitions.col_{c}") for c in settings.columns})
    chart_free_table(
        shown,
        t=t,
        key="settings_in_force",
        file_name="cxdash_definitions_in_force.csv",
        record=export_record(context, "data.definitions_in_force"),
    )
    st.subheader(t("definitions.kpis"))
    ledger = kpi_ledger()
    threshold = context.settings.csat_threshold
    ledger = ledger.select(
        label_expr(ledger, "kpi", lambda k: t(f"kpi.{k}.label")).alias(t("definitions.col_label")),
        pl.col("kpi").alias(t("definitions.col_kpi")),
        label_expr(
            ledger,
            "kpi",
            lambda k: (
                t(f"kpi.{k}.help", threshold=threshold, window=context.settings.churn_window_days)
                if t.has(f"kpi.{k}.help")
                else ""
            ),
        ).alias(t("definitions.col_definition")),
        pl.col("unit").alias(t("definitions.col_unit")),
    )
    chart_free_table(
        ledger,
        t=t,
        key="kpi_ledger",
        file_name="cxdash_kpi_definitions.csv",
        record=export_record(context, "data.kpi_definitions"),
    )
    if "admin" in context.user.roles:
        _edit_definitions(context, t, engine, sla)
    else:
        st.caption(t("definitions.admins_only"))


def _setting_label(t: Translator, setting: str) -> str:
    """A definition's name in the ledger: its `definitions.setting_*` text, else an `ola.setting_*` one
    (the OLA targets), else the name itself."""
    name = setting.replace(".", "_")
    for key in (f"definitions.setting_{name}", f"ola.setting_{name}"):
        if t.has(key):
            return t(key)
    return setting


def _with_ola_targets(
    settings: pl.DataFrame, targets: tuple[int, int, int], stored: dict[str, StoredDefinition]
) -> pl.DataFrame:
    """The definitions in force with the OLA targets (minutes: assign, first action, feedback request)
    after the severity weights, unless the table has them already."""
    names = settings["setting"].to_list()
    if "ola_targets" in names:
        return settings
    by = stored.get("ola_targets")
    row = pl.DataFrame(
        [
            (
                "ola_targets",
                format_ola_targets(OlaTargets(*targets)),
                by.changed_by if by else None,
                by.changed_at if by else None,
            )
        ],
        schema=settings.schema,
        orient="row",
    )
    at = names.index("severity_weights") + 1 if "severity_weights" in names else len(names)
    return pl.concat([settings.head(at), row, settings.slice(at)])


def _edit_definitions(
    context: PageContext, t: Translator, engine: sa.Engine, sla: dict[str, tuple[int, int]]
) -> None:
    st.subheader(t("definitions.edit"))
    config = context.settings
    with st.form("definitions_form"):
        a, b = st.columns(2)
        threshold = a.selectbox(
            t("definitions.setting_csat_threshold"), (3, 4, 5), index=(3, 4, 5).index(config.csat_threshold)
        )
        window = b.number_input(
            t("definitions.setting_churn_window_days"),
            min_value=30,
            max_value=730,
            value=config.churn_window_days,
            step=10,
        )
        weights = st.columns(4)
        chosen = [
            weights[i].number_input(
                t(f"complaints.severity_{i + 1}"),
                min_value=0.5,
                max_value=100.0,
                value=float(config.severity_weights[i]),
                step=0.5,
                key=f"def_weight_{i}",
            )
            for i in range(4)
        ]
        st.caption(t("definitions.weights_help"))
        low, high = TARGET_RANGE_MIN
        ola_columns = st.columns(len(OLA_STAGES))
        ola_minutes = [
            ola_columns[i].number_input(
                t("ola.target_label", stage=t(f"ola.stage_{stage}")),
                min_value=low,
                max_value=high,
                value=int(config.ola_targets[i]),
                step=5,
                key=f"def_ola_{stage}",
            )
            for i, stage in enumerate(OLA_STAGES)
        ]
        st.caption(t("ola.edit_help", low=t.number(low), high=t.number(high)))
        if st.form_submit_button(t("definitions.save"), icon=":material/save:"):
            changes = {
                "csat_threshold": str(threshold),
                "churn_window_days": str(int(window)),
                "severity_weights": ", ".join(f"{w:g}" for w in chosen),
                "ola_targets": ", ".join(str(int(m)) for m in ola_minutes),
            }
            _save(
                t,
                lambda: save_definitions(
                    engine, changes, username=context.user.username, client=auth.client_id()
                ),
            )
    st.subheader(t("definitions.sla"))
    frame = pl.DataFrame(
        [(p, *sla.get(p, (60, 1440))) for p in PRIORITIES],
        schema={
            "priority": pl.String,
            "first_response_target_min": pl.Int64,
            "resolution_target_min": pl.Int64,
        },
        orient="row",
    )
    with st.form("sla_form"):
        edited = st.data_editor(
            frame,
            hide_index=True,
            disabled=["priority"],
            key="def_sla",
            column_config={
                "priority": st.column_config.TextColumn(t("definitions.col_priority")),
                "first_response_target_min": st.column_config.NumberColumn(
                    t("definitions.col_first"), min_value=1, step=1
                ),
                "resolution_target_min": st.column_config.NumberColumn(
                    t("definitions.col_resolution"), min_value=1, step=1
                ),
            },
        )
        if st.form_submit_button(t("definitions.save_sla"), icon=":material/save:"):
            edited = _frame(edited)
            targets = {
                p: (int(f), int(r)) for p, f, r in edited.iter_rows() if f is not None and r is not None
            }
            _save(
                t,
                lambda: save_sla_targets(
                    engine, targets, username=context.user.username, client=auth.client_id()
                ),
            )


def _save(t: Translator, change) -> None:
    try:
        changed = change()
    except InputError as exc:
        st.error(markdown_plain(exc.translated(t, t.has)))
        return
    if changed:
        st.success(t("definitions.saved", count=len(changed)))
    else:
        st.info(t("definitions.unchanged"))
