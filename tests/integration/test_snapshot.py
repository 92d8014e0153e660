"""The Parquet snapshot gives exactly what the database gives, per data version."""

import shutil

import polars as pl

from cxdash.load import TABLE_COLUMNS, read_tables
from cxdash.snapshot import read_tables_snapshot, snapshot_dir


def test_snapshot_round_trip_and_versioning(small_db, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    direct = read_tables(url, TABLE_COLUMNS)
    first = read_tables_snapshot(url, TABLE_COLUMNS, version="v1")
    files = sorted(p.name for p in snapshot_dir(url).glob("*.parquet"))
    assert len(files) == len(TABLE_COLUMNS)
    again = read_tables_snapshot(url, TABLE_COLUMNS, version="v1")  # from the files now
    for table, frame in direct.items():
        assert first[table].equals(frame), table
        assert again[table].equals(frame), table
        assert again[table].schema == frame.schema, table
    read_tables_snapshot(url, TABLE_COLUMNS, version="v2")
    newer = sorted(p.name for p in snapshot_dir(url).glob("*.parquet"))
    assert len(newer) == len(TABLE_COLUMNS) and not set(newer) & set(files)  # old version removed


def test_a_snapshot_reflects_the_version_it_was_made_for(small_db, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    teams = read_tables_snapshot(url, {"teams": None}, version="a")["teams"]
    import sqlite3

    sqlite3.connect(db).execute("UPDATE teams SET name = 'renamed'").connection.commit()
    assert read_tables_snapshot(url, {"teams": None}, version="a")["teams"].equals(teams)
    fresh = read_tables_snapshot(url, {"teams": None}, version="b")["teams"]
    assert fresh["name"].to_list() == ["renamed"] * fresh.height
    assert isinstance(fresh, pl.DataFrame)
