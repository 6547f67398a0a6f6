"""What a load reads: the listed files compared with the ledger, per source, in batches.

A source is reloaded whole (every row replaced by what is read) on a full refresh, on its
first load, when its location changed (the ledger's names belong to the old one), and on
Redshift when a loaded file changed: COPY cannot say which file a row came from, so a
changed file's rows cannot be picked out. Otherwise only new or changed files are read,
and their rows replace those of their earlier versions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sparkify import layout
from sparkify.ledger import Ledger
from sparkify.listing import ListedFile

# A batch is one insert, so one progress line: about 1 GiB or 10,000 files, whichever
# comes first. Not smaller: the next checkpoint repacks the part-filled row groups that
# each insert leaves (with 256 MiB batches, 0.7 s per million events). The reader streams,
# so memory does not depend on the batch.
BATCH_BYTES = 2**30
BATCH_FILES = 10_000
# Events are plausible from this time (epoch milliseconds, 2000-01-01) to a day after the load.
EARLIEST_EVENT_MS = 946_684_800_000


@dataclass
class SourcePlan:
    source_table: str
    found: int  # every file under the source's folder, read or not
    read: list[ListedFile] = field(default_factory=list)  # the data files to read, by name
    skipped: list[str] = field(default_factory=list)  # files that are not data files, by name
    gone: int = 0  # loaded files no longer at the location
    reload: bool = False
    moved_from: str | None = None

    def batches(self) -> Iterator[list[ListedFile]]:
        batch: list[ListedFile] = []
        size = 0
        for listed in self.read:
            if batch and (size + listed.size > BATCH_BYTES or len(batch) == BATCH_FILES):
                yield batch
                batch, size = [], 0
            batch.append(listed)
            size += listed.size
        if batch:
            yield batch

    def summary(self) -> dict:
        """What the load macro needs besides the files: counts and decisions."""
        return {"found": self.found, "to_read": len(self.read), "skipped": len(self.skipped), "gone": self.gone,
                "reload": self.reload, "moved_from": self.moved_from}  # fmt: skip


def plan_sources(
    location: str, listed: Iterable[ListedFile], ledger: Ledger, full_refresh: bool, reload_on_change: bool
) -> list[SourcePlan]:
    """One plan per source. `reload_on_change`: a changed file reloads its whole source (Redshift)."""
    by_source: dict[str, list[ListedFile]] = {source_table: [] for source_table in layout.SOURCE_FOLDERS}
    for listed_file in listed:
        by_source[listed_file.source_table].append(listed_file)
    plans = []
    for source_table, files in by_source.items():
        data = sorted((listed for listed in files if listed.is_data), key=lambda listed: listed.name)
        loaded = ledger.files.get(source_table, {})
        previous = ledger.locations.get(source_table)
        moved_from = previous if previous not in (None, location) else None
        changed = [listed for listed in data if loaded.get(listed.name) != (listed.size, listed.version)]
        plan = SourcePlan(source_table, len(files), skipped=sorted(f.name for f in files if not f.is_data))
        plan.moved_from = moved_from
        plan.reload = (
            full_refresh
            or bool(moved_from)
            or not loaded
            or (reload_on_change and any(listed.name in loaded for listed in changed))
        )
        plan.read = data if plan.reload else changed
        if not (full_refresh or moved_from):
            names = {listed.name for listed in data}
            plan.gone = sum(name not in names for name in loaded)
        plans.append(plan)
    return plans


def glob_escaped(path: str) -> str:
    """A path that DuckDB's file readers, which take glob patterns, match as itself: each
    of * ? [ becomes a one-character class. (] { } and \\ are not special there.)"""
    return "".join(f"[{character}]" if character in "*?[" else character for character in path)


def plan_rows(plans: list[SourcePlan], escape_paths: bool) -> Iterator[str]:
    """The plan's files as JSON lines, the form both targets read into a table: each data
    file to read with its batch, and each file not read."""
    for plan in plans:
        for batch_number, batch in enumerate(plan.batches(), start=1):
            for listed in batch:
                read_path = glob_escaped(listed.path) if escape_paths else listed.path
                yield plan_row(plan.source_table, listed.name, listed.path, read_path, listed.size, listed.version,
                               batch_number)  # fmt: skip
        for name in plan.skipped:
            yield plan_row(plan.source_table, name)


def plan_row(source_table, name, path=None, read_path=None, size=None, version=None, batch=None) -> str:
    """One line of the plan file, with the columns of macros/load/raw_tables.sql's load_plan_columns."""
    row = {"source_table": source_table, "file_name": name, "path": path, "read_path": read_path,
           "file_size": size, "file_version": version, "batch_number": batch}  # fmt: skip
    return json.dumps(row, ensure_ascii=False) + "\n"


def bounds(now: dt.datetime) -> dict[str, int]:
    """The plausible ranges that depend on the load's time (aware), for the contract's checks."""
    latest = now + dt.timedelta(days=1)
    return {"earliest_event_ms": EARLIEST_EVENT_MS, "latest_event_ms": int(latest.timestamp() * 1000),
            "latest_year": now.astimezone(dt.UTC).year}  # fmt: skip
