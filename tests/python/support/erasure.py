"""What an erasure must remove, derived from the raw JSON files alone (not from the warehouse's
SQL), and the queries that find a user anywhere in a warehouse after it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Footprint:
    """A user's rows in the raw events, counted from the files."""

    events: int  # their events and the logged-out events of their sessions
    sessions: int
    plays: int  # distinct NextSong events (session, item): their songplays
    lone_play_times: int  # play times no other user's play has: their rows of time
    names: tuple[str, str]  # first and last name, which must be nowhere after the erasure


def sample_events(sample: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((sample / "log_data").rglob("*.json"))
            for line in path.read_text().splitlines() if line.strip()]  # fmt: skip


def footprint(events: list[dict], user_id: str) -> Footprint:
    own = [event for event in events if event["userId"] == user_id]
    sessions = {event["sessionId"] for event in own}
    logged_out = [event for event in events if event["userId"] == "" and event["sessionId"] in sessions]
    plays = {(event["sessionId"], event["itemInSession"], event["ts"]) for event in own if event["page"] == "NextSong"}
    other_times = {
        event["ts"] for event in events if event["page"] == "NextSong" and event["userId"] not in ("", user_id)
    }
    return Footprint(
        events=len(own) + len(logged_out),
        sessions=len(sessions),
        plays=len({play[:2] for play in plays}),
        lone_play_times=len({play[2] for play in plays} - other_times),
        names=(own[0]["firstName"], own[0]["lastName"]),
    )


def expected_erasure(user: Footprint, rejects: int) -> dict[str, int]:
    """The rows `make forget` must report per table for a user with this footprint, these
    rejected lines, and three level periods, as on the real sample's user 15."""
    rows = {
        "raw.staging_events": user.events,
        "raw.load_rejects": rejects,
        "analytics.sessions": user.sessions,
        "analytics.songplays": user.plays,
        "analytics.user_level_periods": 3,
        "analytics.user_profiles": 1,
        "analytics.users": 1,
        "analytics.time": user.lone_play_times,
        "analytics.user_agents": 0,  # their agent is others' too
    }
    return {**rows, "in all": sum(rows.values())}


def reported_erasure(output: str) -> dict[str, int]:
    """The rows per table that `make forget` printed."""
    return {" ".join(line.split()[:-2]): int(line.split()[-2].replace(",", ""))
            for line in output.splitlines() if line.endswith((" rows", " row"))}  # fmt: skip


def earlier_rejects(events: list[dict], user_id: str, other_id: str) -> list[tuple[str, str]]:
    """Rejected lines of an earlier load, as (reason, raw line): one of the user, which the
    erasure deletes, and one of a user whose id starts with theirs, which stays."""
    own = next(event for event in events if event["userId"] == user_id)
    return [("length: 'long' is not a number", json.dumps({**own, "length": "long"})),
            ("length: 'long' is not a number", json.dumps({**own, "userId": other_id, "length": "long"}))]  # fmt: skip


def late_bad_lines(events: list[dict], user_id: str, other_id: str) -> str:
    """A file that a later delivery may hold: an event of the erased user that breaks the
    contract, a line of theirs that no JSON parser takes (NaN), and another user's such line,
    which stays a reject. Both targets count the first two as events of erased users."""
    own = next(event for event in events if event["userId"] == user_id)
    lines = [
        json.dumps({**own, "ts": "yesterday"}),
        f'{{"userId":"{user_id}","firstName":"{own["firstName"]}","length":NaN}}',
        f'{{"userId":"{other_id}","sessionId":1,"length":NaN}}',
    ]
    return "\n".join(lines) + "\n"


# Where the user's id, name or events could be, per table: each query counts what is left.
LEFT_OF_USER = {
    "raw.staging_events": "select count(*) from raw.staging_events where trim(userid) = '{id}' "
    "or (firstname = '{first}' and lastname = '{last}')",
    "raw.load_rejects": "select count(*) from raw.load_rejects "
    'where raw_line like \'%"userId":"{id}"%\' or raw_line like \'%"userId": "{id}"%\'',
    "analytics.songplays": "select count(*) from analytics.songplays where user_id = {id}",
    "analytics.users": "select count(*) from analytics.users where user_id = {id} "
    "or (first_name = '{first}' and last_name = '{last}')",
    "analytics.sessions": "select count(*) from analytics.sessions where user_id = {id}",
    "analytics.user_level_periods": "select count(*) from analytics.user_level_periods where user_id = {id}",
    "analytics.user_profiles": "select count(*) from analytics.user_profiles where user_id = {id}",
    "analytics_staging.stg_sparkify__events": "select count(*) from analytics_staging.stg_sparkify__events "
    "where user_id = {id}",
}


def left_of_user(query, user_id: str, names: tuple[str, str]) -> dict[str, int]:
    first, last = names
    return {table: query(sql.format(id=user_id, first=first, last=last))[0][0] for table, sql in LEFT_OF_USER.items()}
