"""Personal data is marked where dbt users look: every column whose name says it holds
personal data carries `meta: {pii: true}` in its properties YAML (docs/privacy.md). Read from
the YAML alone, so that a new column without its tag fails in the fast tier."""

from __future__ import annotations

import re

import yaml
from support.project import PROJECT_DIR

# What a column's name says about a listener, by the pattern that finds it in the name.
PERSONAL_NAMES = {
    "a person's name": r"(first|last|full|given|family|sur|user)_?name$|^name$",
    "a place": r"location|address|city|latitude|longitude|zip|postcode",
    "a device": r"user_?agent|ip_?address|device_id",
    "gender": r"gender|^sex$",
    "a contact": r"e_?mail|phone",
}
# Columns whose names match but that describe no listener, each with why. An artist is a
# public figure of the Million Song Dataset, not a Sparkify listener.
NOT_PERSONAL = {
    ("source", "staging_songs", "artist_location"): "an artist's home town, from the song files",
    ("source", "staging_songs", "artist_latitude"): "an artist's home town, from the song files",
    ("source", "staging_songs", "artist_longitude"): "an artist's home town, from the song files",
    ("model", "stg_sparkify__songs", "artist_location"): "an artist's home town, from the song files",
    ("model", "stg_sparkify__songs", "artist_latitude"): "an artist's home town, from the song files",
    ("model", "stg_sparkify__songs", "artist_longitude"): "an artist's home town, from the song files",
    ("model", "artists", "name"): "an artist's name",
    ("model", "artists", "location"): "an artist's home town",
    ("model", "artists", "latitude"): "an artist's home town",
    ("model", "artists", "longitude"): "an artist's home town",
    ("source", "load_audit", "location"): "the folder or S3 prefix a load read",
}


def properties_columns() -> dict[tuple[str, str, str], dict]:
    """Every column of every model and source in the project's properties YAML."""
    columns = {}
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        properties = yaml.safe_load(path.read_text()) or {}
        for model in properties.get("models", []):
            for column in model.get("columns", []):
                columns[("model", model["name"], column["name"])] = column
        for source in properties.get("sources", []):
            for table in source.get("tables", []):
                for column in table.get("columns", []):
                    columns[("source", table["name"], column["name"])] = column
    return columns


def is_pii(column: dict) -> bool:
    return bool({**column.get("meta", {}), **column.get("config", {}).get("meta", {})}.get("pii"))


def says_personal(name: str) -> str | None:
    return next((what for what, pattern in PERSONAL_NAMES.items() if re.search(pattern, name)), None)


def test_every_column_named_as_personal_data_is_tagged_pii():
    columns = properties_columns()
    untagged = {
        f"{kind} {table}.{name}": says_personal(name)
        for (kind, table, name), column in columns.items()
        if says_personal(name) and (kind, table, name) not in NOT_PERSONAL and not is_pii(column)
    }
    assert untagged == {}


def test_the_listeners_personal_columns_are_tagged_in_staging_marts_and_analytics():
    tagged = {key for key, column in properties_columns().items() if is_pii(column)}
    listener = {"first_name", "last_name", "gender", "location", "user_agent"}

    assert {("model", "users", name) for name in ("first_name", "last_name", "gender")} <= tagged
    assert {("model", "songplays", "location"), ("model", "songplays", "user_agent")} <= tagged
    assert {("model", "stg_sparkify__events", name) for name in listener} <= tagged
    assert ("model", "user_agents", "user_agent") in tagged
    assert ("source", "load_rejects", "raw_line") in tagged  # a rejected line holds the whole event


def test_the_allow_list_names_existing_columns_none_of_them_tagged():
    columns = properties_columns()
    stale = [key for key in NOT_PERSONAL if key not in columns]
    tagged = [key for key in NOT_PERSONAL if key in columns and is_pii(columns[key])]
    assert stale == [] and tagged == []
    assert all(says_personal(name) for _, _, name in NOT_PERSONAL)


def test_the_patterns_find_personal_names_and_leave_others():
    assert says_personal("firstname") and says_personal("last_name") and says_personal("useragent")
    assert says_personal("artist_location") and says_personal("email_address")
    assert not says_personal("artist_name") and not says_personal("weekday_name")
    assert not says_personal("file_name") and not says_personal("song_title")
