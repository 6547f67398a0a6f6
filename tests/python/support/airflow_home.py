"""Airflow as the tests run it: .venv-airflow's commands, each with an AIRFLOW_HOME of its own
and a throwaway warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.project import PROJECT_DIR
from support.warehouse import Warehouse

AIRFLOW_BIN = PROJECT_DIR / ".venv-airflow/bin"
DAGS_FOLDER = PROJECT_DIR / "orchestration/dags"


def require_airflow() -> None:
    if not (AIRFLOW_BIN / "airflow").is_file():
        pytest.fail("Airflow is missing: `make airflow-test` installs it into .venv-airflow")


def airflow_env(home: Path, warehouse: Warehouse, **overrides: str) -> dict[str, str]:
    return {
        **warehouse.env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        **overrides,
    }
