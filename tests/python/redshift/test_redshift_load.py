"""The Redshift path, executed: `make load TARGET=redshift` and `dbt build --target redshift`
run dbt-redshift's real adapter against the test double (redshift_double/: PostgreSQL plus
COPY from the S3 emulator), and give what DuckDB gives."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import yaml
from support.datasets import count_lines, log_files, most_played_song_files, move
from support.expected import WATERMARKED_TESTS
from support.project import PROJECT_DIR
from support.redshift import MART_KEYS, emulated_s3, key_digest

from sparkify import generate


def test_the_real_sample_loads_and_builds_on_redshift_as_on_duckdb(
    redshift, redshift_target_path, real_sample, real_sample_build
):
    location = redshift.upload(real_sample, "sample")

    load = redshift.make_load(location)
    build = redshift.dbt("build")

    assert f"Loaded staging_events from {location}: 30 new or changed files of 30, 8,056 rows loaded, 0 rejected" in (
        load.stdout
    )
    assert "Loaded staging_songs" in load.stdout and "71 rows loaded, 0 rejected" in load.stdout
    assert "Completed successfully" in build.stdout and "ERROR=0" in build.stdout
    duckdb, _ = real_sample_build
    marts = {}
    for target, query in (("redshift", redshift.query), ("duckdb", duckdb.query)):
        for mart, key in MART_KEYS.items():
            keys = [row[0] for row in query(f"select {key} from analytics.{mart}")]
            marts.setdefault(mart, {})[target] = (len(keys), key_digest(keys))
    assert {mart: both["redshift"] for mart, both in marts.items()} == {
        mart: both["duckdb"] for mart, both in marts.items()
    }
    assert marts["songplays"]["redshift"][0] == 6820
    # The build's on-run-end hook records the same passed watermarked tests on both targets.
    watermarked = "select test_id from analytics.data_test_watermarks order by test_id"
    assert [row[0] for row in redshift.query(watermarked)] == [row[0] for row in duckdb.query(watermarked)]
    assert len(duckdb.query(watermarked)) == len(WATERMARKED_TESTS)
    # The next run reads the watermarks back: the tests take only the rows loaded since.
    retest = redshift.dbt(
        "test", "--select", "assert_songplays_reconcile_with_nextsong_events", "unique_time_start_time"
    )
    assert retest.stdout.count(" PASS ") == 2, retest.stdout
    compiled = redshift_target_path / "compiled/sparkify/tests/assert_songplays_reconcile_with_nextsong_events.sql"
    assert "loaded_at > cast('" in compiled.read_text()


# What an incremental build can get wrong beyond the keys: a play's song and level, a user's
# level, a session's counts, a user's periods.
MART_ROWS = {
    "songplays": "songplay_id || '|' || coalesce(song_id, '-') || '|' || coalesce(artist_id, '-') || '|' || level",
    "users": "cast(user_id as varchar) || '|' || level",
    "songs": "song_id || '|' || title",
    "artists": "artist_id",
    "time": "start_time",
    "sessions": "cast(session_id as varchar) || '|' || cast(events as varchar) || '|' || cast(plays as varchar)",
    "user_level_periods": "cast(user_id as varchar) || '|' || cast(period_number as varchar) || '|' || level"
    " || '|' || cast(sessions as varchar) || '|' || cast(plays as varchar)",
}


def assert_same_marts(redshift, warehouse) -> None:
    for mart, row in MART_ROWS.items():
        rows = {target: sorted(str(value) for (value,) in query(f"select {row} from analytics.{mart}"))
                for target, query in (("redshift", redshift.query), ("duckdb", warehouse.query))}  # fmt: skip
        assert rows["redshift"] == rows["duckdb"], mart


def test_incremental_builds_give_the_marts_of_duckdb(redshift, warehouse, tmp_path):
    """A day and a song file arrive after the first build; then a played song is renamed and
    a day is sent again with fewer events: the incremental models' SQL, both the merges of what
    is new and the rebuilds after rows left staging, runs on the double and gives what DuckDB
    gives."""
    root, held_back = tmp_path / "raw", tmp_path / "held_back"
    generate.generate(root, users=20, days=3, songs=30, match_rate=0.9, seed=8)
    late = [sorted(root.glob("log_data/**/*.json"))[-1], sorted(root.glob("song_data/**/*.json"))[0]]
    for path in late:
        move(path, root, held_back)

    def build_both() -> None:
        redshift.make_load(redshift.upload(root, "raw"))
        redshift.dbt("build", "--exclude-resource-type", "unit_test")
        result = warehouse.pipeline(root)
        assert result.returncode == 0, result.stdout + result.stderr

    build_both()
    for path in late:
        move(held_back / path.relative_to(root), held_back, root)
    build_both()
    assert_same_marts(redshift, warehouse)
    [(renamed_song, renamed_file)] = most_played_song_files(warehouse, root, 1).items()
    song = json.loads(renamed_file.read_text())
    renamed_file.write_text(json.dumps({**song, "title": "A Title Nobody Played"}))
    resent_day = sorted(root.glob("log_data/**/*.json"))[0]
    resent_day.write_text("\n".join(resent_day.read_text().splitlines()[::2]) + "\n")
    build_both()

    assert_same_marts(redshift, warehouse)
    played = "select count(*) from analytics.songplays where song_id = '{}'"
    assert redshift.scalar(played.format(renamed_song)) == warehouse.scalar(played.format(renamed_song)) == 0
    nextsong_events = (
        "select count(*) from (select distinct userid, sessionid, iteminsession from raw.staging_events"
        " where page = 'NextSong') as plays"
    )
    assert redshift.scalar("select count(*) from analytics.songplays") == redshift.scalar(nextsong_events)
    assert warehouse.scalar("select count(*) from analytics.songplays where song_id is not null") > 50


def bad_event_lines(event: dict) -> list[tuple[str, str | None]]:
    """One of each kind of bad line, made from a real event, each with the start of the
    reason that the contract's checks give it on both targets; None for a line that a
    target's JSON parser refuses, each in its own words (Redshift's reads an array as a
    record, which then has no known key)."""

    def changed(**values) -> str:
        return json.dumps({**event, **values})

    return [
        ('{"ts": 1541105830796, "sessionId": ', None),
        ("not json at all", None),
        ("[1, 2]", None),
        (changed(length=1.0).replace("1.0", "NaN"), None),
        (changed(ts="yesterday"), "ts: 'yesterday' is not a whole number"),
        (changed(itemInSession="first"), "itemInSession: 'first' is not a whole number"),
        (changed(status="ok"), "status: 'ok' is not a whole number"),
        (changed(length="long"), "length: 'long' is not a number"),
        (changed(userId="guest-7f3a"), "userId: 'guest-7f3a' is not a whole number"),
        (changed(ts=1543795200005000000), "ts: '1543795200005000000' is outside 946684800000 to "),
        (changed(itemInSession=3.5), "itemInSession: '3.5' is not a whole number"),
        ("{}", "no known key"),
        ('{"type": "heartbeat", "at": 1543795200005}', "no known key"),
        (changed(level="gold"), "level: 'gold' is not one of free, paid"),
    ]


def corrupt_first_log_file(dataset: Path) -> tuple[str, list[tuple[str, str | None]]]:
    """Insert the bad lines after the first line of the first log file; returns its name and them."""
    log_file = sorted(dataset.glob("log_data/**/*.json"))[0]
    lines = log_file.read_text().splitlines()
    bad = bad_event_lines(next(json.loads(line) for line in lines if json.loads(line)["userId"]))
    log_file.write_text("\n".join([lines[0], *(line for line, _ in bad), *lines[1:]]) + "\n")
    return log_file.name, bad


LATEST_LOAD = "(select load_id from raw.load_audit order by finished_at desc limit 1)"


def load_outcome(result: subprocess.CompletedProcess, query) -> dict:
    """What a load leaves behind, in terms both targets share."""
    failure = re.search(r"Load failed for [^.]*\.", result.stderr)
    return {
        "succeeded": result.returncode == 0,
        "failure": failure and failure.group(0),
        "audit": [tuple(row) for row in query(
            "select source_table, rows_loaded, rows_rejected, max_rejects, status from raw.load_audit "
            f"where load_id = {LATEST_LOAD} order by source_table")],
        "staging": {table: query(f"select count(*) from raw.{table}")[0][0]
                    for table in ("staging_events", "staging_songs")},
        "rejects": query("select count(*) from raw.load_rejects")[0][0],
    }  # fmt: skip


def assert_the_contract_rejects_alike(bad: list[tuple[str, str | None]], *queries) -> None:
    """Each line refused by the contract's checks has the same reason on both targets."""
    expected = Counter(reason for _, reason in bad if reason)
    for query in queries:
        reasons = [reason for (reason,) in query("select reason from raw.load_rejects")]
        for start, count in expected.items():
            # Redshift reads the array line as a record with no known key: one more of those.
            assert sum(reason.startswith(start) for reason in reasons) >= count, (start, reasons)


def test_bad_lines_are_rejected_alike_on_both_targets_and_the_build_passes(redshift, warehouse, small_dataset):
    """max_rejects accepts as many bad lines as there are, where COPY's MAXERROR would abort
    at the last; every value that passes either load builds; and two deliveries of one event
    in one load, which differ only in level, give both targets the same marts."""
    corrupted, bad = corrupt_first_log_file(small_dataset)
    second_day = sorted(small_dataset.glob("log_data/**/*.json"))[1]
    flipped = (json.loads(line) for line in second_day.read_text().splitlines())
    second_day.with_name("redelivered.json").write_text("\n".join(
        json.dumps({**event, "level": {"free": "paid", "paid": "free"}.get(event["level"], event["level"])})
        for event in flipped) + "\n")  # fmt: skip
    location = redshift.upload(small_dataset, "corrupt")

    on_redshift = load_outcome(redshift.make_load(location, len(bad), False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, len(bad), check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert on_redshift["succeeded"] and on_redshift["rejects"] == len(bad)
    assert_the_contract_rejects_alike(bad, redshift.query, warehouse.query)
    # Lines that COPY could not parse keep their file and line; the contract's rejects cannot.
    located = redshift.query("select file_name, line_number from raw.load_rejects where file_name is not null")
    assert sorted(located) == [(f"log_data/2018/11/{corrupted}", line) for line in (2, 3, 5)]
    redshift.dbt("build", "--exclude-resource-type", "unit_test")
    warehouse.dbt("build", "--exclude-resource-type", "unit_test")
    assert_same_marts(redshift, warehouse)


def test_a_source_past_the_threshold_fails_recorded_as_on_duckdb(redshift, warehouse, small_dataset):
    """The source is recorded as failed with its rejects and keeps its previous rows, and the
    other source still loads."""
    redshift.make_load(redshift.upload(small_dataset, "data"))
    warehouse.load(small_dataset)
    _, bad = corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "data")

    on_redshift = load_outcome(redshift.make_load(location, len(bad) - 1, False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, len(bad) - 1, check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert not on_redshift["succeeded"]
    failure = f"Load failed for staging_events ({len(bad)} rejected, at most {len(bad) - 1} allowed)."
    assert on_redshift["failure"] == failure
    assert [row[-1] for row in on_redshift["audit"]] == ["failed", "loaded"]


def deny_writes(s3, bucket: str) -> None:
    """A bucket policy that refuses every PutObject, as a bucket of someone else's does; the
    S3 emulator enforces it."""
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def test_a_source_bucket_that_cannot_be_written_is_only_read(redshift, small_dataset):
    """The COPY manifests and the plan go to the project's own bucket: a source bucket, such as
    the public dataset's, is never written."""
    location = redshift.upload(small_dataset, "data")
    deny_writes(redshift.s3, redshift.bucket)
    source_keys = redshift.keys()

    redshift.make_load(location)

    assert redshift.keys() == source_keys
    written = redshift.keys(redshift.manifest_bucket)
    names = {key.rsplit("/", 1)[1] for key in written}
    assert names == {"plan.json", "staging_events.manifest", "staging_songs.manifest"}
    assert all(key.startswith("manifests/") for key in written)
    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_threshold_at_redshifts_maxerror_limit_is_refused_before_dbt(redshift):
    result = redshift.make_load(f"s3://{redshift.bucket}/data", 100000, False)

    assert result.returncode != 0
    assert "error: MAX_REJECTS must be a whole number from 0 to 99,999, got '100000'" in result.stderr
    assert "Running with dbt" not in result.stdout


def european_buckets(redshift) -> tuple[str, str]:
    """A source bucket in eu-west-1, and a manifests bucket of the project's there too."""
    europe = emulated_s3(redshift.env["AWS_ENDPOINT_URL_S3"], "eu-west-1")
    buckets = f"{redshift.bucket}-eu"[-63:], f"{redshift.manifest_bucket}-eu"[-63:]
    for bucket in buckets:
        europe.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return buckets


def test_a_bucket_in_another_region_loads_with_manifests_in_its_region(redshift, small_dataset):
    """AWS requires the objects, the manifest included, to be in COPY's REGION: `make load`
    names the bucket's own, and refuses manifests in another."""
    bucket, manifest_bucket = european_buckets(redshift)
    location = redshift.upload(small_dataset, "data", bucket=bucket)

    refused = redshift.make_load(location, None, False)
    redshift.env["SPARKIFY_MANIFEST_LOCATION"] = f"s3://{manifest_bucket}/manifests"
    result = redshift.make_load(location)

    assert refused.returncode != 0
    assert "error: the sources are in eu-west-1 but the manifests go to" in refused.stderr
    assert "Loaded staging_events" in result.stdout and "Loaded staging_songs" in result.stdout
    assert redshift.query("select distinct status from raw.load_audit") == [("loaded",)]


def test_make_pipeline_copies_only_new_objects_from_a_bucket_in_another_region(redshift, small_dataset):
    """make pipeline checks the location as make load does: COPY names the bucket's region,
    and a second run finds nothing new in the ledger."""
    bucket, manifest_bucket = european_buckets(redshift)
    redshift.env["SPARKIFY_MANIFEST_LOCATION"] = f"s3://{manifest_bucket}/manifests"
    location = redshift.upload(small_dataset, "data", bucket=bucket)

    redshift.make_pipeline(location)
    again = redshift.make_pipeline(location)

    for source_table in ("staging_events", "staging_songs"):
        assert f"Loaded {source_table} from {location}: 0 new or changed files of " in again.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))
    assert redshift.scalar("select count(*) from analytics.songplays") > 0


def test_a_prefix_with_a_quote_and_a_space_loads(redshift, small_dataset):
    location = redshift.upload(small_dataset, "it's here")

    redshift.make_load(location)

    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_full_refresh_copies_every_json_object_from_a_manifest_and_names_the_rest(redshift, small_dataset):
    """As on DuckDB, an object that is not .json is named and recorded, not read; and the
    ledger keeps every object's ETag, so the next load copies nothing."""
    location = redshift.upload(small_dataset, "data")
    not_json = "log_data/2018/11/2018-11-04-events.json.gz"
    redshift.s3.put_object(Bucket=redshift.bucket, Key=f"data/{not_json}", Body=b"\x1f\x8b")

    refreshed = redshift.run("make", "--no-print-directory", "load", "TARGET=redshift", f"LOCATION={location}",
                             "FULL_REFRESH=1")  # fmt: skip
    again = redshift.make_load(location)

    assert f"1 files not read ({not_json}), see load_rejects" in refreshed.stdout
    assert redshift.query("select file_name, reason from raw.load_rejects") == [
        (not_json, "not read: only .json files are loaded")
    ]
    assert "Loaded staging_events from " + location + ": 0 new or changed files of " in again.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_line_redshift_cannot_parse_names_the_compacted_part_and_keeps_its_raw_line(redshift, small_dataset):
    """SYS_LOAD_ERROR_DETAIL gives the file and line, of the compacted part that `make upload`
    wrote; the raw line comes from STL_LOAD_ERRORS, as char(1024) with multibyte characters
    as periods, where the cluster keeps it, and is null where it does not (Serverless); the
    column's description says so."""
    song_file = sorted(small_dataset.glob("song_data/**/*.json"))[0]
    record = json.loads(song_file.read_text())
    record_text = json.dumps({**record, "title": "Café " * 300}, ensure_ascii=False)[:-1]  # no closing brace
    song_file.write_text(record_text)
    location = redshift.upload(small_dataset, "data")

    redshift.make_load(location, max_rejects=1)
    with_raw_line = redshift.query("select file_name, line_number, reason, raw_line from raw.load_rejects")
    redshift.env["SPARKIFY_REDSHIFT_RAW_LINES"] = "false"
    redshift.make_load(location, 1, True, "FULL_REFRESH=1")
    without = redshift.query("select file_name, line_number, raw_line from raw.load_rejects")

    [(file_name, line, reason, raw_line)] = with_raw_line
    assert (file_name, line) == ("song_data/part-00000.json", 1)
    assert reason.startswith("Invalid JSON")
    assert raw_line == record_text.replace("é", ".")[:1024].strip()
    assert without == [("song_data/part-00000.json", 1, None)]
    sources = yaml.safe_load((PROJECT_DIR / "models/staging/_sparkify__sources.yml").read_text())
    rejects = next(table for table in sources["sources"][0]["tables"] if table["name"] == "load_rejects")
    described = next(column["description"] for column in rejects["columns"] if column["name"] == "raw_line")
    assert "char(1024)" in described and "compacted" in described and "Serverless" in described


def test_an_object_gone_from_the_location_keeps_its_rows_as_on_duckdb(redshift, warehouse, small_dataset):
    """A drop folder that holds only the new day: what was loaded stays, with its rejects."""
    corrupted, bad = corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location, len(bad))
    warehouse.load(small_dataset, len(bad))
    next(small_dataset.glob(f"log_data/**/{corrupted}")).unlink()
    redshift.upload(small_dataset, "data")

    on_redshift = load_outcome(redshift.make_load(location), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset), warehouse.query)

    assert on_redshift == on_duckdb
    assert on_redshift["rejects"] == len(bad)
    message = (
        "select message from raw.load_audit where source_table = 'staging_events' order by finished_at desc limit 1"
    )
    note = "1 loaded file gone from the location, its rows kept (FULL_REFRESH=1 drops them)"
    assert redshift.scalar(message) == warehouse.scalar(message) == note


def test_a_changed_object_reloads_the_source_and_says_which_rows_went(redshift, small_dataset):
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location)
    events_before = redshift.scalar("select count(*) from raw.staging_events")
    first, second = sorted(small_dataset.glob("log_data/**/*.json"))[:2]
    first.unlink()
    second.write_text("\n".join(second.read_text().splitlines()[:5]))
    redshift.upload(small_dataset, "data")

    reloaded = redshift.make_load(location)

    assert "1 loaded file gone from the location, its rows dropped: a changed object reloads the whole source" in (
        reloaded.stdout
    )
    lines = sum(len(path.read_text().splitlines()) for path in small_dataset.glob("log_data/**/*.json"))
    assert redshift.scalar("select count(*) from raw.staging_events") == lines
    assert redshift.query("select source_table, rows_deleted from raw.staging_deletions") == [
        ("staging_events", events_before)
    ]


def test_loading_again_copies_only_new_objects_from_a_manifest(redshift, small_dataset, tmp_path):
    """The ledger's keys and ETags against the bucket: a manifest of the new objects only, and
    nothing to copy when nothing is new."""
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location)
    events = redshift.scalar("select count(*) from raw.staging_events")
    extra_day = tmp_path / "extra"
    generate.generate(extra_day, users=4, days=1, songs=2, start=generate.dt.date(2018, 12, 1), seed=3)
    [new_log] = list(extra_day.glob("log_data/**/*.json"))
    key = f"data/{new_log.relative_to(extra_day)}"
    redshift.s3.upload_file(str(new_log), redshift.bucket, key)

    earlier = set(redshift.keys(redshift.manifest_bucket))
    again = redshift.make_load(location)
    [manifest_key] = [key for key in redshift.keys(redshift.manifest_bucket)
                      if key not in earlier and key.endswith("staging_events.manifest")]  # fmt: skip
    manifest = json.loads(redshift.s3.get_object(Bucket=redshift.manifest_bucket, Key=manifest_key)["Body"].read())
    nothing_new = redshift.make_load(location)

    assert manifest == {"entries": [{"url": f"s3://{redshift.bucket}/{key}", "mandatory": True}]}
    logs = len(log_files(small_dataset)) + 1
    assert f"1 new or changed files of {logs}" in again.stdout
    new_rows = len(new_log.read_text().splitlines())
    assert redshift.scalar("select count(*) from raw.staging_events") == events + new_rows
    assert f"0 new or changed files of {logs}, 0 rows loaded" in nothing_new.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == events + new_rows
    ledger = redshift.query(
        "select file_name, file_version from raw.loaded_files where source_table = 'staging_events'"
    )
    etags = {obj["Key"][5:]: obj["ETag"].strip('"') for obj in redshift.s3.list_objects_v2(
        Bucket=redshift.bucket, Prefix="data/log_data/")["Contents"]}  # fmt: skip
    assert dict(ledger) == etags


def test_a_plan_that_cannot_be_written_fails_every_source_through_the_audit(redshift, small_dataset):
    """A failure found after dbt started, before any file was read, is recorded as a load's
    failures are, and said in one line."""
    location = redshift.upload(small_dataset, "data")
    deny_writes(redshift.s3, redshift.manifest_bucket)

    result = redshift.make_load(location, None, False)

    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith(f"error: could not write the load plan to s3://{redshift.manifest_bucket}/manifests/")
    audit = redshift.query("select source_table, status, message from raw.load_audit order by 1")
    assert [row[:2] for row in audit] == [("staging_events", "failed"), ("staging_songs", "failed")]
    assert all(message == line.removeprefix("error: ") for _, _, message in audit)
    assert redshift.scalar("select count(*) from raw.staging_events") == 0
