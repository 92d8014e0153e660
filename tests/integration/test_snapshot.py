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


def test_a_database_made_anew_at_the_same_path_never_reads_the_old_snapshot(tmp_path):
    """init-db + an import at the same path can reach the same data version as a deleted database:
    its random database id keeps the old database's snapshot from being read."""
    from cxdash.cli import main
    from cxdash.db.engine import dispose_engines
    from cxdash.load import read_frames
    from tests.conftest import data_version_of

    path = tmp_path / "crm.db"
    url = f"sqlite:///{path}"
    versions = []
    for team in ("OLD", "NEW"):
        assert main(["init-db", "--db", url]) == 0
        source = tmp_path / f"{team}.csv"
        source.write_text(f"team_id,name\n{team},{team}\n", encoding="utf-8")
        assert main(["import", "--db", url, "--table", "teams", str(source)]) == 0
        versions.append(data_version_of(url))
        frames = read_frames(url, version=str(versions[-1]))
        assert frames.teams.collect()["team_id"].to_list() == [team]
        dispose_engines()
        path.unlink()
    assert versions[0] == versions[1]  # the case that used to serve the old snapshot
