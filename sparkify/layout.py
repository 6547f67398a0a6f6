"""The raw data's layout: where it is by default, the folder of each source, and how a
file is named in the ledger. Every step of the load reads these facts from here."""

from __future__ import annotations

import os

# Where `make data` writes and `make load` reads, relative to the project.
DEFAULT_LOCATION = "data/generated"
# The staging table each folder under a location loads into.
SOURCE_FOLDERS = {"staging_events": "log_data", "staging_songs": "song_data"}
# The JSONPaths file beside the folders, which maps event keys to columns for Redshift's COPY.
JSON_PATHS_FILE = "log_json_path.json"
# Only files with this ending are read; any other file under a folder is named and recorded.
DATA_FILE_SUFFIX = ".json"
# Rejected lines a source may have before its load fails, unless the command says otherwise.
DEFAULT_MAX_REJECTS = 0
# Redshift refuses a COPY MAXERROR above this, and fails a COPY once its errors reach it,
# so no threshold may reach it; the load's COPY uses it as its MAXERROR.
MAX_REJECTS_LIMIT = 100_000


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def absolute_location(location: str) -> str:
    """A local location as an absolute path, an s3:// one as given, without a trailing
    slash: the ledger is kept per location, so one folder has one name however the command
    was given it."""
    location = location if is_s3(location) else os.path.abspath(location)
    return location.rstrip("/")


def relative_name(location: str, path: str) -> str:
    """A file's name in the ledger, the rejects and source_file: its path below the location."""
    return path[len(location) + 1 :]


def location_path(location: str, name: str) -> str:
    """The path or URL of a file named relative to the location."""
    return f"{location}/{name}"
