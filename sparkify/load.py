"""`make load`: plan the load in Python, then run dbt's load_raw operation on the plan.

    python -m sparkify.load [--location DIR_OR_S3] [--max-rejects N] [--full-refresh] [--target T]

1. Before dbt starts, the arguments, the warehouse and the location are checked: a problem
   fails in one line, in well under a second, and writes nothing.
2. The files under the location are listed once (sparkify.listing) and compared with the
   ledger (sparkify.ledger, sparkify.plan).
3. The plan goes where the target reads it: a local file for DuckDB; for Redshift, the
   project's own bucket (SPARKIFY_MANIFEST_LOCATION), beside the COPY manifests. A source
   bucket is only ever read.
4. `dbt run-operation load_raw` loads the plan; its events become the summary printed here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from sparkify import duckdb_extensions, layout, ledger, listing, plan, warehouse

# The prefix of the events that the project's operations log (macros/report_event.sql).
EVENT_PREFIX = "sparkify-event "
# load_audit.message is varchar(4096), counted in bytes on Redshift.
MESSAGE_BYTES = 4000


class CannotStart(RuntimeError):
    """Why a load cannot start, in one line, and the command's exit status."""

    WAREHOUSE_IN_USE = 2

    def __init__(self, message: str, exit_status: int = 1) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class Request:
    location: str  # absolute (layout.absolute_location)
    max_rejects: int
    full_refresh: bool
    target: str | None  # the --target given, if any

    @property
    def target_name(self) -> str:
        """The target dbt runs on: the one given, else DBT_TARGET, else the profile's (local)."""
        return self.target or os.environ.get("DBT_TARGET", "local")

    @property
    def target_args(self) -> list[str]:
        return ["--target", self.target] if self.target else []

    @property
    def on_redshift(self) -> bool:
        return self.target_name == "redshift"


def threshold(value: str | int | None) -> int:
    """A rejects threshold, as a whole number from 0 to below Redshift's MAXERROR limit."""
    if value is None or value == "":
        return layout.DEFAULT_MAX_REJECTS
    text = str(value).strip()
    if not re.fullmatch(r"\d+", text) or int(text) >= layout.MAX_REJECTS_LIMIT:
        raise CannotStart(
            f"MAX_REJECTS must be a whole number from 0 to {layout.MAX_REJECTS_LIMIT - 1:,}, got {value!r}"
        )
    return int(text)


def check_before_dbt(request: Request) -> list[listing.ListedFile]:
    """Everything about the location that can be checked without dbt; returns its files, or
    raises CannotStart. For s3://, it also sets the bucket's region for COPY's REGION
    (SPARKIFY_SOURCE_REGION), and tells DuckDB where its S3 extensions are."""
    if layout.is_s3(request.location):
        from sparkify import aws

        try:
            s3 = aws.boto3.client("s3")
            region = aws.bucket_region(s3, request.location)
            os.environ.setdefault("SPARKIFY_SOURCE_REGION", region)
            if request.on_redshift:
                aws.check_manifest_location(s3, manifest_location(), region)
            else:
                os.environ.setdefault(duckdb_extensions.ENV_VAR, duckdb_extensions.env_value())
            listed = listing.list_location(request.location, s3)
        except aws.AWS_ERRORS as error:
            raise CannotStart(str(error)) from error
    else:
        if request.on_redshift:
            raise CannotStart(
                f"Redshift loads from S3: LOCATION must be an s3:// prefix, got {request.location}. "
                "Upload a local dataset first: make upload LOCAL=<dir> DEST=s3://<bucket>/<prefix>"
            )
        if not os.path.isdir(request.location):
            raise CannotStart(f"{request.location} is not a folder: pass LOCATION=<folder or s3:// prefix>")
        try:
            listed = listing.list_location(request.location)
        except listing.ListingError as error:
            raise CannotStart(str(error)) from error
    for source_table, folder in layout.SOURCE_FOLDERS.items():
        if not any(listed_file.source_table == source_table and listed_file.is_data for listed_file in listed):
            raise CannotStart(
                f"no {layout.DATA_FILE_SUFFIX} files under {layout.location_path(request.location, folder)}/: "
                f"the location must hold {'/ and '.join(layout.SOURCE_FOLDERS.values())}/; "
                "run `make data` for a generated sample, or pass LOCATION=<folder or s3:// prefix>"
            )
    return listed


def manifest_location() -> str:
    location = os.environ.get("SPARKIFY_MANIFEST_LOCATION", "").rstrip("/")
    if not location:
        raise CannotStart(
            "Redshift loads write their COPY manifests to the project's own bucket, and "
            "SPARKIFY_MANIFEST_LOCATION is not set: run `make infra-env` (Terraform's manifest_location output)"
        )
    return location


class Events:
    """What the project's operations report, as dbt hands its events to a callback: the load's
    progress printed as it comes, each source's outcome kept for the load's summary, and the
    row counts (report_row_counts) kept for the pipeline's."""

    def __init__(self) -> None:
        self.outcomes: dict[str, dict] = {}
        self.row_counts: dict | None = None
        self.retention: dict | None = None

    def __call__(self, message) -> None:
        if message.info.name != "JinjaLogDebug" or not message.data.msg.startswith(EVENT_PREFIX):
            return
        event = json.loads(message.data.msg[len(EVENT_PREFIX) :])
        if event["event"] == "copy":
            print(f"  {event['source_table']}: copying {event['objects']:,} objects...", flush=True)
        elif event["event"] == "batch":
            print(
                f"  {event['source_table']}: read batch {event['batch']} of {event['batches']} "
                f"({event['files']:,} files, {event['bytes'] / 2**20:,.1f} MiB)",
                flush=True,
            )
        elif event["event"] == "row_counts":
            self.row_counts = event
        elif event["event"] == "retention":
            self.retention = event
        else:
            self.outcomes[event["source_table"]] = event


def summary_line(location: str, source_plan: plan.SourcePlan, outcome: dict) -> str:
    line = (
        f"{source_plan.source_table} from {location}: {len(source_plan.read):,} new or changed files of "
        f"{source_plan.found:,}, {outcome['rows_loaded']:,} rows loaded, {outcome['rows_rejected']:,} rejected "
        f"in {outcome['seconds']:.1f} s"
    )
    if source_plan.skipped:
        shown = ", ".join(source_plan.skipped[:3]) + (", ..." if len(source_plan.skipped) > 3 else "")
        line += f"; {len(source_plan.skipped):,} files not read ({shown}), see load_rejects"
    if outcome["status"] == "failed":
        return f"FAILED {line}: {outcome['message']}"
    return f"Loaded {line}" + (f"; {outcome['message']}" if outcome["message"] else "")


def note(source_plan: plan.SourcePlan) -> str | None:
    """The message of a successful load's audit row: loaded files gone from the location."""
    if not source_plan.gone:
        return None
    files, rows = ("file", "its") if source_plan.gone == 1 else ("files", "their")
    fate = "kept (FULL_REFRESH=1 drops them)"
    if source_plan.reload:
        fate = "dropped: a changed object reloads the whole source"
    return f"{source_plan.gone:,} loaded {files} gone from the location, {rows} rows {fate}"


def retention_line(retention: dict) -> str:
    """What the var raw_retention_days removed from the raw events (docs/privacy.md)."""
    table = f"{ledger.raw_schema()}.staging_events"
    before = f"before {retention['before']} UTC"
    if not retention["rows_removed"]:
        return f"Retention ({retention['days']} days): no event {before} in {table}"
    removed = f"{retention['rows_removed']:,} events {before} removed from {table}"
    return f"Retention ({retention['days']} days): {removed}; the marts keep them"


def within_bytes(text: str, size: int = MESSAGE_BYTES) -> str:
    return text.encode()[:size].decode(errors="ignore")


@contextlib.contextmanager
def written_plan(request: Request, plans: list[plan.SourcePlan]) -> Iterator[dict]:
    """The plan where the target reads it, for the operation's lifetime; yields the
    operation's `plan` argument."""
    rows = "".join(plan.plan_rows(plans, escape_paths=not request.on_redshift))
    sources = {source_plan.source_table: {**source_plan.summary(), "note": note(source_plan)} for source_plan in plans}
    arguments = {
        "sources": sources,
        "bounds": plan.bounds(dt.datetime.now(dt.UTC)),
        # Redshift's COPY takes as many errors as it allows, so that max_rejects alone decides.
        "copy_maxerror": layout.MAX_REJECTS_LIMIT,
        # Where a file's name starts in its path, counted from 1 as SQL does (layout.relative_name).
        "name_start": len(request.location) + 2,
    }
    if request.on_redshift:
        from sparkify import aws

        folder = f"{manifest_location()}/{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        try:
            urls = aws.write_load_plan(aws.boto3.client("s3"), folder, plans, rows)
        except aws.AWS_ERRORS as error:
            raise CannotStart(f"could not write the load plan to {folder}: {error}") from error
        for source_table, url in urls["manifests"].items():
            sources[source_table]["manifest"] = url
        sources["staging_events"]["json_paths"] = layout.location_path(request.location, layout.JSON_PATHS_FILE)
        yield {**arguments, "file": urls["plan"]}
        return
    with tempfile.TemporaryDirectory(prefix="sparkify-load-") as folder:
        plan_file = Path(folder) / "plan.json"
        plan_file.write_text(rows, encoding="utf-8")
        yield {**arguments, "file": str(plan_file)}


def operation_args(request: Request, plan_argument: dict) -> list[str]:
    """The dbt arguments of the load_raw operation, written as YAML by a YAML library, never
    pasted into a shell line or SQL: any path loads, a quote or a space included. A load
    needs no manifest.json or run_results.json; writing them took 0.5 s of each load."""
    args = {"location": request.location, "plan": plan_argument, "max_rejects": request.max_rejects,
            "full_refresh": request.full_refresh}  # fmt: skip
    return [
        "--no-write-json", "run-operation", "load_raw",
        "--args", yaml.safe_dump(args, default_flow_style=True, width=1_000_000, allow_unicode=True),
        *request.target_args,
    ]  # fmt: skip


def run(runner, events: Events, request: Request, listed: list[listing.ListedFile]) -> bool:
    """Plan the load against the ledger and run it with `runner` (a dbtRunner whose
    callbacks include `events`); prints the summary; True when every source loaded."""
    try:
        if request.on_redshift:
            current = ledger.read_with_dbt(runner, request.target_args)
        else:
            current = ledger.read_duckdb(warehouse.duckdb_path())
    except ledger.LedgerError as error:
        print(f"error: {error}", file=sys.stderr)
        return False
    plans = plan.plan_sources(request.location, listed, current, request.full_refresh,
                              reload_on_change=request.on_redshift)  # fmt: skip
    for source_plan in plans:
        if source_plan.moved_from and not request.full_refresh:
            print(f"{source_plan.source_table}: the location changed from {source_plan.moved_from}, so every file is "
                  "read again, and the next build rebuilds the marts from what is there")  # fmt: skip
    try:
        with written_plan(request, plans) as plan_argument:
            result = runner.invoke(operation_args(request, plan_argument))
    except CannotStart as error:
        failure = {"sources": {p.source_table: {**p.summary(), "to_read": 0} for p in plans},
                   "bounds": {}, "name_start": None, "copy_maxerror": None, "file": None,
                   "failure": within_bytes(str(error))}  # fmt: skip
        runner.invoke(operation_args(request, failure))
        print(f"error: {error}", file=sys.stderr)
        return False
    if not result.success:
        if result.exception is not None:  # dbt could not run at all (a bad profile, say): it printed nothing
            print(f"error: {result.exception}", file=sys.stderr)
        return False
    for source_plan in plans:
        print(summary_line(request.location, source_plan, events.outcomes[source_plan.source_table]), flush=True)
    if events.retention:
        print(retention_line(events.retention), flush=True)
    failed = [f"{table} ({outcome['message']})" for table, outcome in events.outcomes.items()
              if outcome["status"] == "failed"]  # fmt: skip
    if failed:
        print(
            f"Load failed for {', '.join(failed)}. Those tables keep their previous contents. See "
            f"{ledger.raw_schema()}.load_rejects for each rejected line with its file, line and reason, or allow "
            "more with `make load MAX_REJECTS=N`.",
            file=sys.stderr,
        )
    return not failed


def request_from(args: argparse.Namespace) -> Request:
    return Request(layout.absolute_location(args.location), threshold(args.max_rejects), args.full_refresh, args.target)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--location", default=os.environ.get("SPARKIFY_RAW_LOCATION") or layout.DEFAULT_LOCATION,
        help="folder or s3:// prefix holding log_data/ and song_data/ (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-rejects", help=f"rejected lines allowed per source (default: {layout.DEFAULT_MAX_REJECTS})"
    )
    parser.add_argument("--full-refresh", action="store_true", help="reload every file, not only new or changed ones")
    parser.add_argument("--target", help="dbt target (default: the profile's, local unless DBT_TARGET says)")


@contextlib.contextmanager
def warehouse_held(request: Request) -> Iterator[None]:
    """The DuckDB warehouse held by this command for its whole life, so that a second command
    stops in one line however close the race (sparkify.warehouse); nothing to hold on Redshift."""
    if request.on_redshift:
        yield
        return
    try:
        with warehouse.exclusive(warehouse.duckdb_path()):
            yield
    except warehouse.WarehouseInUse as error:
        raise CannotStart(str(error), exit_status=CannotStart.WAREHOUSE_IN_USE) from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.load", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        request = request_from(args)
        with warehouse_held(request):
            listed = check_before_dbt(request)
            print(f"Loading {request.location} (starting dbt)...", flush=True)
            from dbt.cli.main import dbtRunner  # imported late: it takes seconds

            events = Events()
            runner = dbtRunner(callbacks=[events])
            if request.on_redshift:
                # The ledger is read with dbt; parsed once, for that and the load.
                parsed = runner.invoke(["--quiet", "parse", *request.target_args])
                if not parsed.success:
                    print("error: dbt could not parse the project; run `dbt parse` to see why.", file=sys.stderr)
                    return 1
                runner = dbtRunner(manifest=parsed.result, callbacks=[events])
            return 0 if run(runner, events, request, listed) else 1
    except CannotStart as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status


if __name__ == "__main__":
    sys.exit(main())
