"""`make forget` on DuckDB, on the real sample: user 15 (paid, then free, then paid) leaves
every table at once, the marts stay those of a full build, and neither a load of the files
that still hold their events nor a full refresh brings them back (docs/privacy.md)."""

from __future__ import annotations

import shutil

import duckdb
from support.erasure import (
    earlier_rejects,
    expected_erasure,
    footprint,
    late_bad_lines,
    left_of_user,
    reported_erasure,
    sample_events,
)
from support.expected import REAL_SAMPLE_ROWS
from support.warehouse import make_warehouse

MARTS = ("songplays", "users", "sessions", "user_level_periods", "user_profiles", "time", "user_agents")


def marts(warehouse) -> dict[str, list]:
    """Every mart's rows but their load times, which a reload changes."""
    tables = {}
    for mart in MARTS:
        columns = [name for (name,) in warehouse.query(
            f"select column_name from information_schema.columns where table_name = '{mart}' "
            "and column_name <> 'loaded_at' order by ordinal_position")]  # fmt: skip
        tables[mart] = sorted(map(repr, warehouse.query(f"select {', '.join(columns)} from analytics.{mart}")))
    return tables


def test_user_15_is_erased_everywhere_and_stays_erased_after_a_load_and_a_full_refresh(
    real_sample_build, real_sample, tmp_path
):
    built, _ = real_sample_build
    warehouse = make_warehouse(tmp_path)
    for built_file in built.path.parent.glob(f"{built.path.name}*"):  # its write-ahead log too
        shutil.copy(built_file, warehouse.path.parent / built_file.name)
    events = sample_events(real_sample)
    user = footprint(events, "15")
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.executemany(
            "insert into raw.load_rejects values ('earlier', 'staging_events', 'log_data/late.json', ?, ?, ?)",
            [(number, *reject) for number, reject in enumerate(earlier_rejects(events, "15", "150"), start=1)],
        )
    before = left_of_user(warehouse.query, "15", user.names)
    periods = warehouse.query(
        "select level from analytics.user_level_periods where user_id = 15 order by period_number"
    )

    # One transaction: when its last statement, the record, fails, every delete before it is undone.
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.sql("alter table raw.erasures rename to erasures_aside; create table raw.erasures (user_id text)")
    failed = warehouse.run("python", "-m", "sparkify.forget", "--user-id", "15", "--reason", "request 2026-0042")
    after_failure = left_of_user(warehouse.query, "15", user.names)
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.sql("drop table raw.erasures; alter table raw.erasures_aside rename to erasures")

    erased = warehouse.make("forget", "USER_ID=15", "REASON=request 2026-0042")

    assert failed.returncode == 1 and "the erasure failed and was rolled back: nothing changed" in failed.stderr
    assert after_failure == before

    assert [level for (level,) in periods] == ["paid", "free", "paid"]
    assert before["analytics.users"] == 1 and before["analytics.songplays"] == user.plays
    assert erased.stdout.startswith("Erased user 15 at ") or "\nErased user 15 at " in erased.stdout, erased.stdout
    reported = reported_erasure(erased.stdout)
    assert reported == expected_erasure(user, rejects=1)
    assert warehouse.scalar("select count(*) from raw.load_rejects where raw_line like '%\"150\"%'") == 1
    assert left_of_user(warehouse.query, "15", user.names) == dict.fromkeys(before, 0)
    assert warehouse.scalar("select count(*) from raw.staging_events") == REAL_SAMPLE_ROWS["raw.staging_events"] - (
        user.events
    )
    # The record: the id, the time and the reason, no name; in the transaction of the deletes.
    record = warehouse.query("select user_id, reason, rows_erased, erased_at is not null from raw.erasures")
    assert record == [("15", "request 2026-0042", reported["in all"], True)]
    assert not any(name in repr(warehouse.query("select * from raw.erasures")) for name in user.names)
    # The marts are those a full build gives from the events left.
    after_erasure = marts(warehouse)
    assert len(after_erasure["users"]) == len(after_erasure["user_profiles"]) == REAL_SAMPLE_ROWS["analytics.users"] - 1

    again = warehouse.run("python", "-m", "sparkify.forget", "--user-id", "15", "--reason", "again")
    unknown = warehouse.run("python", "-m", "sparkify.forget", "--user-id", "4242", "--reason", "mistyped")

    assert again.returncode == 0 and again.stdout.count("\n") == 1, again.stdout
    assert "User 15 was erased at " in again.stdout and "nothing changed" in again.stdout
    assert unknown.returncode == 1 and unknown.stderr.strip().endswith(
        "no user 4242 in the warehouse: nothing erased, nothing changed"
    )
    assert warehouse.scalar("select count(*) from raw.erasures") == 1

    # The next build rebuilds what the erasure took events from, and every data test passes.
    build = warehouse.dbt("build")
    assert "ERROR=0" in build.stdout and "WARN=0" in build.stdout
    assert marts(warehouse) == after_erasure

    # The files still hold user 15's events, and a late file holds bad lines of theirs: a full
    # reload drops them before they land; another user's bad line stays a reject.
    delivery = tmp_path / "delivery"
    (delivery / "log_data/late").mkdir(parents=True)
    for name in ("song_data", "log_json_path.json"):
        (delivery / name).symlink_to(real_sample / name)
    for folder in (real_sample / "log_data").iterdir():
        (delivery / "log_data" / folder.name).symlink_to(folder)
    (delivery / "log_data/late/late-events.json").write_text(late_bad_lines(events, "15", "150"))
    reload = warehouse.load(delivery, max_rejects=1, full_refresh=True)
    rebuild = warehouse.dbt("build", "--full-refresh")

    note = f"{user.events + 2:,} events of erased users not loaded"
    assert f"{REAL_SAMPLE_ROWS['raw.staging_events'] - user.events:,} rows loaded, 1 rejected" in reload.stdout
    assert note in reload.stdout
    assert warehouse.query(
        "select message from raw.load_audit where source_table = 'staging_events' and full_refresh"
    ) == [(note,)]
    assert [line[:20] for (line,) in warehouse.query("select raw_line from raw.load_rejects")] == [
        '{"userId":"150","ses'
    ]
    assert "ERROR=0" in rebuild.stdout
    assert left_of_user(warehouse.query, "15", user.names) == dict.fromkeys(before, 0)
    assert marts(warehouse) == after_erasure
