"""Acceptance on the real public sample: the whole pipeline gives the known counts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from support.expected import REAL_SAMPLE_ROWS
from support.project import PROJECT_DIR
from support.warehouse import DBT_TARGET_PATH


@pytest.mark.parametrize(("table", "rows"), REAL_SAMPLE_ROWS.items())
def test_row_counts_match_the_known_figures(real_sample_build, table, rows):
    warehouse, _ = real_sample_build
    assert warehouse.scalar(f"select count(*) from {table}") == rows


def test_exactly_one_songplay_matches_a_song(real_sample_build):
    warehouse, _ = real_sample_build
    assert warehouse.query("select count(song_id), count(artist_id) from analytics.songplays") == [(1, 1)]


def test_the_pipeline_ran_the_data_tests_and_left_the_unit_tests(real_sample_build):
    _, output = real_sample_build
    assert "Completed successfully" in output
    assert "ERROR=0" in output
    passed = int(output.split("Done. PASS=")[1].split()[0])
    assert passed >= 40
    assert " START test " in output
    assert " START unit_test " not in output


def test_the_unit_tests_pass_on_duckdb(real_sample_build):
    warehouse, _ = real_sample_build
    warehouse.dbt("test", "--select", "test_type:unit")
    manifest = json.loads((DBT_TARGET_PATH / "manifest.json").read_text())
    results = json.loads((DBT_TARGET_PATH / "run_results.json").read_text())["results"]
    passed = {result["unique_id"] for result in results if result["status"] == "pass"}
    assert manifest["unit_tests"] and set(manifest["unit_tests"]) <= passed


def test_after_the_pipeline_dbt_artifacts_describe_its_build(warehouse, real_sample):
    # The summary and the analyses that follow the build write no artifact over the build's.
    assert warehouse.pipeline(real_sample).returncode == 0
    results = json.loads((DBT_TARGET_PATH / "run_results.json").read_text())
    assert results["args"]["which"] == "build"
    assert {result["unique_id"].split(".")[0] for result in results["results"]} >= {"model", "test"}


def test_make_lint_renders_the_models_against_an_empty_warehouse(real_sample_build, tmp_path):
    """sqlfluff's dbt templater renders each model against the warehouse: beside a built one,
    as after `make demo`, it would lint the incremental branches instead of the full build's
    SQL, and fail. Stand-ins for ruff, sqlfluff and python (BIN names their folder) say what
    sqlfluff would render against, and that MetricFlow's validate-configs runs offline against
    the same empty warehouse, with a dbt target folder of its own."""
    warehouse, _ = real_sample_build
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    (stand_ins / "ruff").write_text("#!/bin/sh\n")
    (stand_ins / "sqlfluff").write_text(
        "#!/bin/sh\n"
        'echo "renders against $SPARKIFY_DUCKDB_PATH"\n'
        'ls -A "$(dirname "$SPARKIFY_DUCKDB_PATH")" | sed "s/^/beside /"\n'
    )
    (stand_ins / "python").write_text('#!/bin/sh\necho "python $* on $SPARKIFY_DUCKDB_PATH in $DBT_TARGET_PATH"\n')
    for stand_in in stand_ins.iterdir():
        stand_in.chmod(0o755)

    result = subprocess.run(
        ["make", "--no-print-directory", "lint", f"BIN={stand_ins}"],
        cwd=PROJECT_DIR, env=warehouse.env, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    said = [line for line in result.stdout.splitlines() if line.startswith(("renders against ", "beside "))]
    assert len(said) == 1, said  # a warehouse in a folder of its own, empty
    rendered_against = Path(said[0].removeprefix("renders against "))
    assert rendered_against != Path(warehouse.env["SPARKIFY_DUCKDB_PATH"])
    validated = f"python -m sparkify.metrics mf validate-configs --skip-dw on {rendered_against} in "
    assert f"{validated}{rendered_against.parent / 'target'}" in result.stdout.splitlines()
    assert not rendered_against.parent.exists(), "make lint leaves no empty warehouse behind"


def test_the_summary_counts_every_source_seed_and_table_and_names_the_next_commands(real_sample_build):
    warehouse, output = real_sample_build
    summary, next_commands = output.split("Rows per table:\n")[1].split("Next:\n")
    counted = dict(re.findall(r"^  (\w+) +([\d,]+)$", summary, flags=re.MULTILINE))
    # Every table of the warehouse but the watermarks, which a hook keeps for the tests.
    built = {name for (name,) in warehouse.query(
        "select table_name from duckdb_tables() where table_name <> 'data_test_watermarks'"
    )}  # fmt: skip

    assert set(counted) == set(built)
    assert {table: warehouse.scalar(f"select count(*) from analytics.{table}") for table in ("songplays", "users")} == {
        table: int(counted[table].replace(",", "")) for table in ("songplays", "users")
    }
    assert "songplays matched to a song: 1 of 6,820" in summary
    assert "these hold 71 songs" in summary
    assert [line.split()[:2] for line in next_commands.splitlines()] == [
        ["make", "dashboard"],
        ["make", "docs-serve"],
        ["make", "airflow"],
    ]


def test_every_model_source_and_column_is_documented(real_sample_build):
    warehouse, _ = real_sample_build
    warehouse.dbt("docs", "generate")
    manifest = json.loads((DBT_TARGET_PATH / "manifest.json").read_text())
    catalog = json.loads((DBT_TARGET_PATH / "catalog.json").read_text())
    missing = []
    for unique_id, node in [*manifest["nodes"].items(), *manifest["sources"].items()]:
        if node["resource_type"] not in ("model", "source", "seed", "analysis"):
            continue
        if not node["description"].strip():
            missing.append(unique_id)
        actual_columns = catalog["nodes"].get(unique_id, catalog["sources"].get(unique_id, {})).get("columns", {})
        for column in actual_columns:
            if not node["columns"].get(column.lower(), {}).get("description", "").strip():
                missing.append(f"{unique_id}.{column}")
    for unique_id, macro in manifest["macros"].items():
        if macro["package_name"] == "sparkify" and not macro["description"].strip():
            missing.append(unique_id)
    assert missing == []
    # The docs site describes the columns and shows no row: no listener's name in what it serves.
    site = (DBT_TARGET_PATH / "manifest.json").read_text() + (DBT_TARGET_PATH / "catalog.json").read_text()
    assert [name for (name,) in warehouse.query("select first_name || ' ' || last_name from analytics.users")
            if name in site] == []  # fmt: skip
    lineage = manifest["child_map"]
    assert "model.sparkify.stg_sparkify__events" in lineage["source.sparkify.sparkify.staging_events"]
    assert "model.sparkify.songplays" in lineage["model.sparkify.stg_sparkify__events"]
