"""The same demo on PostgreSQL gives the same figures as on SQLite (skips without a server, fails in CI)."""

import json

import pytest

from cxdash.cli import main
from cxdash.demo.writer import write_tables
from cxdash.load import read_table


def kpis(capsys, url):
    assert main(["kpis", "--db", url, "--period", "all"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.postgres
def test_postgres_and_sqlite_give_the_same_kpis(capsys, pg_db, small_db):
    on_pg, on_sqlite = kpis(capsys, pg_db), kpis(capsys, small_db)
    assert [r["period"] for r in on_pg] == [r["period"] for r in on_sqlite]
    for pg, lite in zip(on_pg, on_sqlite, strict=True):
        assert pg["as_of"] == lite["as_of"] and pg["data_as_of"] == lite["data_as_of"]
        for name, kpi in lite["kpis"].items():
            other = pg["kpis"][name]
            assert other["n"] == kpi["n"], (pg["period"], name)
            if kpi["value"] is None:
                assert other["value"] is None, (pg["period"], name)
            else:
                assert other["value"] == pytest.approx(kpi["value"], rel=1e-9), (pg["period"], name)


@pytest.mark.postgres
def test_postgres_reads_back_the_same_rows(pg_db, small_db):
    for table in ("tickets", "surveys", "orders"):
        pg, lite = read_table(pg_db, table), read_table(small_db, table)
        key = pg.columns[0]
        assert pg.schema == lite.schema, table
        assert pg.sort(key).equals(lite.sort(key)), table


@pytest.mark.postgres
def test_postgres_demo_refuses_to_overwrite_without_force(pg_db, small_frames):
    from cxdash.errors import InputError

    with pytest.raises(InputError, match="--force"):
        write_tables(pg_db, small_frames, force=False)
