"""Write the Sparkify dashboard: one self-contained HTML page of Altair charts from the marts.

Run by the dashboard's own venv (``make dashboard``), not the dbt one: it needs altair,
vl-convert-python and duckdb only, and sparkify.warehouse, which needs no more. The warehouse
is opened read-only, held as a reader (sparkify.warehouse.shared): a dashboard can be drawn
while nothing else writes, and says so in one line while something does, as it names the
commands that fill a warehouse that is missing or holds no plays. The page inlines
vega's JavaScript (from vl-convert), so it opens from disk and renders with no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import sys
import time
from pathlib import Path

import altair as alt
import duckdb
import vl_convert

from sparkify import warehouse

SCHEMA = "analytics"
MODELS = ("songplays", "time", "songs", "artists", "user_profiles", "user_agents")
LEVEL_COLOURS = alt.Scale(domain=["free", "paid"], range=["#9ecae1", "#08519c"])
WIDTH = 420
# Vega drops every other label of an axis until the ones left are this far apart: closer, "2,000"
# and "2,200" read as "2,0002,200".
LABEL_SEPARATION_PX = 8
# Below this share of plays matched to a song, the charts of matched songs and artists say so:
# `make data` matches about half, the real sample 1 play in 6,820.
FEW_MATCHED_SHARE = 0.1
MATCHED_CHARTS = ("top_songs", "top_artists")
# What fills an empty warehouse: make build alone cannot, with nothing loaded.
FILL_THE_WAREHOUSE = (
    "run `make demo` (a generated sample) or `make pipeline LOCATION=<folder or s3:// prefix>` (your data) first"
)

HEADLINES_SQL = f"""
with
profiles as (
    select
        count(*) as users,
        avg(case when used_once then 1.0 else 0.0 end) as used_once_share,
        avg(case when upgrades > 0 then 1.0 else 0.0 end) as upgraded_share,
        sum(downgrades) as downgrades,
        median(plays_before_first_upgrade) as median_plays_before_first_upgrade
    from {SCHEMA}.user_profiles
),
plays as (
    select
        count(*) as plays,
        count(song_id) as matched_plays,
        avg(case when level = 'paid' then 1.0 else 0.0 end) as paid_play_share
    from {SCHEMA}.songplays
)
select * from profiles cross join plays
"""

# The US state of a metro area is the suffix of its location ("Chicago-Naperville-Elgin,
# IL-IN-WI"); a metro area over several states counts for the first, its principal state.
STATE = "split_part(split_part(location, ', ', 2), '-', 1)"

CHART_SQL = {
    "plays_by_hour": f"""
        select time.hour, songplays.level, count(*) as plays
        from {SCHEMA}.songplays inner join {SCHEMA}.time on songplays.start_time = time.start_time
        group by all order by all""",
    "plays_by_weekday": f"""
        select time.weekday, time.weekday_name, count(*) as plays
        from {SCHEMA}.songplays inner join {SCHEMA}.time on songplays.start_time = time.start_time
        group by all order by all""",
    "level_paths": f"""
        select level_path, count(*) as users from {SCHEMA}.user_profiles group by all order by users desc""",
    "plays_by_device_type": f"""
        select user_agents.device_type, songplays.level, count(*) as plays
        from {SCHEMA}.songplays inner join {SCHEMA}.user_agents on songplays.user_agent = user_agents.user_agent
        group by all order by all""",
    "plays_by_browser": f"""
        select user_agents.browser, songplays.level, count(*) as plays
        from {SCHEMA}.songplays inner join {SCHEMA}.user_agents on songplays.user_agent = user_agents.user_agent
        group by all order by all""",
    "top_metro_areas": f"""
        select location as metro_area, count(*) as plays
        from {SCHEMA}.songplays where location is not null
        group by all order by plays desc, metro_area limit 10""",
    "top_states": f"""
        select {STATE} as state, count(*) as plays
        from {SCHEMA}.songplays where location like '%, %'
        group by all order by plays desc, state limit 15""",
    "top_songs": f"""
        select songs.title || ' (' || artists.name || ')' as song, count(*) as plays
        from {SCHEMA}.songplays
        inner join {SCHEMA}.songs on songplays.song_id = songs.song_id
        inner join {SCHEMA}.artists on songplays.artist_id = artists.artist_id
        group by all order by plays desc, song limit 10""",
    "top_artists": f"""
        select artists.name as artist, count(*) as plays
        from {SCHEMA}.songplays inner join {SCHEMA}.artists on songplays.artist_id = artists.artist_id
        group by all order by plays desc, artist limit 10""",
    "plays_per_user_by_level": f"""
        select user_id, level, count(*) as plays
        from {SCHEMA}.songplays where user_id is not null
        group by all order by all""",
}


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    relation = connection.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def bar(data: list[dict], category: str, title: str, *, measure: str = "plays", sort="-x") -> alt.Chart:
    """Horizontal bars of a measure per category, the largest first unless sorted otherwise."""
    return (
        alt.Chart(alt.Data(values=data), title=title, width=WIDTH)
        .mark_bar(color="#3182bd")
        .encode(
            x=alt.X(f"{measure}:Q", title=measure),
            y=alt.Y(f"{category}:N", sort=sort, title=None),
            tooltip=[f"{category}:N", f"{measure}:Q"],
        )
    )


def level_bar(data: list[dict], category: str, title: str) -> alt.Chart:
    """Horizontal bars of plays per category, stacked by level."""
    return (
        alt.Chart(alt.Data(values=data), title=title, width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X("sum(plays):Q", title="plays"),
            y=alt.Y(f"{category}:N", sort="-x", title=None),
            color=alt.Color("level:N", scale=LEVEL_COLOURS),
            tooltip=[f"{category}:N", "level:N", "plays:Q"],
        )
    )


def configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Axes whose labels never run together, and whole numbers on the quantitative ones, which
    all count plays or users: no tick at 0.5, and no 0.0 to 1.0 axis for a count of one."""
    # Vega's tickMinStep leaves an axis from 0 to 1 or 2 ticked at halves: those draw nothing.
    fraction = "datum.value % 1 != 0"
    hidden_at_fractions = alt.ConditionalAxisNumber(condition={"test": fraction, "value": 0}, value=1)
    return chart.configure_axis(labelOverlap=True, labelSeparation=LABEL_SEPARATION_PX).configure_axisQuantitative(
        tickMinStep=1,
        format=",d",
        labelExpr=f"{fraction} ? '' : datum.label",
        tickOpacity=hidden_at_fractions,
        gridOpacity=hidden_at_fractions,
    )


def charts(data: dict[str, list[dict]]) -> dict[str, alt.TopLevelMixin]:
    """The dashboard's charts by id, in page order."""
    drawn = {
        "plays_by_hour": alt.Chart(
            alt.Data(values=data["plays_by_hour"]), title="Plays by hour of day (UTC)", width=WIDTH
        )
        .mark_line(point=True)
        .encode(
            # Upright hours: where all 24 do not fit, every other one is left out.
            x=alt.X("hour:O", title="hour", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("plays:Q"),
            color=alt.Color("level:N", scale=LEVEL_COLOURS),
            tooltip=["hour:O", "level:N", "plays:Q"],
        ),
        "plays_by_weekday": bar(
            data["plays_by_weekday"], "weekday_name", "Plays by weekday", sort=alt.EncodingSortField("weekday")
        ),
        "level_paths": bar(data["level_paths"], "level_path", "Users by level path", measure="users"),
        "plays_by_device_type": level_bar(data["plays_by_device_type"], "device_type", "Plays by device type"),
        "plays_by_browser": level_bar(data["plays_by_browser"], "browser", "Plays by browser"),
        "top_metro_areas": bar(data["top_metro_areas"], "metro_area", "Top metro areas by plays"),
        "top_states": bar(data["top_states"], "state", "Top US states by plays (principal state of the metro area)"),
        "top_songs": bar(data["top_songs"], "song", "Top songs matched to the song files"),
        "top_artists": bar(data["top_artists"], "artist", "Top artists matched to the song files"),
        # One row per level, each on its own count axis: overlaid, the levels' bars hid one
        # another, and paid users, fewer, would be a sliver under free ones on a shared axis.
        "plays_per_user_by_level": alt.Chart(alt.Data(values=data["plays_per_user_by_level"]), width=WIDTH, height=110)
        .mark_bar()
        .encode(
            x=alt.X("plays:Q", bin=alt.Bin(maxbins=20, minstep=1), title="plays by one user at one level"),
            y=alt.Y("count():Q", title="users"),
            color=alt.Color("level:N", scale=LEVEL_COLOURS),
        )
        .facet(row=alt.Row("level:N", title=None, header=alt.Header(labelAngle=0)), title="Plays per user, by level")
        .resolve_scale(y="independent"),
    }
    return {chart_id: configured(chart) for chart_id, chart in drawn.items()}


def plural(noun: str, number) -> str:
    """The noun as it follows a number: 1 play, 2 plays, 1.5 plays."""
    return noun if number == 1 else noun + "s"


def headline_items(figures: dict) -> list[tuple[str, str]]:
    """(label, value) of each headline figure, the label in the number the value says."""

    def share(value) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    users, plays, downgrades = figures["users"], figures["plays"], figures["downgrades"] or 0
    median = figures["median_plays_before_first_upgrade"]
    return [
        (plural("user", users), f"{users:,}"),
        (plural("play", plays), f"{plays:,}"),
        ("used the service once", share(figures["used_once_share"])),
        ("upgraded from free to paid", share(figures["upgraded_share"])),
        (plural("downgrade", downgrades), f"{downgrades:,}"),
        ("of plays by paid users", share(figures["paid_play_share"])),
        (f"{plural('play', median)} before the first upgrade (median)", "n/a" if median is None else f"{median:g}"),
    ]


def few_matched_note(figures: dict) -> str | None:
    """Why the charts of matched songs and artists show little, as HTML, when few plays matched a song."""
    matched, plays = figures["matched_plays"], figures["plays"]
    if matched >= FEW_MATCHED_SHARE * plays:
        return None
    return (
        f"Only {matched:,} of {plays:,} {plural('play', plays)} matched a song: these song files rarely hold "
        "the songs of these logs. <code>make data</code> generates logs where about half the plays match."
    )


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Sparkify: how people listen</title>
<style>
  body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }}
  h1 {{ margin: 0 0 4px; }}
  .source {{ color: #666; margin: 0 0 20px; }}
  .headlines {{ display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 24px; }}
  .headline {{ border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 130px; }}
  .headline .value {{ display: block; font-size: 26px; font-weight: 600; color: #08519c; }}
  .headline .label {{ color: #555; font-size: 13px; }}
  .charts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 24px; }}
  .chart {{ margin: 0; }}
  .chart figcaption {{ color: #555; font-size: 13px; max-width: 520px; margin-top: 6px; }}
</style>
<script>
// vega, vega-lite and vega-embed, inlined by vl-convert so the page needs no network.
{bundle}
</script>
</head>
<body>
<h1>Sparkify: how people listen</h1>
<p class="source">From {database}, drawn {drawn_at}.</p>
<section class="headlines">
{headlines}
</section>
<section class="charts">
{containers}
</section>
<script>
const specs = {specs};
// Resolves when every chart has rendered; the browser test waits for it.
window.dashboardRendered = Promise.all(
  Object.entries(specs).map(([id, spec]) => vegaEmbed("#" + id + " > .view", spec, {{renderer: "svg", actions: false}}))
);
window.dashboardRendered.catch((error) => console.error(error));
</script>
</body>
</html>
"""


def script_json(value) -> str:
    """JSON to write into a <script> element. Its <, > and & are escaped as \\u003c and so on,
    which JSON reads back as they were: text from the data (a song named "</script>" or
    "<!--<script>") then cannot end the element or change how the HTML parser reads it."""
    return json.dumps(value, default=str).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(database: str, figures: dict, specs: dict[str, dict], bundle: str) -> str:
    headlines = "\n".join(
        f'<div class="headline"><span class="value">{html.escape(value)}</span>'
        f'<span class="label">{html.escape(label)}</span></div>'
        for label, value in headline_items(figures)
    )
    note = few_matched_note(figures)
    captions = {chart_id: f"<figcaption>{note}</figcaption>" for chart_id in MATCHED_CHARTS if note}
    containers = "\n".join(
        f'<figure class="chart" id="{chart_id}"><div class="view"></div>{captions.get(chart_id, "")}</figure>'
        for chart_id in specs
    )
    return PAGE.format(
        bundle=bundle,
        database=html.escape(database),
        drawn_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        headlines=headlines,
        containers=containers,
        specs=script_json(specs),
    )


def build(database: Path, out: Path) -> dict:
    """Write the page and return its headline figures."""
    if not database.is_file():
        raise SystemExit(f"No warehouse at {database}: {FILL_THE_WAREHOUSE}.")
    # Held only while reading: DuckDB lets readers share the file, and no writer beside them.
    with warehouse.shared(database), warehouse.connect(database, read_only=True) as connection:
        present = {name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
        ).fetchall()}  # fmt: skip
        missing = [model for model in MODELS if model not in present]
        if missing:
            raise SystemExit(f"{database} has no {SCHEMA}.{', '.join(missing)}: {FILL_THE_WAREHOUSE}.")
        figures = rows(connection, HEADLINES_SQL)[0]
        if not figures["plays"]:
            raise SystemExit(f"{database} holds no plays ({SCHEMA}.songplays is empty): {FILL_THE_WAREHOUSE}.")
        data = {name: rows(connection, sql) for name, sql in CHART_SQL.items()}
    specs = {chart_id: chart.to_dict() for chart_id, chart in charts(data).items()}
    # The same bundle that chart.save(..., inline=True) embeds, once for all the charts.
    bundle = vl_convert.javascript_bundle(vl_version="_".join(alt.SCHEMA_VERSION.split(".")[:2]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(str(database), figures, specs, bundle), encoding="utf-8")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", type=Path, default=warehouse.duckdb_path(),
        help="DuckDB warehouse (default: $SPARKIFY_DUCKDB_PATH, else data/sparkify.duckdb)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("target/dashboard.html"), help="HTML file to write")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        figures = build(args.database, args.out)
    except warehouse.WarehouseInUse as error:
        print(f"error: {error}", file=sys.stderr)
        return warehouse.IN_USE_EXIT_STATUS
    for label, value in headline_items(figures):
        print(f"  {value:>10}  {label}")
    print(f"Wrote {args.out} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
