"""`make load TARGET=redshift` and its buckets: the source is only read, manifests of what is new,
buckets in another region, changed and gone objects, and a plan that cannot be written."""

from __future__ import annotations

import json

import yaml
from support.aws_emulator import emulated_s3
from support.datasets import count_lines, log_files
from support.project import PROJECT_DIR
from support.redshift import corrupt_first_log_file, deny_writes, load_outcome

from sparkify import generate


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
