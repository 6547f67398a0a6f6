"""The boto3 helpers against the local S3 emulator, and DuckDB loading from s3://."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from support.project import PROJECT_DIR

from sparkify import aws, generate


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Eight users over three days and 25 songs, for the module."""
    root = tmp_path_factory.mktemp("dataset")
    generate.generate(root, users=8, days=3, songs=25, seed=9)
    return root


def keys(s3, prefix: str = "") -> list[str]:
    return sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", []))


def test_compact_deals_records_round_robin():
    assert aws.compact([b'{"a":1}\n', b'{"a":2}', b'{"a":3}'], 2) == [b'{"a":1}\n{"a":3}', b'{"a":2}']
    assert aws.compact([b"{}"], 4) == [b"{}"]


def test_s3_locations_parse_and_refuse_other_urls():
    assert aws.S3Location.parse("s3://bucket/a/b/").url("log_data/") == "s3://bucket/a/b/log_data/"
    assert aws.S3Location.parse("s3://bucket").key("song_data") == "song_data"
    with pytest.raises(aws.AwsSetupError, match="not an S3 location"):
        aws.S3Location.parse("/local/dir")


def test_upload_compacts_songs_and_keeps_every_record(s3, dataset):
    counts = aws.upload_dataset(s3, dataset, f"s3://{s3.bucket}/sparkify", song_parts=4, progress=lambda _: None)

    assert counts == {"log_files": 3, "song_files": 25, "song_parts": 4}
    assert keys(s3, "sparkify/song_data/") == [f"sparkify/song_data/part-{n:05d}.json" for n in range(4)]
    assert len(keys(s3, "sparkify/log_data/")) == 3
    uploaded = [
        json.loads(line)
        for key in keys(s3, "sparkify/song_data/")
        for line in s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode().splitlines()
    ]
    originals = [json.loads(path.read_text()) for path in dataset.glob("song_data/**/*.json")]
    assert sorted(uploaded, key=lambda r: r["song_id"]) == sorted(originals, key=lambda r: r["song_id"])


def test_check_sources_counts_objects_and_bytes(s3, dataset):
    aws.upload_dataset(s3, dataset, f"s3://{s3.bucket}/data", song_parts=2, progress=lambda _: None)
    summary = {source.name: source for source in aws.check_sources(s3, f"s3://{s3.bucket}/data")}
    assert summary["log_data/"].objects == 3
    assert summary["song_data/"].objects == 2
    assert summary["log_json_path.json"].objects == 1
    log_bytes = sum(path.stat().st_size for path in dataset.glob("log_data/**/*.json"))
    assert summary["log_data/"].bytes == log_bytes


def test_check_sources_names_the_missing_prefix(s3, dataset):
    aws.upload_dataset(s3, dataset, f"s3://{s3.bucket}/data", progress=lambda _: None)
    s3.delete_object(Bucket=s3.bucket, Key="data/log_json_path.json")
    with pytest.raises(aws.AwsSetupError, match=f"s3://{s3.bucket}/data/log_json_path.json has no object"):
        aws.check_sources(s3, f"s3://{s3.bucket}/data")
    with pytest.raises(aws.AwsSetupError, match=f"s3://{s3.bucket}/elsewhere/log_data/ has no JSON objects"):
        aws.check_sources(s3, f"s3://{s3.bucket}/elsewhere")


def test_check_sources_reports_a_missing_bucket(s3):
    with pytest.raises(aws.AwsSetupError, match="bucket sparkify-no-such-bucket does not exist"):
        aws.check_sources(s3, "s3://sparkify-no-such-bucket/data")


def test_bucket_region_reads_the_location_constraint(s3):
    europe = boto3.client("s3", region_name="eu-west-1")
    europe.create_bucket(Bucket=f"{s3.bucket}-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert aws.bucket_region(s3, f"s3://{s3.bucket}-eu/data") == "eu-west-1"
    assert aws.bucket_region(s3, f"s3://{s3.bucket}/data") == "us-east-1"  # S3 reports no constraint
    with pytest.raises(aws.AwsSetupError, match="bucket sparkify-nowhere does not exist"):
        aws.bucket_region(s3, "s3://sparkify-nowhere/data")


def test_check_command_fails_clearly(s3, aws_env):
    result = subprocess.run(
        [sys.executable, "-m", "sparkify.aws", "check", f"s3://{s3.bucket}/nothing"],
        cwd=PROJECT_DIR, env={**os.environ, **aws_env}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: s3://{s3.bucket}/nothing/log_data/ has no JSON objects"


def test_stage_copies_logs_and_compacts_songs_between_buckets(s3, dataset):
    source = f"s3://{s3.bucket}/public"
    for path in dataset.rglob("*.json"):  # the public layout: one object per song
        s3.upload_file(str(path), s3.bucket, f"public/{path.relative_to(dataset)}")

    counts = aws.stage_dataset(s3, source, f"s3://{s3.bucket}/mine", song_parts=3, progress=lambda _: None)

    assert counts == {"log_files": 3, "song_files": 25, "song_parts": 3}
    assert [key.removeprefix("mine/") for key in keys(s3, "mine/log_data/")] == [
        key.removeprefix("public/") for key in keys(s3, "public/log_data/")
    ]
    assert "mine/log_json_path.json" in keys(s3, "mine/")
    lines = [
        line
        for key in keys(s3, "mine/song_data/")
        for line in s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode().splitlines()
    ]
    assert len(lines) == 25


def test_make_upload_and_stage_take_paths_and_prefixes_with_quotes_and_spaces(s3, aws_env, dataset, tmp_path):
    local = tmp_path / "it's here"
    shutil.copytree(dataset, local)
    uploaded, staged = f"s3://{s3.bucket}/Bob's data", f"s3://{s3.bucket}/a copy"

    def make(*args: str) -> None:
        result = subprocess.run(["make", "--no-print-directory", *args], cwd=PROJECT_DIR,
                                env={**os.environ, **aws_env}, capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    make("upload", f"LOCAL={local}", f"DEST={uploaded}")
    make("stage", f"SOURCE={uploaded}", f"DEST={staged}")

    for prefix in ("Bob's data/", "a copy/"):
        assert len(keys(s3, prefix + "log_data/")) == 3
        assert keys(s3, prefix + "log_json_path.json") == [prefix + "log_json_path.json"]


def test_make_load_from_a_missing_prefix_fails_in_one_line_before_dbt(s3, aws_env, warehouse):
    location = f"s3://{s3.bucket}/nothing-here"
    warehouse.env = {**warehouse.env, **aws_env}

    result = warehouse.run("python", "-m", "sparkify.load", "--location", location)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: no .json files under {location}/log_data/: the location must hold")
    assert result.stdout == ""
    assert not warehouse.path.exists()


def test_uploading_again_replaces_the_dataset(s3, dataset, tmp_path):
    location = f"s3://{s3.bucket}/data"
    aws.upload_dataset(s3, dataset, location, song_parts=6, progress=lambda _: None)
    other = tmp_path / "other"
    generate.generate(other, users=3, days=1, songs=4, start=generate.dt.date(2019, 1, 1), seed=2)
    messages = []

    aws.upload_dataset(s3, other, location, song_parts=2, progress=messages.append)

    assert keys(s3, "data/song_data/") == ["data/song_data/part-00000.json", "data/song_data/part-00001.json"]
    assert keys(s3, "data/log_data/") == ["data/log_data/2019/01/2019-01-01-events.json"]
    assert messages == [
        f"  deleted 3 stale objects under {location}/log_data/",
        f"  deleted 4 stale objects under {location}/song_data/",
    ]


def test_stage_refuses_to_copy_onto_itself(s3):
    with pytest.raises(aws.AwsSetupError, match="must differ"):
        aws.stage_dataset(s3, f"s3://{s3.bucket}/x", f"s3://{s3.bucket}/x/")


def fail_put_after(s3, puts: int) -> None:
    """Make the client's PutObject fail after `puts` calls, as a dropped connection would."""
    calls = []

    def count(**_):
        calls.append(1)
        if len(calls) > puts:
            raise ConnectionError("connection reset by peer")

    s3.meta.events.register("before-call.s3.PutObject", count)


def test_an_upload_failing_part_way_deletes_nothing(s3, dataset, tmp_path):
    location = f"s3://{s3.bucket}/data"
    aws.upload_dataset(s3, dataset, location, song_parts=6, progress=lambda _: None)
    before = keys(s3, "data/")
    other = tmp_path / "other"
    generate.generate(other, users=3, days=1, songs=4, start=generate.dt.date(2019, 1, 1), seed=2)
    fail_put_after(s3, 1)

    with pytest.raises(ConnectionError):
        aws.upload_dataset(s3, other, location, song_parts=2, progress=lambda _: None)

    assert set(before) <= set(keys(s3, "data/"))


def refuse_deleting(s3, refused: str) -> None:
    """S3 reports a key it could not delete in DeleteObjects' 200 response (Errors), which moto
    never does for these calls: keep that key out of the request and report it refused."""

    def drop(params, **_):
        objects = params["Delete"]["Objects"]
        params["Delete"]["Objects"] = [obj for obj in objects if obj["Key"] != refused]

    def report(parsed, **_):
        parsed.setdefault("Errors", []).append({"Key": refused, "Code": "AccessDenied", "Message": "Access Denied"})

    s3.meta.events.register("before-parameter-build.s3.DeleteObjects", drop)
    s3.meta.events.register("after-call.s3.DeleteObjects", report)


def test_an_object_s3_would_not_delete_fails_the_upload(s3, dataset, tmp_path):
    location = f"s3://{s3.bucket}/data"
    aws.upload_dataset(s3, dataset, location, song_parts=6, progress=lambda _: None)
    other = tmp_path / "other"
    generate.generate(other, users=3, days=1, songs=4, start=generate.dt.date(2019, 1, 1), seed=2)
    refuse_deleting(s3, "data/song_data/part-00005.json")

    with pytest.raises(aws.AwsSetupError, match=r"data/song_data/part-00005.json \(AccessDenied: Access Denied\)"):
        aws.upload_dataset(s3, other, location, song_parts=2, progress=lambda _: None)
