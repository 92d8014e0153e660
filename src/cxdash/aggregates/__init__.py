"""Per-day aggregates for data beyond one process: stated once (`definitions`), built by Polars in
process or by Apache Spark (`spark_engine`), stored in `agg_*` tables (`store`), read as the headline
KPIs instead of the raw rows (`kpis`)."""
