"""sparkify.metrics runs MetricFlow, which reads the semantic manifest from target/ under the
project only, on dbt's target path: through a view of the project whose target is that path."""

from __future__ import annotations

import os

import pytest
from support.project import PROJECT_DIR

from sparkify import metrics


@pytest.fixture
def environ(monkeypatch) -> dict[str, str]:
    """A copy of the environment, without the dbt paths, that the test may change."""
    copy = {name: value for name, value in os.environ.items() if name not in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_metricflow_sees_the_target_path_as_the_projects_target(environ, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "semantic_manifest.json").write_text('{"written": "to the target path"}')
    environ["DBT_TARGET_PATH"] = str(target)
    with metrics.project_for_metricflow() as project:
        assert (project / "target/semantic_manifest.json").read_text() == '{"written": "to the target path"}'
        entries = {entry.name: entry.readlink() for entry in project.iterdir() if entry.name != "target"}
        assert entries == {entry.name: entry for entry in PROJECT_DIR.iterdir() if entry.name != "target"}
        assert environ["DBT_LOG_PATH"] == str(PROJECT_DIR / "logs")
    assert not project.exists()


@pytest.mark.parametrize("target_path", [None, "target", str(PROJECT_DIR / "target")])
def test_metricflow_reads_the_project_itself_on_its_own_target(environ, target_path):
    if target_path:
        environ["DBT_TARGET_PATH"] = target_path
    with metrics.project_for_metricflow() as project:
        assert project == PROJECT_DIR
    assert "DBT_LOG_PATH" not in environ
