"""The command line: subcommands, the kpis JSON contract, and clear errors with exit code 2."""

import io
import json
import sqlite3

import polars as pl
import pytest

from cxdash.cli import main
from cxdash.demo.writer import write_tables
from cxdash.errors import DatabaseError
from cxdash.load import read_table


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "init-db", "kpis", "bench"):
        assert command in out


def test_kpis_json_shape(capsys, small_db):
    code, out, _ = run(capsys, "kpis", "--db", small_db, "--period", "2026Q3")
    assert code == 0
    report = json.loads(out)
    assert report["period"] == "2026Q3"
    assert report["as_of"] == "2026-09-30T16:00:00+00:00"
    assert report["scope"] == {"teams": [], "channels": [], "segments": [], "regions": []}
    csat = report["kpis"]["csat_pct"]
    assert set(csat) >= {"value", "n", "previous"}
    assert isinstance(csat["value"], float) and csat["n"] > 0
    assert csat["definition"]


def test_team_scope_changes_the_figures(capsys, small_db):
    _, whole, _ = run(capsys, "kpis", "--db", small_db, "--period", "2026Q3")
    _, team, _ = run(capsys, "kpis", "--db", small_db, "--period", "2026Q3", "--team", "T02")
    whole, team = json.loads(whole), json.loads(team)
    assert team["scope"]["teams"] == ["T02"]
    assert 0 < team["kpis"]["tickets"]["value"] < whole["kpis"]["tickets"]["value"]
    tickets = read_table(small_db, "tickets", ["team_id", "created_at"])
    expected = tickets.filter(
        (pl.col("team_id") == "T02")
        & (pl.col("created_at") >= pl.datetime(2026, 6, 30, 16, time_zone="UTC"))
        & (pl.col("created_at") < pl.datetime(2026, 9, 30, 16, time_zone="UTC"))
    ).height
    assert team["kpis"]["tickets"]["value"] == expected


def test_channel_scope_and_table_format(capsys, small_db):
    code, out, _ = run(
        capsys, "kpis", "--db", small_db, "--period", "2026-08", "--channel", "chat", "--format", "table",
        "--lang", "zh",
    )  # fmt: skip
    assert code == 0
    assert "2026年8月" in out and "渠道 在线聊天" in out and "首次响应时长(中位数)" in out


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--period", "2031Q1"], "No data in 2031Q1"),
        (["--period", "2026Q7"], "not a period"),
        (["--period", "2026Q3", "--team", "T99"], "Unknown team T99"),
    ],
)
def test_bad_kpis_arguments_exit_2_with_a_message(capsys, small_db, args, phrase):
    code, out, err = run(capsys, "kpis", "--db", small_db, *args)
    assert code == 2
    assert phrase in err
    assert "Traceback" not in err and out == ""


def test_missing_database(capsys, tmp_path):
    code, _, err = run(capsys, "kpis", "--db", f"sqlite:///{tmp_path / 'none.db'}", "--period", "2026Q3")
    assert code == 2 and "does not exist" in err and "demo" in err


def test_foreign_database(capsys, tmp_path):
    path = tmp_path / "foreign.db"
    sqlite3.connect(path).execute("CREATE TABLE invoices (id TEXT)").connection.commit()
    code, _, err = run(capsys, "kpis", "--db", f"sqlite:///{path}", "--period", "2026Q3")
    assert code == 2 and "no cxdash tables" in err


def test_not_a_database_file(capsys, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite")
    code, _, err = run(capsys, "kpis", "--db", f"sqlite:///{path}", "--period", "2026Q3")
    assert code == 2 and "Cannot" in err


def test_older_schema_version(capsys, tmp_path, small_frames):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    write_tables(url, small_frames, force=False)
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("UPDATE app_meta SET value = '0' WHERE key = 'schema_version'")
    db.commit()
    code, _, err = run(capsys, "kpis", "--db", url, "--period", "2026Q3")
    assert code == 2 and "older" in err


def test_demo_refuses_to_overwrite_without_force(capsys, small_db):
    before = read_table(small_db, "tickets", ["ticket_id"]).height
    code, _, err = run(capsys, "demo", "--db", small_db, "--scale", "small", "--seed", "1")
    assert code == 2 and "--force" in err
    assert read_table(small_db, "tickets", ["ticket_id"]).height == before


def test_a_failed_write_leaves_the_old_database_intact(tmp_path, small_frames):
    url = f"sqlite:///{tmp_path / 'keep.db'}"
    write_tables(url, small_frames, force=False)
    broken = dict(small_frames)
    broken["surveys"] = small_frames["surveys"].with_columns(pl.lit("x").alias("survey_id"))  # duplicate keys
    with pytest.raises(DatabaseError, match="nothing was changed"):
        write_tables(url, broken, force=True)
    assert read_table(url, "surveys", ["survey_id"]).height == small_frames["surveys"].height
    assert not (tmp_path / "keep.db.tmp").exists()


def test_init_db_creates_an_empty_schema_once(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, _ = run(capsys, "init-db", "--db", url)
    assert code == 0 and "Created" in out
    code, out, _ = run(capsys, "init-db", "--db", url)
    assert code == 0 and "already" in out
    code, _, err = run(capsys, "kpis", "--db", url, "--period", "2026Q3")
    assert code == 2 and "no tickets or orders" in err


def test_demo_if_missing_keeps_an_existing_database(capsys, small_db):
    before = read_table(small_db, "tickets", ["ticket_id"]).height
    code, out, _ = run(capsys, "demo", "--db", small_db, "--scale", "small", "--seed", "1", "--if-missing")
    assert code == 0 and "keeping it" in out
    assert read_table(small_db, "tickets", ["ticket_id"]).height == before


def test_demo_creates_a_database_and_prints_a_summary(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'new.db'}"
    code, out, err = run(
        capsys, "demo", "--db", url, "--scale", "small", "--seed", "5", "--end-date", "2026-03-31",
        "--locale", "en_US", "--if-missing",
    )  # fmt: skip
    assert code == 0 and "Demo database ready" in out and "writing tickets" in err
    assert read_table(url, "annotations", ["label"])["label"].str.contains("new chat vendor").any()


def test_users_commands(capsys, monkeypatch, tmp_path, small_frames):

    url = f"sqlite:///{tmp_path / 'users.db'}"
    write_tables(url, small_frames, force=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    add = [
        "add",
        "lead9",
        "--roles",
        "team_lead",
        "--teams",
        "T01,T02",
        "--name",
        "组长九",
        "--password-stdin",
    ]
    code, out, _ = run(capsys, "users", "--db", url, *add)
    assert code == 0 and "done" in out
    code, out, _ = run(capsys, "users", "--db", url, "list", "--format", "json")
    (user,) = json.loads(out)
    assert user == {"username": "lead9", "name": "组长九", "roles": ["team_lead"], "teams": ["T01", "T02"],
                    "disabled": False}  # fmt: skip
    assert run(capsys, "users", "--db", url, "set-roles", "lead9", "--roles", "analyst,viewer")[0] == 0
    assert run(capsys, "users", "--db", url, "disable", "lead9")[0] == 0
    code, out, _ = run(capsys, "users", "--db", url, "list")
    assert "analyst,viewer" in out and "disabled" in out
    assert run(capsys, "users", "--db", url, "enable", "lead9")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("密" * 26 + "\n"))
    code, _, err = run(capsys, "users", "--db", url, "set-password", "lead9", "--password-stdin")
    assert code == 2 and "72 bytes" in err
    code, _, err = run(capsys, "users", "--db", url, "set-roles", "lead9", "--roles", "root")
    assert code == 2 and "unknown role" in err
    code, _, err = run(capsys, "users", "--db", url, "disable", "ghost")
    assert code == 2 and "No user ghost" in err


def test_init_db_upgrades_an_older_database_in_place(capsys, tmp_path, small_frames):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    write_tables(url, small_frames, force=False)
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("DROP TABLE app_audit")
    db.execute("UPDATE app_meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    code, out, _ = run(capsys, "init-db", "--db", url)
    assert code == 0 and "Upgraded" in out
    assert run(capsys, "kpis", "--db", url, "--period", "2026Q3")[0] == 0


def test_kpis_table_in_both_languages(capsys, monkeypatch, small_db):
    args = ("kpis", "--db", small_db, "--period", "2026Q3")
    code, zh, _ = run(capsys, *args, "--format", "table", "--team", "T01", "--lang", "zh")
    assert code == 0
    assert zh.startswith("核心指标 · 2026年第3季度 · 截至 2026年10月1日 00:00(Asia/Shanghai)")
    assert "范围:团队 T01" in zh and "满意度 CSAT" in zh and "按团队/渠道筛选时不适用" in zh
    assert "营收 ‡" in zh and "csat_pct" not in zh
    revenue = json.loads(run(capsys, *args)[1])["kpis"]["revenue"]["value"]
    monkeypatch.setenv("CXDASH_LANG", "en_US")  # the setting is the default language
    code, en, _ = run(capsys, *args, "--format", "table")
    assert code == 0
    assert en.startswith("Headline KPIs · 2026 Q3 · as of 1 Oct 2026 00:00 (Asia/Shanghai)")
    assert "Scope: whole company" in en
    [line] = [line for line in en.splitlines() if line.startswith("  Revenue")]
    assert f"¥{revenue:,.2f}" in line


@pytest.mark.parametrize("kind", ["text file", "directory", "missing file"])
def test_database_errors_say_what_is_wrong_and_nothing_more(capsys, tmp_path, kind):
    path = tmp_path / "x.txt"
    if kind == "text file":
        path.write_text("not a database\n")
    elif kind == "directory":
        path.mkdir()
    code, out, err = run(capsys, "kpis", "--db", f"sqlite:///{path}", "--period", "2026Q3")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1  # one line
    assert "[SQL:" not in err and "sqlalche.me" not in err and "Background on this error" not in err
    assert "CXDASH_DB_URL" in err or "demo" in err  # what to do
    expected = {
        "text file": "file is not a database",
        "directory": "unable to open",
        "missing file": "does not exist",
    }
    assert expected[kind] in err


def test_db_option_is_accepted_after_the_users_action(capsys, monkeypatch, tmp_path, small_frames):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    write_tables(url, small_frames, force=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    code, out, _ = run(capsys, "users", "add", "lead9", "--roles", "viewer", "--password-stdin", "--db", url)
    assert code == 0 and "done" in out
    code, out, _ = run(capsys, "users", "list", "--db", url, "--format", "json")
    assert code == 0 and [u["username"] for u in json.loads(out)] == ["lead9"]
    code, out, _ = run(capsys, "--db", url, "users", "disable", "lead9")  # before the command, too
    assert code == 0
    assert "disabled" in run(capsys, "users", "--db", url, "list")[1]
