"""Deterministic generator of eventsim-like Sparkify data.

Writes the layout and field formats of the public sample:

* ``log_data/YYYY/MM/YYYY-MM-DD-events.json``: one JSON object per line, keys sorted,
  no spaces, ``/`` escaped as ``\\/``, no trailing newline;
* ``song_data/A/B/C/TR....json``: one song record per file;
* ``log_json_path.json``: the JSONPaths a Redshift ``COPY`` uses for the events.

Writes stream: song files are written as they are made, and events are held one day at
a time, so memory grows with the catalogue and one day's events, never with the total.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import random
import shutil
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

EVENT_FIELDS = (
    "artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level",
    "location", "method", "page", "registration", "sessionId", "song", "status", "ts",
    "userAgent", "userId",
)  # fmt: skip

FIRST_NAMES = {
    "F": ["Kaylee", "Lily", "Jacqueline", "Chloe", "Tegan", "Rylan", "Sara", "Aleena", "Jayden",
          "Layla", "Ava", "Morris", "Anabelle", "Stefany", "Katherine", "Emily", "Mia", "Zoe"],
    "M": ["Walter", "Ryan", "Jacob", "Kevin", "Connar", "Wyatt", "Aiden", "Sebastian", "Tucker",
          "Cienna", "Jordan", "Matthew", "Liam", "Noah", "Evan", "Owen", "Caleb", "Isaac"],
}  # fmt: skip
LAST_NAMES = [
    "Frye", "Summers", "Smith", "Lynch", "Cruz", "Clark", "Bradley", "Hoffman", "Levine", "Kirby",
    "Koch", "Robinson", "Carey", "Raymond", "Bailey", "Jones", "Garrison", "Williams", "Dominguez",
]  # fmt: skip
LOCATIONS = [
    "San Francisco-Oakland-Hayward, CA", "Phoenix-Mesa-Scottsdale, AZ",
    "New York-Newark-Jersey City, NY-NJ-PA", "Lansing-East Lansing, MI", "Waterloo-Cedar Falls, IA",
    "Chicago-Naperville-Elgin, IL-IN-WI", "Atlanta-Sandy Springs-Roswell, GA", "Tampa-St. Petersburg-Clearwater, FL",
    "Portland-South Portland, ME", "Houston-The Woodlands-Sugar Land, TX", "Denver-Aurora-Lakewood, CO",
]  # fmt: skip
# Real user agents of the era, verbatim (hence the long lines, allowed in pyproject.toml).
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 Safari/537.78.2",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53",
]  # fmt: skip
WORDS = [
    "love", "night", "fire", "blue", "heart", "rain", "dream", "city", "light", "gold", "river",
    "shadow", "summer", "wild", "echo", "velvet", "storm", "silver", "home", "dance", "road",
    "ghost", "ocean", "paper", "stone", "sweet", "electric", "lonely", "midnight", "sugar",
]  # fmt: skip
ARTIST_LOCATIONS = ["", "", "Memphis, TN", "London, England", "California - LA", "Nashville, TN.",
                    "Berlin, Germany", "Detroit, MI", "Kingston, Jamaica"]  # fmt: skip

# Pages a logged-in user moves to next, with weights shaped like the real sample's mix.
LOGGED_IN_PAGES = [
    ("NextSong", 850), ("Home", 45), ("Thumbs Up", 30), ("Add to Playlist", 15), ("Thumbs Down", 8),
    ("Add Friend", 8), ("Settings", 6), ("Help", 4), ("About", 3), ("Upgrade", 3), ("Downgrade", 5),
    ("Error", 1), ("Logout", 10), ("Cancel", 1),
]  # fmt: skip
PAGE_METHOD_STATUS = {
    "NextSong": ("PUT", 200), "Home": ("GET", 200), "Thumbs Up": ("PUT", 307),
    "Thumbs Down": ("PUT", 307), "Add to Playlist": ("PUT", 200), "Add Friend": ("PUT", 307),
    "Settings": ("GET", 200), "Save Settings": ("PUT", 307), "Help": ("GET", 200),
    "About": ("GET", 200), "Upgrade": ("GET", 200), "Submit Upgrade": ("PUT", 307),
    "Downgrade": ("GET", 200), "Submit Downgrade": ("PUT", 307), "Error": ("GET", 404),
    "Logout": ("PUT", 307), "Login": ("PUT", 307), "Register": ("GET", 200),
    "Submit Registration": ("PUT", 307), "Cancel": ("PUT", 307),
    "Cancellation Confirmation": ("GET", 200),
}  # fmt: skip

JSON_PATHS = {"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}
# Marks a directory as the generator's own, so that a later run may clear it.
MARKER = ".sparkify-generated"
OUTPUT_ENTRIES = ("log_data", "song_data", "log_json_path.json", MARKER)


@dataclass
class Song:
    title: str
    artist_name: str
    duration: float


@dataclass
class User:
    user_id: int
    first_name: str
    last_name: str
    gender: str
    location: str
    user_agent: str
    registration: float
    level: str
    cancelled: bool = False
    sessions_per_day: float = 1.0


@dataclass
class Catalog:
    """What NextSong events can play: the generated songs and songs outside them."""

    songs: list[Song] = field(default_factory=list)
    cumulative_weights: list[float] = field(default_factory=list)

    def add(self, song: Song, rank: int) -> None:
        # Zipf-like popularity: a few songs get most of the plays.
        weight = 1.0 / (rank + 1)
        total = self.cumulative_weights[-1] if self.cumulative_weights else 0.0
        self.songs.append(song)
        self.cumulative_weights.append(total + weight)

    def pick(self, rng: random.Random) -> Song:
        point = rng.random() * self.cumulative_weights[-1]
        return self.songs[bisect.bisect_left(self.cumulative_weights, point)]


def event_line(event: dict) -> str:
    """Serialise as eventsim does: sorted keys, no spaces, escaped slashes."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True).replace("/", "\\/")


def random_code(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=length))


def random_title(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).title()


def write_songs(out: Path, rng: random.Random, n_songs: int) -> Catalog:
    """Write one file per song and return the catalogue that plays draw from."""
    n_artists = max(1, round(n_songs * 0.7))
    artists = []
    for _ in range(n_artists):
        located = rng.random() < 0.4
        artists.append({
            "artist_id": "AR" + random_code(rng, 16),
            "artist_name": random_title(rng, rng.randint(1, 3)),
            "artist_location": rng.choice(ARTIST_LOCATIONS),
            "artist_latitude": round(rng.uniform(-60, 60), 5) if located else None,
            "artist_longitude": round(rng.uniform(-150, 150), 5) if located else None,
        })  # fmt: skip
    catalog = Catalog()
    for rank in range(n_songs):
        artist = dict(artists[rank % n_artists] if rank < n_artists else rng.choice(artists))
        if rng.random() < 0.05:
            # Song files of one artist sometimes disagree, as the Million Song Dataset's do.
            artist["artist_location"] = ""
        # The first three letters name the folders, as in the Million Song Dataset layout.
        track_id = "TR" + "".join(rng.choices(string.ascii_uppercase, k=3)) + random_code(rng, 13)
        record = {
            "num_songs": 1,
            "artist_id": artist["artist_id"],
            "artist_latitude": artist["artist_latitude"],
            "artist_longitude": artist["artist_longitude"],
            "artist_location": artist["artist_location"],
            "artist_name": artist["artist_name"],
            "song_id": "SO" + random_code(rng, 16),
            "title": random_title(rng, rng.randint(1, 4)),
            "duration": round(rng.uniform(90, 420), 5),
            "year": rng.choice([0, 0, 0] + list(range(1960, 2011))),
        }
        path = out / "song_data" / track_id[2] / track_id[3] / track_id[4] / f"{track_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        catalog.add(Song(record["title"], record["artist_name"], record["duration"]), rank)
    return catalog


def make_users(rng: random.Random, n_users: int, start_ms: int) -> list[User]:
    users = []
    for user_id in range(1, n_users + 1):
        gender = rng.choice("MF")
        users.append(User(
            user_id=user_id,
            first_name=rng.choice(FIRST_NAMES[gender]),
            last_name=rng.choice(LAST_NAMES),
            gender=gender,
            location=rng.choice(LOCATIONS),
            user_agent=rng.choice(USER_AGENTS),
            registration=float(start_ms - rng.randint(1, 400) * 86_400_000 + rng.randint(0, 86_399_999)),
            level="paid" if rng.random() < 0.25 else "free",
            sessions_per_day=rng.choice([0.03, 0.08, 0.15, 0.3, 0.6]),
        ))  # fmt: skip
    return users


class SessionWriter:
    """Builds the events of one session, moving a clock forward as pages are visited."""

    def __init__(self, rng: random.Random, session_id: int, ts: int) -> None:
        self.rng = rng
        self.session_id = session_id
        self.ts = ts
        self.item = 0
        self.events: list[dict] = []

    def visit(self, page: str, user: User | None, auth: str, song: Song | None = None) -> None:
        method, status = PAGE_METHOD_STATUS[page]
        known = user is not None and auth in ("Logged In", "Cancelled")
        self.events.append({
            "artist": song.artist_name if song else None,
            "auth": auth,
            "firstName": user.first_name if known else None,
            "gender": user.gender if known else None,
            "itemInSession": self.item,
            "lastName": user.last_name if known else None,
            "length": song.duration if song else None,
            "level": user.level if user else "free",
            "location": user.location if known else None,
            "method": method,
            "page": page,
            "registration": user.registration if known else None,
            "sessionId": self.session_id,
            "song": song.title if song else None,
            "status": status,
            "ts": self.ts,
            # eventsim quotes the user agent inside the string.
            "userAgent": f'"{user.user_agent}"' if known else None,
            "userId": str(user.user_id) if known else "",
        })  # fmt: skip
        self.item += 1
        self.ts += round(song.duration * 1000) if song else self.rng.randint(1, 60) * 1000


def user_session(
    rng: random.Random, writer: SessionWriter, user: User, catalog: Catalog, outside: Catalog, match_rate: float
) -> None:
    """One logged-in session; it may upgrade, downgrade, log out or cancel."""
    if rng.random() < 0.2:
        writer.visit("Home", user, "Logged Out")
        writer.visit("Login", user, "Logged Out")
    pages, weights = zip(*LOGGED_IN_PAGES, strict=True)
    for _ in range(rng.randint(1, 25)):
        page = rng.choices(pages, weights)[0]
        if page == "NextSong":
            song = catalog.pick(rng) if rng.random() < match_rate else outside.pick(rng)
            writer.visit(page, user, "Logged In", song)
        elif page == "Upgrade" and user.level == "free":
            writer.visit(page, user, "Logged In")
            if rng.random() < 0.5:
                writer.visit("Submit Upgrade", user, "Logged In")
                user.level = "paid"
        elif page == "Downgrade" and user.level == "paid":
            writer.visit(page, user, "Logged In")
            if rng.random() < 0.3:
                writer.visit("Submit Downgrade", user, "Logged In")
                user.level = "free"
        elif page == "Settings":
            writer.visit(page, user, "Logged In")
            if rng.random() < 0.3:
                writer.visit("Save Settings", user, "Logged In")
        elif page == "Cancel":
            writer.visit(page, user, "Logged In")
            writer.visit("Cancellation Confirmation", user, "Cancelled")
            user.cancelled = True
            return
        elif page == "Logout":
            writer.visit(page, user, "Logged In")
            writer.visit("Home", user, "Logged Out")
            return
        elif page in PAGE_METHOD_STATUS:
            writer.visit(page, user, "Logged In")


def guest_session(rng: random.Random, writer: SessionWriter) -> None:
    """A visitor who never logs in: eventsim's Guest auth, with an empty userId."""
    writer.visit("Home", None, "Guest")
    for page in rng.sample(["About", "Help", "Register", "Home"], k=rng.randint(1, 3)):
        writer.visit(page, None, "Guest")
    if rng.random() < 0.3:
        writer.visit("Submit Registration", None, "Guest")


def prepare_output(out: Path) -> None:
    """Leave `out` empty for a new dataset: the generator's earlier output is removed, so a
    later load never reads a stale day or song; a directory it did not write is refused."""
    if out.is_dir() and (out / MARKER).is_file():
        for name in OUTPUT_ENTRIES:
            entry = out / name
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.exists() or entry.is_symlink():
                entry.unlink()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} is not empty and was not written by the generator: choose an empty or new directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by python -m sparkify.generate, which clears this directory on its next run.\n")


def generate(
    out: Path,
    *,
    users: int = 100,
    days: int = 30,
    songs: int = 71,
    match_rate: float = 0.5,
    start: dt.date = dt.date(2018, 11, 1),
    seed: int = 42,
    progress=None,
) -> dict[str, int]:
    """Write a dataset under ``out`` and return counts of what was written."""
    if users < 1 or days < 1 or songs < 1:
        raise ValueError("users, days and songs must each be at least 1")
    if not 0.0 <= match_rate <= 1.0:
        raise ValueError("match_rate must be between 0 and 1")
    rng = random.Random(seed)
    prepare_output(out)
    (out / "log_json_path.json").write_text(json.dumps(JSON_PATHS, indent=4))
    catalog = write_songs(out, rng, songs)
    outside = Catalog()
    for rank in range(max(songs, 500)):
        outside.add(
            Song(random_title(rng, rng.randint(1, 4)), random_title(rng, 2), round(rng.uniform(90, 420), 5)), rank
        )

    start_ms = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp() * 1000)
    population = make_users(rng, users, start_ms)
    session_ids = itertools.count(1)
    n_events = 0
    for day_number in range(days):
        day = start + dt.timedelta(days=day_number)
        day_ms = start_ms + day_number * 86_400_000
        events: list[dict] = []
        for user in population:
            if user.cancelled:
                continue
            for _ in range(int(user.sessions_per_day + rng.random())):
                writer = SessionWriter(rng, next(session_ids), day_ms + rng.randint(0, 86_000_000))
                user_session(rng, writer, user, catalog, outside, match_rate)
                events.extend(writer.events)
        for _ in range(max(1, users // 20)):
            writer = SessionWriter(rng, next(session_ids), day_ms + rng.randint(0, 86_000_000))
            guest_session(rng, writer)
            events.extend(writer.events)
        # Keep each file within its day, as eventsim's daily files are.
        events = sorted((e for e in events if e["ts"] < day_ms + 86_400_000), key=lambda e: (e["ts"], e["sessionId"]))
        path = out / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(event_line(e) for e in events))
        n_events += len(events)
        if progress:
            progress(day_number + 1, days, n_events)
    return {"log_files": days, "events": n_events, "song_files": songs, "users": users}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.generate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("data/generated"), help="output directory (default: %(default)s)"
    )
    parser.add_argument("--users", type=int, default=100, help="number of users (default: %(default)s)")
    parser.add_argument("--days", type=int, default=30, help="number of daily log files (default: %(default)s)")
    parser.add_argument("--songs", type=int, default=71, help="number of song files (default: %(default)s)")
    parser.add_argument(
        "--match-rate", type=float, default=0.5,
        help="share of NextSong events that play a generated song (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, default=dt.date(2018, 11, 1), help="first day (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed; same seed, same files (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    started = time.monotonic()

    def progress(done: int, total: int, events: int) -> None:
        if done == total or done % max(1, total // 10) == 0:
            print(f"  day {done}/{total}: {events:,} events", file=sys.stderr)

    try:
        counts = generate(
            args.out, users=args.users, days=args.days, songs=args.songs,
            match_rate=args.match_rate, start=args.start, seed=args.seed, progress=progress,
        )  # fmt: skip
    except ValueError as error:
        parser.error(str(error))
    print(
        f"Wrote {counts['events']:,} events in {counts['log_files']} log files and "
        f"{counts['song_files']:,} song files to {args.out} in {time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
