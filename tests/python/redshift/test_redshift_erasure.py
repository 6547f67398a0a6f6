"""Privacy on the Redshift double, on the real sample built once: `make forget TARGET=redshift`
erases user 15 from every table in one transaction, as on DuckDB (the same rows per table),
and neither a load of the files that still hold their events nor a full refresh brings them
back; a member of the analysts group reads the marts but not their personal columns nor the
raw schema (docs/privacy.md)."""

from __future__ import annotations

import psycopg2
import pytest
from support import preloaded
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
from support.project import PROJECT_DIR


def test_user_15_is_erased_on_redshift_as_on_duckdb_and_stays_erased(redshift, real_sample):
    location = redshift.upload(real_sample, "sample")
    redshift.make_load(location)
    redshift.dbt("build")
    events = sample_events(real_sample)
    user = footprint(events, "15")
    admin = psycopg2.connect(redshift.dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        for number, (reason, line) in enumerate(earlier_rejects(events, "15", "150"), start=1):
            cursor.execute("insert into raw.load_rejects values ('earlier', 'staging_events', 'log_data/late.json', "
                           "%s, %s, %s)", (number, reason, line))  # fmt: skip
    before = left_of_user(redshift.query, "15", user.names)
    # One transaction: when its last statement, the record, fails, every delete before it is undone.
    forget = ["python", "-m", "sparkify.forget", "--target", "redshift", "--user-id"]
    with admin.cursor() as cursor:
        cursor.execute("alter table raw.erasures rename to erasures_aside; create table raw.erasures (user_id text)")
    failed = preloaded.run([*forget, "15", "--reason", "request 2026-0042"], redshift.env, PROJECT_DIR)
    after_failure = left_of_user(redshift.query, "15", user.names)
    with admin.cursor() as cursor:
        cursor.execute("drop table raw.erasures; alter table raw.erasures_aside rename to erasures")

    erased = redshift.run("make", "--no-print-directory", "forget", "TARGET=redshift", "USER_ID=15",
                          "REASON=request 2026-0042")  # fmt: skip
    again = preloaded.run([*forget, "15", "--reason", "again"], redshift.env, PROJECT_DIR)
    unknown = preloaded.run([*forget, "4242", "--reason", "mistyped"], redshift.env, PROJECT_DIR)

    assert failed.returncode == 1 and "the erasure failed and was rolled back: nothing changed" in failed.stderr
    assert after_failure == before
    assert before["analytics.users"] == 1 and before["analytics.songplays"] == user.plays
    assert "Erased user 15 at " in erased.stdout
    assert reported_erasure(erased.stdout) == expected_erasure(user, rejects=1)
    assert left_of_user(redshift.query, "15", user.names) == dict.fromkeys(before, 0)
    assert redshift.scalar("select count(*) from raw.staging_events") == (
        REAL_SAMPLE_ROWS["raw.staging_events"] - user.events
    )
    assert redshift.query("select user_id, reason, rows_erased from raw.erasures") == [
        ("15", "request 2026-0042", expected_erasure(user, rejects=1)["in all"])
    ]
    assert "User 15 was erased at " in again.stdout and "nothing changed" in again.stdout
    assert unknown.returncode == 1
    assert "error: no user 4242 in the warehouse: nothing erased, nothing changed" in unknown.stderr
    users = redshift.scalar("select count(*) from analytics.users")
    assert (
        users
        == redshift.scalar("select count(*) from analytics.user_profiles")
        == REAL_SAMPLE_ROWS["analytics.users"] - 1
    )

    # A late file holds bad lines of user 15's and another user's bad line, which stays a reject.
    redshift.s3.put_object(Bucket=redshift.bucket, Key="sample/log_data/late/late-events.json",
                           Body=late_bad_lines(events, "15", "150").encode())  # fmt: skip
    reload = redshift.make_load(location, 1, True, "FULL_REFRESH=1")
    rebuild = redshift.dbt("build", "--full-refresh")  # the second build: the group exists already

    note = f"{user.events + 2:,} events of erased users not loaded"
    assert f"{REAL_SAMPLE_ROWS['raw.staging_events'] - user.events:,} rows loaded, 1 rejected" in reload.stdout
    assert [line[:20] for (line,) in redshift.query("select raw_line from raw.load_rejects")] == [
        '{"userId":"150","ses'
    ]
    assert "ERROR=0" in rebuild.stdout
    assert note in reload.stdout
    assert redshift.query(
        "select message from raw.load_audit where source_table = 'staging_events' and full_refresh"
    ) == [(note,)]
    assert left_of_user(redshift.query, "15", user.names) == dict.fromkeys(before, 0)
    assert redshift.scalar("select count(*) from analytics.users") == users

    # A member of the analysts group reads the marts, but no personal column and no raw table.
    with admin.cursor() as cursor:
        cursor.execute("create user analyst_ann; alter group analysts add user analyst_ann")
    admin.close()
    analyst = psycopg2.connect(redshift.dsn, user="analyst_ann")
    analyst.autocommit = True

    def read(sql: str):
        with analyst.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    plays = "select count(songplay_id), count(distinct user_id), max(level) from analytics.songplays"
    assert read(plays) == redshift.query(plays)
    assert read("select count(*) from analytics.users where level is not null") == [(users,)]
    assert read("select count(*) from analytics.sessions") == redshift.query("select count(*) from analytics.sessions")
    for refused in ("select first_name from analytics.users", "select location from analytics.songplays",
                    "select user_agent from analytics.user_agents", "select count(*) from raw.staging_events",
                    "select count(*) from raw.erasures"):  # fmt: skip
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            read(refused)
    analyst.close()
