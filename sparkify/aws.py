"""boto3 and Terraform glue for the Redshift path.

    python -m sparkify.aws env-file [--out .env.redshift]   # Terraform outputs -> env file
    python -m sparkify.aws check s3://bucket/prefix          # are the sources there? how big?
    python -m sparkify.aws region s3://bucket/prefix         # the bucket's region, for COPY's REGION
    python -m sparkify.aws upload DIR s3://bucket/prefix     # a local dataset, songs compacted
    python -m sparkify.aws stage s3://udacity-dend s3://bucket/prefix   # the public one, likewise

Why compact the songs: COPY pays a fixed cost per S3 object (a request, a scan set up on a
slice), and the Million Song Dataset is one tiny file per song: 14,896 files took 352 s on
two nodes. Written as a few newline-delimited parts (a multiple of the cluster's slices),
the same rows load in seconds, and COPY's JSON 'auto ignorecase' reads them unchanged. The
compacted parts keep the `song_data/` layout, so `make load` needs no other option.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from sparkify import layout

TERRAFORM_DIR = Path(__file__).resolve().parents[1] / "terraform"

# Terraform output -> environment variable read by profiles.example.yml and the load. Either
# deployment writes them all; one that does not apply to it is empty (the cluster identifier on
# Serverless, the workgroup on a provisioned cluster).
ENV_FROM_OUTPUT = {
    "deployment": "SPARKIFY_REDSHIFT_DEPLOYMENT",
    "host": "SPARKIFY_REDSHIFT_HOST",
    "port": "SPARKIFY_REDSHIFT_PORT",
    "database": "SPARKIFY_REDSHIFT_DATABASE",
    "cluster_identifier": "SPARKIFY_REDSHIFT_CLUSTER_ID",
    "workgroup_name": "SPARKIFY_REDSHIFT_WORKGROUP",
    "account_id": "SPARKIFY_AWS_ACCOUNT_ID",
    "admin_username": "SPARKIFY_REDSHIFT_USER",
    "iam_role_arn": "SPARKIFY_REDSHIFT_IAM_ROLE_ARN",
    "region": "SPARKIFY_AWS_REGION",
    "admin_secret_arn": "SPARKIFY_REDSHIFT_SECRET_ARN",
    "manifest_location": "SPARKIFY_MANIFEST_LOCATION",
    # Serverless has no STL_LOAD_ERRORS, hence no raw line for a rejected row.
    "raw_load_lines": "SPARKIFY_REDSHIFT_RAW_LINES",
}


class AwsSetupError(RuntimeError):
    """A problem the user can fix, with a message that says how."""


# What a command reports in one line rather than a traceback.
AWS_ERRORS = (AwsSetupError, BotoCoreError, ClientError)


def terraform_outputs(terraform_dir: Path = TERRAFORM_DIR) -> dict[str, object]:
    """The values of `terraform output -json` in terraform_dir."""
    try:
        result = subprocess.run(
            ["terraform", f"-chdir={terraform_dir}", "output", "-json"], capture_output=True, text=True, check=True
        )
    except FileNotFoundError as error:
        raise AwsSetupError("terraform is not on PATH") from error
    except subprocess.CalledProcessError as error:
        raise AwsSetupError(f"terraform output failed: {error.stderr.strip()}") from error
    outputs = {name: entry["value"] for name, entry in json.loads(result.stdout or "{}").items()}
    missing = sorted(set(ENV_FROM_OUTPUT) - set(outputs))
    if missing:
        raise AwsSetupError(f"Terraform outputs {', '.join(missing)} are missing: run `make infra-apply` first")
    return outputs


def env_value(value: object) -> str:
    """An output as the env file spells it: JSON's true and false, and nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def env_file_text(outputs: dict[str, object]) -> str:
    lines = ["# Written by `make infra-env` from the Terraform outputs. Holds no secret: dbt uses IAM auth."]
    lines += [f"{variable}={env_value(outputs[output])}" for output, variable in ENV_FROM_OUTPUT.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; "" for the bucket's root

    @classmethod
    def parse(cls, url: str) -> S3Location:
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise AwsSetupError(f"not an S3 location: {url!r} (expected s3://bucket/prefix)")
        bucket, _, prefix = url[5:].partition("/")
        return cls(bucket, prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(part for part in (self.prefix, *parts) if part)

    def url(self, *parts: str) -> str:
        return f"s3://{self.bucket}/{self.key(*parts)}"

    def relative(self, key: str) -> str:
        """A key of this location, relative to its prefix."""
        return key[len(self.prefix) + 1 :] if self.prefix else key


@dataclass(frozen=True)
class SourceSummary:
    name: str
    objects: int
    bytes: int


LOG_FOLDER, SONG_FOLDER = layout.SOURCE_FOLDERS["staging_events"], layout.SOURCE_FOLDERS["staging_songs"]
SOURCES = (*(f"{folder}/" for folder in layout.SOURCE_FOLDERS.values()), layout.JSON_PATHS_FILE)


def list_objects(s3, location: S3Location, name: str) -> Iterable[dict]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.key(name)):
        yield from page.get("Contents", [])


def json_objects(s3, location: S3Location, folder: str) -> list[dict]:
    """The .json objects under location/folder, as listed (with Key and Size)."""
    return [obj for obj in list_objects(s3, location, folder) if obj["Key"].endswith(layout.DATA_FILE_SUFFIX)]


def check_sources(s3, url: str) -> list[SourceSummary]:
    """Count the objects and bytes of each source under url; fail naming what is missing."""
    location = S3Location.parse(url)
    summaries = []
    for name in SOURCES:
        is_folder = name.endswith("/")
        try:
            if is_folder:
                objects = json_objects(s3, location, name)
            else:
                objects = [obj for obj in list_objects(s3, location, name) if obj["Key"] == location.key(name)]
        except s3.exceptions.NoSuchBucket as error:
            raise AwsSetupError(f"bucket {location.bucket} does not exist (or is not visible to you)") from error
        if not objects:
            raise AwsSetupError(f"{location.url(name)} has no {'JSON objects' if is_folder else 'object'}")
        summaries.append(SourceSummary(name, len(objects), sum(obj["Size"] for obj in objects)))
    return summaries


def bucket_region(s3, url: str) -> str:
    """The region of the bucket of url: Redshift's COPY must name it unless it is the cluster's."""
    location = S3Location.parse(url)
    try:
        constraint = s3.get_bucket_location(Bucket=location.bucket).get("LocationConstraint")
    except s3.exceptions.NoSuchBucket as error:
        raise AwsSetupError(f"bucket {location.bucket} does not exist (or is not visible to you)") from error
    # S3 reports us-east-1 as no constraint, and the oldest buckets of eu-west-1 as EU.
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, constraint)


def report_sources(url: str) -> None:
    """Print the size of each source under url, or fail naming what is missing."""
    for source in check_sources(boto3.client("s3"), url):
        print(f"  {source.name:<20} {source.objects:>9,} objects {source.bytes / 2**20:>10,.1f} MiB")
    print(f"Sources present under {url}")


def check_manifest_location(s3, url: str, source_region: str) -> None:
    """The bucket of the COPY manifests must be in the sources' region: one COPY reads one
    region (its REGION), its manifest included."""
    region = bucket_region(s3, url)
    if region != source_region:
        raise AwsSetupError(
            f"the sources are in {source_region} but the manifests go to {url}, in {region}, and one COPY reads one "
            f"region: set SPARKIFY_MANIFEST_LOCATION to a bucket of yours in {source_region}, or copy the data to "
            f"{region} first (make stage SOURCE=... DEST=...)"
        )


def write_load_plan(s3, folder_url: str, plans, plan_rows: str) -> dict:
    """A load's plan (JSON lines, sparkify.plan) and, per source with files to read, its COPY
    manifest, written under folder_url in the project's own bucket; returns their URLs."""
    folder = S3Location.parse(folder_url)
    s3.put_object(Bucket=folder.bucket, Key=folder.key("plan.json"), Body=plan_rows.encode())
    manifests = {}
    for source_plan in plans:
        if source_plan.read:
            entries = [{"url": listed.path, "mandatory": True} for listed in source_plan.read]
            key = folder.key(f"{source_plan.source_table}.manifest")
            s3.put_object(Bucket=folder.bucket, Key=key, Body=json.dumps({"entries": entries}, indent=1).encode())
            manifests[source_plan.source_table] = folder.url(f"{source_plan.source_table}.manifest")
    return {"plan": folder.url("plan.json"), "manifests": manifests}


def compact(records: Iterable[bytes], parts: int) -> list[bytes]:
    """Deal JSON records round-robin into `parts` newline-delimited bodies (empty ones dropped)."""
    bodies: list[list[bytes]] = [[] for _ in range(parts)]
    for index, record in enumerate(records):
        bodies[index % parts].append(record.strip())
    return [b"\n".join(body) for body in bodies if body]


def delete_objects(s3, bucket: str, keys: list[str]) -> None:
    """Delete keys, failing on any key S3 reports it could not delete: DeleteObjects answers 200
    and lists those in Errors, even with Quiet."""
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
        if errors:
            shown = ", ".join(f"s3://{bucket}/{e['Key']} ({e.get('Code')}: {e.get('Message')})" for e in errors[:5])
            raise AwsSetupError(f"S3 did not delete {len(errors)} stale object(s), which a load would read: {shown}")


def delete_stale(s3, dest: S3Location, written: set[str], progress: Callable) -> None:
    """Delete what log_data/ and song_data/ under dest hold beyond the keys just written, so
    that dest holds exactly one dataset: a stale part or day would otherwise be loaded too.
    Run after the writes, so that a failure part-way deletes nothing."""
    for name in (f"{folder}/" for folder in layout.SOURCE_FOLDERS.values()):
        stale = [obj["Key"] for obj in list_objects(s3, dest, name) if obj["Key"] not in written]
        delete_objects(s3, dest.bucket, stale)
        if stale:
            progress(f"  deleted {len(stale):,} stale objects under {dest.url(name)}")


def write_song_parts(s3, records: Iterable[bytes], dest: S3Location, parts: int) -> list[str]:
    """Write the song records compacted into `parts` objects; returns their keys."""
    keys = []
    for index, body in enumerate(compact(records, parts)):
        keys.append(dest.key(SONG_FOLDER, f"part-{index:05d}.json"))
        s3.put_object(Bucket=dest.bucket, Key=keys[-1], Body=body)
    return keys


def upload_dataset(s3, local_dir: Path, dest_url: str, song_parts: int = 8, progress: Callable = print) -> dict:
    """Upload a local dataset (as `make data` writes it) to dest_url, replacing what is there, songs compacted.
    The sources are checked first, the new objects written, and only then the stale ones deleted."""
    dest = S3Location.parse(dest_url)
    log_files = sorted(local_dir.glob(f"{LOG_FOLDER}/**/*{layout.DATA_FILE_SUFFIX}"))
    song_files = sorted(local_dir.glob(f"{SONG_FOLDER}/**/*{layout.DATA_FILE_SUFFIX}"))
    json_paths = local_dir / layout.JSON_PATHS_FILE
    if not log_files or not song_files or not json_paths.is_file():
        raise AwsSetupError(f"{local_dir} must hold log_data/, song_data/ and log_json_path.json")
    written = set()
    for index, path in enumerate([*log_files, json_paths], start=1):
        key = dest.key(str(path.relative_to(local_dir)))
        written.add(key)
        s3.upload_file(str(path), dest.bucket, key)
        if index % 100 == 0:
            progress(f"  uploaded {index:,} of {len(log_files) + 1:,} log files")
    parts = write_song_parts(s3, (path.read_bytes() for path in song_files), dest, song_parts)
    delete_stale(s3, dest, written | set(parts), progress)
    return {"log_files": len(log_files), "song_files": len(song_files), "song_parts": len(parts)}


def stage_dataset(s3, source_url: str, dest_url: str, song_parts: int = 8, workers: int = 32, progress=print) -> dict:
    """Copy a dataset between S3 locations, replacing what dest holds: logs object by object, songs compacted."""
    source, dest = S3Location.parse(source_url), S3Location.parse(dest_url)
    if dest == source:
        raise AwsSetupError("the destination must differ from the source")
    log_keys = [obj["Key"] for obj in json_objects(s3, source, f"{LOG_FOLDER}/")]
    song_keys = sorted(obj["Key"] for obj in json_objects(s3, source, f"{SONG_FOLDER}/"))
    if not log_keys or not song_keys:
        raise AwsSetupError(f"{source.url()} must hold log_data/ and song_data/ with JSON objects")
    written = set()
    for key in [*log_keys, source.key(layout.JSON_PATHS_FILE)]:
        relative = source.relative(key)
        written.add(dest.key(relative))
        s3.copy_object(Bucket=dest.bucket, Key=dest.key(relative), CopySource={"Bucket": source.bucket, "Key": key})

    def fetch(key: str) -> bytes:
        return s3.get_object(Bucket=source.bucket, Key=key)["Body"].read()

    def fetched() -> Iterable[bytes]:
        # Small objects are latency-bound: fetch many at once, in a stable order.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for index, body in enumerate(pool.map(fetch, song_keys), start=1):
                if index % 1000 == 0:
                    progress(f"  read {index:,} of {len(song_keys):,} song files")
                yield body

    parts = write_song_parts(s3, fetched(), dest, song_parts)
    delete_stale(s3, dest, written | set(parts), progress)
    return {"log_files": len(log_keys), "song_files": len(song_keys), "song_parts": len(parts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.aws", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env_file = commands.add_parser("env-file", help="write the Terraform outputs as an env file")
    env_file.add_argument(
        "--out", type=Path, default=Path(".env.redshift"), help="file to write (default: %(default)s)"
    )
    env_file.add_argument("--terraform-dir", type=Path, default=TERRAFORM_DIR, help=argparse.SUPPRESS)
    check = commands.add_parser("check", help="check that the sources exist under an S3 location, and their size")
    check.add_argument("location", help="s3://bucket/prefix holding log_data/, song_data/ and log_json_path.json")
    region = commands.add_parser("region", help="print the region of the bucket of an S3 location")
    region.add_argument("location", help="s3://bucket/prefix")
    upload = commands.add_parser("upload", help="upload a local dataset to S3, song files compacted")
    upload.add_argument("directory", type=Path, help="local dataset, such as data/generated")
    upload.add_argument("location", help="destination s3://bucket/prefix (a bucket you own)")
    stage = commands.add_parser("stage", help="copy a dataset from one S3 location to another, song files compacted")
    stage.add_argument("source", help="s3://bucket/prefix to read, such as s3://udacity-dend")
    stage.add_argument("location", help="destination s3://bucket/prefix (a bucket you own)")
    for command in (upload, stage):
        command.add_argument("--song-parts", type=int, default=8, help="song parts to write (default: %(default)s)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "env-file":
            args.out.write_text(env_file_text(terraform_outputs(args.terraform_dir)))
            print(f"Wrote {args.out}: `make load TARGET=redshift` and dbt read it.")
        elif args.command == "check":
            report_sources(args.location)
        elif args.command == "region":
            print(bucket_region(boto3.client("s3"), args.location))
        else:
            if args.song_parts < 1:
                parser.error("--song-parts must be at least 1")
            s3 = boto3.client("s3")
            if args.command == "upload":
                counts = upload_dataset(s3, args.directory, args.location, args.song_parts)
            else:
                counts = stage_dataset(s3, args.source, args.location, args.song_parts)
            print(
                f"Wrote {counts['log_files']:,} log files and {counts['song_files']:,} songs in "
                f"{counts['song_parts']} parts to {args.location} in {time.monotonic() - started:.1f} s"
            )
    except AWS_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
