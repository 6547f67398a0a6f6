"""`make load` from an s3:// location on DuckDB, through the S3 emulator."""

from __future__ import annotations

from sparkify import aws


def staging_rows(warehouse) -> dict[str, list[tuple]]:
    """Every staging row but its lineage: the upload compacts the song files into parts."""
    return {
        table: warehouse.query(f"select * exclude (loaded_at, source_file) from raw.{table} order by all")
        for table in ("staging_events", "staging_songs")
    }


def test_make_load_from_s3_gives_the_same_tables_as_from_a_directory(s3, aws_env, real_sample, warehouse):
    location = f"s3://{s3.bucket}/sample"
    aws.upload_dataset(s3, real_sample, location, progress=lambda _: None)

    warehouse.load(real_sample)
    from_directory = staging_rows(warehouse)
    warehouse.env = {**warehouse.env, **aws_env}
    result = warehouse.make("load", f"LOCATION={location}")

    assert f"Loaded staging_events from {location}: 30 new or changed files of 30, 8,056 rows loaded" in result.stdout
    assert staging_rows(warehouse) == from_directory
    assert len(from_directory["staging_events"]) == 8056 and len(from_directory["staging_songs"]) == 71
    assert warehouse.query("select location from raw.load_audit order by finished_at desc limit 1") == [(location,)]
