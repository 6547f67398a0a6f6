"""`make load`: run dbt's load_raw operation with its arguments passed as data.

    python -m sparkify.load --location data/generated [--max-rejects N] [--full-refresh]

The location reaches the macro through YAML written by a YAML library, never pasted into
a shell line or into SQL, so any path loads: a quote, a space or a semicolon included.
Before dbt starts, an s3:// location is checked with boto3 and a DuckDB warehouse that
another process holds is reported in one line.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import duckdb
import yaml

from sparkify import duckdb_extensions, jinja_code_cache

DEFAULT_LOCATION = "data/generated"
# The local target's warehouse, as profiles.example.yml resolves it.
DEFAULT_DUCKDB_PATH = "data/sparkify.duckdb"
# The folders of the sources under a location, as macros/load/raw_tables.sql names them.
SOURCE_FOLDERS = ("log_data", "song_data")


def threshold(value: str) -> int | str:
    """--max-rejects as given: a number, or the text, which the macro refuses with a failed audit row."""
    return int(value) if re.fullmatch(r"-?\d+", value.strip()) else value


def operation_args(
    location: str,
    max_rejects: int | str | None = None,
    full_refresh: bool = False,
    manifests: dict | None = None,
    listing: Path | None = None,
) -> list[str]:
    """The dbt arguments of one load."""
    args: dict[str, object] = {"location": location}
    if max_rejects is not None:
        args["max_rejects"] = max_rejects
    if full_refresh:
        args["full_refresh"] = True
    if manifests:
        args["manifests"] = manifests
    if listing:
        args["listing"] = str(listing)
    # A load needs no manifest.json or run_results.json; writing them took 0.5 s of each load.
    return [
        "--no-write-json", "run-operation", "load_raw",
        "--args", yaml.safe_dump(args, default_flow_style=True, width=1_000_000),
    ]  # fmt: skip


def write_listing(location: str, out: TextIO) -> None:
    """Every file under the location's source folders, as the CSV that the DuckDB load reads
    instead of listing them itself: path, file_name (relative to the location), file_size
    and file_version. One stat a file or folder: 0.7 s for 100,000 song files, where DuckDB's
    glob and read_blob take 4 to 7 s. Folders behind symbolic links are followed, each real
    folder once. The version is the modification time in whole seconds, written as DuckDB
    writes read_blob's, so the ledger agrees whichever of the two listed a file."""
    root = location.rstrip("/")
    writer = csv.writer(out)
    writer.writerow(["path", "file_name", "file_size", "file_version"])
    for path, stat in files_under([f"{root}/{folder}" for folder in SOURCE_FOLDERS]):
        version = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00", time.gmtime(stat.st_mtime))
        writer.writerow([path, path[len(root) + 1 :], stat.st_size, version])


def files_under(folders: list[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Each file below the folders with its stat, through symbolic links. A folder reached
    again (device and inode: a second link to it, or a loop) is not read again; a folder
    that does not exist gives nothing (the load says which source has no files); a broken
    link raises, as any entry that cannot be read does."""
    seen: set[tuple[int, int]] = set()
    pending = [folder for folder in folders if os.path.isdir(folder)]
    while pending:
        folder = pending.pop()
        folder_stat = os.stat(folder)
        if (folder_stat.st_dev, folder_stat.st_ino) in seen:
            continue
        seen.add((folder_stat.st_dev, folder_stat.st_ino))
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    pending.append(entry.path)
                else:
                    yield entry.path, entry.stat()


@contextlib.contextmanager
def local_listing(location: str, target: str) -> Iterator[Callable[[], Path | None]]:
    """The listing of a local location for a DuckDB load, in a temporary file for the
    operation's lifetime. A second process writes it, from the start, while this one imports
    dbt and parses the project: at 100,000 song files each takes most of a second. The
    context gives a function that waits for the file and returns its path, or raises
    ListingError; it returns None for s3:// or Redshift, which list otherwise."""
    if target != "local" or location.startswith("s3://"):
        yield lambda: None
        return
    with tempfile.TemporaryDirectory(prefix="sparkify-listing-") as folder:
        listing = Path(folder) / "files.csv"
        # A fresh interpreter, not a fork or a multiprocessing child: it shares no lock or
        # thread with this process, and does not import the caller's __main__ again.
        lister = subprocess.Popen(
            [sys.executable, "-c", LISTING_SCRIPT, location, str(listing)], stderr=subprocess.PIPE, text=True
        )

        def wait() -> Path:
            _, error = lister.communicate()
            if lister.returncode != 0:
                raise ListingError(error.strip())
            return listing

        try:
            yield wait
        finally:
            lister.kill()
            lister.wait()


LISTING_SCRIPT = """
import sys
from pathlib import Path
from sparkify import load
location, listing = sys.argv[1:]
try:
    with Path(listing).open("w", newline="") as out:
        load.write_listing(location, out)
except OSError as error:
    sys.exit(f"cannot list {location}: {error}")
"""


class ListingError(RuntimeError):
    """A file or folder under the location could not be listed (a broken link, no permission)."""


def absolute_location(location: str) -> str:
    """A local location as an absolute path, an s3:// one as given. The ledger is kept per
    location, so the same folder must have one name, however the command was given it."""
    return location if location.startswith("s3://") else os.path.abspath(location)


def dbt_target(target: str | None) -> str:
    """The target a dbt command runs on: the one given, else DBT_TARGET, else the profile's (local)."""
    return target or os.environ.get("DBT_TARGET", "local")


class CannotStart(RuntimeError):
    """Why a load cannot start, in one line, and the command's exit status."""

    WAREHOUSE_IN_USE = 2

    def __init__(self, message: str, exit_status: int = 1) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def check_before_dbt(location: str, target: str) -> None:
    """What `make load` and `make pipeline` check before dbt starts, raising CannotStart: the
    DuckDB warehouse is free, and an s3:// location has its sources. For s3://, it also sets
    SPARKIFY_SOURCE_REGION to the bucket's region, which Redshift's COPY must name when it is
    not the cluster's, and tells DuckDB where its S3 extensions are."""
    if target == "local":
        problem = warehouse_lock_problem(Path(os.environ.get("SPARKIFY_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)))
        if problem:
            raise CannotStart(problem, exit_status=CannotStart.WAREHOUSE_IN_USE)
    if location.startswith("s3://"):
        from sparkify import aws

        try:
            aws.report_sources(location)
            os.environ.setdefault("SPARKIFY_SOURCE_REGION", aws.bucket_region(aws.boto3.client("s3"), location))
        except aws.AWS_ERRORS as error:
            raise CannotStart(str(error)) from error
        os.environ.setdefault(duckdb_extensions.ENV_VAR, duckdb_extensions.env_value())


def redshift_manifests(runner, location: str, full_refresh: bool, target: str | None) -> dict | None:
    """For a Redshift load from s3://, the COPY manifests (sparkify.aws.copy_manifests) of the
    objects the ledger has not seen, written to the bucket; on a full refresh, of every object,
    so that the ledger keeps each one's ETag. None for any other load. `runner` is a dbtRunner
    with the parsed project; `target` the --target given, if any."""
    if dbt_target(target) != "redshift" or not location.startswith("s3://"):
        return None
    from sparkify import aws

    try:
        ledger = {} if full_refresh else redshift_ledger(runner, ["--target", target] if target else [])
        return aws.copy_manifests(aws.boto3.client("s3"), location, ledger)
    except aws.AWS_ERRORS as error:
        raise CannotStart(str(error)) from error


def warehouse_lock_problem(path: Path) -> str | None:
    """A one-line explanation when another process holds the DuckDB file, else None."""
    if not path.exists():
        return None
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
        who = f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"
        return (
            f"the warehouse {path} is in use by {who}: DuckDB allows one writer. "
            "Wait for it to finish, or close it, then run the load again."
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--location", default=os.environ.get("SPARKIFY_RAW_LOCATION", DEFAULT_LOCATION),
        help="directory or s3:// prefix holding log_data/ and song_data/ (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-rejects", type=threshold, help="rejected lines allowed per source (default: the project var)"
    )
    parser.add_argument("--full-refresh", action="store_true", help="reload every file, not only new or changed ones")
    parser.add_argument("--target", help="dbt target (default: the profile's, local unless DBT_TARGET says)")
    args = parser.parse_args(argv)
    args.location = absolute_location(args.location)

    target, target_args = dbt_target(args.target), ["--target", args.target] if args.target else []
    try:
        check_before_dbt(args.location, target)
        with contextlib.ExitStack() as stack:
            listed = stack.enter_context(local_listing(args.location, target))
            from dbt.cli.main import dbtRunner  # imported late: it takes seconds

            jinja_code_cache.enable()
            runner = dbtRunner()
            if target == "redshift" and args.location.startswith("s3://"):
                # The ledger is read with dbt; parsed once, for that and the load.
                parsed = runner.invoke(["--quiet", "parse", *target_args])
                if not parsed.success:
                    raise CannotStart("dbt could not parse the project; run `dbt parse` to see why.")
                runner = dbtRunner(manifest=parsed.result)
            manifests = redshift_manifests(runner, args.location, args.full_refresh, args.target)
            listing = listed()
            result = runner.invoke(
                [*operation_args(args.location, args.max_rejects, args.full_refresh, manifests, listing), *target_args]
            )
    except (CannotStart, ListingError, LedgerError) as error:
        return failed_to_start(error, args.location, args.max_rejects, args.full_refresh, args.target)
    return 0 if result.success else 1


def failed_to_start(
    error: Exception, location: str, max_rejects: int | str | None, full_refresh: bool, target: str | None
) -> int:
    """Report a load that could not start in one line, and leave its failed audit rows, as
    the macro does for the problems it finds; a warehouse in use cannot take them. Returns
    the exit status."""
    status = error.exit_status if isinstance(error, CannotStart) else 1
    if status != CannotStart.WAREHOUSE_IN_USE:
        from dbt.cli.main import dbtRunner

        args = {"location": location, "message": str(error), "max_rejects": max_rejects, "full_refresh": full_refresh}
        dbtRunner().invoke([
            "--quiet", "--no-write-json", "run-operation", "record_load_failure",
            "--args", yaml.safe_dump(args, default_flow_style=True, width=1_000_000),
            *(["--target", target] if target else []),
        ])  # fmt: skip
    print(f"error: {error}", file=sys.stderr)
    return status


def redshift_ledger(runner, target_args: list[str]) -> dict[str, dict[str, str]]:
    """What the ledger (raw.loaded_files) says was loaded: per source, file name -> ETag.
    The load's tables are created first, so a first load reads an empty ledger."""
    created = runner.invoke(["--quiet", "run-operation", "create_load_tables", *target_args])
    show = ["--quiet", "show", "--inline", LEDGER_QUERY, "--limit", "-1", *target_args]
    shown = runner.invoke(show) if created.success else None
    if shown is None or not shown.success:
        raise LedgerError("could not read the ledger raw.loaded_files; see the dbt messages above")
    ledger: dict[str, dict[str, str]] = {}
    for source_table, file_name, file_version in shown.result.results[0].agate_table.rows:
        ledger.setdefault(source_table, {})[file_name] = file_version
    return ledger


class LedgerError(RuntimeError):
    """The ledger could not be read, so the load cannot tell what is new."""


LEDGER_QUERY = (
    "select source_table, file_name, file_version from {{ var('raw_schema') }}.loaded_files "
    "where file_version is not null"
)


if __name__ == "__main__":
    sys.exit(main())
