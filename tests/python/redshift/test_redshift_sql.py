"""The Redshift path, rendered with no cluster: `dbt compile --target redshift
--no-populate-cache` renders the load macro's COPY and DDL, every model and every analysis;
the tests check the COPY options and parse all of it with sqlglot's Redshift dialect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
import yaml
from support.project import PROJECT_DIR
from support.warehouse import make_warehouse

from sparkify import layout

ROLE = "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read"
SEPARATOR = "-- ~~~ next statement ~~~"

# Placeholders for the profile's env_var() calls: compile opens no connection.
REDSHIFT_ENV = {
    "DBT_TARGET": "redshift",
    "SPARKIFY_REDSHIFT_CLUSTER_ID": "sparkify",
    "SPARKIFY_REDSHIFT_HOST": "sparkify.abc123.us-west-2.redshift.amazonaws.com",
    "SPARKIFY_REDSHIFT_DATABASE": "sparkify",
    "SPARKIFY_REDSHIFT_USER": "sparkify_admin",
    "SPARKIFY_AWS_REGION": "us-west-2",
}

EVENTS, SONGS = "raw_staging_tables()['staging_events']", "raw_staging_tables()['staging_songs']"
MANIFESTS = "s3://sparkify-load-123456789012/manifests/20261206T230000-0a1b2c3d"
BOUNDS = "{'earliest_event_ms': 946684800000, 'latest_event_ms': 1796601600000, 'latest_year': 2026}"


def names(table: str) -> str:
    return f"{table}.columns | map(attribute='name') | list"


# What `make load` passes as the COPY's MAXERROR.
MAXERROR = layout.MAX_REJECTS_LIMIT

RENDERED = [
    ("copy_events",
     f"redshift_copy_sql('copied_staging_events', {names(EVENTS)}, {MAXERROR}, '{MANIFESTS}/staging_events.manifest', "
     "'s3://udacity-dend/log_json_path.json')"),
    ("copy_songs",
     f"redshift_copy_sql('copied_staging_songs', {names(SONGS)}, {MAXERROR}, '{MANIFESTS}/staging_songs.manifest')"),
    ("iam_role", "redshift_iam_role()"),
    ("event_checks", f"'select ' ~ raw_value_problem({EVENTS}.columns, {names(EVENTS)}, {BOUNDS}) ~ ' from copied'"),
    ("ddl_staging_events", f"raw_table_ddl('raw', 'staging_events', {EVENTS}.columns)"),
    ("ddl_staging_songs", f"raw_table_ddl('raw', 'staging_songs', {SONGS}.columns)"),
    ("ddl_load_audit", "raw_table_ddl('raw', 'load_audit', load_bookkeeping_tables()['load_audit'].columns)"),
    ("ddl_load_rejects", "raw_table_ddl('raw', 'load_rejects', load_bookkeeping_tables()['load_rejects'].columns)"),
    ("copy_counts", "redshift_load_counts_sql('checked_staging_events')"),
    ("copy_rejects", "redshift_copy_rejects_sql({'schema': 'raw', 'source_table': 'staging_events'}, 1234)"),
]  # fmt: skip


def dbt(*args: str, target_path: Path, env: dict[str, str] | None = None) -> str:
    """dbt against the Redshift target, with the same throwaway profile as every other test."""
    warehouse = make_warehouse(target_path)
    warehouse.env.update({**REDSHIFT_ENV, **(env or {})})
    redshift = ("--target", "redshift", "--no-populate-cache", "--target-path", str(target_path))
    return warehouse.dbt(*args, *redshift).stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    inline = f"\n{SEPARATOR}\n".join("{{ " + call + " }}" for _, call in RENDERED)
    output = dbt("compile", "--quiet", "--inline", inline, target_path=tmp_path_factory.mktemp("inline"))
    statements = [part.strip() for part in output.split(SEPARATOR)]
    assert len(statements) == len(RENDERED)
    return dict(zip([name for name, _ in RENDERED], statements, strict=True))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """Every model, test and analysis compiled for Redshift, with the manifest."""
    target = tmp_path_factory.mktemp("compiled")
    # A full refresh, so that the incremental models need no connection to render.
    dbt("compile", "--full-refresh", target_path=target)
    return target


ANALYTICS_MODELS = ("user_level_periods", "user_profiles", "sessions", "user_agents")


def normalised(sql: str) -> str:
    return " ".join(sql.split()).lower()


def test_events_copy_reads_the_manifest_into_text_with_jsonpaths_and_redshifts_maxerror_limit(rendered):
    copy = normalised(rendered["copy_events"])
    assert copy.startswith("copy copied_staging_events (artist, auth, firstname,")
    assert f"from '{MANIFESTS}/staging_events.manifest'".lower() in copy
    assert "format as json 's3://udacity-dend/log_json_path.json' manifest" in copy
    assert "maxerror 100000" in copy
    assert "truncatecolumns" not in copy


def test_copy_names_no_region_unless_one_is_set(rendered):
    """AWS requires every object to be in a COPY's REGION: a fixed one breaks other buckets."""
    assert "region" not in normalised(rendered["copy_events"])


def test_songs_copy_uses_auto_ignorecase_and_the_default_role_unless_one_is_set(rendered, tmp_path):
    copy = normalised(rendered["copy_songs"])
    assert f"from '{MANIFESTS}/staging_songs.manifest'".lower() in copy
    assert "iam_role default" in copy
    assert "format as json 'auto ignorecase'" in copy
    with_role = dbt("compile", "--quiet", "--inline", "{{ redshift_iam_role() }}", target_path=tmp_path,
                    env={"SPARKIFY_REDSHIFT_IAM_ROLE_ARN": ROLE})  # fmt: skip
    assert with_role.strip() == f"'{ROLE}'"


def test_the_contracts_checks_are_redshift_sql(rendered):
    checks = rendered["event_checks"]
    sqlglot.parse_one(checks, read="redshift")
    assert "(ts ~ '^(-?[0-9]+)$')" in checks
    assert "octet_length(useragent) > 1024" in checks
    assert "try_cast" not in checks and "regexp_full_match" not in checks


def test_copy_columns_follow_the_jsonpaths_order(rendered, real_sample):
    json_paths = json.loads((real_sample / "log_json_path.json").read_text())["jsonpaths"]
    keys = [path.split("'")[1].lower() for path in json_paths]
    columns = normalised(rendered["copy_events"]).split("(", 1)[1].split(")", 1)[0]
    assert [column.strip() for column in columns.split(",")] == keys


@pytest.mark.parametrize("name", ["ddl_staging_events", "ddl_staging_songs", "ddl_load_audit", "ddl_load_rejects"])
def test_ddl_parses_and_sizes_every_text_column(rendered, name):
    ddl = rendered[name]
    create = sqlglot.parse_one(ddl, read="redshift")
    assert isinstance(create, sqlglot.exp.Create)
    types = [column.args["kind"] for column in create.find_all(sqlglot.exp.ColumnDef)]
    text_types = [kind for kind in types if kind.this == sqlglot.exp.DataType.Type.VARCHAR]
    assert text_types and all(kind.expressions for kind in text_types), f"a varchar without a size in {ddl}"
    expected_style = "diststyle even" if name.startswith("ddl_staging") else "diststyle all"
    assert normalised(ddl).endswith(expected_style)


def test_copy_bookkeeping_reads_the_sys_views_and_parses(rendered):
    """SYS views serve a provisioned cluster, concurrency scaling and Serverless alike; their
    query ids are not pg_last_copy_id()'s, which only the STL raw lines are joined on."""
    counts = sqlglot.parse_one(rendered["copy_counts"], read="redshift").sql(dialect="redshift").lower()
    rejects = sqlglot.parse_one(rendered["copy_rejects"], read="redshift").sql(dialect="redshift").lower()
    assert "from sys_load_history" in counts and "session_id = pg_backend_pid()" in counts
    assert "stl_" not in counts
    assert "from sys_load_error_detail as errors" in rejects and "errors.query_id = 1234" in rejects
    assert "lines.query = pg_last_copy_id()" in rejects


def compiled_sql(compiled: Path) -> dict[str, str]:
    root = compiled / "compiled/sparkify"
    return {str(path.relative_to(root)): path.read_text() for path in root.rglob("*.sql")}


def test_every_model_and_analysis_compiles_and_parses(compiled):
    files = compiled_sql(compiled)
    expected = {f"models/marts/{name}.sql" for name in ("songplays", "users", "songs", "artists", "time")}
    expected |= {f"models/marts/analytics/{name}.sql" for name in ANALYTICS_MODELS}
    expected |= {"models/staging/stg_sparkify__events.sql", "models/staging/stg_sparkify__songs.sql"}
    expected |= {f"analyses/{path.name}" for path in (PROJECT_DIR / "analyses").glob("*.sql")}
    assert expected <= set(files)
    for name in expected:
        query = sqlglot.parse_one(files[name], read="redshift")
        # Redshift refuses a WITH inside a subquery of a WITH; PostgreSQL (the double) takes it.
        nested = [with_.sql("redshift")[:60] for with_ in query.find_all(sqlglot.exp.With) if with_.parent is not query]
        assert not nested, f"{name}: a WITH nested in a subquery: {nested}"


def test_redshift_dispatch_renders_redshift_sql(compiled):
    files = compiled_sql(compiled)
    events = normalised(files["models/staging/stg_sparkify__events.sql"])
    assert "timestamp 'epoch' + ts * interval '0.001 second'" in events
    assert "make_timestamp" not in events
    songplays = normalised(files["models/marts/songplays.sql"])
    assert "regexp_replace(played_songs.song_title, '[[:space:]]+', ' ')" in songplays
    assert "'g')" not in songplays
    user_agents = normalised(files["models/marts/analytics/user_agents.sql"])
    assert "nullif(regexp_substr(user_agent, 'chrome/([0-9.]+)', 1, 1, 'e'), '')" in user_agents
    assert "regexp_extract" not in user_agents


def test_marts_carry_dist_and_sort_keys(compiled):
    nodes = json.loads((compiled / "manifest.json").read_text())["nodes"]
    layout = {
        node["name"]: (node["config"].get("dist"), node["config"].get("sort"))
        for node in nodes.values()
        if node["resource_type"] == "model" and node["path"].startswith("marts/")
    }
    assert layout == {
        "songplays": ("start_time", "start_time"),
        "time": ("start_time", "start_time"),
        "users": ("all", "user_id"),
        "songs": ("all", "song_id"),
        "artists": ("all", "artist_id"),
        "user_level_periods": ("user_id", ["user_id", "period_number"]),
        "user_profiles": ("all", "user_id"),
        "sessions": ("session_id", "started_at"),
        "user_agents": ("all", "user_agent"),
    }


def test_the_redshift_profile_uses_iam_and_holds_no_secret():
    profile = yaml.safe_load((PROJECT_DIR / "profiles.example.yml").read_text())["sparkify"]["outputs"]["redshift"]
    assert profile["method"] == "iam"
    assert not {"password", "secret", "access_key", "secret_access_key"} & set(profile)
    for key in ("cluster_id", "host", "user", "dbname", "region"):
        assert profile[key].startswith("{{ env_var("), key
