"""The review's grouped evidence equals the per-group computation it replaced: the KPI set recomputed in
a scope of each one team or channel (compare_periods), and the value tiers of customer_value. On the
small demo, for every team and channel, several quarters, scopes and both clocks."""

from dataclasses import replace

import polars as pl
import pytest

from cxdash.config import TierThresholds
from cxdash.demo.staffing import demo_setup
from cxdash.load import TIMESTAMP_COLUMNS, Frames, frames_from_tables
from cxdash.metrics.compare import compare_periods
from cxdash.metrics.complaints import customer_value
from cxdash.metrics.grouped import GROUPED_KPIS, grouped_kpis, share_cells
from cxdash.metrics.kpis import KpiOptions, KpiValue, Window, headline_kpis_many
from cxdash.metrics.scope import Scope, scoped
from cxdash.metrics.tiers import TierRules
from cxdash.periods import DataSpan, Period, parse_period
from cxdash.views import review as rv
from tests.conftest import SMALL

ALPHA = 0.05
TZ = SMALL.tz
SCOPES = {
    "everything": Scope(),
    "segment": Scope(segments=("business",)),
    "team": Scope(teams=("T01", "T03")),
    "channel_region": Scope(channels=("phone", "chat"), regions=("华北", "华东")),
}

# --- the per-group computation the review used before: the slow reference ---------------------------


def _reference_changes(
    frames: Frames, period: Period, *, span: DataSpan, options: KpiOptions, scopes: dict[str, Scope], names,
    alpha: float,
) -> list[dict]:  # fmt: skip
    found = []
    for label, scope in scopes.items():
        compared = compare_periods(
            scoped(frames, scope), period, span=span, tz=TZ, options=options, names=names
        )
        for row in compared.kpis():
            change = row.vs_previous
            if change.p_value is None or change.delta is None or change.p_value >= alpha or change.delta == 0:
                continue
            found.append(
                {
                    "kpi": row.spec.name, "where": label, "value": row.now.value, "other": change.other,
                    "delta": change.delta, "p_value": change.p_value, "n": row.now.n,
                }
            )  # fmt: skip
    return sorted(found, key=lambda r: r["p_value"])


def reference_team_changes(frames, period, *, span, options, scope, alpha=ALPHA) -> list[dict]:
    names = dict(frames.teams.select("team_id", "name").collect().iter_rows())
    teams = scope.teams or tuple(names)
    scopes = {team: replace(scope, teams=(team,)) for team in sorted(teams)}
    found = _reference_changes(
        frames, period, span=span, options=options, scopes=scopes, names=rv.TEAM_KPIS, alpha=alpha
    )
    return [{**change, "name": names.get(change["where"])} for change in found]


def reference_channel_changes(frames, period, *, span, options, scope, alpha=ALPHA) -> list[dict]:
    channels = scope.channels or tuple(
        sorted(
            frames.tickets.select(pl.col("channel").cast(pl.String).unique())
            .collect()["channel"]
            .drop_nulls()
        )
    )
    scopes = {channel: replace(scope, channels=(channel,)) for channel in channels}
    return _reference_changes(
        frames, period, span=span, options=options, scopes=scopes, names=rv.CHANNEL_KPIS, alpha=alpha
    )


def reference_tiers(frames: Frames, window: Window, rules: TierRules) -> pl.DataFrame:
    return customer_value(frames, as_of=window.as_of, rules=rules).select("customer_id", "tier").collect()


# --- fixtures --------------------------------------------------------------------------------------


def _span(tables: dict[str, pl.DataFrame]) -> DataSpan:
    latest = max(
        tables[t][c].max() for t, c in TIMESTAMP_COLUMNS if t in tables and tables[t][c].max() is not None
    )
    return DataSpan(first=tables["tickets"]["created_at"].min(), data_as_of=latest)


@pytest.fixture(scope="module")
def demo(small_frames) -> tuple[Frames, DataSpan]:
    return frames_from_tables(small_frames, demo_setup(SMALL.tz, SMALL.locale)), _span(small_frames)


@pytest.fixture(scope="module")
def demo_with_loose_csat(small_frames) -> tuple[Frames, DataSpan]:
    """The small demo with every 5th csat response detached from its ticket (an import may lack the
    link): such a response counts for every team and channel that ever served its customer."""
    surveys = small_frames["surveys"].with_row_index("i")
    loose = (pl.col("kind") == "csat") & (pl.col("i") % 5 == 0)
    tables = {
        **small_frames,
        "surveys": surveys.with_columns(
            pl.when(loose).then(None).otherwise(pl.col("ticket_id")).alias("ticket_id")
        ).drop("i"),
    }
    return frames_from_tables(tables, demo_setup(SMALL.tz, SMALL.locale)), _span(tables)


# --- the grouped KPI values equal the headline KPIs in each group's scope ----------------------------


def _per_group_reference(frames: Frames, windows: list[Window], options: KpiOptions, scope: Scope, key: str):
    groups = sorted(frames.tickets.select(pl.col(key).cast(pl.String).unique()).collect()[key].drop_nulls())
    field = "teams" if key == "team_id" else "channels"
    return {
        group: headline_kpis_many(
            scoped(frames, replace(scope, **{field: (group,)})), windows, options, names=GROUPED_KPIS
        )
        for group in groups
    }


@pytest.mark.parametrize("data", ["demo", "demo_with_loose_csat"])
@pytest.mark.parametrize("key", ["team_id", "channel"])
@pytest.mark.parametrize("scope_name", list(SCOPES))
def test_grouped_values_equal_the_headline_kpis_of_each_group(request, data, key, scope_name):
    frames, span = request.getfixturevalue(data)
    scope = SCOPES[scope_name]
    options = KpiOptions()
    windows = [Window.of(parse_period(q), tz=TZ, data_as_of=span.data_as_of) for q in ("2026Q2", "2026Q4")]
    counted = share_cells(scoped(frames, replace(scope, teams=(), channels=())), windows, options)
    within = scope.channels if key == "team_id" else scope.teams
    grouped = grouped_kpis(counted, key=key, names=GROUPED_KPIS, within=within)
    reference = _per_group_reference(frames, windows, options, scope, key)
    assert len(reference) >= 6
    for group, per_window in reference.items():
        for i, expected in enumerate(per_window):
            got = {name: grouped[i].get(group, {}).get(name, KpiValue(None, 0)) for name in GROUPED_KPIS}
            assert got == expected, (group, i)
    assert set().union(*grouped) <= set(reference)  # no group beyond those with tickets
    if data == "demo_with_loose_csat":
        assert counted.loose.height > 0


# --- the evidence equals the per-group computation's, every team and channel -------------------------


@pytest.mark.parametrize("quarter", ["2025Q1", "2025Q3", "2026Q2", "2026Q3", "2026Q4"])
@pytest.mark.parametrize("scope_name", list(SCOPES))
def test_team_and_channel_evidence_equal_the_per_group_computation(demo, quarter, scope_name):
    frames, span = demo
    scope, period, options = SCOPES[scope_name], parse_period(quarter), KpiOptions()
    in_scope = scoped(frames, scope)  # the page passes the user's frames, already in the chosen scope
    kw = {"span": span, "options": options, "scope": scope}
    # At alpha = 1 every tested change is kept (values, deltas, p-values of all groups); at 0.05 those of
    # them the review keeps, in the same order.
    every_team = reference_team_changes(in_scope, period, alpha=1.0, **kw)
    every_channel = reference_channel_changes(in_scope, period, alpha=1.0, **kw)
    assert rv.team_changes(in_scope, period, tz=TZ, alpha=1.0, **kw) == every_team
    assert rv.channel_changes(in_scope, period, tz=TZ, alpha=1.0, **kw) == every_channel
    teams = rv.team_changes(in_scope, period, tz=TZ, alpha=ALPHA, **kw)
    channels = rv.channel_changes(in_scope, period, tz=TZ, alpha=ALPHA, **kw)
    assert teams == [c for c in every_team if c["p_value"] < ALPHA]
    assert channels == [c for c in every_channel if c["p_value"] < ALPHA]
    if quarter == "2025Q1":  # the first quarter: no previous quarter with data, nothing to compare
        assert not every_team and not every_channel
    else:
        assert len({c["where"] for c in every_team}) >= 2 and len({c["where"] for c in every_channel}) >= 2
    if scope_name == "everything" and quarter in ("2026Q2", "2026Q3"):
        assert teams or channels  # the demo moves: the comparison is not vacuous


def test_evidence_on_the_business_clock_and_another_threshold(demo):
    frames, span = demo
    period = parse_period("2026Q3")
    options = KpiOptions(clock="business", csat_threshold=5)
    kw = {"span": span, "options": options, "scope": Scope()}
    assert rv.team_changes(frames, period, tz=TZ, alpha=ALPHA, **kw) == reference_team_changes(
        frames, period, **kw
    )
    assert rv.channel_changes(frames, period, tz=TZ, alpha=ALPHA, **kw) == reference_channel_changes(
        frames, period, **kw
    )


def test_loose_csat_responses_count_for_every_group_that_served_the_customer(demo_with_loose_csat):
    frames, span = demo_with_loose_csat
    kw = {"span": span, "options": KpiOptions(), "scope": Scope()}
    for quarter in ("2026Q2", "2026Q3"):
        period = parse_period(quarter)
        assert rv.team_changes(frames, period, tz=TZ, alpha=ALPHA, **kw) == reference_team_changes(
            frames, period, **kw
        )
        assert rv.channel_changes(frames, period, tz=TZ, alpha=ALPHA, **kw) == reference_channel_changes(
            frames, period, **kw
        )


# --- value tiers: only the tier of customer_value, the same customers in the same tiers ---------------


@pytest.mark.parametrize("scope_name", ["everything", "team"])
def test_review_tiers_are_customer_values_tiers(demo, scope_name):
    frames, span = demo
    in_scope = scoped(frames, SCOPES[scope_name])
    rules = TierRules.from_settings(TierThresholds(), 180)
    window = Window.of(parse_period("2026Q3"), tz=TZ, data_as_of=span.data_as_of)
    expected = reference_tiers(in_scope, window, rules).sort("customer_id")
    assert rv.review_tiers(in_scope, window, rules).collect().sort("customer_id").equals(expected)
    assert expected["tier"].n_unique() >= 3


def test_only_share_kpis_are_counted_per_group(demo):
    frames, span = demo
    window = Window.of(parse_period("2026Q3"), tz=TZ, data_as_of=span.data_as_of)
    with pytest.raises(ValueError, match="frt_median_min"):
        grouped_kpis(share_cells(frames, [window], KpiOptions()), key="team_id", names=["frt_median_min"])
