"""The same headline KPIs in DuckDB SQL, over the very Arrow tables the app holds (zero copy)."""

from datetime import datetime

import duckdb
import pyarrow as pa

KPI_SQL = """
WITH created AS (SELECT * FROM tickets WHERE created_at >= $start AND created_at < $end),
resolved AS (SELECT * FROM created WHERE resolved_at IS NOT NULL),
answered AS (SELECT * FROM created WHERE first_response_at IS NOT NULL),
responses AS (
  SELECT kind, score::DOUBLE AS score FROM surveys
  WHERE responded_at >= $start AND responded_at < $end AND score IS NOT NULL
),
sla AS (
  SELECT
    first_response_at IS NOT NULL AS fr_done,
    (epoch_us(coalesce(first_response_at, $data_as_of)) - epoch_us(created_at)) / 60e6
      > first_response_target_min AS fr_over,
    resolved_at IS NOT NULL AS res_done,
    (epoch_us(coalesce(resolved_at, $data_as_of)) - epoch_us(created_at)) / 60e6
      > resolution_target_min AS res_over
  FROM created JOIN sla_policies USING (priority)
),
completed AS (SELECT customer_id, ordered_at, amount FROM orders WHERE status = 'completed'),
period_orders AS (SELECT * FROM completed WHERE ordered_at >= $start AND ordered_at < $end),
at_start AS (
  SELECT DISTINCT customer_id FROM completed
  WHERE ordered_at > $start - to_days($window_days) AND ordered_at <= $start
),
at_end AS (
  SELECT DISTINCT customer_id FROM completed
  WHERE ordered_at > $as_of - to_days($window_days) AND ordered_at <= $as_of
),
first_orders AS (SELECT customer_id, min(ordered_at) AS first_order_at FROM completed GROUP BY ALL),
buyers_of_year AS (
  SELECT customer_id, count(*) AS orders FROM completed
  WHERE ordered_at > $as_of - INTERVAL 365 DAY AND ordered_at <= $as_of GROUP BY ALL
)
SELECT
  (SELECT 100 * avg((score >= $threshold)::INT) FROM responses WHERE kind = 'csat') AS csat_pct,
  (SELECT avg(score) FROM responses WHERE kind = 'csat') AS csat_mean,
  (SELECT 100 * avg((responded_at IS NOT NULL)::INT) FROM surveys
   WHERE kind = 'csat' AND sent_at >= $start AND sent_at < $end) AS csat_response_rate_pct,
  (SELECT 100 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / nullif(count(*), 0)
   FROM responses WHERE kind = 'nps') AS nps,
  (SELECT avg(score) FROM responses WHERE kind = 'ces') AS ces_mean,
  (SELECT quantile_cont((epoch_us(first_response_at) - epoch_us(created_at)) / 60e6, 0.5) FROM answered)
    AS frt_median_min,
  (SELECT quantile_cont((epoch_us(first_response_at) - epoch_us(created_at)) / 60e6, 0.9) FROM answered)
    AS frt_p90_min,
  (SELECT quantile_cont((epoch_us(resolved_at) - epoch_us(created_at)) / 3600e6, 0.5) FROM resolved)
    AS resolution_median_h,
  (SELECT quantile_cont((epoch_us(resolved_at) - epoch_us(created_at)) / 3600e6, 0.9) FROM resolved)
    AS resolution_p90_h,
  (SELECT 100 * avg((fr_done AND NOT fr_over)::INT) FROM sla WHERE fr_over OR fr_done)
    AS sla_first_response_pct,
  (SELECT 100 * avg((res_done AND NOT res_over)::INT) FROM sla WHERE res_over OR res_done)
    AS sla_resolution_pct,
  (SELECT count(*)::DOUBLE FROM created) AS tickets,
  (SELECT count(*) FILTER (is_complaint)::DOUBLE FROM created) AS complaints,
  (SELECT 1000 * count(*) FILTER (is_complaint) FROM created)
    / nullif((SELECT count(*) FROM period_orders), 0) AS complaint_rate_per_1k_orders,
  (SELECT 100 * avg((reopen_count > 0)::INT) FROM resolved) AS reopen_rate_pct,
  (SELECT 100 * avg((agent_replies <= 1)::INT) FROM resolved) AS one_touch_pct,
  (SELECT 100 * avg(escalated::INT) FROM created) AS escalation_rate_pct,
  (SELECT count(*)::DOUBLE FROM tickets WHERE created_at <= $as_of
     AND (resolved_at IS NULL OR resolved_at > $as_of) AND (closed_at IS NULL OR closed_at > $as_of))
    AS backlog_open,
  (SELECT round(sum(amount), 2)::DOUBLE FROM period_orders) AS revenue,
  (SELECT 100 * avg(coalesce(first_order_at <= $as_of, false)::INT)
   FROM customers LEFT JOIN first_orders USING (customer_id)
   WHERE signup_at >= $start AND signup_at < $end) AS conversion_rate_pct,
  (SELECT count(*)::DOUBLE FROM at_end) AS active_customers,
  (SELECT 100 * count(*) FILTER (e.customer_id IS NULL) / nullif(count(*), 0)
   FROM at_start s LEFT JOIN at_end e USING (customer_id)) AS churn_rate_pct,
  (SELECT 100 * avg((orders >= 2)::INT) FROM buyers_of_year) AS repeat_purchase_rate_pct
"""


def connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `tables` registered as views over the Arrow data (no copy)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        con.register(name, table)
    return con


def headline_kpis(
    con: duckdb.DuckDBPyConnection,
    start: datetime,
    end: datetime,
    as_of: datetime,
    data_as_of: datetime,
    *,
    csat_threshold: int = 4,
    window_days: int = 180,
) -> dict[str, float | None]:
    """The 23 headline KPIs of METRICS.md, company-wide on the calendar clock, in one SQL statement."""
    params = {
        "start": start,
        "end": end,
        "as_of": as_of,
        "data_as_of": data_as_of,
        "threshold": csat_threshold,
        "window_days": window_days,
    }
    cursor = con.execute(KPI_SQL, params)
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return {name: None if value is None else float(value) for name, value in zip(names, row, strict=True)}


WHATIF_SQL = """
SELECT tier, count(*) AS customers, sum(monetary) AS revenue,
  100 * sum(monetary) / sum(sum(monetary)) OVER () AS revenue_share_pct,
  100 * sum(csat_hits) / nullif(sum(csat_n), 0) AS csat_pct,
  100 * (sum(nps_promoters) - sum(nps_detractors)) / nullif(sum(nps_n), 0) AS nps,
  1000 * sum(complaints) / nullif(sum(orders_n), 0) AS complaint_rate_per_1k_orders,
  100 * count(*) FILTER (active_at_start AND NOT active_at_end)
    / nullif(count(*) FILTER (active_at_start), 0) AS churn_rate_pct
FROM (
  SELECT *, CASE
    WHEN NOT has_bought THEN 'prospect'
    WHEN monetary >= $m_vip AND frequency >= $f_vip THEN 'vip'
    WHEN monetary >= $m_high OR frequency >= $f_high THEN 'high_value'
    ELSE 'regular' END AS tier
  FROM facts
) GROUP BY tier
"""


def whatif_summary(
    con: duckdb.DuckDBPyConnection, m_vip: float, f_vip: int, m_high: float, f_high: int
) -> dict[str, tuple[int, float]]:
    """The what-if tier summary in SQL over the per-customer facts (registered as `facts`):
    tier → (customers, revenue); the other columns are computed too, as the page needs them."""
    params = {"m_vip": m_vip, "f_vip": f_vip, "m_high": m_high, "f_high": f_high}
    rows = con.execute(WHATIF_SQL, params).fetchall()
    return {row[0]: (int(row[1]), float(row[2])) for row in rows}
