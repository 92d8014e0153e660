"""The Data page's content as data: the column-mapping table and value translations an import starts
from, and the definitions ledger (every KPI definition and the settings in force, with where each
setting comes from)."""

from collections.abc import Mapping as MappingABC

import polars as pl

from cxdash.config import Settings
from cxdash.db.definitions import StoredDefinition
from cxdash.importer.mapping import Mapping, Target, suggest_columns
from cxdash.importer.values import NOT_MAPPED, suggested_value
from cxdash.labels import label_expr
from cxdash.metrics.kpis import HEADLINE_KPIS


def value_table(target: Target, values: pl.Series, chosen: MappingABC[str, str]) -> pl.DataFrame:
    """The distinct values of a file column for an enum target, with their count and the schema value
    each becomes (the mapping's translation, else the plain meaning, else empty: to be chosen)."""
    counts = values.drop_nulls().str.strip_chars().value_counts(sort=True, name="rows")
    column = counts.columns[0]
    return counts.select(
        pl.col(column).alias("value"),
        pl.col("rows"),
        label_expr(counts, column, lambda v: chosen.get(v) or suggested_value(target, v) or NOT_MAPPED).alias(
            "becomes"
        ),
    )


def mapping_table(targets: tuple[Target, ...], mapping: Mapping, sample: pl.DataFrame) -> pl.DataFrame:
    """One row per target: its name, whether required, its type, its default, the file column mapped to
    it (the mapping's, else a suggestion, else empty) and an example value from the file."""
    columns = (
        {**suggest_columns(sample.columns, targets), **mapping.columns}
        if not mapping.columns
        else mapping.columns
    )

    def example(header: str | None) -> str | None:
        if not header or header not in sample.columns:
            return None
        values = sample.get_column(header).drop_nulls()
        return values[0] if len(values) else None

    return pl.DataFrame(
        {
            "target": [t.name for t in targets],
            "required": [t.required for t in targets],
            "type": [t.type if not t.choices else " | ".join(t.choices) for t in targets],
            "default": [t.default for t in targets],
            "column": [columns.get(t.name, NOT_MAPPED) for t in targets],
            "example": [example(columns.get(t.name)) for t in targets],
        },
        schema={
            "target": pl.String, "required": pl.Boolean, "type": pl.String, "default": pl.String,
            "column": pl.String, "example": pl.String,
        },
    )  # fmt: skip


def columns_from_table(table: pl.DataFrame) -> dict[str, str]:
    """target → file column from an edited mapping table (rows left empty are not mapped)."""
    return {
        target: column
        for target, column in table.select("target", "column").iter_rows()
        if column and column != NOT_MAPPED
    }


def kpi_ledger() -> pl.DataFrame:
    """Every headline KPI with its unit, direction and change test (labels and definitions are
    translated on the page from the `kpi.*` catalogue)."""
    return pl.DataFrame(
        {
            "kpi": [k.name for k in HEADLINE_KPIS],
            "unit": [k.unit for k in HEADLINE_KPIS],
            "higher_is_better": [k.higher_is_better for k in HEADLINE_KPIS],
            "test": [k.test for k in HEADLINE_KPIS],
        }
    )


def settings_in_force(
    settings: Settings, stored: MappingABC[str, StoredDefinition], sla: MappingABC[str, tuple[int, int]]
) -> pl.DataFrame:
    """The adjustable definitions as they are now: value, and who set them (admin, or built in /
    environment), for the ledger."""

    def source(key: str) -> str | None:
        return stored[key].changed_by if key in stored else None

    def at(key: str):
        return stored[key].changed_at if key in stored else None

    rows = [
        ("csat_threshold", str(settings.csat_threshold), source("csat_threshold"), at("csat_threshold")),
        ("churn_window_days", str(settings.churn_window_days),
         source("churn_window_days"), at("churn_window_days")),
        ("severity_weights", ", ".join(f"{w:g}" for w in settings.severity_weights),
         source("severity_weights"), at("severity_weights")),
        ("clock", settings.clock, None, None),
        ("display_tz", settings.display_tz, None, None),
        ("currency", settings.currency, None, None),
        ("tiers", f"VIP M ≥ {settings.tiers.m_vip:g} & F ≥ {settings.tiers.f_vip}; "
         f"high M ≥ {settings.tiers.m_high:g} or F ≥ {settings.tiers.f_high}; "
         f"at risk R > {settings.tiers.r_risk_days} d", None, None),
    ]  # fmt: skip
    rows += [
        (f"sla.{priority}", f"{first} min / {resolution} min", None, None)
        for priority, (first, resolution) in sla.items()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "setting": pl.String,
            "value": pl.String,
            "set_by": pl.String,
            "set_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
