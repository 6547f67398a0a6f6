"""Write the Sparkify dashboard: one self-contained HTML page of Altair charts from the semantic layer.

Run by the dashboard's own venv (``make dashboard``), not the dbt one: it needs altair and
vl-convert-python only. Every figure and chart comes from the semantic layer's saved queries
(models/semantic/_saved_queries.yml), which ``python -m sparkify.metrics export`` runs in the
project's venv through MetricFlow and writes to a JSON file, target/dashboard-metrics.json:
``make dashboard`` runs both. So the page shows what ``make metrics`` gives, and this venv
stays free of dbt and MetricFlow (docs/metrics.md says why). No chart needs raw rows any more:
the distribution of plays per user is the metric plays by user and level. The page inlines
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
import vl_convert

LEVEL_COLOURS = alt.Scale(domain=["free", "paid"], range=["#9ecae1", "#08519c"])
WIDTH = 420
# Vega drops every other label of an axis until the ones left are this far apart: closer, "2,000"
# and "2,200" read as "2,0002,200".
LABEL_SEPARATION_PX = 8
# Below this share of plays matched to a song, the charts of matched songs and artists say so:
# `make data` matches about half, the real sample 1 play in 6,820.
FEW_MATCHED_SHARE = 0.1
MATCHED_CHARTS = ("top_songs", "top_artists")
DEFAULT_METRICS_FILE = Path("target/dashboard-metrics.json")
# The saved query of the headline figures, and those of the charts by chart id.
HEADLINES = "dashboard_headlines"
CHART_QUERIES = {
    "plays_by_hour": "dashboard_plays_by_hour",
    "plays_by_weekday": "dashboard_plays_by_weekday",
    "level_paths": "dashboard_level_paths",
    "plays_by_device_type": "dashboard_plays_by_device_type",
    "plays_by_browser": "dashboard_plays_by_browser",
    "top_metro_areas": "dashboard_top_metro_areas",
    "top_states": "dashboard_top_states",
    "top_songs": "dashboard_top_songs",
    "top_artists": "dashboard_top_artists",
    "plays_per_user_by_level": "dashboard_plays_per_user_by_level",
}
# The charts' field names for the semantic layer's columns, where they differ from the
# dimension's own name (the part after the entity: songplay__level is level).
FIELD_NAMES = {"hour_of_day": "hour", "profiled_users": "users", "name": "artist", "user": "user_id"}
# The headline figures by the metric each comes from.
HEADLINE_METRICS = {
    "users": "users",
    "plays": "plays",
    "matched_plays": "matched_plays",
    "paid_play_share": "paid_play_share",
    "used_once_share": "single_session_user_share",
    "upgrade_rate": "upgrade_rate",
    "downgrades": "paid_to_free_downgrades",
    "median_plays_before_first_upgrade": "median_plays_before_first_upgrade",
}


def chart_rows(rows: list[dict]) -> list[dict]:
    """A saved query's rows with the charts' field names: each column by its dimension's name,
    less the entity, and songs labelled with their artist."""
    renamed = []
    for row in rows:
        fields = {}
        for column, value in row.items():
            name = column.rsplit("__", 1)[-1]
            fields[FIELD_NAMES.get(name, name)] = value
        renamed.append(fields)
    for fields in renamed:
        if "title" in fields:
            fields["song"] = f"{fields.pop('title')} ({fields.pop('artist')})"
    return renamed


def figures_and_data(exported: dict) -> tuple[dict, dict[str, list[dict]]]:
    """The headline figures and each chart's rows, from what `python -m sparkify.metrics export` wrote."""
    queries = exported["saved_queries"]
    [headline_row] = queries[HEADLINES]
    figures = {figure: headline_row[metric] for figure, metric in HEADLINE_METRICS.items()}
    return figures, {chart_id: chart_rows(queries[query]) for chart_id, query in CHART_QUERIES.items()}


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
        ("of users who started free upgraded to paid", share(figures["upgrade_rate"])),
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
<p class="source">From the semantic layer's saved queries on {database} (exported {exported_at}), drawn {drawn_at}.</p>
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


def page(database: str, exported_at: str, figures: dict, specs: dict[str, dict], bundle: str) -> str:
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
        exported_at=html.escape(exported_at),
        drawn_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        headlines=headlines,
        containers=containers,
        specs=script_json(specs),
    )


def build(metrics_file: Path, out: Path) -> dict:
    """Write the page from the exported saved queries and return its headline figures."""
    if not metrics_file.is_file():
        raise SystemExit(
            f"No {metrics_file}: `make dashboard` writes it from the warehouse "
            "(python -m sparkify.metrics export, in the project's venv)."
        )
    exported = json.loads(metrics_file.read_text(encoding="utf-8"))
    figures, data = figures_and_data(exported)
    specs = {chart_id: chart.to_dict() for chart_id, chart in charts(data).items()}
    # The same bundle that chart.save(..., inline=True) embeds, once for all the charts.
    bundle = vl_convert.javascript_bundle(vl_version="_".join(alt.SCHEMA_VERSION.split(".")[:2]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(exported["source"], exported["exported_at"], figures, specs, bundle), encoding="utf-8")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--metrics", type=Path, default=DEFAULT_METRICS_FILE,
        help="the saved queries' rows, as python -m sparkify.metrics export writes them (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("target/dashboard.html"), help="HTML file to write")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = build(args.metrics, args.out)
    for label, value in headline_items(figures):
        print(f"  {value:>10}  {label}")
    print(f"Wrote {args.out} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
